"""Checker benchmark: check time of a generated 10,000-rule file, as a ratio to its parse time.

Uses the same generated rule file as bench_frontend.py, parse and check timed
in alternate rounds. Goal (issue 16): checking costs under a tenth of parsing.

    .venv/bin/python benchmarks/bench_check.py [--rules N] [--repeat R]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_frontend import generate, interleaved  # noqa: E402

from whuffie.checker import check  # noqa: E402
from whuffie.parser import parse  # noqa: E402


def main() -> None:
    """Run the benchmark and print a small report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    text = generate(args.rules)
    result = parse(text, "bench.whuf")
    assert result.ok, result.diagnostics[:3]
    checked = check(result.program)
    errors = [d for d in checked.diagnostics if d.is_error]
    assert not errors, errors[:3]

    # interleaved, so that both see the same machine load (the ratio is the figure, not the seconds)
    parse_all, check_all = interleaved(args.repeat, lambda: parse(text, "bench.whuf"), lambda: check(result.program))
    parse_best, check_best = min(parse_all), min(check_all)
    lines = text.count("\n")
    print(f"input: {args.rules} rules, {lines} lines; {len(checked.diagnostics)} warnings")
    print(f"parse: best {parse_best:.3f} s, median {statistics.median(parse_all):.3f} s")
    print(f"check: best {check_best:.3f} s, median {statistics.median(check_all):.3f} s, "
          f"{args.rules / check_best:,.0f} rules/s")
    ratios = [c / p for p, c in zip(parse_all, check_all)]
    print(f"ratio check / parse: best {check_best / parse_best:.2f}, median of rounds {statistics.median(ratios):.2f} "
          "(goal < 0.1)")


if __name__ == "__main__":
    main()

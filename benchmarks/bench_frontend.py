"""Front-end benchmark: read + parse + AST of a generated 10,000-rule file.

Reports lines per second, peak memory (tracemalloc) and the ratio of the
whole front end to Lark's bare LALR parse of the same text with the same
grammar (the floor any Lark-based front end can reach).

    .venv/bin/python benchmarks/bench_frontend.py [--rules N] [--repeat R]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from lark import Lark

from whuffie.formatter import format_program
from whuffie.parser import grammar_path, parse, read_source

HEADER = '''# Generated benchmark rule set.
ruleset bench "A generated community with many rules"
version "2026.11"
timezone "Europe/London"

author ada "Ada Okafor <ada@example.org>"
author ben "Ben Liu <ben@example.org>"
author council "The council"

subject member {
  joined: date
  age: int protected
  postcode: text protected
}

'''

WINDOWS = ("day", "week", "month", "year")
AUTHORS = ("ada", "ben", "council")


def generate(rules: int, seed: int = 1) -> str:
    """A realistic rule file: events, rules with every clause kind, caps, measures, scores, tiers."""
    rng = random.Random(seed)
    events = max(rules // 20, 1)
    out = [HEADER]
    for e in range(events):
        out.append(f"event ev{e} {{ amount: int in 0..1000, late: bool, hours: number in 0..24, note: text? }}\n")
    out.append("\n")
    for r in range(rules):
        event = f"ev{rng.randrange(events)}"
        author = rng.choice(AUTHORS)
        lines = [f"rule r{r} by {author}",
                 f'  because "Rule {r} rewards behaviour number {r} in the community"']
        if rng.random() < 0.3:
            lines.append(f'  cites "Charter §{r % 17}.{r % 5}"')
        cond = rng.choice([
            "amount > 3 and not late",
            f"amount >= {rng.randrange(100)} or hours > 2.5",
            "(note ?? \"\") != \"\" and amount in [1, 2, 3]",
            f"now - member.joined >= {rng.randrange(1, 400)} days",
            "if late then amount > 10 else amount > 1",
        ])
        lines.append(f"  on {event} where {cond}")
        lines.append("  award " + rng.choice([
            str(rng.randrange(1, 20)),
            "-min(amount, 10)",
            f"{rng.randrange(1, 5)} * hours",
            "clamp(amount / 3, 0, 25) + 1",
        ]))
        if rng.random() < 0.4:
            lines.append(f"  cap {rng.randrange(5, 200)} per {rng.choice(WINDOWS)}")
        if rng.random() < 0.2:
            lines.append(f"  once per {rng.choice(WINDOWS)}")
        if rng.random() < 0.2:
            lines.append(f"  decay half_life {rng.randrange(30, 400)} days")
        out.append("\n".join(lines) + "\n\n")
        if r % 50 == 49:
            members = ", ".join(f"r{k}" for k in range(r - 4, r + 1))
            out.append(f"shared cap sc{r} 200 per day over {members}\n"
                       f'  by council because "Votes are limited to 200 a day"\n\n')
            out.append(f"measure m{r} = count distinct days of {event} within 100 days\n")
            out.append(f"measure h{r} = sum {event}.hours where not late\n\n")
    out.append("score standing = clamp(100 + points, 0, 200)\n")
    out.append("score reputation = 1 + points\n  floor 1 per event\n\n")
    out.append('tier trusted when standing >= 150 by council because "Trusted members may hold keys"\n')
    out.append('tier member when standing >= 50 by council because "Default good standing"\n')
    out.append('tier restricted otherwise by council because "Below 50 needs a conversation"\n\n')
    out.append('privilege reserve when tier >= member by council because "Members in good standing"\n\n')
    out.append('property "standing stays in range" by council: always 0 <= standing <= 200\n')
    return "".join(out)


def timed(fn) -> float:
    """Wall-clock seconds of one call (garbage collected before it)."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(repeat: int, first, second) -> tuple[list[float], list[float]]:
    """Times of ``first`` and ``second`` run alternately, so both see the same machine load."""
    a, b = [], []
    for _ in range(repeat):
        a.append(timed(first))
        b.append(timed(second))
    return a, b


def main() -> None:
    """Run the benchmark and print a small report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    text = generate(args.rules)
    lines = text.count("\n")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.whuf"
        path.write_text(text, encoding="utf-8")

        def front_end():
            source, diags = read_source(path)
            result = parse(source, str(path))
            assert result.ok, result.diagnostics[:3]
            return result

        bare = Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr", lexer="contextual",
                    strict=True, start="start")

        def bare_parse():
            bare.parse(path.read_text(encoding="utf-8"))

        front_end()  # warm up: builds and caches the parser
        bare_parse()
        fe_all, lark_all = interleaved(args.repeat, front_end, bare_parse)
        fe_best, lark_best = min(fe_all), min(lark_all)
        pair_ratios = [f / b for f, b in zip(fe_all, lark_all)]

        tracemalloc.start()
        program = front_end().program
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        format_time = timed(lambda: format_program(program))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {platform.machine()} {os.cpu_count()} cpus, Python {sys.version.split()[0]}, "
          f"load average {load:.2f} at the end")
    print(f"input: {args.rules} rules, {lines} lines, {len(text) / 1e6:.2f} MB")
    print(f"front end (read+parse+AST): best {fe_best:.3f} s, median {statistics.median(fe_all):.3f} s, "
          f"{lines / fe_best:,.0f} lines/s")
    print(f"bare Lark LALR parse:       best {lark_best:.3f} s, median {statistics.median(lark_all):.3f} s")
    print(f"ratio front end / bare Lark: {fe_best / lark_best:.2f}x of the bests, "
          f"{statistics.median(pair_ratios):.2f}x median of {len(pair_ratios)} interleaved pairs "
          f"(range {min(pair_ratios):.2f}-{max(pair_ratios):.2f}; goal <= 2x)")
    print(f"peak memory of the front end (tracemalloc): {peak / 1e6:.1f} MB")
    print(f"formatting the parsed file (format_program): {format_time:.3f} s")


if __name__ == "__main__":
    main()

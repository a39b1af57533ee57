"""Benchmark: events per second of `score` on a generated Stack Overflow-style log.

    .venv/bin/python benchmarks/bench_evaluate.py            # 100k and 1M events
    .venv/bin/python benchmarks/bench_evaluate.py 200000     # other sizes

Each size runs in a child process so that its peak memory (max RSS) is its own.
Users = events / 50, spread over 60 days; the rule file is
examples/stackoverflow/rules.whuf (shared daily cap, total cap, running floor).
Phases: load (parse + validate the JSONL), evaluate (no ledger, as `score`
does), render (score --format json). Times are CPU seconds of the process
(time.process_time), so a busy machine does not inflate them; wall time of
the whole run is printed too.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "examples" / "stackoverflow" / "rules.whuf"

MIX = [  # (weight, type, fields)
    (55, "answer_voted", lambda r: {"up": r.random() < 0.9}),
    (20, "question_voted", lambda r: {"up": r.random() < 0.8}),
    (10, "answer_accepted", lambda r: {"self_answer": r.random() < 0.05}),
    (12, "edit_approved", lambda r: {}),
    (2, "bounty_won", lambda r: {"amount": r.choice((50, 100, 200, 500))}),
    (1, "spam_flagged", lambda r: {}),
]


def generate(path: Path, count: int, seed: int = 7) -> None:
    """Write a JSONL log of ``count`` events for count/50 users over 60 days."""
    rng = random.Random(seed)
    users = max(1, count // 50)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    weights = [w for w, _, _ in MIX]
    span = 60 * 86400
    with path.open("w", encoding="utf-8") as fh:
        for i in range(count):
            _, kind, fields = rng.choices(MIX, weights)[0]
            at = start + dt.timedelta(seconds=int(span * i / count) + rng.randrange(60))
            who = {"subject": f"u{rng.randrange(users)}"}
            if kind.endswith("_voted"):  # a vote names both users (the example's roles)
                who = {"voter": f"u{rng.randrange(users)}", "receiver": who["subject"]}
            row = {**who, "type": kind, "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"), **fields(rng)}
            fh.write(json.dumps(row) + "\n")


def measure(count: int) -> dict:
    """Run one size in this process and return its figures."""
    from whuffie.evaluator import compile_ruleset, evaluate
    from whuffie.frontend import load_file
    from whuffie.inputs import load_events
    from whuffie.report import score_json

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        generate(path, count)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        clock = time.process_time  # CPU time: other processes on the machine do not inflate it
        w0, t0 = time.perf_counter(), clock()
        loaded = load_file(RULES)
        program = compile_ruleset(loaded.ruleset)
        t1 = clock()
        load = load_events(path, loaded.ruleset)
        t2 = clock()
        results = evaluate(loaded.ruleset, load.events, None, None, ledger=False, program=program)
        t3 = clock()
        text = score_json(results)
        t4, w4 = clock(), time.perf_counter()
    assert not load.rejects and len(load.events) == count
    return {
        "events": count,
        "subjects": len(results.subjects),
        "compile_s": round(t1 - t0, 3),
        "load_s": round(t2 - t1, 3),
        "evaluate_s": round(t3 - t2, 3),
        "render_s": round(t4 - t3, 3),
        "events_per_s_evaluate": round(count / (t3 - t2)),
        "events_per_s_total": round(count / (t4 - t1)),
        "wall_s": round(w4 - w0, 3),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_before_mib": round(rss_before / 1024, 1),
        "output_bytes": len(text),
    }


def main(argv: list[str]) -> None:
    """Run every size in its own child process and print one line of figures per size."""
    if argv[:1] == ["--one"]:
        print(json.dumps(measure(int(argv[1]))))
        return
    sizes = [int(a) for a in argv] or [100_000, 1_000_000]
    print(f"{'events':>9} {'subjects':>8} {'load s':>7} {'eval s':>7} {'render s':>8} "
          f"{'eval ev/s':>10} {'total ev/s':>10} {'wall s':>7} {'peak MiB':>9}")
    for size in sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True,
                             check=True)
        r = json.loads(out.stdout)
        print(f"{r['events']:>9} {r['subjects']:>8} {r['load_s']:>7} {r['evaluate_s']:>7} {r['render_s']:>8} "
              f"{r['events_per_s_evaluate']:>10} {r['events_per_s_total']:>10} {r['wall_s']:>7} {r['peak_rss_mib']:>9}")


if __name__ == "__main__":
    main(sys.argv[1:])

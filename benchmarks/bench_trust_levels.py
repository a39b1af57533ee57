"""Discourse-style trust levels with long conditions: DuckDB against generated Python, side by side.

Two rules carry 15- and 16-term `where` conditions and a tier has a 9-term
one (as a forum's trust-level requirements read when written out). Before
issue 10 such a rule set did not finish compiling to SQL (each `and` copied
its left operand: 2^16 copies); now the query grows linearly and DuckDB
should score about as fast as generated Python. Timings are printed, never
asserted: best of ``--repeat`` wall times, and each one's ratio to generated
Python's (scoring alone, then reading and scoring).

    .venv/bin/python benchmarks/bench_trust_levels.py                 # 200k events
    .venv/bin/python benchmarks/bench_trust_levels.py --events 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "interpreter"))

RULES = """ruleset trust_bench "Trust levels (benchmark)"
timezone "UTC"
author board "Board"
event session { posts: int in 0..10000, minutes: number in 0..1440, topics: int in 0..500,
                likes_given: int in 0..500, likes_received: int in 0..500, replies: int in 0..500,
                flags: int in 0..50, days: int in 0..1000, solved: int in 0..100, mobile: bool }
event flagged { upheld: bool }
rule steady_reader by board because "reads widely, helps, is not flagged"
  on session
  where posts >= 20 and minutes >= 10.0 and topics >= 3 and likes_given >= 1 and likes_received >= 1
    and replies >= 1 and flags == 0 and days >= 5 and posts <= 5000 and minutes <= 1200.0
    and topics <= 400 and likes_given <= 400 and likes_received <= 400 and replies <= 400
    and solved <= 90 and not mobile
  award 2
  once per day
rule level_three by board because "the level 3 requirements, every one"
  on session
  where days >= 50 and topics >= 25 and replies >= 10 and likes_given >= 30 and likes_received >= 20
    and flags == 0 and posts >= 100 and minutes >= 60.0 and solved >= 1 and posts <= 9000
    and minutes <= 1400.0 and topics <= 490 and replies <= 490 and likes_given <= 490
    and likes_received <= 490
  award 5
rule flag_upheld by board because "an upheld flag" on flagged where upheld award -10
shared cap daily 20 per day over steady_reader, level_three by board because "no farming"
measure sessions = count session
measure reading = sum session.minutes
measure upheld = count flagged where upheld within 100 days
score trust = points
tier regular when trust >= 100 and sessions >= 50 and reading >= 500.0 and upheld == 0 and trust <= 100000
    and sessions <= 1000000 and reading <= 100000000.0 and upheld <= 0 and trust >= 0
  by board because "x"
tier member when trust >= 10 by board because "x"
tier new otherwise by board because "x"
"""

START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def generate(count: int, folder: Path, seed: int = 11) -> tuple[Path, Path]:
    """``count`` events over ``count // 40`` members as JSONL and Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    users = max(1, count // 40)
    jsonl = folder / f"trust_{count}.jsonl"
    rows = []
    with open(jsonl, "w") as out:
        for _ in range(count):
            at = START + dt.timedelta(minutes=rng.randrange(60 * 24 * 90))
            record = {"subject": f"u{rng.randrange(users)}", "at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
            if rng.random() < 0.97:
                record.update(type="session", posts=rng.randrange(0, 300), minutes=round(rng.uniform(0, 200), 1),
                              topics=rng.randrange(0, 60), likes_given=rng.randrange(0, 60),
                              likes_received=rng.randrange(0, 60), replies=rng.randrange(0, 30),
                              flags=int(rng.random() < 0.05), days=rng.randrange(0, 200),
                              solved=rng.randrange(0, 5), mobile=rng.random() < 0.3)
            else:
                record.update(type="flagged", upheld=rng.random() < 0.5)
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
            rows.append(record)
    columns = ["subject", "type", "posts", "minutes", "topics", "likes_given", "likes_received", "replies",
               "flags", "days", "solved", "mobile", "upheld"]
    table = {c: [r.get(c) for r in rows] for c in columns}
    table["at"] = pa.array([START.fromisoformat(r["at"].replace("Z", "+00:00")) for r in rows],
                           pa.timestamp("us", tz="UTC"))
    parquet = folder / f"trust_{count}.parquet"
    pq.write_table(pa.table(table), parquet)
    return jsonl, parquet


def best(fn, repeat: int):
    """(best wall time, the result of the last run)."""
    walls, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - start)
    return min(walls), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from whuffie.engines import codegen, sqlengine
    from whuffie.frontend import load_text
    from whuffie.inputs import load_events
    from whuffie.plan import lower

    ruleset = load_text(RULES, "trust.whuf").ruleset
    plan = lower(ruleset)
    start = time.perf_counter()
    query = sqlengine.compile_query(plan).sql()
    compile_s = time.perf_counter() - start
    print(f"query: {len(query):,} characters, compiled and printed in {compile_s:.3f} s")
    with tempfile.TemporaryDirectory() as tmp:
        jsonl, parquet = generate(args.events, Path(tmp))
        events = load_events(jsonl, ruleset).events
        print(f"{len(events):,} events; best of {args.repeat} wall times")
        generated, fast = best(lambda: codegen.evaluate(ruleset, events, ledger=False), args.repeat)
        loaded = sqlengine.load_columnar(str(parquet), plan, None, False)
        query, on_duckdb = best(lambda: sqlengine.evaluate_columnar(loaded), args.repeat)

        def python_end_to_end():
            return codegen.evaluate(ruleset, load_events(jsonl, ruleset).events, ledger=False)

        def parquet_end_to_end():
            return sqlengine.evaluate_columnar(sqlengine.load_columnar(str(parquet), plan, None, False))

        def jsonl_end_to_end():
            return sqlengine.evaluate_columnar(sqlengine.load_text_log(str(jsonl), plan, None, False))
        python_all, _ = best(python_end_to_end, args.repeat)
        parquet_all, on_parquet = best(parquet_end_to_end, args.repeat)
        jsonl_all, on_jsonl = best(jsonl_end_to_end, args.repeat)
    rows = [("scoring only: generated Python (events in memory)", generated, generated),
            ("scoring only: DuckDB query (rows loaded)", query, generated),
            ("read + score: inputs.py JSONL + generated Python", python_all, python_all),
            ("read + score: DuckDB, Parquet", parquet_all, python_all),
            ("read + score: DuckDB, JSONL", jsonl_all, python_all)]
    width = max(len(label) for label, _, _ in rows)
    for label, wall, against in rows:
        print(f"{label:{width}}  {wall:7.2f} s  {wall / against:5.2f}x")
    for other in (on_duckdb, on_parquet, on_jsonl):
        for x, y in zip(fast.subjects, other.subjects):
            if (x.scores, x.tier) != (y.scores, y.tier):
                print(f"ENGINES DISAGREE on {x.subject}: {x.scores, x.tier} != {y.scores, y.tier}", file=sys.stderr)
                sys.exit(1)
    print(f"every engine gave the same trust and tier to all {len(fast.subjects):,} members")


if __name__ == "__main__":
    main()

"""Engines benchmark: whuffie's engines against hand-written code on Stack Overflow-style logs.

The issue's setup: 8 event types, a 200-a-day shared cap over 5 of them, a
running floor of 1; users = events / 50, active over 60 days with lognormal
activity, ties in time, unsorted arrival order. The logs are written as JSONL
and Parquet into a temporary folder.

By default every method is its own process (``whuffie score`` end to end, and
the hand-written baselines of baselines.py), run round-robin for ``--rounds``
rounds so that all see the same machine load. The report gives per method
the median wall time, the peak RSS (the largest of the rounds, from
GNU ``time``), and the median of the per-round ratios to the hand-written DuckDB
SQL; every method's CSV output must be byte-identical to the hand SQL's.

    .venv/bin/python benchmarks/bench_engines.py            # 1M events, 3 rounds
    .venv/bin/python benchmarks/bench_engines.py --sizes 1000000 10000000 --rounds 5
    .venv/bin/python benchmarks/bench_engines.py --in-process   # the old in-process breakdown
    .venv/bin/python benchmarks/bench_engines.py --data /tmp/logs  # keep the generated logs for the next run
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "interpreter"))

RULES = """ruleset so_bench "Q&A reputation (benchmark)"
timezone "UTC"
author team "Team"
event question_voted { up: bool }
event answer_voted { up: bool }
event answer_accepted { self_answer: bool }
event edit_approved {}
event bounty_won { amount: int in 50..500 }
event spam_flagged {}
event comment_voted {}
event tag_wiki_edited {}
rule question_upvote by team because "q" on question_voted where up award 10
rule question_downvote by team because "q" on question_voted where not up award -2
rule answer_upvote by team because "a" on answer_voted where up award 10
rule answer_downvote by team because "a" on answer_voted where not up award -2
rule accepted_answer by team because "a" on answer_accepted where not self_answer award 15
rule suggested_edit by team because "e" on edit_approved award 2 cap 1000 total
rule bounty by team because "b" on bounty_won award amount
rule spam_penalty by team because "s" on spam_flagged award -100
rule comment_upvote by team because "c" on comment_voted award 1
rule tag_wiki by team because "t" on tag_wiki_edited award 2
shared cap vote_reputation 200 per day over question_upvote, answer_upvote, suggested_edit, comment_upvote, tag_wiki
  by team because "200 a day"
measure accepted = count answer_accepted where not self_answer
measure active_days = count distinct days of answer_voted within 30 days
score reputation = 1 + points
  floor 1 per event
tier established when reputation >= 1000 by team because "x"
tier member when reputation >= 15 by team because "x"
tier new otherwise by team because "x"
privilege vote_up when reputation >= 15 by team because "x"
"""

TYPES = [("question_voted", 0.22), ("answer_voted", 0.40), ("answer_accepted", 0.06), ("edit_approved", 0.08),
         ("bounty_won", 0.01), ("spam_flagged", 0.01), ("comment_voted", 0.17), ("tag_wiki_edited", 0.05)]
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def generate(count: int, folder: Path, seed: int = 7) -> tuple[Path, Path]:
    """Write ``count`` events as JSONL and Parquet; return both paths."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    users = max(1, count // 50)
    weights = [rng.lognormvariate(0, 1.2) for _ in range(users)]
    cumulative = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    names = [t for t, _ in TYPES]
    type_weights = [w for _, w in TYPES]
    jsonl = folder / f"events_{count}.jsonl"
    columns = {"subject": [], "type": [], "at": [], "up": [], "self_answer": [], "amount": []}
    with open(jsonl, "w") as out:
        subjects = rng.choices(range(users), cum_weights=cumulative, k=count)
        types = rng.choices(names, weights=type_weights, k=count)
        for i in range(count):
            # minutes, not seconds, over 60 days: many events share their time (ties)
            at = START + dt.timedelta(minutes=rng.randrange(60 * 24 * 60))
            record = {"subject": f"u{subjects[i]}", "type": types[i], "at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
            up = self_answer = amount = None
            if types[i] in ("question_voted", "answer_voted"):
                up = record["up"] = rng.random() < 0.85
            elif types[i] == "answer_accepted":
                self_answer = record["self_answer"] = rng.random() < 0.1
            elif types[i] == "bounty_won":
                amount = record["amount"] = rng.choice([50, 100, 200, 500])
            out.write(json.dumps(record, separators=(",", ":")) + "\n")
            columns["subject"].append(record["subject"])
            columns["type"].append(types[i])
            columns["at"].append(at)
            columns["up"].append(up)
            columns["self_answer"].append(self_answer)
            columns["amount"].append(amount)
    table = pa.table({"subject": pa.array(columns["subject"], pa.string()), "type": pa.array(columns["type"]),
                      "at": pa.array(columns["at"], pa.timestamp("us", tz="UTC")),
                      "up": pa.array(columns["up"], pa.bool_()), "self_answer": pa.array(columns["self_answer"]),
                      "amount": pa.array(columns["amount"], pa.int64())})
    parquet = folder / f"events_{count}.parquet"
    pq.write_table(table, parquet)
    return jsonl, parquet


def raw_table(converted: Path, folder: Path) -> tuple[Path, Path]:
    """The log ``generate`` wrote as a real site's table has it: JSONL and Parquet with integer
    ``user_id``, ``event_type``, ``ts`` and a ``seq`` column the rules do not declare.

    Read with ``--columns subject=user_id,type=event_type,at=ts --extra ignore``;
    it scores as ``converted`` does, its users named by their numbers.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = []
    for seq, line in enumerate(converted.read_text().splitlines(), start=1):
        row = json.loads(line)
        raw = {"seq": seq, "user_id": int(row.pop("subject")[1:]), "event_type": row.pop("type"),
               "ts": row.pop("at")}
        raw.update(row)
        records.append(raw)
    jsonl = folder / f"raw_{converted.stem}.jsonl"
    jsonl.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))
    columns = {key: [r.get(key) for r in records] for key in ("seq", "user_id", "event_type", "ts", "up",
                                                               "self_answer", "amount")}
    parquet = folder / f"raw_{converted.stem}.parquet"
    pq.write_table(pa.table({
        "seq": pa.array(columns["seq"], pa.int64()), "user_id": pa.array(columns["user_id"], pa.int64()),
        "event_type": pa.array(columns["event_type"], pa.string()),
        "ts": pa.array([dt.datetime.fromisoformat(t) for t in columns["ts"]], pa.timestamp("us", tz="UTC")),
        "up": pa.array(columns["up"], pa.bool_()), "self_answer": pa.array(columns["self_answer"], pa.bool_()),
        "amount": pa.array(columns["amount"], pa.int64())}), parquet)
    return jsonl, parquet


def timed(fn, repeat: int = 3):
    """Best of ``repeat``: (best wall, cpu of that run, spread of the walls, the last result)."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    best = min(range(repeat), key=lambda i: walls[i])
    return walls[best], cpus[best], max(walls) - min(walls), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--rounds", type=int, default=3, help="round-robin rounds of the process benchmark")
    parser.add_argument("--in-process", action="store_true", help="the old in-process breakdown instead")
    parser.add_argument("--repeat", type=int, default=3, help="with --in-process: best of N")
    parser.add_argument("--data", type=Path, default=None,
                        help="keep the generated logs in this folder and reuse them on later runs (same seed)")
    parser.add_argument("--skip-reference-above", type=int, default=2_000_000,
                        help="with --in-process: do not time the reference evaluator on larger logs")
    args = parser.parse_args()
    if args.in_process:
        in_process(args)
    else:
        from bench_processes import run_processes
        run_processes(args.sizes, args.rounds, RULES, kept(generate, args.data))


def kept(make, folder: Path | None):
    """``make`` (count, folder) -> (jsonl, parquet), reusing the files already in ``folder`` when given."""
    if folder is None:
        return make

    def reuse(count: int, _scratch: Path) -> tuple[Path, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        jsonl, parquet = folder / f"events_{count}.jsonl", folder / f"events_{count}.parquet"
        if not (jsonl.exists() and parquet.exists()):
            return make(count, folder)
        return jsonl, parquet
    return reuse


def in_process(args) -> None:
    from whuffie import evaluator
    from whuffie.engines import codegen, sqlengine
    from whuffie.frontend import load_text
    from whuffie.inputs import load_events
    from whuffie.plan import lower

    ruleset = load_text(RULES, "bench.whuf").ruleset
    plan = lower(ruleset)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; best of {args.repeat}, "
          "CPU = process time of the best run (DuckDB's threads included), noise = max - min wall")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            t0 = time.perf_counter()
            jsonl, parquet = kept(generate, args.data)(size, Path(tmp))
            print(f"\n{size:,} events, {size // 50:,} users: generated in {time.perf_counter() - t0:.1f} s "
                  f"(JSONL {jsonl.stat().st_size / 1e6:.0f} MB, Parquet {parquet.stat().st_size / 1e6:.0f} MB)")
            rows = []
            wall, cpu, noise, load = timed(lambda: load_events(jsonl, ruleset), args.repeat)
            rows.append(("read JSONL + validate (inputs.py)", wall, cpu, noise))
            events = load.events
            reference = None
            if size <= args.skip_reference_above:
                wall, cpu, noise, reference = timed(
                    lambda: evaluator.evaluate(ruleset, events, ledger=False), args.repeat)
                rows.append(("reference evaluator (score, no ledger)", wall, cpu, noise))
            wall, cpu, noise, fast = timed(lambda: codegen.evaluate(ruleset, events, ledger=False), args.repeat)
            rows.append(("generated Python (score, no ledger)", wall, cpu, noise))
            wall, cpu, noise, _ = timed(lambda: codegen.evaluate(ruleset, events, ledger=True), args.repeat)
            rows.append(("generated Python (with ledger)", wall, cpu, noise))
            wall, cpu, noise, in_memory = timed(lambda: sqlengine.evaluate(plan, events), args.repeat)
            rows.append(("DuckDB, in-memory events (Arrow + query)", wall, cpu, noise))

            def from_parquet():
                loaded = sqlengine.load_columnar(str(parquet), plan, None, False)
                return sqlengine.evaluate_columnar(loaded)
            wall, cpu, noise, on_parquet = timed(from_parquet, args.repeat)
            rows.append(("DuckDB, Parquet (validate + query)", wall, cpu, noise))
            loaded = sqlengine.load_columnar(str(parquet), plan, None, False)
            wall, cpu, noise, _ = timed(lambda: sqlengine.evaluate_columnar(loaded), args.repeat)
            rows.append(("  of which the query (+ Python's finish per subject)", wall, cpu, noise))

            def from_jsonl():
                loaded = sqlengine.load_text_log(str(jsonl), plan, None, False)
                return sqlengine.evaluate_columnar(loaded)
            wall, cpu, noise, on_jsonl = timed(from_jsonl, args.repeat)
            rows.append(("DuckDB, JSONL read by DuckDB (validate + query)", wall, cpu, noise))

            def explain_one():
                loaded = sqlengine.load_columnar(str(parquet), plan, None, False, only="u0")
                as_of = sqlengine.latest_at(str(parquet), loaded.con)
                return codegen.evaluate(ruleset, loaded.events("u0"), None, as_of, only="u0")
            wall, cpu, noise, _ = timed(explain_one, args.repeat)
            rows.append(("explain one subject, Parquet (pushdown + ledger)", wall, cpu, noise))
            width = max(len(r[0]) for r in rows)
            print(f"{'':{width}}  {'wall s':>8}  {'cpu s':>8}  {'noise s':>8}")
            for label, wall, cpu, noise in rows:
                print(f"{label:{width}}  {wall:8.2f}  {cpu:8.2f}  {noise:8.2f}")
            base = reference or fast
            worst = 0.0
            for other in (fast, in_memory, on_parquet, on_jsonl):
                for x, y in zip(base.subjects, other.subjects):
                    worst = max(worst, abs(x.scores["reputation"] - y.scores["reputation"]))
            print(f"largest difference in reputation between engines: {worst:g}"
                  f" ({len(base.subjects):,} subjects)")
            if not math.isfinite(worst) or worst > 1e-9:
                print("ENGINES DISAGREE", file=sys.stderr)
                sys.exit(1)


if __name__ == "__main__":
    main()

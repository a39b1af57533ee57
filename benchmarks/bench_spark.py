"""Spark benchmark: `whuffie score --engine spark` (local[2]) against `--engine duckdb` on the same Parquet log.

The log is bench_engines.py's Stack Overflow-style generator (its rules too).
Each engine is its own process, end to end (`whuffie score ... --format csv`),
so Spark's JVM start is in its figure; both outputs must be byte-identical.
The report gives wall time, events/s and events/s per core (2 cores each:
local[2] for Spark, DuckDB's threads on this machine), with the load average
before and after each run.

    .venv/bin/python benchmarks/bench_spark.py               # 1M events
    .venv/bin/python benchmarks/bench_spark.py --sizes 1000000 10000000
    .venv/bin/python benchmarks/bench_spark.py --input jsonl   # the JSONL log: read by Spark (engines/spark/text.py)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_engines import RULES, generate  # noqa: E402  (the same log and rules as the engines benchmark)


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"


def run(engine: str, rules: Path, log: Path, cores: int, memory: str) -> tuple[float, bytes, str, str]:
    """(wall seconds, CSV output, load before, load after) of one `whuffie score` process."""
    extra = ["--spark-master", f"local[{cores}]", "--spark-conf", f"spark.driver.memory={memory}"] \
        if engine == "spark" else []
    env = dict(os.environ, PYTHONPATH=str(ROOT / "interpreter"))
    before = _load()
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "whuffie", "score", str(rules), str(log), "--engine", engine,
                           "--format", "csv", *extra], capture_output=True, env=env, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{engine} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    if b"W091" in done.stderr:
        sys.exit(f"{engine} handed the run over: {done.stderr.decode()[-2000:]}")
    return wall, done.stdout, before, _load()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--driver-memory", default="3g", help="Spark's heap (local mode: driver and executors)")
    parser.add_argument("--input", choices=("parquet", "jsonl"), default="parquet",
                        help="the log's format: Parquet, or JSONL (on Spark: read by Spark's text reader)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rules = folder / "rules.whuf"
        rules.write_text(RULES)
        for size in args.sizes:
            jsonl, parquet = generate(size, folder)
            log = jsonl if args.input == "jsonl" else parquet
            results = {engine: run(engine, rules, log, args.cores, args.driver_memory) for engine in ("duckdb", "spark")}
            same = results["duckdb"][1] == results["spark"][1]
            for engine, (wall, _, before, after) in results.items():
                print(f"{size:>11,} events  {args.input:<7} {engine:<7} {wall:8.1f} s  {size / wall:>11,.0f} events/s  "
                      f"{size / wall / args.cores:>10,.0f} events/s/core  load {before} -> {after}")
            print(f"{'':>11}         outputs byte-identical: {same}")
            if not same:
                sys.exit(1)


if __name__ == "__main__":
    main()

"""The process benchmark of bench_engines.py: every method its own process, round-robin, against hand code.

Wall time is measured around the whole process (interpreter start-up,
imports, reading the input, scoring and writing the CSV), peak RSS comes
from GNU ``time`` around that one child. Each round runs every method once, in
the same order, so a change of machine load hits all methods of a round
alike; the per-round ratio to the hand-written SQL is therefore the stable
figure, and its median is reported.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = sys.executable


def _whuffie(*args: str) -> list[str]:
    return [PYTHON, "-m", "whuffie", *args]


def methods(rules: Path, jsonl: Path, parquet: Path) -> list[tuple[str, list[str]]]:
    """(label, command) of every full-log method; each writes the score CSV to its stdout."""
    baseline = str(HERE / "baselines.py")
    return [
        ("hand-written DuckDB SQL, Parquet", [PYTHON, baseline, "sql", str(parquet), "/dev/stdout"]),
        ("hand-written Python loop, Parquet", [PYTHON, baseline, "python", str(parquet), "/dev/stdout"]),
        ("whuffie --engine duckdb, Parquet", _whuffie("score", str(rules), str(parquet), "--engine", "duckdb",
                                                       "--format", "csv")),
        ("whuffie --engine duckdb, JSONL", _whuffie("score", str(rules), str(jsonl), "--engine", "duckdb",
                                                     "--format", "csv")),
        ("whuffie --engine codegen, JSONL", _whuffie("score", str(rules), str(jsonl), "--engine", "codegen",
                                                      "--format", "csv")),
    ]


def side_methods(rules: Path, parquet: Path, small: Path, heaviest: str) -> list[tuple[str, list[str]]]:
    """Methods timed but not compared: start-up on a 10-event file, explain of the heaviest subject."""
    return [
        ("start-up: whuffie score, 10 events (auto)", _whuffie("score", str(rules), str(small), "--format", "csv")),
        (f"explain {heaviest} (heaviest subject), Parquet", _whuffie("explain", str(rules), str(parquet), heaviest)),
    ]


def run_one(command: list[str], output: Path) -> tuple[float, int, int, float]:
    """Run a command with stdout to ``output``: (wall seconds, peak RSS in bytes, exit status, CPU seconds).

    CPU is user + system time of the process and its threads (DuckDB's included): on a shared
    machine it moves less with the load than the wall time does.

    The peak RSS comes from /usr/bin/time: the rusage of a forked child counts the pages it shared
    with this (large) parent before exec, GNU time's child starts from the small time process.
    """
    env = dict(os.environ, PYTHONPATH=str(ROOT / "interpreter"))
    rss_file = output.with_suffix(".rss")
    with open(output, "wb") as out:
        start = time.perf_counter()
        status = subprocess.call(["/usr/bin/time", "-f", "%M %U %S", "-o", str(rss_file), *command],
                                 stdout=out, stderr=subprocess.DEVNULL, env=env)
        wall = time.perf_counter() - start
    peak_kb, user, system = rss_file.read_text().split()[-3:]
    return wall, int(peak_kb) * 1024, status, float(user) + float(system)


def heaviest_subject(parquet: Path) -> str:
    import duckdb

    return duckdb.connect().execute(f"SELECT subject FROM read_parquet('{parquet}') GROUP BY subject "
                      "ORDER BY count(*) DESC, subject LIMIT 1").fetchone()[0]


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def run_processes(sizes: list[int], rounds: int, rules_text: str, generate) -> None:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; {rounds} rounds round-robin, "
          "each method its own process; load average at start " + load_average())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rules = folder / "so_bench.whuf"
        rules.write_text(rules_text)
        failed = False
        for size in sizes:
            t0 = time.perf_counter()
            jsonl, parquet = generate(size, folder)
            small = folder / "ten_events.jsonl"
            with jsonl.open() as lines:
                small.write_text("".join(line for _, line in zip(range(10), lines)))
            heaviest = heaviest_subject(parquet)
            print(f"\n{size:,} events, {size // 50:,} users: generated in {time.perf_counter() - t0:.1f} s "
                  f"(JSONL {jsonl.stat().st_size / 1e6:.0f} MB, Parquet {parquet.stat().st_size / 1e6:.0f} MB)")
            full = methods(rules, jsonl, parquet)
            side = side_methods(rules, parquet, small, heaviest)
            walls: dict[str, list[float]] = {label: [] for label, _ in full + side}
            peaks: dict[str, int] = {label: 0 for label, _ in full + side}
            cpus: dict[str, list[float]] = {label: [] for label, _ in full + side}
            ratios: dict[str, list[float]] = {label: [] for label, _ in full}
            for round_number in range(rounds):
                base_wall = None
                for index, (label, command) in enumerate(full + side):
                    output = folder / f"out_{index}.csv"
                    wall, peak, status, cpu = run_one(command, output)
                    cpus[label].append(cpu)
                    if status != 0:
                        print(f"  {label}: exit status {status}", file=sys.stderr)
                        failed = True
                    walls[label].append(wall)
                    peaks[label] = max(peaks[label], peak)
                    if index == 0:
                        base_wall = wall
                        expected = output.read_bytes()
                    if index < len(full):
                        ratios[label].append(wall / base_wall)
                        if output.read_bytes() != expected:
                            print(f"  {label}: RESULTS DIFFER from the hand-written SQL", file=sys.stderr)
                            failed = True
                print(f"  round {round_number + 1} done, load average {load_average()}", flush=True)
            width = max(len(label) for label in walls)
            print(f"{'method':{width}}  {'median wall s':>13}  {'median CPU s':>12}  {'peak RSS MB':>11}  "
                  f"{'x hand SQL':>10}")
            for label in walls:
                ratio = f"{statistics.median(ratios[label]):9.2f}x" if label in ratios else f"{'':10}"
                print(f"{label:{width}}  {statistics.median(walls[label]):13.2f}  "
                      f"{statistics.median(cpus[label]):12.2f}  {peaks[label] / 1e6:11.0f}  {ratio}")
            print(f"results: {'IDENTICAL' if not failed else 'DIFFERENT'} across the {len(full)} methods "
                  f"(byte-identical CSV of {size // 50:,} users' scores, tiers, privileges and measures)")
        if failed:
            sys.exit(1)

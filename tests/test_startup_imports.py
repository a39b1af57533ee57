"""Start-up: `whuffie score` on a small JSONL file imports only what generated Python needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "examples" / "library"

# Each costs 20-300 ms to import and none is needed to score a small JSONL log with generated Python.
HEAVY = ("duckdb", "sqlglot", "pyarrow", "numpy", "pandas", "pydantic", "pydantic_core", "rich", "hypothesis",
         "pygls", "matplotlib", "prompt_toolkit", "whuffie.engines.sqlengine", "whuffie.engines.staging")


def _imported(*args: str) -> set[str]:
    """The modules a `whuffie ARGS` process imported, from its own -X importtime report."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "interpreter"))
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "whuffie", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_score_on_a_small_jsonl_file_imports_no_heavy_module():
    modules = _imported("score", str(LIBRARY / "rules.whuf"), str(LIBRARY / "events.jsonl"),
                        "--subjects", str(LIBRARY / "subjects.jsonl"), "--engine", "codegen", "--format", "csv")
    assert "whuffie.engines.codegen" in modules  # the report is of a real run
    assert _heavy(modules) == []


def test_score_by_the_default_engine_on_a_small_file_imports_no_heavy_module():
    modules = _imported("score", str(LIBRARY / "rules.whuf"), str(LIBRARY / "events.jsonl"),
                        "--subjects", str(LIBRARY / "subjects.jsonl"))
    assert _heavy(modules) == []


def _collector_at_exit(*args: str, stdin: str = "") -> tuple[bool, int]:
    """(collector enabled, objects frozen) as `whuffie ARGS` leaves the command, before main's own freeze."""
    probe = ("import atexit, gc, sys\n"
             "import whuffie.cli as cli\n"
             "state = []\n"
             "real_app = cli.app\n"
             "def app():\n"
             "    try:\n"
             "        real_app()\n"
             "    finally:\n"
             "        state.append((gc.isenabled(), gc.get_freeze_count()))\n"
             "cli.app = app\n"
             "atexit.register(lambda: print('COLLECTOR', *state[0], file=sys.stderr))\n"
             "sys.argv = ['whuffie', *sys.argv[1:]]\n"
             "cli.main()\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "interpreter"))
    done = subprocess.run([sys.executable, "-c", probe, *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=ROOT)
    line = next(line for line in done.stderr.splitlines() if line.startswith("COLLECTOR"))
    _, enabled, frozen = line.split()
    return enabled == "True", int(frozen)


def test_the_collector_resumes_once_the_rules_are_loaded():
    """Paused for the start-up only: scoring, and the long sessions of repl, run with the collector on."""
    enabled, frozen = _collector_at_exit("score", str(LIBRARY / "rules.whuf"), str(LIBRARY / "events.jsonl"),
                                         "--subjects", str(LIBRARY / "subjects.jsonl"))
    assert enabled and frozen > 10_000  # the start-up's objects, frozen, are not scanned again
    enabled, _ = _collector_at_exit("repl", str(LIBRARY / "rules.whuf"), stdin="1 + 1\n")
    assert enabled

"""`python -m whuffie` leaves without the interpreter's teardown (cli._exit_without_teardown), losing nothing.

What a user of the process can see must be what the normal exit gives: every byte
of the output (block-buffered into a file or a pipe), the exit code, the messages
on stderr, and the exit functions run once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from clirun import whuffie

ROOT = Path(__file__).resolve().parents[1]
SO = ROOT / "examples" / "stackoverflow"
LIB = ROOT / "examples" / "library"


def _process(*args: str, probe: str = "") -> subprocess.CompletedProcess:
    """`whuffie ARGS` as its own process through cli.main, with ``probe`` run first (e.g. an atexit function)."""
    code = f"import sys\n{probe}\nimport whuffie.cli as cli\nsys.argv = ['whuffie', *sys.argv[1:]]\ncli.main()\n"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "interpreter"))
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=ROOT)


def test_the_whole_output_and_the_summary_reach_a_pipe(tmp_path):
    # the example log forty times over, each copy's people renamed: an output larger than a stream's buffer
    events = tmp_path / "events.jsonl"
    copies = []
    for copy in range(40):
        for line in (SO / "events.jsonl").read_text().splitlines():
            record = json.loads(line)
            record.pop("id", None)
            copies.append(json.dumps({k: f"{v}{copy}" if k in ("voter", "receiver", "subject") else v
                                      for k, v in record.items()}) + "\n")
    events.write_text("".join(copies))
    args = ("score", str(SO / "rules.whuf"), str(events), "--format", "jsonl")
    done = _process(*args)
    in_process = whuffie(*args)
    assert done.returncode == 0, done.stderr
    assert done.stdout == in_process.stdout and len(done.stdout) > 1 << 13
    assert done.stderr == in_process.stderr and "scored" in done.stderr


def test_the_exit_functions_run_once_and_the_code_is_kept():
    probe = "import atexit\natexit.register(lambda: print('EXIT FUNCTION', file=sys.stderr))"
    done = _process("score", str(LIB / "rules.whuf"), str(LIB / "events.jsonl"),
                    "--subjects", str(LIB / "subjects.jsonl"), "--format", "csv", probe=probe)
    assert done.returncode == 0
    assert done.stderr.count("EXIT FUNCTION") == 1
    assert done.stdout.startswith("subject,")
    usage = _process("score", str(LIB / "rules.whuf"), str(LIB / "events.jsonl"), "--format", "yaml", probe=probe)
    assert usage.returncode == 2
    assert "--format must be" in usage.stderr and usage.stderr.count("EXIT FUNCTION") == 1
    missing = _process("score", str(LIB / "rules.whuf"), str(ROOT / "no-such-file.jsonl"), probe=probe)
    assert missing.returncode != 0 and "W080" in missing.stderr and missing.stderr.count("EXIT FUNCTION") == 1


def test_with_a_running_thread_or_duckdb_loaded_the_normal_exit_happens():
    # a thread still running: the interpreter's exit waits for it, so its output is not lost
    probe = ("import threading, time\n"
             "threading.Thread(target=lambda: (time.sleep(0.3), print('THREAD DONE', file=sys.stderr))).start()")
    done = _process("score", str(LIB / "rules.whuf"), str(LIB / "events.jsonl"),
                    "--subjects", str(LIB / "subjects.jsonl"), "--format", "csv", probe=probe)
    assert done.returncode == 0 and "THREAD DONE" in done.stderr
    # DuckDB holds what only its connection's close releases: the normal exit, with the same output
    probe = "import atexit, duckdb\natexit.register(lambda: print('EXIT FUNCTION', file=sys.stderr))"
    args = ("score", str(LIB / "rules.whuf"), str(LIB / "events.jsonl"), "--subjects", str(LIB / "subjects.jsonl"),
            "--format", "csv")
    done = _process(*args, probe=probe)
    assert done.returncode == 0 and done.stdout == whuffie(*args).stdout
    assert done.stderr.count("EXIT FUNCTION") == 1

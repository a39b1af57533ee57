"""`whuffie(...)`: run the command line in-process, as the tests of every command do."""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from whuffie.cli import app

runner = CliRunner()


def whuffie(*args, cwd: Path | None = None):
    """The result of `whuffie ARGS…` (paths may be Path objects), optionally run from ``cwd``."""
    here = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return runner.invoke(app, [str(a) for a in args])
    finally:
        os.chdir(here)

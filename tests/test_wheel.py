"""The wheel is complete: built, installed in a fresh venv, it checks and formats the example.

This proves grammar/ and stdlib/ ship inside the package (pyproject.toml
force-includes them) and that nothing depends on the source checkout.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _index_reachable() -> bool:
    try:
        with socket.create_connection(("pypi.org", 443), timeout=5):
            return True
    except OSError:
        return False


def _run(args: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if not _index_reachable():
        pytest.skip("no network: building the wheel needs hatchling from the package index")
    out = tmp_path_factory.mktemp("wheel")
    build = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, ROOT])
    assert build.returncode == 0, build.stderr
    (found,) = out.glob("whuffie-*.whl")
    return found


def test_wheel_contains_grammar_and_stdlib(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "whuffie/grammar/whuffie.lark" in names
    assert any(name.startswith("whuffie/stdlib/std/") and name.endswith(".whuf") for name in names)
    assert "whuffie/parser.py" in names and "whuffie/formatter.py" in names
    assert "whuffie/locale/de/LC_MESSAGES/whuffie.mo" in names  # the notice's German catalog


def test_installed_wheel_checks_and_formats_the_example(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # Without its own pip (the slow part of making a venv); this pip installs into it.
    made = _run([sys.executable, "-m", "venv", "--without-pip", venv])
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    install = _run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
                    "--disable-pip-version-check", wheel])
    assert install.returncode == 0, install.stderr

    # Run from a folder outside the checkout, on a copy, so only the installed package can be used.
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(ROOT / "examples" / "library" / "rules.whuf", work / "rules.whuf")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    whuffie = venv / "bin" / "whuffie"
    where = _run([python, "-c", "import whuffie, sys; print(whuffie.__file__)"], cwd=work, env=env)
    assert str(venv) in where.stdout
    check = _run([whuffie, "check", "rules.whuf"], cwd=work, env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = _run([whuffie, "fmt", "--check", "rules.whuf"], cwd=work, env=env)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    stdlib = _run([python, "-c", "from whuffie.symbols import stdlib_modules; print(stdlib_modules())"],
                  cwd=work, env=env)
    assert "std/" in stdlib.stdout, stdlib.stderr

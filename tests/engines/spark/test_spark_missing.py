"""Without PySpark, `--engine spark` is a usage error that says how to install it (exit 2, no traceback)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from clirun import whuffie

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_without_pyspark_the_cli_says_how_to_install_it(monkeypatch) -> None:
    real = importlib.util.find_spec

    def hidden(name, *args, **kwargs):  # as if pyspark were not installed
        return None if name == "pyspark" or name.startswith("pyspark.") else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", hidden)
    result = whuffie("score", EXAMPLES / "stackoverflow" / "rules.whuf", EXAMPLES / "stackoverflow" / "events.jsonl",
                     "--engine", "spark")
    assert result.exit_code == 2
    assert "pip install 'whuffie[spark]'" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)

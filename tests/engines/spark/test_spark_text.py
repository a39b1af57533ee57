"""JSONL and CSV logs read by Spark itself (engines/spark/text.py) give what `--engine duckdb` gives.

Bad lines of every kind the line reader meets (a byte-order mark, CRLF, a
lone CR, blank lines, form feeds, broken JSON, ids given twice across read
splits), part files against their concatenation, other read splits, CSV,
and the numbering of lines against inputs.py's on generated texts. One
local SparkSession for the module (conftest.py's ``spark``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clirun import whuffie

pytest.importorskip("pyspark", reason="PySpark is not installed (pip install 'whuffie[spark]')")
if shutil.which("java") is None:
    pytest.skip("PySpark needs Java (java is not on PATH)", allow_module_level=True)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
RULES = EXAMPLES / "stackoverflow" / "rules.whuf"


def _bad_lines() -> list[str]:
    """The stackoverflow log with lines of every kind a reader can get wrong (an id given twice far apart)."""
    lines = (EXAMPLES / "stackoverflow" / "events.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    return ["\ufeff" + lines[0], '{"subject": "ana", "type": ', "", "   ", lines[1] + "\r", lines[2] + "\r" + lines[3],
            "\x0b" + lines[4], json.dumps(dict(first, type="nope")), *lines[5:200], lines[0], *lines[200:400],
            lines[6] + "\x0c", "[1,2]", '{"a":1,"a":2}', "caf\udce9", lines[7] + "\u2028", *lines[400:], "oops"]


def _write(path: Path, lines: list[str], crlf_from: int = 300) -> Path:
    """Lines joined by \\n, then from ``crlf_from`` on by \\r\\n, the last one ending in a lone \\r."""
    text = "\n".join(lines[:crlf_from]) + "\r\n" + "\r\n".join(lines[crlf_from:]) + "\r"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    return path


def _score(engine: str, events, rejects: Path, *extra):
    result = whuffie("score", RULES, events, "--engine", engine, "--rejects", rejects, "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


def _spark_reads_it_itself(monkeypatch) -> None:
    """No hand-over to the driver's reader: a run that fell back would fail here."""
    from whuffie import inputs

    def refuse(*args, **kwargs):
        raise AssertionError("the log was read on the driver")
    monkeypatch.setattr(inputs, "load_events", refuse)


def test_a_log_of_bad_lines_is_read_by_spark_as_duckdb_reads_it_whatever_the_splits(spark, tmp_path,
                                                                                    monkeypatch) -> None:
    from whuffie.engines.spark import columnar as spark_columnar
    from whuffie.engines.spark import text as spark_text

    log = _write(tmp_path / "bad.jsonl", _bad_lines())
    duck = _score("duckdb", log, tmp_path / "duck.jsonl")
    _spark_reads_it_itself(monkeypatch)
    # the rejects streamed from the executors (as when there are more than the driver should hold)
    streamed = []
    real = spark_text.rejects_of
    monkeypatch.setattr(spark_text, "rejects_of", lambda *a: streamed.append(real(*a)) or streamed[-1])
    monkeypatch.setattr(spark_columnar, "COLLECTED_REJECTS", 1)
    try:
        # the file cut into many read splits (lines straddle the cuts; one split: test_spark_engine's examples)
        for split in ("4k",):
            spark.conf.set("spark.sql.files.maxPartitionBytes", split)
            spark.conf.set("spark.sql.files.openCostInBytes", "1")
            on_spark = _score("spark", log, tmp_path / "spark.jsonl")
            assert on_spark.stdout == duck.stdout
            assert on_spark.stderr.replace("spark.jsonl", "duck.jsonl") == duck.stderr
            assert (tmp_path / "spark.jsonl").read_bytes() == (tmp_path / "duck.jsonl").read_bytes()
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
        spark.conf.unset("spark.sql.files.openCostInBytes")
    assert [type(r).__name__ for r in streamed] == ["StreamedRejects"]
    assert "duplicate id" in duck.stderr and "rejected 10" in duck.stderr
    assert (tmp_path / "duck.jsonl").read_bytes().endswith(b"oops\r")  # the lone CR at the end, kept


def test_part_files_score_as_duckdb_scores_their_concatenation(spark, tmp_path, monkeypatch) -> None:
    lines = _bad_lines()
    whole = _write(tmp_path / "whole.jsonl", lines)
    parts = tmp_path / "parts"
    parts.mkdir()
    cuts = [0, 150, 420, len(lines)]  # the id given twice: first in part-0, again in part-1
    for k, (low, high) in enumerate(zip(cuts, cuts[1:])):
        _write(parts / f"part-{k}.jsonl", lines[low:high], crlf_from=10 ** 9 if k < 2 else 0)
    duck = _score("duckdb", whole, tmp_path / "duck.jsonl")
    _spark_reads_it_itself(monkeypatch)
    for spec in (parts, f"{parts}/*.jsonl"):
        on_spark = _score("spark", spec, tmp_path / "spark.jsonl")
        assert on_spark.stdout == duck.stdout
        assert "rejected 10" in on_spark.stderr
    assert any(line.startswith("part-1.jsonl:") and "(first at part-0.jsonl:1)" in line
               for line in on_spark.stderr.splitlines()), on_spark.stderr


def test_a_csv_log_is_read_by_spark_as_duckdb_reads_it(spark, tmp_path, monkeypatch) -> None:
    rules = EXAMPLES / "library" / "rules.whuf"
    subjects = ("--subjects", EXAMPLES / "library" / "subjects.jsonl")
    lines = (EXAMPLES / "library" / "events.csv").read_text().splitlines()
    header, rows = lines[0], lines[1:]
    log = tmp_path / "events.csv"
    log.write_text("\n\n" + "\r\n".join([header, *rows[:5], "bob,no_such_type,2026-01-01", rows[0], "", *rows[5:],
                                         "alice,checkout,not a time,x1"]) + "\n")
    quoted = tmp_path / "quoted.csv"  # a cell over two lines: not numbered by Spark, read on the driver
    quoted.write_text("\n".join([header, *rows[:3], 'carol,"borrowed\nbook",2026-01-01', *rows[3:]]) + "\n")
    for events in (log, quoted):
        args = ("score", rules, events, *subjects, "--format", "json", "--rejects")
        monkeypatch.undo()
        duck = whuffie(*args, tmp_path / "duck.csv", "--engine", "duckdb")
        if events is log:
            _spark_reads_it_itself(monkeypatch)
        on_spark = whuffie(*args, tmp_path / "spark.csv", "--engine", "spark")
        assert duck.exit_code == on_spark.exit_code == 0, on_spark.output
        assert on_spark.stdout == duck.stdout
        assert on_spark.stderr.replace("spark.csv", "duck.csv") == duck.stderr
        assert (tmp_path / "spark.csv").read_bytes() == (tmp_path / "duck.csv").read_bytes()


_PIECES = st.sampled_from(['{"a": 1}', "x", "", " ", "\x0b", "\x0c", "\x1c\x1e", "\u2028", "\u0085", "é", "\ufeff",
                           '{"subject": 1}'])
_ENDS = st.sampled_from(["\n", "\r\n", "\r", ""])


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines=st.lists(st.tuples(st.lists(_PIECES, max_size=3), _ENDS), min_size=1, max_size=30), bom=st.booleans())
def test_lines_are_numbered_as_inputs_py_numbers_them(spark, tmp_path_factory, lines, bom) -> None:
    """Every line rejected: the rejects (file:line, message, text and its line end) are inputs.py's."""
    from whuffie import engines  # noqa: F401 - the package's import order
    from whuffie.engines.spark import text as spark_text
    from whuffie.frontend import load_file
    from whuffie.inputs import load_events
    from whuffie.plan import lower

    text = ("\ufeff" if bom else "") + "".join("".join(p) + end for p, end in lines)
    log = tmp_path_factory.mktemp("log") / "log.jsonl"
    log.write_text(text, encoding="utf-8", newline="")
    ruleset = load_file(RULES).ruleset
    expected = load_events(log, ruleset).rejects
    spark.conf.set("spark.sql.files.maxPartitionBytes", "16")
    spark.conf.set("spark.sql.files.openCostInBytes", "1")
    try:
        got = spark_text.load(str(log), lower(ruleset), None, False).rejects
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
        spark.conf.unset("spark.sql.files.openCostInBytes")
    assert [(r.where, r.message, r.text, r.end) for r in got] == [(r.where, r.message, r.text, r.end)
                                                                  for r in expected]

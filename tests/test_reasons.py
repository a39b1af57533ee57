"""Reasons from the ledger: negative points by rule, and `score --reasons N` the same on every engine."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from engine_strategies import histories, rule_sets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from whuffie import evaluator, reasons
from whuffie.engines import codegen
from whuffie.cli import app
from whuffie.evaluator import EvaluationError
from whuffie.frontend import load_text
from whuffie.inputs import parse_events, parse_subjects

LIB = "examples/library/"


def _score(*args: str):
    got = CliRunner().invoke(app, ["score", LIB + "rules.whuf", LIB + "events.jsonl",
                                   "--subjects", LIB + "subjects.jsonl", *args])
    assert got.exit_code == 0, got.output
    return got.stdout


def test_score_reasons_gives_every_subject_its_top_reasons_on_every_engine() -> None:
    outputs = {engine: _score("--reasons", "2", "--format", "json", "--engine", engine)
               for engine in ("reference", "codegen", "duckdb", "auto")}
    assert len(set(outputs.values())) == 1
    records = {r["subject"]: r for r in json.loads(outputs["reference"])}
    # carol (examples/library/README): three upheld complaints at -15 (the fourth cut by once per year),
    # two late returns capped at -10
    assert records["carol"]["reasons"] == [
        {"rule": "upheld_complaint", "factor": None, "author": "council",
         "because": "Upheld complaints follow a hearing", "points": -45, "loss": 45, "events": 3},
        {"rule": "late_return", "factor": None, "author": "ben", "because": "Lateness costs other members",
         "points": -20, "loss": 20, "events": 2},
    ]
    assert records["dan"]["reasons"] == []
    assert list(records["dan"]) == ["subject", "scores", "tier", "privileges", "measures", "reasons"]


def test_score_without_reasons_keeps_its_record_and_csv_gets_a_reasons_column() -> None:
    assert "reasons" not in json.loads(_score("--format", "json"))[0]
    rows = list(csv.reader(io.StringIO(_score("--reasons", "1", "--format", "csv"))))
    assert rows[0][-1] == "reasons"
    by_subject = {row[0]: row[-1] for row in rows[1:]}
    assert by_subject["carol"] == "upheld_complaint" and by_subject["dan"] == ""


def test_score_reasons_must_not_be_negative() -> None:
    got = CliRunner().invoke(app, ["score", LIB + "rules.whuf", LIB + "events.jsonl",
                                   "--subjects", LIB + "subjects.jsonl", "--reasons", "-1"])
    assert got.exit_code == 2 and "--reasons must be 0 or more" in got.output


MIXED = '''ruleset m "mixed"
author ada "Ada"
event did { n: int in -5..5 }
rule swing by ada because "either way" on did award n
rule other by ada because "always" on did award -1
'''


def test_a_rule_that_gives_and_takes_counts_only_what_it_took() -> None:
    rs = load_text(MIXED, "m.whuf").ruleset
    text = "".join(json.dumps({"subject": "u", "type": "did", "at": f"2026-01-0{i + 1}T00:00:00Z", "n": n}) + "\n"
                   for i, n in enumerate([5, -3, 4, -1]))
    result = evaluator.evaluate(rs, parse_events(text, Path("e.jsonl"), rs).events).subjects[0]
    found = reasons.reasons(result, rs, 4)
    assert [(r.rule, r.points, r.loss, r.events) for r in found] == [("other", -4, 4, 4), ("swing", -4, 4, 2)]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_reasons_are_the_same_from_the_reference_and_generated_python(data) -> None:
    generated = data.draw(rule_sets())
    events_text, subjects_text = data.draw(histories(generated))
    loaded = load_text(generated.text, "gen.whuf")
    rs = loaded.ruleset
    subjects = parse_subjects(subjects_text, Path("s.jsonl"), rs).subjects
    events = parse_events(events_text, Path("e.jsonl"), rs, subjects, True).events
    try:
        reference = evaluator.evaluate(rs, events, subjects)
    except EvaluationError:
        return
    fast = codegen.evaluate(rs, events, subjects)
    for a, b in zip(reference.subjects, fast.subjects):
        assert [reasons.reason_data(r, 9) for r in reasons.reasons(a, rs, 3)] == \
            [reasons.reason_data(r, 9) for r in reasons.reasons(b, rs, 3)]
        # a reason's loss is minus the negative points of its rule, and never more reasons than asked
        for r in reasons.reasons(a, rs, 3):
            assert r.loss == -sum(e.value for e in a.ledger if e.rule == r.rule and e.value < 0)


def test_score_reasons_reads_parquet_input_too(tmp_path) -> None:
    import duckdb

    parquet = tmp_path / "events.parquet"
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_json_auto('{LIB}events.jsonl')")
    con.execute(f"COPY t TO '{parquet}' (FORMAT PARQUET)")
    got = CliRunner().invoke(app, ["score", LIB + "rules.whuf", str(parquet), "--subjects", LIB + "subjects.jsonl",
                                   "--reasons", "2", "--format", "json"])
    assert got.exit_code == 0, got.output
    assert got.stdout == _score("--reasons", "2", "--format", "json")

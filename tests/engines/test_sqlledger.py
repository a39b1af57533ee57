"""The SQL ledger query gives the reference's ledger, on generated rule sets with every cap, once and bound."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from whuffie import evaluator
from whuffie.engines import sqlengine
from whuffie.evaluator import EvaluationError
from whuffie.frontend import load_text
from whuffie.inputs import parse_events, parse_subjects
from whuffie.plan import lower

from engine_strategies import histories, rule_sets


def sql_ledger(ruleset, events, subjects) -> list[tuple]:
    """The ledger query's rows, through the sink the SQL engine calls after a run without a fault."""
    rows: list[tuple] = []

    def sink(con, compiled):
        if compiled.ledger is not None:
            cursor = con.execute(compiled.ledger.sql("duckdb"))
            names = [d[0] for d in cursor.description]
            rows.extend(dict(zip(names, r)) for r in cursor.fetchall())

    sqlengine.evaluate(lower(ruleset), events, subjects, ledger_sink=sink)
    return rows


def real_cuts(cuts: list, raw) -> list:
    """The cuts beyond rounding (sqlledger.FLOAT_CUT_NOISE of the value before each): the last bits of float
    sums differ between engines, so a float cut of 1e-15 in one may be none in another."""
    kept, before = [], raw
    for by, amount in cuts:
        if isinstance(amount, int) and isinstance(before, int) or abs(amount) > 1e-9 * max(1, abs(before)):
            kept.append((by, amount))
        before = before - amount
    return kept


def close(a, b) -> bool:
    return a == pytest.approx(b, rel=1e-9, abs=1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_the_sql_ledger_is_the_reference_ledger(data):
    generated = data.draw(rule_sets())
    events_text, subjects_text = data.draw(histories(generated))
    loaded = load_text(generated.text, "gen.whuf")
    assert loaded.ok
    rs = loaded.ruleset
    subjects = parse_subjects(subjects_text, Path("subjects.jsonl"), rs).subjects
    events = parse_events(events_text, Path("events.jsonl"), rs, subjects, True).events
    try:
        reference = evaluator.evaluate(rs, events, subjects)
    except EvaluationError:
        assume(False)  # a run-time fault: every engine refuses, no ledger to compare
    try:
        rows = sql_ledger(rs, events, subjects)
    except (sqlengine.SqlUnsupported, sqlengine.SqlFault, duckdb.Error):
        assume(False)  # the SQL engine hands this run to generated Python, which writes the ledger
    expected = [(s.subject, e) for s in reference.subjects for e in s.ledger]
    assert len(rows) == len(expected)
    for row, (subject, e) in zip(rows, expected):
        assert (row["subject"], row["rule"], row["event"], row["line"], row["event_type"]) == \
            (subject, e.rule, e.event_id, e.line, e.event_type)
        assert close(row["raw"], e.raw) and close(row["capped"], e.capped) and close(row["value"], e.value)
        mine = [(c["by"], c["amount"]) for c in row["cut_by"]]
        theirs = real_cuts([(c.by, c.amount) for c in e.cuts], e.raw)
        assert [c[0] for c in mine] == [c[0] for c in theirs], (row, e)
        assert all(close(c[1], d[1]) for c, d in zip(mine, theirs))
        assert close(row["decay"], e.decay)

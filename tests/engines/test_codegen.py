"""The generated-Python engine: safe text, the reference's ledger and faults, a line map back to rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whuffie import evaluator, report
from whuffie.engines import codegen
from whuffie.evaluator import EvaluationError
from whuffie.frontend import load_text
from whuffie.inputs import parse_events

TRICKY = '''ruleset t "tricky"
author ada "Ada"
event say { words: text, n: int in 0..100 }
rule quoted by ada because "x" on say where words == "\\"); import os; os.system(\\"echo pwned" award n * 2
rule other by ada because "x" on say where words != "__import__('os')" award 1
  cap 3 per day
score s = points
'''


def ruleset(text: str):
    loaded = load_text(text, "t.whuf")
    assert loaded.ok, [d.message for d in loaded.diagnostics if d.is_error]
    return loaded.ruleset


def events(rs, rows: list[dict]):
    text = "".join(json.dumps(r) + "\n" for r in rows)
    load = parse_events(text, Path("events.jsonl"), rs)
    assert not load.rejects, load.rejects
    return load.events


def test_literals_are_rendered_with_repr_and_no_declared_name_becomes_code() -> None:
    rs = ruleset(TRICKY)
    source = codegen.compile_plan(codegen.lower(rs)).source
    compile(source, "<check>", "exec")  # still valid Python
    assert "import os" not in source.replace(repr('"); import os; os.system("echo pwned'), "")
    # rule names appear only inside string literals
    for line in source.splitlines():
        if "quoted" in line:
            assert "'rule quoted'" in line or "'quoted'" in line, line


def test_input_text_never_reaches_the_generated_code() -> None:
    rs = ruleset(TRICKY)
    rows = [{"subject": "a", "type": "say", "at": "2026-01-01T10:00:00Z", "words": '"); import os; os.system("echo pwned',
             "n": 5}, {"subject": "a", "type": "say", "at": "2026-01-01T11:00:00Z", "words": "hi", "n": 1}]
    evs = events(rs, rows)
    assert report.score_json(codegen.evaluate(rs, evs)) == report.score_json(evaluator.evaluate(rs, evs))
    assert codegen.evaluate(rs, evs).subjects[0].scores["s"] == 10 + 1 + 1


FAULTS = '''ruleset f "faults"
author ada "Ada"
author ben "Ben"
event read { pages: int in 0..50 }
rule speed by ben because "x" on read award 100 / pages
score s = points
score ratio = sqrt(points - 1000)
'''


def test_a_fault_names_the_rule_author_event_and_line_as_the_reference_does() -> None:
    rs = ruleset(FAULTS.replace("score ratio = sqrt(points - 1000)\n", ""))
    evs = events(rs, [{"subject": "a", "type": "read", "at": "2026-01-01T10:00:00Z", "pages": 5},
                      {"subject": "a", "type": "read", "at": "2026-01-02T10:00:00Z", "pages": 0, "id": "e2"}])
    with pytest.raises(EvaluationError) as ref:
        evaluator.evaluate(rs, evs)
    with pytest.raises(EvaluationError) as gen:
        codegen.evaluate(rs, evs)
    assert gen.value.diagnostics == ref.value.diagnostics
    message = gen.value.diagnostics[0].message
    assert "rule speed by ben" in message and "e2 (events.jsonl:2)" in message and "division by zero" in message
    assert gen.value.diagnostics[0].span.line == 5


def test_a_fault_in_a_score_names_the_score_and_subject() -> None:
    rs = ruleset(FAULTS)
    evs = events(rs, [{"subject": "a", "type": "read", "at": "2026-01-01T10:00:00Z", "pages": 5}])
    with pytest.raises(EvaluationError) as ref:
        evaluator.evaluate(rs, evs)
    with pytest.raises(EvaluationError) as gen:
        codegen.evaluate(rs, evs)
    assert gen.value.diagnostics == ref.value.diagnostics
    assert "score ratio" in gen.value.diagnostics[0].message and "subject a" in gen.value.diagnostics[0].message


def test_the_line_map_leads_from_generated_lines_back_to_rule_spans() -> None:
    rs = ruleset(TRICKY)
    generated = codegen.compile_plan(codegen.lower(rs))
    constructs = {what for what, _ in generated.line_map.values()}
    assert {"rule quoted", "rule other"} <= constructs
    for line, (what, span) in generated.line_map.items():
        if what == "rule other":
            assert span.line == 5
            assert 1 <= line <= len(generated.source.splitlines())


def test_an_unforeseen_exception_in_generated_code_is_w090_naming_the_construct() -> None:
    rs = ruleset(TRICKY)
    generated = codegen.compile_plan(codegen.lower(rs))

    def broken(*args):
        raise LookupError("simulated")
    generated.namespace["_Cut"] = broken  # the cap's cut is recorded outside the award's fault handler
    evs = events(rs, [{"subject": "a", "type": "say", "at": f"2026-01-01T1{i}:00:00Z", "words": "x", "n": 1}
                      for i in range(5)])
    with pytest.raises(EvaluationError) as caught:
        codegen.evaluate(rs, evs, generated=generated)
    d = caught.value.diagnostics[0]
    assert d.code == "W090" and "rule other" in d.message and d.span.line == 5


HISTORY = st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 60 * 24 * 20), st.integers(-30, 30),
                             st.sampled_from(["x", "y"])), max_size=40)
CAPPED = '''ruleset c "capped"
timezone "Europe/London"
author ada "Ada"
event ping { n: int, tag: text }
rule plain by ada because "x" on ping where tag == "x" award n cap 40 per week
rule double by ada because "x" on ping where tag == "y" award n * 2 once per day decay half_life 3 days
shared cap both 25 per day over plain, double by ada
score s = 10 + points
  floor 0 per event
'''


@settings(max_examples=60, deadline=None)
@given(HISTORY)
def test_skipping_the_ledger_changes_no_number_and_the_ledger_is_the_references(history) -> None:
    rs = ruleset(CAPPED)
    rows = [{"subject": s, "type": "ping", "at": f"2026-03-{1 + m // 1440:02d}T{m % 1440 // 60:02d}:{m % 60:02d}:00Z",
             "n": v, "tag": t} for s, m, v, t in history]
    evs = events(rs, rows)
    reference = evaluator.evaluate(rs, evs)
    with_ledger = codegen.evaluate(rs, evs)
    without = codegen.evaluate(rs, evs, ledger=False)
    assert report.score_json(with_ledger, 12) == report.score_json(reference, 12) == report.score_json(without, 12)
    assert [report.ledger_entry(e, 12) for s in with_ledger.subjects for e in s.ledger] == \
        [report.ledger_entry(e, 12) for s in reference.subjects for e in s.ledger]
    assert all(not s.ledger for s in without.subjects)


# ---------------------------------------------------------------- float sums in ledger order

SUMS = '''ruleset sums "float sums"
author ada "Ada"
event did { x: number }
rule r by ada because "x" on did award x
measure total = sum did.x
score s = points
'''

_FLOATS = st.one_of(st.sampled_from([1e16, -1e16, 1.0, -1.0, 0.1, 1e308, -1e308, 5e-324]),
                    st.floats(-1e17, 1e17, allow_nan=False, allow_infinity=False))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_FLOATS, st.integers(0, 3)), min_size=1, max_size=12))
def test_float_sums_are_taken_in_ledger_order_on_both_python_engines(rows) -> None:
    # ledger order: event time, then input position (ties keep input order); the sum is a left fold in it
    import datetime as dt

    from whuffie.inputs import Event
    rs = ruleset(SUMS)
    base = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    evs = [Event("u", "did", base + dt.timedelta(hours=hour), f"e{i}", f"e.jsonl:{i + 1}", i, {"x": x})
           for i, (x, hour) in enumerate(rows)]
    expected = 0
    for e in sorted(evs, key=lambda e: (e.at, e.position)):
        expected = expected + e.fields["x"]
    outcomes = []
    for engine in (evaluator.evaluate, codegen.evaluate):
        try:
            outcomes.append(engine(rs, evs).subjects[0])
        except EvaluationError as exc:  # 1e308 + 1e308 overflows: the same W090 on both
            outcomes.append(exc.diagnostics)
    reference, generated = outcomes
    if isinstance(reference, list):
        assert generated == reference and not -1.8e308 < expected < 1.8e308
        return
    assert reference.points == generated.points == expected
    assert reference.scores == generated.scores == {"s": float(expected)}
    assert reference.measures == generated.measures == {"total": float(expected)}

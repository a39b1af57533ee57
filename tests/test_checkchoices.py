"""Enumerated text fields: the checker's W058 and W067, input rejected with a did-you-mean, factors over them."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings

from whuffie import engines
from whuffie.engines import sqlengine
from whuffie.formatter import format_program
from whuffie.frontend import load_text
from whuffie.inputs import parse_events, parse_subjects
from whuffie.parser import parse
from whuffie.plan import lower
from whuffie.testing import histories

RULES = '''ruleset e "enumerated"
author ada "Ada"
subject member { plan: text in ["basic", "gold"] }
event applied { purpose: text in ["car (new)", "car (used)", "education"] }
rule new_car by ada because "new" on applied where purpose == "car (new)" award 10
rule used_car by ada because "used" on applied where purpose == "car (used)" award 5
rule schooling by ada because "school" on applied where purpose == "education" award 3
factor purposes over new_car, used_car, schooling by ada because "the loan's purpose"
score s = points
'''


def _diags(text: str) -> list[tuple[str, str, str | None]]:
    return [(d.code, d.message, d.hint) for d in load_text(text, "e.whuf").diagnostics]


def test_a_factor_over_an_enumerated_field_is_exhaustive_when_its_bins_cover_the_values() -> None:
    assert _diags(RULES) == []
    missing = RULES.replace('rule schooling by ada because "school" on applied where purpose == "education" award 3\n',
                            "").replace("used_car, schooling", "used_car")
    assert _diags(missing) == [("W064", 'purpose "education" is matched by no bin of factor purposes',
                                "add a bin for it, or widen a neighbouring bin's `where`")]


def test_a_literal_the_field_never_holds_is_w067_with_a_did_you_mean() -> None:
    text = RULES + ('rule typo by ada because "x" on applied where purpose in ["car (new)", "eduction"] award 1\n'
                    'rule plan by ada because "y" on applied where member.plan != "golden" award 1\n')
    found = [d for d in _diags(text) if d[0] == "W067"]
    assert found == [
        ("W067", 'purpose is never "eduction": it holds only "car (new)", "car (used)", "education"',
         "did you mean `education`?"),
        ("W067", 'member.plan is never "golden": it holds only "basic", "gold"', "did you mean `gold`?"),
    ]


def test_a_list_on_a_field_that_is_not_text_or_a_value_listed_twice_is_w058() -> None:
    text = ('ruleset e "x"\nauthor ada "Ada"\nevent did { n: int in ["1"], t: text in ["a", "b", "a"] }\n'
            'rule r by ada because "x" on did award 1\n')
    assert [(c, m) for c, m, _ in _diags(text)] == [
        ("W058", "field n of event did is int; only text fields take a list of values"),
        ("W058", "field t of event did lists 'a' twice"),
    ]


def test_an_enumerated_field_formats_and_parses_back() -> None:
    program = parse(RULES, "e.whuf").program
    formatted = format_program(program)
    assert 'purpose: text in ["car (new)", "car (used)", "education"]' in formatted
    assert parse(formatted, "e.whuf").program == program


def _event(subject: str, purpose: str) -> str:
    return json.dumps({"subject": subject, "type": "applied", "at": "2026-01-01T00:00:00Z", "purpose": purpose})


def test_input_with_another_value_is_rejected_with_its_line_and_the_closest_value() -> None:
    rs = load_text(RULES, "e.whuf").ruleset
    load = parse_events(_event("a", "car (new)") + "\n" + _event("b", "car (nw)") + "\n", Path("e.jsonl"), rs)
    assert [e.subject for e in load.events] == ["a"]
    assert [(r.where, r.message) for r in load.rejects] == [
        ("e.jsonl:2", 'field purpose: expected text in ["car (new)", "car (used)", "education"], '
                      'got "car (nw)" (did you mean "car (new)"?)')]
    csv_load = parse_events("subject,type,at,purpose\nb,applied,2026-01-01T00:00:00Z,eduction\n",
                            Path("e.csv"), rs)
    assert csv_load.rejects[0].message.endswith('got "eduction" (did you mean "education"?)')
    subjects = parse_subjects('{"id": "a", "plan": "platinum"}\n', Path("s.jsonl"), rs)
    assert "expected text in [\"basic\", \"gold\"]" in subjects.rejects[0].message


def test_duckdb_rejects_another_value_in_a_jsonl_log_and_in_parquet(tmp_path) -> None:
    import duckdb

    rs = load_text(RULES, "e.whuf").ruleset
    log = tmp_path / "e.jsonl"
    log.write_text(_event("a", "education") + "\n" + _event("b", "car (nw)") + "\n", encoding="utf-8")
    subjects = {"a": {"plan": "gold"}, "b": {"plan": "gold"}}
    plan = lower(rs)
    load = sqlengine.load_columnar(str(log), plan, subjects, False)
    assert load.accepted == 1 and [r.where.rsplit("/", 1)[-1] for r in load.rejects] == ["e.jsonl:2"]
    parquet = tmp_path / "e.parquet"
    duckdb.connect().execute(
        "COPY (SELECT 'a' AS subject, 'applied' AS type, TIMESTAMPTZ '2026-01-01 00:00:00+00' AS at, "
        f"'car (nw)' AS purpose) TO '{parquet}' (FORMAT PARQUET)")
    load = sqlengine.load_columnar(str(parquet), plan, subjects, False)
    assert load.accepted == 0
    assert load.rejects[0].message == "field purpose: expected text in its declared values, got car (nw)"


@settings(max_examples=25, deadline=None)
@given(histories(load_text(RULES, "e.whuf").ruleset))
def test_generated_histories_hold_only_declared_values(history) -> None:
    subjects, events = history.subjects, list(history.events)
    rs = load_text(RULES, "e.whuf").ruleset
    for e in events:
        assert e.fields["purpose"] in ("car (new)", "car (used)", "education")
    for attrs in subjects.values():
        assert attrs["plan"] in ("basic", "gold")
    # and every generated event scores in exactly one bin of the factor, on the reference and generated Python
    for engine in ("reference", "codegen"):
        results = engines.evaluate(engine, rs, events, subjects, history.as_of)
        assert all(len(r.ledger) == r.events for r in results.subjects)


def test_a_test_block_value_that_is_none_of_the_fields_values_is_w028() -> None:
    text = RULES + ('test "t" {\n  member m { plan: "gold" }\n'
                    '  at 2026-01-01 m applied { purpose: "car (nu)" }\n  expect s of m == 10\n}\n')
    assert [(c, m, h) for c, m, h in _diags(text)] == [
        ("W028", "purpose = 'car (nu)' is not one of its declared values",
         "did you mean `car (new)` or `car (used)`?")]

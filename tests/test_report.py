"""The reporting layer: every score and measure prints in its checked type, whatever the engine or data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from whuffie import evaluator, report
from whuffie.engines import codegen
from whuffie.frontend import load_text
from whuffie.inputs import parse_events

RULES = '''ruleset t "typed output"
author ada "Ada"
event did { n: int, x: number }
rule by_x by ada because "x" on did award x
rule by_n by ada because "n" on did award n
measure total_x = sum did.x
measure total_n = sum did.n
measure longest = max did.x
score standing = points(by_x)
score whole = floor(points(by_x)) + 1
'''

# x spelled 2 (an int in JSON) for one subject and 2.5 for the other: the spelling must not show
EVENTS = ('{"subject": "u", "type": "did", "at": "2026-01-01T00:00:00Z", "n": 2, "x": 2}\n'
          '{"subject": "v", "type": "did", "at": "2026-01-02T00:00:00Z", "n": 3, "x": 2.5}\n')


def _load():
    loaded = load_text(RULES, "t.whuf")
    assert loaded.ok, loaded.diagnostics
    rs = loaded.ruleset
    return rs, parse_events(EVENTS, Path("e.jsonl"), rs).events


@pytest.mark.parametrize("engine", [evaluator.evaluate, codegen.evaluate])
def test_results_carry_int_for_int_scores_and_float_for_number_scores(engine) -> None:
    rs, evs = _load()
    u = engine(rs, evs).subjects[0]
    assert type(u.scores["standing"]) is float and type(u.scores["whole"]) is int
    assert type(u.measures["total_x"]) is float and type(u.measures["longest"]) is float
    assert type(u.measures["total_n"]) is int


def test_json_and_jsonl_print_a_number_score_as_a_number_whatever_the_data_spelling() -> None:
    rs, evs = _load()
    results = evaluator.evaluate(rs, evs)
    records = json.loads(report.score_json(results, 2, rs))
    assert [r["scores"] for r in records] == [{"standing": 2.0, "whole": 3}, {"standing": 2.5, "whole": 3}]
    assert '"standing": 2.0' in report.score_json(results, 2, rs)
    assert [json.loads(line) for line in report.score_jsonl(results, 2, rs).splitlines()] == records


def test_the_ruleset_types_the_output_even_when_an_engine_returns_the_other_python_type() -> None:
    # an engine that hands back 2 for a number score and 3.0 for an int one still prints 2.0 and 3
    rs, evs = _load()
    results = evaluator.evaluate(rs, evs)
    u = results.subjects[0]
    u.scores.update(standing=2, whole=3.0)
    u.measures.update(total_x=2, total_n=2.0)
    assert report.record(u, 2, rs)["scores"] == {"standing": 2.0, "whole": 3}
    assert report.record(u, 2, rs)["measures"] == {"total_x": 2.0, "total_n": 2, "longest": 2.0}
    row = report.score_rows(results, rs)[0]
    assert row == ["u", "2.00", "3", "-", "-", "2.00", "2", "2.00"]
    assert "u,2.00,3,,,2.00,2,2.00" in report.score_csv(results, rs)
    assert "standing 2.00, whole 3" in report.explain_text(u, rs, RULES, results.as_of)
    assert json.loads(report.explain_json(u, 2, ruleset=rs))["scores"] == {"standing": 2.0, "whole": 3}


def test_a_table_column_never_mixes_decimals_and_whole_numbers() -> None:
    rs, evs = _load()
    rows = report.score_rows(evaluator.evaluate(rs, evs), rs)
    assert [r[1] for r in rows] == ["2.00", "2.50"] and [r[5] for r in rows] == ["2.00", "2.50"]


def test_year_one_prints_as_four_digit_iso_in_the_ledger_and_explanations() -> None:
    loaded = load_text(RULES, "t.whuf")
    rs = loaded.ruleset
    evs = parse_events('{"subject": "u", "type": "did", "at": "0001-01-01T00:00:00Z", "n": 1, "x": 1}\n',
                       Path("e.jsonl"), rs).events
    for engine in (evaluator.evaluate, codegen.evaluate):
        results = engine(rs, evs)
        u = results.subjects[0]
        assert [e["at"] for e in json.loads(report.explain_json(u, 2, ruleset=rs))["ledger"]] == \
            ["0001-01-01T00:00:00Z"] * 2
        text = report.explain_text(u, rs, RULES, results.as_of)
        assert "u as of 0001-01-01T00:00:00Z" in text and "    0001-01-01T00:00:00Z  e.jsonl:1" in text


@pytest.mark.parametrize("engine", [evaluator.evaluate, codegen.evaluate])
def test_a_number_award_is_a_float_in_the_ledger_whatever_the_data_spelled(engine) -> None:
    rs, evs = _load()
    u = engine(rs, evs).subjects[0]  # x spelled 2
    by_x = [e for e in u.ledger if e.rule == "by_x"]
    assert [type(v) for e in by_x for v in (e.raw, e.capped, e.value)] == [float] * 3
    assert [type(e.raw) for e in u.ledger if e.rule == "by_n"] == [int]
    assert json.loads(report.explain_json(u, 2, ruleset=rs))["ledger"][0]["raw"] == 2.0


NEAR_RULES = '''ruleset near "near a bound"
author ada "Ada"
event did { x: number }
rule by_x by ada because "x" on did award x
score standing = points
tier top when standing >= 80 by ada because "80 or more"
tier rest otherwise by ada because "below"
'''


def test_a_value_just_under_a_tier_bound_is_not_printed_as_the_bound() -> None:
    loaded = load_text(NEAR_RULES, "n.whuf")
    rs = loaded.ruleset
    events = parse_events('{"subject": "u", "type": "did", "at": "2026-01-01T00:00:00Z", "x": 79.9999}\n'
                          '{"subject": "v", "type": "did", "at": "2026-01-01T00:00:00Z", "x": 79.5}\n',
                          Path("e.jsonl"), rs).events
    results = evaluator.evaluate(rs, events)
    rows = report.score_rows(results, rs, 2)
    assert rows == [["u", "79.9999", "rest", "-"], ["v", "79.50", "rest", "-"]]
    assert [r["scores"]["standing"] for r in json.loads(report.score_json(results, 2, rs))] == [79.9999, 79.5]
    text = report.explain_text(results.subjects[0], rs, NEAR_RULES, results.as_of)
    assert "  standing 79.9999" in text

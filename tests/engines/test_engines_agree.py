"""The three engines agree: reference, generated Python and DuckDB give the same results or the same error.

Generated Python must be identical to the reference, ledger included; DuckDB
(no ledger: `score` without `explain`) must agree on every number within
1e-9, and on every tier, privilege and subject.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from engine_strategies import histories, rule_sets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whuffie import engines, evaluator, report
from whuffie.engines import codegen, sqlengine
from whuffie import nodes as n
from whuffie.evaluator import EvaluationError
from whuffie.frontend import load_file, load_text
from whuffie.inputs import load_events, load_subjects, parse_events, parse_subjects
from whuffie.plan import lower

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WITH_EVENTS = sorted(p.name for p in EXAMPLES.iterdir() if (p / "events.jsonl").exists())


def close(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)):
        return a == b
    return isinstance(b, (int, float)) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def same_numbers(a: evaluator.Results, b: evaluator.Results) -> list[str]:
    """Every difference between two results beyond 1e-9 (empty when they agree)."""
    out = []
    if [s.subject for s in a.subjects] != [s.subject for s in b.subjects]:
        return [f"subjects {[s.subject for s in a.subjects]} != {[s.subject for s in b.subjects]}"]
    if (a.as_of, a.scored, a.after_as_of) != (b.as_of, b.scored, b.after_as_of):
        out.append("as-of or counts differ")
    for x, y in zip(a.subjects, b.subjects):
        for part in ("scores", "measures", "points_by_rule"):
            dx, dy = getattr(x, part), getattr(y, part)
            if set(dx) != set(dy) or not all(close(dx[k], dy[k]) for k in dx):
                out.append(f"{x.subject} {part}: {dx} != {dy}")
        if not close(x.points, y.points):
            out.append(f"{x.subject} points: {x.points} != {y.points}")
        if (x.tier, x.privileges, x.events) != (y.tier, y.privileges, y.events):
            out.append(f"{x.subject}: {(x.tier, x.privileges, x.events)} != {(y.tier, y.privileges, y.events)}")
    return out


def same_types(a: evaluator.Results, b: evaluator.Results) -> list[str]:
    """Every score or measure whose Python type (int, float) differs: output follows the checker's type."""
    out = []
    for x, y in zip(a.subjects, b.subjects):
        for part in ("scores", "measures"):
            dx, dy = getattr(x, part), getattr(y, part)
            out += [f"{x.subject} {part} {k}: {dx[k]!r} vs {dy[k]!r}" for k in dx if k in dy and type(dx[k]) is not type(dy[k])]
    return out


def ledger_json(results: evaluator.Results) -> list[dict]:
    return [report.ledger_entry(e, 12) for s in results.subjects for e in s.ledger]


def example(name: str):
    folder = EXAMPLES / name
    ruleset = load_file(folder / "rules.whuf").ruleset
    subjects = None
    if (folder / "subjects.jsonl").exists():
        subjects = load_subjects(folder / "subjects.jsonl", ruleset).subjects
    load = load_events(folder / "events.jsonl", ruleset, subjects, subjects is not None)
    assert not load.rejects
    return ruleset, load.events, subjects


def generated(ruleset, events, subjects, as_of=None, only=None) -> evaluator.Results:
    """Generated Python's results; a rule set it hands to the reference (W091) must say so, then the hand-over's."""
    try:
        return codegen.evaluate(ruleset, events, subjects, as_of, only=only)
    except codegen.CodegenUnsupported:
        assert any(n.has_memory(t) for t in ruleset.tiers.values()), "only tiers with memory are handed over"
        notes = []
        results = engines.evaluate("codegen", ruleset, events, subjects, as_of, only=only, notes=notes.append)
        assert [d.code for d in notes] == ["W091"]
        return results


def on_duckdb(ruleset, events, subjects, as_of=None) -> evaluator.Results:
    """DuckDB's results, or (for what it hands over, W091) the results of the engine it hands to."""
    try:
        return sqlengine.evaluate(lower(ruleset), events, subjects, as_of)
    except sqlengine.SqlUnsupported:
        notes = []
        results = engines.evaluate("duckdb", ruleset, events, subjects, as_of, ledger=False, notes=notes.append)
        assert "W091" in [d.code for d in notes]
        return results


@pytest.mark.parametrize("name", WITH_EVENTS)
def test_every_example_scores_the_same_on_every_engine(name: str) -> None:
    ruleset, events, subjects = example(name)
    reference = evaluator.evaluate(ruleset, events, subjects)
    generated_results = generated(ruleset, events, subjects)
    assert report.score_json(generated_results, 12) == report.score_json(reference, 12)
    assert ledger_json(generated_results) == ledger_json(reference)
    assert ledger_json(reference), "the example has a ledger to compare"
    duck = on_duckdb(ruleset, events, subjects)
    assert same_numbers(reference, duck) == []
    assert report.score_json(duck, 12) == report.score_json(reference, 12)


@pytest.mark.parametrize("name", WITH_EVENTS)
def test_examples_agree_at_an_earlier_as_of_and_for_one_subject(name: str) -> None:
    ruleset, events, subjects = example(name)
    times = sorted(e.at for e in events)
    as_of = times[len(times) // 2]
    reference = evaluator.evaluate(ruleset, events, subjects, as_of)
    assert reference.after_as_of > 0
    assert same_numbers(reference, on_duckdb(ruleset, events, subjects, as_of)) == []
    one = events[-1].subject
    only = evaluator.evaluate(ruleset, events, subjects, as_of, only=one)
    assert ledger_json(generated(ruleset, events, subjects, as_of, only=one)) == ledger_json(only)


SETTINGS = settings(max_examples=35, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _run_all(text: str, events_text: str, subjects_text: str):
    loaded = load_text(text, "gen.whuf")
    assert loaded.ok, text + "\n" + "\n".join(d.message for d in loaded.diagnostics if d.is_error)
    rs = loaded.ruleset
    subjects = parse_subjects(subjects_text, Path("subjects.jsonl"), rs).subjects
    load = parse_events(events_text, Path("events.jsonl"), rs, subjects, True)
    assert not load.rejects, load.rejects
    return rs, load.events, subjects


def _outcome(fn):
    try:
        return fn(), None
    except EvaluationError as exc:
        return None, [(d.code, d.message, d.span) for d in exc.diagnostics]


@SETTINGS
@given(st.data())
def test_generated_rule_sets_and_histories_agree_on_every_engine(data) -> None:
    generated = data.draw(rule_sets())
    events_text, subjects_text = data.draw(histories(generated))
    rs, events, subjects = _run_all(generated.text, events_text, subjects_text)
    reference, ref_error = _outcome(lambda: evaluator.evaluate(rs, events, subjects))
    fast, fast_error = _outcome(lambda: codegen.evaluate(rs, events, subjects))
    assert fast_error == ref_error
    notes = []
    sql, sql_error = _outcome(lambda: engines.evaluate("duckdb", rs, events, subjects, ledger=False,
                                                       notes=notes.append))
    assert sql_error == ref_error
    assert notes == [], [d.message for d in notes]
    if ref_error is None:
        assert report.score_json(fast, 12) == report.score_json(reference, 12)
        assert ledger_json(fast) == ledger_json(reference)
        assert same_numbers(reference, sql) == [], generated.text + events_text
        assert same_types(fast, sql) == [], generated.text + events_text


FAULTY = """ruleset f "faults"
author ada "Ada"
event read { pages: int in 0..50, hours: number }
rule speed by ada because "x" on read where hours > 1 or 10 / pages > 1 award hours * 10 / pages
measure heavy = count read where 100 / pages > 3
score s = points + heavy
"""


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from([0, 0.5, 2])), max_size=8))
def test_faults_are_the_same_error_on_every_engine(rows) -> None:
    rs = load_text(FAULTY, "f.whuf").ruleset
    text = "".join(f'{{"subject": "s{i % 2}", "type": "read", "at": "2026-01-0{1 + i % 3}T10:00:00Z", '
                   f'"pages": {p}, "hours": {h}}}\n' for i, (p, h) in enumerate(rows))
    events = parse_events(text, Path("events.jsonl"), rs).events
    reference, ref_error = _outcome(lambda: evaluator.evaluate(rs, events))
    for engine in ("codegen", "duckdb"):
        result, err = _outcome(lambda: engines.evaluate(engine, rs, events, ledger=False))
        assert err == ref_error
        if err is None:
            assert same_numbers(reference, result) == []

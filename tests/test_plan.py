"""The plan layer: each rule lowered once, with its cuts in the pipeline order of decisions.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_strategies import rule_sets
from hypothesis import HealthCheck, given, settings

from whuffie import nodes as n
from whuffie.evaluator import EvaluationError
from whuffie.frontend import load_file, load_text
from whuffie.plan import lower

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

CHAIN = """ruleset c "chain"
author ada "Ada"
event ping { n: int }
event pong {}
rule first by ada because "x" on ping award n cap 30 per week cap 500 total once per day
rule second by ada because "x" on pong where true award 1.5 decay half_life 2 days
rule third by ada because "x" on ping award 2
shared cap later 50 per month over third, first by ada
shared cap earlier 10 per day over first by ada
score s = 3 + points
  floor 1 per event
tier high when s > 10 by ada
tier low otherwise by ada
privilege p when tier >= high by ada
"""


def plan_of(text: str):
    loaded = load_text(text, "c.whuf")
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    return lower(loaded.ruleset)


def test_own_caps_come_first_in_written_order_then_shared_caps_in_declaration_order() -> None:
    plan = plan_of(CHAIN)
    first = plan.rules[0]
    assert [c.label for c in first.caps] == [
        "cap 30 per week", "cap 500 total", "shared cap later 50 per month", "shared cap earlier 10 per day"]
    assert [c.shared for c in first.caps] == [None, None, "later", "earlier"]
    assert [c.owner for c in first.caps] == ["first", "first", "later", "earlier"]
    assert (first.once, first.once_label) == ("day", "once per day")
    assert plan.shared_caps == ["later", "earlier"]


def test_awards_decay_and_the_bound_are_plain_data() -> None:
    plan = plan_of(CHAIN)
    second = plan.rules[1]
    assert second.half_life == 2 * 86400
    assert isinstance(second.where, n.Bool) and isinstance(second.award, n.Number)
    assert (plan.bound.score, plan.bound.floor, plan.bound.ceiling, plan.bound.start) == ("s", 1, None, 3)
    assert [(t.name, t.rank, t.condition is None) for t in plan.tiers] == [("high", 2, False), ("low", 1, True)]
    assert [p.name for p in plan.privileges] == ["p"]
    assert plan.needs_local


def test_rules_on_an_event_keep_declaration_order() -> None:
    plan = plan_of(CHAIN)
    assert [r.name for r in plan.rules_on("ping")] == ["first", "third"]
    assert plan.event_types() == ["ping", "pong"]
    assert plan.type_of(plan.rules[0].award).base == "int"


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.iterdir() if (p / "rules.whuf").exists()))
def test_every_example_lowers_with_one_plan_per_declaration(name: str) -> None:
    ruleset = load_file(EXAMPLES / name / "rules.whuf").ruleset
    plan = lower(ruleset)
    assert [r.name for r in plan.rules] == list(ruleset.rules)
    assert [m.name for m in plan.measures] == list(ruleset.measures)
    assert [s.name for s in plan.scores] == list(ruleset.scores)
    assert [r.index for r in plan.rules] == list(range(len(plan.rules)))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_sets())
def test_lowering_is_deterministic_and_every_cap_is_accounted_for(generated) -> None:
    ruleset = load_text(generated.text, "gen.whuf").ruleset
    a, b = lower(ruleset), lower(ruleset)
    assert a.rules == b.rules and a.measures == b.measures and a.bound == b.bound
    shared_memberships = sum(len(sc.rules) for sc in ruleset.shared_caps.values())
    own = sum(len(r.clauses_of(n.Cap)) for r in ruleset.rules.values())
    assert sum(len(r.caps) for r in a.rules) == own + shared_memberships


def test_a_program_the_reference_refuses_is_refused_the_same_way() -> None:
    loaded = load_text(CHAIN, "c.whuf")
    rs = loaded.ruleset
    rs.scores["s"] = n.ScoreDecl("s", n.Binary("*", n.Name("points"), n.Number(2)),
                                 clauses=(n.Bound("floor", n.Number(1)),))
    with pytest.raises(EvaluationError) as caught:
        lower(rs)
    assert caught.value.diagnostics[0].code == "W025"

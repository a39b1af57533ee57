"""`earlier(AGGREGATE …)` inside rules: the subject's events strictly before this one, on every engine."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from timehelpers import diagnostics_of, ev, run_all, subject

ESCALATING = """
rule late by ada because "repeat offences cost more"
  on returned where days_late > 0
  award -2 * (1 + earlier(count returned where days_late > 0 within 30 days))
rule best by ada because "x" on returned where days_late == 0
  award earlier(max returned.days_late within 1 month default 0)
"""


def test_a_repeat_offence_escalates_and_the_window_edge_is_exclusive():
    events = [ev("returned", "2025-12-31T23:00:00Z", days_late=2),  # none before: -2
              ev("returned", "2026-01-09T23:00:00Z", days_late=1),  # one late before: -4
              ev("returned", "2026-01-19T23:00:00Z", days_late=0),  # on time: best = max(2, 1) = 2
              # exactly 30 days after the first: the window (at - 30 days, at] leaves it out, so one: -4
              ev("returned", "2026-01-30T23:00:00Z", days_late=5),
              ev("returned", "2026-02-19T23:00:00Z", days_late=3)]  # only the 01-30 one is within: -4
    out = run_all(ESCALATING, events, tz="Europe/Berlin")
    for results in out.values():
        assert subject(results).points_by_rule == {"late": -14, "best": 2}
    ledger = [(e.rule, e.value) for e in subject(out["reference"]).ledger]
    assert ledger == [("late", -2), ("late", -4), ("best", 2), ("late", -4), ("late", -4)]
    assert subject(out["codegen"]).ledger == subject(out["reference"]).ledger


def test_the_third_late_return_in_a_month_costs_three_times_the_first():
    events = [ev("returned", f"2026-03-0{d}T10:00:00Z", days_late=1) for d in (1, 2, 3)]
    results = run_all(ESCALATING, events)["reference"]
    assert [e.value for e in subject(results).ledger] == [-2, -4, -6]


def test_ties_count_events_read_before_at_the_same_instant():
    events = [ev("returned", "2026-03-01T10:00:00Z", days_late=1)] * 3
    for results in run_all(ESCALATING, events).values():
        assert subject(results).points == -2 - 4 - 6


def test_earlier_is_only_for_rules_and_not_nested():
    codes = [c for c, _ in diagnostics_of("score s = earlier(count returned)\n")]
    assert "W025" in codes
    codes = [c for c, _ in diagnostics_of('rule r by ada because "x" on returned award '
                                          "earlier(count returned where earlier(count visited) > 0)\n")]
    assert "W025" in codes


def test_earlier_min_without_default_is_optional():
    codes = [c for c, _ in diagnostics_of('rule r by ada because "x" on returned award '
                                          "earlier(min returned.days_late)\n")]
    assert "W024" in codes


COUNTING = """
rule seen by ada because "x" on returned award earlier(count visited)
rule seen_late by ada because "x" on visited award earlier(count returned where days_late > 0)
"""


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.booleans(), st.integers(0, 3)), max_size=12))
def test_earlier_count_equals_the_number_of_earlier_events(draws):
    events = []
    for day, is_visit, late in draws:
        at = f"2026-01-{day + 1:02d}T10:00:00Z"
        events.append(ev("visited", at, minutes=5) if is_visit else ev("returned", at, days_late=late))
    order = sorted(range(len(events)), key=lambda i: events[i]["at"])  # stable: ties keep input order
    expected_seen = expected_late = 0
    visits = lates = 0
    for i in order:
        e = events[i]
        if e["type"] == "returned":
            expected_seen += visits
            lates += e["days_late"] > 0
        else:
            expected_late += lates
            visits += 1
    if not events:
        return
    for results in run_all(COUNTING, events).values():
        s = subject(results)
        assert s.points_by_rule.get("seen", 0) == expected_seen
        assert s.points_by_rule.get("seen_late", 0) == expected_late


def test_the_ledger_records_the_value_each_earlier_had_on_both_python_engines():
    events = [ev("returned", f"2026-03-0{d}T10:00:00Z", days_late=1) for d in (1, 2)]
    out = run_all(ESCALATING, events)
    label = "earlier(count returned where days_late > 0 within 30 days)"
    assert [e.earlier for e in subject(out["reference"]).ledger] == [((label, 0),), ((label, 1),)]
    assert subject(out["codegen"]).ledger == subject(out["reference"]).ledger

"""Issue 14's constructs on generated histories: the engines agree (Hypothesis)."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from timehelpers import ev, run_all

NATIVE_EVERYWHERE = """
rule r by ada because "x" on returned award 1
measure latest_late = last returned.days_late default 0
measure first_late = first returned.days_late where days_late > 0
measure note = last returned.note default ""
measure late_3m = count returned where days_late > 0 within 3 months
measure minutes_1y = sum visited.minutes within 1 year default 0
measure until = last suspension.until default 1970-01-01
condition suspended = until > now
condition troubled = late_3m >= 2 or latest_late > 10
tier blocked when suspended by ada
tier watch when troubled by ada
tier fine otherwise by ada
privilege post when not suspended and not troubled by ada
"""

WITH_PAST = """
rule late by ada because "x" on returned where days_late > 0
  award -1 * (1 + earlier(count returned where days_late > 0 within 1 month))
rule most by ada because "x" on visited award earlier(max visited.minutes within 10 days default 0)
measure late_10d = count returned where days_late > 0 within 10 days
measure visits_10d = count visited within 10 days
tier steady when visits_10d >= 3
  keep while visits_10d >= 1
  hold 3 days
  by ada
tier known when visits_10d >= 1 keep by ada
tier new otherwise by ada
privilege post when tier >= known and late_10d == 0 by ada
"""

START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

event_draws = st.lists(st.tuples(
    st.sampled_from(["a", "b"]), st.integers(0, 24 * 200), st.sampled_from(["returned", "visited", "suspension"]),
    st.integers(0, 20), st.one_of(st.none(), st.integers(0, 300))), max_size=14)


def build(draws):
    events = []
    for sid, hours, kind, n, days in draws:
        at = (START + dt.timedelta(hours=hours)).isoformat()
        if kind == "returned":
            events.append(ev("returned", at, sid, days_late=n, **({"note": f"n{n}"} if n % 2 else {})))
        elif kind == "visited":
            events.append(ev("visited", at, sid, minutes=n * 7.5))
        else:
            until = None if days is None else (START + dt.timedelta(days=days)).date().isoformat()
            events.append(ev("suspension", at, sid, **({"until": until} if until else {})))
    return events


SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(event_draws, st.integers(0, 24 * 220), st.sampled_from(["UTC", "Europe/Berlin"]))
def test_last_first_calendar_windows_and_conditions_agree_on_every_engine(draws, as_of_hours, tz):
    events = build(draws)
    if not events:
        return
    run_all(NATIVE_EVERYWHERE, events, tz=tz, as_of=(START + dt.timedelta(hours=as_of_hours)).isoformat())


@SETTINGS
@given(event_draws, st.integers(0, 24 * 220), st.sampled_from(["UTC", "Europe/Berlin"]))
def test_earlier_and_tiers_with_memory_agree_ledger_and_history_included(draws, as_of_hours, tz):
    events = build(draws)
    if not events:
        return
    out = run_all(WITH_PAST, events, tz=tz, as_of=(START + dt.timedelta(hours=as_of_hours)).isoformat())
    for ref, gen in zip(out["reference"].subjects, out["codegen"].subjects):
        assert gen.ledger == ref.ledger
        assert gen.tier_log == ref.tier_log

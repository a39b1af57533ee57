"""`last E.field` / `first E.field`: the field of the latest / earliest counted event, on every engine."""

from __future__ import annotations

import datetime as dt

from timehelpers import diagnostics_of, ev, run_all, subject

BODY = """
rule r by ada because "x" on visited award 1
measure suspended_until = last suspension.until default 1970-01-01
measure last_minutes = last visited.minutes
measure first_minutes = first visited.minutes
measure first_long = first visited.minutes where minutes > 10 default 0
measure recent_last = last visited.minutes within 3 days
condition suspended = suspended_until > now
tier banned when suspended by ada
tier ok otherwise by ada
"""

EVENTS = [
    ev("suspension", "2026-01-02T10:00:00Z", "a", until="2026-03-01"),
    ev("visited", "2026-01-03T10:00:00Z", "a", minutes=5),
    ev("visited", "2026-01-04T10:00:00Z", "a", minutes=20.5),
    ev("visited", "2026-01-04T10:00:00Z", "a", minutes=7),  # same instant, read later: the latest
    ev("suspension", "2026-01-02T10:00:00Z", "b", until="2026-03-01"),
    ev("suspension", "2026-01-05T10:00:00Z", "b"),  # lifted: no `until`, so the value is cleared
    ev("visited", "2026-01-01T10:00:00Z", "b", minutes=3),
]


def test_latest_and_earliest_values_with_ties_clearing_and_windows():
    for results in run_all(BODY, EVENTS, as_of="2026-01-06T00:00:00Z").values():
        a, b = subject(results, "a"), subject(results, "b")
        assert a.measures == {"suspended_until": dt.date(2026, 3, 1), "last_minutes": 7.0, "first_minutes": 5.0,
                              "first_long": 20.5, "recent_last": 7.0}
        assert a.tier == "banned"
        # b's last suspension event has no until: none, so the default; its one visit is 5 days old
        assert b.measures == {"suspended_until": dt.date(1970, 1, 1), "last_minutes": 3.0, "first_minutes": 3.0,
                              "first_long": 0.0, "recent_last": None}
        assert b.tier == "ok"


def test_without_a_default_last_is_optional():
    codes = diagnostics_of("measure m = last visited.minutes\nscore s = m\n")
    assert [c for c, _ in codes if c != "W033"] == ["W024"]


def test_last_of_text_is_allowed():
    codes = diagnostics_of("measure note = last returned.note default \"\"\n")
    assert [c for c, _ in codes if c != "W033"] == []

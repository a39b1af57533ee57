"""Rule activity: firings, subjects reached and points moved per rule, and dead rules (hand-computed)."""

from __future__ import annotations

import datetime as dt

from whuffie import engines
from whuffie.frontend import load_text
from whuffie.inputs import parse_events
from whuffie.rule_activity import rule_activity
from pathlib import Path

RULES = """\
ruleset tiny "Tiny"
author ada "Ada"
author ben "Ben"
event did { n: int in 0..10 }
event said { word: text }
rule small by ada because "Doing counts" on did award 1 cap 2 total
rule big by ben because "Big numbers cost" on did where n > 5 award -n
rule never by ada because "Nobody speaks" on said award 3
score s = points
"""
EVENTS = """\
{"subject": "x", "type": "did", "at": "2026-01-01T10:00:00Z", "id": "e1", "n": 1}
{"subject": "x", "type": "did", "at": "2026-01-02T10:00:00Z", "id": "e2", "n": 7}
{"subject": "x", "type": "did", "at": "2026-01-03T10:00:00Z", "id": "e3", "n": 2}
{"subject": "y", "type": "did", "at": "2026-01-04T10:00:00Z", "id": "e4", "n": 9}
"""
AS_OF = dt.datetime(2026, 2, 1, tzinfo=dt.timezone.utc)


def activity(engine: str):
    ruleset = load_text(RULES, "tiny.whuf").ruleset
    events = parse_events(EVENTS, Path("e.jsonl"), ruleset).events
    return rule_activity(ruleset, engines.evaluate(engine, ruleset, events, None, AS_OF, ledger=True))


def test_firings_subjects_and_points_by_hand():
    # small fires on all four events (x three times, capped at 2 in total, y once): 4 firings, 2 + 1 points;
    # big fires on n=7 (x) and n=9 (y): -16; never waits for an event that never comes.
    found = [(a.rule, a.by, a.event, a.firings, a.subjects, a.points, a.dead) for a in activity("reference")]
    assert found == [("big", "ben", "did", 2, 2, -16, False),
                     ("small", "ada", "did", 4, 2, 3, False),
                     ("never", "ada", "said", 0, 0, 0, True)]


def test_every_engine_with_a_ledger_agrees():
    assert activity("codegen") == activity("reference")


def test_a_capped_firing_still_counts_as_a_firing():
    small = next(a for a in activity("reference") if a.rule == "small")
    assert small.firings == 4 and small.points == 3  # the third firing for x was cut to 0 by the cap

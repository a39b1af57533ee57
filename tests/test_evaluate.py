"""The evaluator, feature by feature: each case is a small rule file with events whose
expected numbers are derived by hand in the comment above the assertion."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whuffie.evaluator import EvaluationError, evaluate, round_half_away
from whuffie.frontend import load_file, load_text
from whuffie.inputs import parse_events, parse_subjects, parse_time

ROOT = Path(__file__).resolve().parents[1]
UTC = dt.timezone.utc

HEADER = """ruleset t "evaluator test"
timezone "{tz}"
author ada "Ada"
subject member {{ joined: date, nick: text }}
event ping {{ n: int in -1000..1000, tag: text, note: text? }}
event pong {{ x: number in 0..100 }}
"""


def ruleset_of(body: str, tz: str = "UTC"):
    loaded = load_text(HEADER.format(tz=tz) + body, "t.whuf")
    errors = [f"{d.span}: {d.code} {d.message}" for d in loaded.diagnostics if d.is_error]
    assert not errors, errors
    return loaded.ruleset


def ping(subject: str, at: str, n: int = 1, tag: str = "a", **more) -> dict:
    return {"subject": subject, "type": "ping", "at": at, "n": n, "tag": tag, **more}


def pong(subject: str, at: str, x: float) -> dict:
    return {"subject": subject, "type": "pong", "at": at, "x": x}


def run(body: str, events: list[dict], tz: str = "UTC", as_of: str | None = None,
        subjects: list[dict] | None = None):
    rs = ruleset_of(body, tz)
    text = "".join(json.dumps(e) + "\n" for e in events)
    load = parse_events(text, Path("events.jsonl"), rs)
    assert not load.rejects, [str(r) for r in load.rejects]
    subj = None
    if subjects is not None:
        sl = parse_subjects("".join(json.dumps(s) + "\n" for s in subjects), Path("subjects.jsonl"), rs)
        assert not sl.rejects, [str(r) for r in sl.rejects]
        subj = sl.subjects
    instant = parse_time(as_of, dt.timezone.utc) if as_of else None
    return evaluate(rs, load.events, subj, instant)


def one(results, subject: str = "s"):
    [found] = [r for r in results.subjects if r.subject == subject]
    return found


def values(result) -> list:
    return [e.value for e in result.ledger]


RULE = 'rule r by ada because "test" on ping award n\n'
SCORE = "score total = points\n"


# ---------------------------------------------------------------- firing, where, order, as-of


def test_award_and_where():
    # awards 3 and 4 fire; n = -1 fails the where; points 3 + 4 = 7
    r = one(run('rule r by ada because "x" on ping where n > 0 award n\n' + SCORE,
                [ping("s", "2026-01-01T10:00:00Z", 3), ping("s", "2026-01-02T10:00:00Z", -1),
                 ping("s", "2026-01-03T10:00:00Z", 4)]))
    assert values(r) == [3, 4]
    assert r.scores == {"total": 7}
    assert r.ledger[0].event_id == "events.jsonl:1" and r.ledger[1].line == "events.jsonl:3"


def test_events_are_processed_by_time_then_input_order():
    body = RULE + "score total = points\n  floor 0 per event\n"
    # input order (+5 at t2, -5 at t1) is re-ordered by time: -5 first is cut by the floor to 0,
    # then +5 -> 5.  (In input order it would be 5 - 5 = 0.)
    r = one(run(body, [ping("s", "2026-01-02T00:00:00Z", 5), ping("s", "2026-01-01T00:00:00Z", -5)]))
    assert r.scores["total"] == 5
    # equal times keep input order: -5 (cut to 0) then +5 -> 5; +5 then -5 -> 0
    same = "2026-01-01T00:00:00Z"
    assert one(run(body, [ping("s", same, -5), ping("s", same, 5)])).scores["total"] == 5
    assert one(run(body, [ping("s", same, 5), ping("s", same, -5)])).scores["total"] == 0


def test_as_of_defaults_to_latest_event_and_ignores_later_events():
    events = [ping("s", "2026-01-01T00:00:00Z", 1), ping("s", "2026-01-05T00:00:00Z", 10),
              ping("t", "2026-01-09T00:00:00Z", 100)]
    res = run(RULE + SCORE, events)
    assert res.as_of == dt.datetime(2026, 1, 9, tzinfo=UTC)
    assert res.after_as_of == 0 and res.scored == 3
    # as of Jan 5 (inclusive): s has 1 + 10; t's event is after as-of, so t is not scored at all
    res = run(RULE + SCORE, events, as_of="2026-01-05T00:00:00Z")
    assert [s.subject for s in res.subjects] == ["s"]
    assert one(res).scores["total"] == 11
    assert res.after_as_of == 1 and res.scored == 2


def test_at_without_offset_is_in_the_ruleset_timezone():
    # 2026-07-01T23:30 in London (BST, UTC+1) is 22:30Z
    rs = ruleset_of(RULE, "Europe/London")
    load = parse_events(json.dumps(ping("s", "2026-07-01T23:30:00")) + "\n", Path("e.jsonl"), rs)
    assert load.events[0].at == dt.datetime(2026, 7, 1, 22, 30, tzinfo=UTC)


# ---------------------------------------------------------------- once


def test_once_ever():
    # the first firing counts (4); later ones are cut to 0 and still in the ledger
    r = one(run('rule r by ada because "x" on ping award n once\n',
                [ping("s", "2026-01-01T00:00:00Z", 4), ping("s", "2027-06-01T00:00:00Z", 4)]))
    assert values(r) == [4, 0]
    assert r.ledger[1].cuts[0].by == "once" and r.ledger[1].raw == 4
    assert r.points == 4


def test_once_per_week_uses_iso_weeks_starting_monday():
    # Sun 2026-01-04 (week 1) and Mon 2026-01-05 (week 2) both count; Wed 2026-01-07 is week 2 again: cut
    r = one(run('rule r by ada because "x" on ping award n once per week\n',
                [ping("s", "2026-01-04T12:00:00Z", 3), ping("s", "2026-01-05T12:00:00Z", 3),
                 ping("s", "2026-01-07T12:00:00Z", 3)]))
    assert values(r) == [3, 3, 0]
    assert r.ledger[2].cuts[0].by == "once per week"


# ---------------------------------------------------------------- caps


def test_cap_per_day_gives_partial_credit_and_keeps_zero_cuts_in_the_ledger():
    # cap 10 per day: 4, 4, then 2 of 4 (partial), then 0 of 4; next day a fresh bucket: 4
    r = one(run('rule r by ada because "x" on ping award n cap 10 per day\n',
                [ping("s", f"2026-01-01T0{h}:00:00Z", 4) for h in range(4)]
                + [ping("s", "2026-01-02T00:00:00Z", 4)]))
    assert values(r) == [4, 4, 2, 0, 4]
    assert [e.cuts[0].amount for e in r.ledger if e.cuts] == [2, 4]
    assert r.ledger[3].cuts[0].by == "cap 10 per day"
    assert r.points == 14


def test_negative_awards_apply_in_full_and_lower_the_bucket():
    # cap 10 per day: +8 (bucket 8), -5 in full (bucket 3), +9 is cut to 7 (bucket 10); points 8 - 5 + 7 = 10
    r = one(run('rule r by ada because "x" on ping award n cap 10 per day\n',
                [ping("s", "2026-01-01T01:00:00Z", 8), ping("s", "2026-01-01T02:00:00Z", -5),
                 ping("s", "2026-01-01T03:00:00Z", 9)]))
    assert values(r) == [8, -5, 7]
    assert r.points == 10


def test_cap_below_zero_leaves_room_for_later_awards():
    # cap 5 per day: -20 (bucket -20), +30 cut to 25 (bucket 5)
    r = one(run('rule r by ada because "x" on ping award n cap 5 per day\n',
                [ping("s", "2026-01-01T01:00:00Z", -20), ping("s", "2026-01-01T02:00:00Z", 30)]))
    assert values(r) == [-20, 25]


def test_cap_total_is_lifetime():
    # cap 10 total: 6, 4 (of 6), then 0 years later
    r = one(run('rule r by ada because "x" on ping award n cap 10 total\n',
                [ping("s", "2026-01-01T00:00:00Z", 6), ping("s", "2026-02-01T00:00:00Z", 6),
                 ping("s", "2030-01-01T00:00:00Z", 6)]))
    assert values(r) == [6, 4, 0]
    assert r.ledger[2].cuts[0].by == "cap 10 total"


def test_cap_per_month_and_year():
    # cap 5 per month: Jan 4 + 1 (of 4); Feb a fresh 4.  cap 5 per year on a second rule: 4, 1, 0
    body = ('rule m by ada because "x" on ping award n cap 5 per month\n'
            'rule y by ada because "x" on ping award n cap 5 per year\n')
    r = one(run(body, [ping("s", "2026-01-10T00:00:00Z", 4), ping("s", "2026-01-31T23:00:00Z", 4),
                       ping("s", "2026-02-01T00:00:00Z", 4)]))
    assert [e.value for e in r.ledger if e.rule == "m"] == [4, 1, 4]
    assert [e.value for e in r.ledger if e.rule == "y"] == [4, 1, 0]


def test_own_caps_apply_first_then_shared_caps():
    # a has its own cap 5 per day; shared cap 8 per day over a, b.
    # a +4: own 4, shared 4.  a +4: own room 1 -> 1, shared 5.  b +4: shared room 3 -> 3.  Sum 8.
    body = ('rule a by ada because "x" on ping where tag == "a" award n cap 5 per day\n'
            'rule b by ada because "x" on ping where tag == "b" award n\n'
            'shared cap both 8 per day over a, b by ada because "x"\n')
    r = one(run(body, [ping("s", "2026-01-01T01:00:00Z", 4, "a"), ping("s", "2026-01-01T02:00:00Z", 4, "a"),
                       ping("s", "2026-01-01T03:00:00Z", 4, "b")]))
    assert values(r) == [4, 1, 3]
    assert [c.by for c in r.ledger[1].cuts] == ["cap 5 per day"]
    assert [c.by for c in r.ledger[2].cuts] == ["shared cap both 8 per day"]
    assert r.points == 8


def test_a_rule_outside_the_shared_cap_is_not_limited_by_it():
    body = ('rule a by ada because "x" on ping where tag == "a" award n\n'
            'rule b by ada because "x" on ping where tag == "b" award n\n'
            'shared cap only_a 5 per day over a by ada because "x"\n')
    # a: 4, then 1 of 4; b is free: 4
    r = one(run(body, [ping("s", "2026-01-01T01:00:00Z", 4, "a"), ping("s", "2026-01-01T02:00:00Z", 4, "a"),
                       ping("s", "2026-01-01T03:00:00Z", 4, "b")]))
    assert values(r) == [4, 1, 4]


def test_calendar_days_are_local_to_the_ruleset_timezone():
    # 22:30Z and 23:30Z on July 1 are one UTC day, but in London (UTC+1) they fall on July 1 and July 2.
    events = [ping("s", "2026-07-01T22:30:00Z", 2), ping("s", "2026-07-01T23:30:00Z", 2)]
    body = 'rule r by ada because "x" on ping award n cap 2 per day\n'
    assert values(one(run(body, events, tz="UTC"))) == [2, 0]
    assert values(one(run(body, events, tz="Europe/London"))) == [2, 2]


def test_calendar_month_is_local_to_the_ruleset_timezone():
    # 2026-01-31T20:00Z is already Feb 1 in Tokyo (UTC+9); cap 3 per month: 3 and 3 in Tokyo, 3 and 0 in UTC
    events = [ping("s", "2026-01-15T00:00:00Z", 3), ping("s", "2026-01-31T20:00:00Z", 3)]
    body = 'rule r by ada because "x" on ping award n cap 3 per month\n'
    assert values(one(run(body, events, tz="UTC"))) == [3, 0]
    assert values(one(run(body, events, tz="Asia/Tokyo"))) == [3, 3]


# ---------------------------------------------------------------- decay


def test_decay_halves_per_half_life():
    # half-life 10 days; as of Jan 21: the Jan 1 award of 8 is 20 days old -> 8 * 0.25 = 2;
    # the Jan 11 award of 8 is 10 days old -> 4; the Jan 21 award -> 8.  points 14
    r = one(run('rule r by ada because "x" on ping award n decay half_life 10 days\n' + SCORE,
                [ping("s", "2026-01-01T00:00:00Z", 8), ping("s", "2026-01-11T00:00:00Z", 8),
                 ping("s", "2026-01-21T00:00:00Z", 8)]))
    assert values(r) == pytest.approx([2, 4, 8])
    assert [e.decay for e in r.ledger] == pytest.approx([0.25, 0.5, 1.0])
    assert r.scores["total"] == pytest.approx(14)


def test_caps_apply_to_undecayed_values():
    # cap 10 total; half-life 1 day; as of Jan 3.  Jan 1: 8 passes (decays to 2);
    # Jan 3: cut to 2 by the cap (the bucket holds the undecayed 8), factor 1 -> 2.  points 4
    r = one(run('rule r by ada because "x" on ping award n cap 10 total decay half_life 1 day\n',
                [ping("s", "2026-01-01T00:00:00Z", 8), ping("s", "2026-01-03T00:00:00Z", 8)]))
    assert [e.capped for e in r.ledger] == [8, 2]
    assert values(r) == pytest.approx([2, 2])


# ---------------------------------------------------------------- points, scores, bounds


def test_points_of_one_rule_and_scores_in_order():
    # a = 3 + 3 = 6, b = -1: points 5; double = 2 * points(a) = 12; plus = double + 1 = 13
    body = ('rule a by ada because "x" on ping where n > 0 award n\n'
            'rule b by ada because "x" on ping where n < 0 award n\n'
            'score double = 2 * points(a)\nscore plus = double + 1\nscore all = points\n')
    r = one(run(body, [ping("s", "2026-01-01T00:00:00Z", 3), ping("s", "2026-01-02T00:00:00Z", 3),
                       ping("s", "2026-01-03T00:00:00Z", -1)]))
    assert r.scores == {"double": 12, "plus": 13, "all": 5}
    assert r.points_by_rule == {"a": 6, "b": -1}


def test_running_floor_cuts_in_event_order():
    # rep = 1 + points, floor 1: balance 1; -5 cut to 0 (stays 1); +10 -> 11; -20 cut to -10 -> 1; +3 -> 4.
    # points = 0 + 10 - 10 + 3 = 3, rep 4
    body = RULE + "score rep = 1 + points\n  floor 1 per event\n"
    r = one(run(body, [ping("s", f"2026-01-0{d}T00:00:00Z", n) for d, n in ((1, -5), (2, 10), (3, -20), (4, 3))]))
    assert values(r) == [0, 10, -10, 3]
    assert r.scores["rep"] == 4
    assert r.ledger[0].cuts[0].by == "floor 1 per event" and r.ledger[0].cuts[0].amount == -5
    assert r.ledger[2].raw == -20 and r.ledger[2].capped == -10


def test_running_ceiling_and_clamp_at_the_end():
    # ceiling 20 on points: 15, then 5 of 15, then -4 -> balance 16, then 4 of 10.  points 20.
    # clamp(points, 0, 10) applies once, at the end: 10 (points stay 20)
    body = (RULE + "score capped = points\n  ceiling 20 per event\n"
            "score shown = clamp(points, 0, 10)\n")
    r = one(run(body, [ping("s", f"2026-01-0{d}T00:00:00Z", n) for d, n in ((1, 15), (2, 15), (3, -4), (4, 10))]))
    assert values(r) == [15, 5, -4, 4]
    assert r.scores == {"capped": 20, "shown": 10}


def test_caps_and_floors_are_independent():
    # cap 10 per day and floor 0 on points.  -6 is cut by the floor to 0, but the cap's bucket sees
    # the full -6 (bucket -6), so +12 passes in full (room 16) -> points 12.
    body = ('rule r by ada because "x" on ping award n cap 10 per day\n'
            "score total = points\n  floor 0 per event\n")
    r = one(run(body, [ping("s", "2026-01-01T01:00:00Z", -6), ping("s", "2026-01-01T02:00:00Z", 12)]))
    assert values(r) == [0, 12]


# ---------------------------------------------------------------- measures


MEASURES = """rule r by ada because "x" on ping award n
measure pings = count ping
measure big_pings = count ping where n >= 5
measure ping_days = count distinct days of ping
measure tags = count distinct ping.tag
measure n_sum = sum ping.n
measure n_min = min ping.n default 0
measure n_max = max ping.n default 0
measure x_avg = avg pong.x default -1
measure recent = count ping within 2 days
"""


def test_measures():
    # as of Jan 5 12:00.  pings: 4; n >= 5: 2 (5 and 7); days: Jan 1, Jan 3 (twice), Jan 5 -> 3;
    # tags a, b -> 2; sum 1+5+7+2 = 15; min 1; max 7; no pong -> avg default -1;
    # within 2 days: (Jan 3 12:00, Jan 5 12:00] -> Jan 3 18:00 and Jan 5 12:00 -> 2 (Jan 3 12:00 is excluded)
    events = [ping("s", "2026-01-01T00:00:00Z", 1, "a"), ping("s", "2026-01-03T12:00:00Z", 5, "b"),
              ping("s", "2026-01-03T18:00:00Z", 7, "a"), ping("s", "2026-01-05T12:00:00Z", 2, "a")]
    r = one(run(MEASURES, events))
    assert r.measures == {"pings": 4, "big_pings": 2, "ping_days": 3, "tags": 2, "n_sum": 15,
                          "n_min": 1, "n_max": 7, "x_avg": -1, "recent": 2}


def test_avg_and_distinct_days_in_local_time():
    # pongs 10 and 20 -> avg 15.  In Tokyo (UTC+9) 2026-01-01T20:00Z is Jan 2, so the two pings
    # fall on two local days (in UTC: one day).
    events = [ping("s", "2026-01-01T10:00:00Z"), ping("s", "2026-01-01T20:00:00Z"),
              pong("s", "2026-01-01T11:00:00Z", 10), pong("s", "2026-01-01T12:00:00Z", 20)]
    assert one(run(MEASURES, events, tz="UTC")).measures["ping_days"] == 1
    r = one(run(MEASURES, events, tz="Asia/Tokyo"))
    assert r.measures["ping_days"] == 2 and r.measures["x_avg"] == 15


def test_measures_in_scores_and_tiers():
    body = MEASURES + """score activity = pings * 10 + n_max
tier busy when activity >= 30 by ada because "x"
tier quiet otherwise by ada because "x"
"""
    # 3 pings, max 4 -> activity 34 -> busy; one ping of 1 -> 11 -> quiet
    res = run(body, [ping("s", f"2026-01-0{d}T00:00:00Z", d + 1) for d in range(1, 4)]
              + [ping("t", "2026-01-01T00:00:00Z", 1)])
    assert one(res, "s").scores["activity"] == 34 and one(res, "s").tier == "busy"
    assert one(res, "t").scores["activity"] == 11 and one(res, "t").tier == "quiet"


# ---------------------------------------------------------------- tiers and privileges


TIERS = RULE + """score total = points
tier gold when total >= 100 by ada because "x"
tier silver when total >= 10 by ada because "x"
tier bronze otherwise by ada because "x"
privilege lounge when tier >= silver by ada because "x"
privilege vault when tier == gold by ada because "x"
privilege either when lounge or total < 0 by ada because "x"
"""


@pytest.mark.parametrize("n,tier,privileges", [
    (150, "gold", ["lounge", "vault", "either"]),   # first tier that holds, top-down
    (100, "gold", ["lounge", "vault", "either"]),
    (50, "silver", ["lounge", "either"]),          # silver >= silver
    (5, "bronze", []),                              # otherwise; bronze < silver
    (-3, "bronze", ["either"]),
])
def test_tiers_top_down_and_privileges(n, tier, privileges):
    r = one(run(TIERS, [ping("s", "2026-01-01T00:00:00Z", n)]))
    assert r.tier == tier and r.privileges == privileges


def test_no_tier_without_otherwise():
    body = RULE + 'score total = points\ntier gold when total >= 100 by ada because "x"\n'
    assert one(run(body, [ping("s", "2026-01-01T00:00:00Z", 5)])).tier is None


# ---------------------------------------------------------------- subjects, now, durations


def test_now_durations_and_attributes():
    # as of 2026-03-01: s joined 2026-01-01 (59 days ago) -> veteran; t joined 2026-02-20 (9 days) -> not.
    # the rule awards days since joining, rounded down: s: event Jan 11 -> 10; t: event Feb 25 -> 5
    body = ('rule r by ada because "x" on ping award floor(days(event.at - member.joined))\n'
            'privilege veteran when now - member.joined >= 30 days by ada because "x"\n'
            'score age_in_weeks = round(days(now - member.joined) / 7, 1)\n')
    res = run(body, [ping("s", "2026-01-11T00:00:00Z"), ping("t", "2026-02-25T00:00:00Z")],
              as_of="2026-03-01T00:00:00Z",
              subjects=[{"id": "s", "joined": "2026-01-01", "nick": "S"}, {"id": "t", "joined": "2026-02-20", "nick": "T"},
                        {"id": "u", "joined": "2025-01-01", "nick": "U"}])
    assert values(one(res, "s")) == [10] and values(one(res, "t")) == [5]
    assert one(res, "s").privileges == ["veteran"] and one(res, "t").privileges == []
    # 59 / 7 = 8.428... -> 8.4; u has no events but is in the subjects file: scored
    assert one(res, "s").scores["age_in_weeks"] == 8.4
    assert one(res, "u").privileges == ["veteran"] and one(res, "u").ledger == []


def test_member_id_and_event_fields():
    body = 'rule r by ada because "x" on ping where event.n > 1 and tag in ["a", "c"] award 1\n'
    r = one(run(body, [ping("s", "2026-01-01T00:00:00Z", 2, "a"), ping("s", "2026-01-02T00:00:00Z", 2, "b"),
                       ping("s", "2026-01-03T00:00:00Z", 1, "c")]))
    assert len(r.ledger) == 1 and r.ledger[0].event_id == "events.jsonl:1"


def test_optional_fields_with_coalesce():
    # note given -> its length is not available, so award 2 when a note is present ("" when absent -> 1)
    body = 'rule r by ada because "x" on ping award if (note ?? "") == "" then 1 else 2\n'
    r = one(run(body, [ping("s", "2026-01-01T00:00:00Z"), ping("s", "2026-01-02T00:00:00Z", note="late")]))
    assert values(r) == [1, 2]


# ---------------------------------------------------------------- functions and arithmetic


def test_defs_and_stdlib_defs():
    # triple(n) = 3n via double; ratio_or(n, 0, 7) = 7 (std/math); award 3*2 + 7 = 13
    body = ('import "std/math"\n'
            'def double(x: number): number = x * 2\n'
            'def triple(x: number): number = double(x) + x\n'
            'rule r by ada because "x" on ping award triple(n) + ratio_or(n, 0, 7)\n')
    assert values(one(run(body, [ping("s", "2026-01-01T00:00:00Z", 2)]))) == [13]


@pytest.mark.parametrize("expr,expected", [
    ("round(2.5)", 3), ("round(-2.5)", -3), ("round(0.5)", 1), ("round(2.675, 2)", 2.68),
    ("round(-1.005, 2)", -1.01), ("floor(-1.5)", -2), ("ceil(1.2)", 2), ("abs(-3)", 3),
    ("min(3, 1, 2)", 1), ("max(3, 1, 2)", 3), ("clamp(15, 0, 10)", 10), ("clamp(-1, 0, 10)", 0),
    ("sqrt(16)", 4.0), ("log(exp(2))", 2.0), ("7 / 2", 3.5), ("-7 % 3", 2), ("7 % -3", -2),
    ("if 1 < 2 < 3 then 1 else 0", 1), ("if 1 < 3 < 2 then 1 else 0", 0),
    ("days(36 hours)", 1.5), ("hours(2 days)", 48.0), ("(1 week) / (1 day)", 7.0),
])
def test_builtins_and_operators(expr, expected):
    r = one(run(f'rule r by ada because "x" on ping award {expr}\n', [ping("s", "2026-01-01T00:00:00Z")]))
    assert r.ledger[0].raw == pytest.approx(expected, abs=1e-9)
    assert type(r.ledger[0].raw) is type(expected)


def test_round_half_away_from_zero():
    assert [round_half_away(x) for x in (0.5, 1.5, 2.5, -0.5, -2.5)] == [1, 2, 3, -1, -3]
    assert round_half_away(1.005, 2) == 1.01  # Python's round gives 1.0 here


def test_run_time_fault_names_rule_author_event_and_line():
    body = 'rule speed by ada because "x" on ping award 100 / n\n'
    with pytest.raises(EvaluationError) as info:
        run(body, [ping("s", "2026-01-01T00:00:00Z", 4), {**ping("s", "2026-01-02T00:00:00Z", 0), "id": "e2"}])
    [d] = info.value.diagnostics
    assert d.code == "W090"
    assert d.message == "run-time fault in rule speed by ada on event e2 (events.jsonl:2): division by zero"
    assert (d.span.file, d.span.line) == ("t.whuf", 7)


def test_run_time_fault_in_a_score():
    body = RULE + "score bad = sqrt(points)\n"
    with pytest.raises(EvaluationError) as info:
        run(body, [ping("s", "2026-01-01T00:00:00Z", -4)])
    assert info.value.diagnostics[0].message == "run-time fault in score bad for subject s: sqrt of a negative number (-4)"


# ---------------------------------------------------------------- the examples


def load_example(name: str, events: str = "events.jsonl", subjects: str | None = None):
    from whuffie.inputs import load_events, load_subjects

    loaded = load_file(ROOT / "examples" / name / "rules.whuf")
    assert loaded.ok, [d.message for d in loaded.diagnostics if d.is_error]
    subj = load_subjects(ROOT / "examples" / name / subjects, loaded.ruleset).subjects if subjects else None
    load = load_events(ROOT / "examples" / name / events, loaded.ruleset, subj)
    assert not load.rejects
    return evaluate(loaded.ruleset, load.events, subj)


@pytest.mark.parametrize("events,subjects", [("events.jsonl", "subjects.jsonl"), ("events.csv", "subjects.csv")])
def test_library_example_numbers(events, subjects):
    res = load_example("library", events, subjects)
    by = {r.subject: r for r in res.subjects}
    assert res.as_of == dt.datetime(2026, 4, 10, 12, tzinfo=UTC)
    # alice: 10 on-time returns in Feb (+20, the cap), one more Feb 28 23:30Z (Feb in London: cut to 0),
    # one on Mar 31 23:30Z = Apr 1 00:30 BST (April bucket: +2) -> 22.  Volunteering: 8 h exactly
    # 180 days before as-of -> 24 * 0.5 = 12, 6 h at as-of -> 18.  100 + 22 + 12 + 18 = 152, 14 h -> trusted
    assert by["alice"].scores["standing"] == pytest.approx(152)
    assert by["alice"].tier == "trusted"
    assert by["alice"].measures == {"hours_volunteered": 14, "active_days": 12}
    # bob: -3, -min(15, 10) = -10, damaged on-time return: nothing, complaint -15, second one in 2026
    # cut by once per year, not upheld: nothing -> 100 - 28 = 72, member
    assert by["bob"].scores["standing"] == 72 and by["bob"].tier == "member"
    assert by["bob"].privileges == ["reserve_new_books"]
    # carol: complaints 2024, 2025, 2026 (-45; the second 2026 one cut), late -10 and -10 -> 40 - 5 = 35
    assert by["carol"].scores["standing"] == 35 and by["carol"].tier == "restricted"
    assert by["carol"].privileges == []
    # dan: only in the subjects file -> 100, member
    assert by["dan"].scores["standing"] == 100 and by["dan"].ledger == []
    # erin: 72 + 72 (slightly decayed) -> clamp at 200, 48 hours -> trusted
    assert by["erin"].scores["standing"] == 200 and by["erin"].tier == "trusted"


def test_stackoverflow_example_numbers():
    by = {r.subject: r for r in load_example("stackoverflow").subjects}
    # ana: 25 upvotes on one day -> the 200 shared cap lets 20 through (5 cut to 0), accepted +15,
    # 3 upvotes next day +30, a downvote -2 -> 1 + 243 = 244
    assert by["ana"].scores["reputation"] == 244
    assert by["ana"].privileges == ["vote_up", "comment", "vote_down"] and by["ana"].tier == "member"
    assert sum(1 for e in by["ana"].ledger if any(c.by.startswith("shared cap vote_reputation") for c in e.cuts)) == 5
    # ben: three question downvotes at reputation 1 are cut by the floor to 0, +10, -2 -> 9
    assert by["ben"].scores["reputation"] == 9 and by["ben"].tier == "new"
    assert [e.value for e in by["ben"].ledger] == [0, 0, 0, 10, -2]
    # cai: 520 edits = 1040 raw, cap 1000 total cuts the last 20; 5 upvotes +50; two answer downvotes
    # cast (on ana and ben), -1 each to the voter -> 1049
    assert by["cai"].scores["reputation"] == 1049 and by["cai"].tier == "established"
    assert by["cai"].points_by_rule["answer_downvote_cast"] == -2 and by["cai"].measures["downvotes_cast"] == 2
    assert by["cai"].points_by_rule["suggested_edit"] == 1000
    # dee: +10, bounty +100, spam -100, self-accepted answer earns nothing -> 11
    assert by["dee"].scores["reputation"] == 11 and by["dee"].measures["bounty_total"] == 100


@pytest.mark.parametrize("award,message", [
    ("exp(700) * exp(700)", "the result is too large for a number"),
    ("floor(exp(700) * exp(700))", "the result is too large for a number"),
    ("sqrt(n - 10)", "sqrt of a negative number (-9)"),
    ("log(n - 1)", "log of zero (0)"),
    ("n % (n - 1)", "modulo by zero"),
    ("exp(1000)", "exp(1000) is too large for a number"),
])
def test_every_run_time_fault_is_w090(award, message):
    with pytest.raises(EvaluationError) as info:
        run(f'rule r by ada because "x" on ping award {award}\n', [ping("s", "2026-01-01T00:00:00Z", 1)])
    [d] = info.value.diagnostics
    assert d.code == "W090" and message in d.message and "rule r by ada on the event at events.jsonl:1:" in d.message


def test_measures_over_dates():
    # event visit { on: date }: latest 2026-01-09, earliest 2026-01-02 -> 7 days apart;
    # a subject without events gets the defaults (2000-01-01 both) -> 0
    rs = load_text('ruleset d\nauthor ada "A"\nsubject member { joined: date }\n'
                   'event visit { on: date }\n'
                   'measure latest = max visit.on default 2000-01-01\n'
                   'measure earliest = min visit.on default 2000-01-01\n'
                   'score span_days = days(latest - earliest)\n', "d.whuf")
    assert rs.ok, [d.message for d in rs.diagnostics if d.is_error]
    text = "".join(json.dumps({"subject": "s", "type": "visit", "at": f"2026-01-10T0{i}:00:00Z", "on": on}) + "\n"
                   for i, on in enumerate(["2026-01-09", "2026-01-02", "2026-01-05"]))
    load = parse_events(text, Path("w.jsonl"), rs.ruleset)
    assert not load.rejects
    res = evaluate(rs.ruleset, load.events, {"t": {"joined": dt.date(2020, 1, 1)}})
    s, t = one(res, "s"), one(res, "t")
    assert s.measures == {"latest": dt.date(2026, 1, 9), "earliest": dt.date(2026, 1, 2)}
    assert s.scores["span_days"] == 7
    assert t.measures["latest"] == dt.date(2000, 1, 1) and t.scores["span_days"] == 0


def test_a_date_compares_as_its_local_midnight():
    # in London (winter, UTC+0): an event at 2026-01-01T00:00Z is at the joining date's midnight;
    # in Tokyo (UTC+9) the joining date's midnight is 2025-12-31T15:00Z, so the event is later
    body = ('rule same by ada because "x" on ping where member.joined <= event.at <= member.joined award 1\n'
            'rule after by ada because "x" on ping where event.at > member.joined award 10\n')
    subjects = [{"id": "s", "joined": "2026-01-01", "nick": "S"}]
    events = [ping("s", "2026-01-01T00:00:00Z")]
    assert values(one(run(body, events, tz="Europe/London", subjects=subjects))) == [1]
    assert values(one(run(body, events, tz="Asia/Tokyo", subjects=subjects))) == [10]


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e15, 1e15), st.integers(0, 6))
def test_round_laws(x, digits):
    # symmetric about zero, within half a unit of the last digit, and a no-op on its own result
    assert round_half_away(-x) == -round_half_away(x)
    assert abs(round_half_away(x) - x) <= 0.5
    once = round_half_away(x, digits)
    assert abs(once - x) <= 0.5 * 10 ** -digits + 1e-9 * max(1.0, abs(x))
    assert round_half_away(once, digits) == once


@given(st.integers(-2**60, 2**60), st.one_of(st.none(), st.integers(0, 6)))
def test_round_keeps_a_whole_float(k, digits):
    # a whole float has nothing to round away, to any number of decimals; -0.0 keeps its sign
    x = float(k)
    rounded = round_half_away(x, digits)
    assert type(rounded) is (int if digits is None else float)
    assert rounded == (int(x) if digits is None else x)
    assert math.copysign(1.0, round_half_away(-0.0, digits or 2)) == -1.0


@given(st.integers(-10**6, 10**6))
def test_round_halves_go_away_from_zero(k):
    assert round_half_away(k + 0.5) == (k + 1 if k >= 0 else k)
    assert round_half_away(k - 0.5) == (k - 1 if k <= 0 else k)


def test_cap_per_week_and_once_per_year_in_local_time():
    # cap 5 per week (ISO, Monday first): Sun Jan 4 +4; Mon Jan 5 +4 (new week); Sun Jan 11 1 of 4.
    # once per year in New York (UTC-5): 2027-01-01T03:00Z is still Dec 31 2026 locally -> cut,
    # 2027-01-01T06:00Z is Jan 1 2027 -> pays again
    body = ('rule w by ada because "x" on ping where tag == "w" award n cap 5 per week\n'
            'rule y by ada because "x" on ping where tag == "y" award n once per year\n')
    events = [ping("s", "2026-01-04T12:00:00Z", 4, "w"), ping("s", "2026-01-05T12:00:00Z", 4, "w"),
              ping("s", "2026-01-11T12:00:00Z", 4, "w"),
              ping("s", "2026-06-01T12:00:00Z", 3, "y"), ping("s", "2027-01-01T03:00:00Z", 3, "y"),
              ping("s", "2027-01-01T06:00:00Z", 3, "y")]
    r = one(run(body, events, tz="America/New_York"))
    assert [e.value for e in r.ledger if e.rule == "w"] == [4, 4, 1]
    assert [e.value for e in r.ledger if e.rule == "y"] == [3, 0, 3]


# ---------------------------------------------------------------- the supported ranges (values.py)
#
# Every value stays in its range or the run stops with W090 at the expression that left it
# (docs/language.md, "Evaluation"); both Python engines give the same diagnostic, to the column.

RANGES = """ruleset r "ranges"
timezone "{tz}"
author ada "Ada"
event big {{ n: int, x: number }}
"""


def _ranges(body: str, tz: str = "UTC", allow: tuple[str, ...] = ()):
    text = RANGES.format(tz=tz) + body
    loaded = load_text(text, "r.whuf")
    errors = [f"{d.code} {d.message}" for d in loaded.diagnostics if d.is_error and d.code not in allow]
    assert not errors, errors
    if loaded.ruleset is None:  # only allowed errors (W060): the ruleset an engine would get past the checker
        from whuffie.checker import _Checker
        from whuffie.parser import parse
        return _Checker(parse(text, "r.whuf").program).run(), text
    return loaded.ruleset, text


def _big(at: str, n: int = 1, x: float = 1.0, subject: str = "s", position: int = 0):
    # built directly, not parsed: the data readers may refuse such values long before an engine sees them
    from whuffie.inputs import Event
    return Event(subject, "big", parse_time(at, UTC), f"e.jsonl:{position + 1}", f"e.jsonl:{position + 1}",
                 position, {"n": n, "x": x})


def _both(rs, evs, as_of=None):
    """Results of the reference and of generated Python, or their W090s (which must be equal)."""
    from whuffie.engines import codegen
    outcomes = []
    for engine in (evaluate, codegen.evaluate):
        try:
            outcomes.append(engine(rs, evs, None, as_of))
        except EvaluationError as exc:
            outcomes.append(exc.diagnostics)
    reference, generated = outcomes
    if isinstance(reference, list) or isinstance(generated, list):
        assert generated == reference
    return reference


def _fault_at(body: str, evs, tz: str = "UTC", allow: tuple[str, ...] = ()):
    """The one W090 of a run, checked equal on both engines, and the source text it points at."""
    from whuffie.report import source_of
    rs, text = _ranges(body, tz, allow)
    outcome = _both(rs, evs)
    assert isinstance(outcome, list), "expected a run-time fault"
    [d] = outcome
    assert d.code == "W090" and "report this" not in (d.hint or ""), d
    return d, source_of(d.span, text)


@pytest.mark.parametrize("body,n,message,points_at", [
    # int results beyond 64 bits: Python ints would simply grow
    ("award n * 9223372036854775807", 2, "the int 18446744073709551614 is outside", "n * 9223372036854775807"),
    ("award -(n - 9223372036854775807 - 2)", 1, "the int 9223372036854775808 is outside",
     "-(n - 9223372036854775807 - 2)"),
    ("award abs(n - 9223372036854775807 - 2)", 1, "the int 9223372036854775808 is outside",
     "abs(n - 9223372036854775807 - 2)"),
    ("award floor(x * 1.0e300)", 1, "is outside the supported range", "floor(x * 1.0e300)"),
    ("award round(x * 1.0e300)", 1, "is outside the supported range", "round(x * 1.0e300)"),
    # numbers: inf and NaN are faults where they arise, not values that compare false
    ("award x * 1.0e308 * 10", 1, "too large for a number", "x * 1.0e308 * 10"),
    ("where (1.0e308 * 10 - 1.0e308 * 10) > 0\n  award 1", 1, "too large for a number", "1.0e308 * 10"),
    ("award min(x * 1.0e308 * 10, 1)", 1, "too large for a number", "x * 1.0e308 * 10"),
    ("award clamp(x / 1.0e-308 / 1.0e-10, 0, 1)", 1, "too large for a number", "x / 1.0e-308 / 1.0e-10"),
    # durations and instants beyond years 1..9999
    ("award days((event.at - 0001-01-01T00:00:00Z) * 10.0)", 1, "the duration is longer than",
     "(event.at - 0001-01-01T00:00:00Z) * 10.0"),
    ("award days((event.at - 0001-01-01T00:00:00Z) * 1.0e10)", 1, "the duration is longer than",
     "(event.at - 0001-01-01T00:00:00Z) * 1.0e10"),
    ("where event.at + 3000000 days > 2026-01-01T00:00:00Z\n  award 1", 1, "outside the supported range 0001",
     "event.at + 3000000 days"),
])
def test_a_value_out_of_range_is_w090_at_the_expression_that_made_it(body, n, message, points_at):
    d, text = _fault_at(f'rule r by ada because "x" on big\n  {body}\nscore s = points\n',
                        [_big("2026-01-01T00:00:00Z", n)])
    assert message in d.message and "rule r by ada on the event at e.jsonl:1" in d.message, d.message
    assert text == points_at


def test_a_fault_in_a_where_points_at_the_where_line_not_the_award():
    d, text = _fault_at('rule r by ada because "x" on big\n  where n * 9223372036854775807 > 0\n  award 1\n'
                        'score s = points\n', [_big("2026-01-01T00:00:00Z", 2)])
    assert d.span.line == 6 and text == "n * 9223372036854775807"


def test_sums_points_and_means_stay_in_range():
    # a sum measure over ints: 2**63 - 1 + 1 leaves 64 bits
    d, _ = _fault_at('rule r by ada because "x" on big award 1\nmeasure total = sum big.n\nscore s = total\n',
                     [_big("2026-01-01T00:00:00Z", 2 ** 63 - 1), _big("2026-01-02T00:00:00Z", 1, position=1)])
    assert "measure total" in d.message and "outside the supported range" in d.message
    # the points: two awards of 2**62 each
    d, _ = _fault_at('rule r by ada because "x" on big award n\nscore s = points\n',
                     [_big("2026-01-01T00:00:00Z", 2 ** 62), _big("2026-01-02T00:00:00Z", 2 ** 62, position=1)])
    assert "the points for subject s" in d.message
    # avg of a 400-digit int: the mean is beyond any float
    d, _ = _fault_at('rule r by ada because "x" on big award 1\nmeasure m = avg big.n\nscore s = m ?? 0\n',
                     [_big("2026-01-01T00:00:00Z", int("1" * 400))])
    assert "measure m for subject s" in d.message and "too large for a number" in d.message


def test_avg_of_ints_is_exact_even_where_their_sum_leaves_64_bits():
    rs, _ = _ranges('rule r by ada because "x" on big award 1\nmeasure m = avg big.n\nscore s = m ?? 0\n')
    evs = [_big(f"2026-01-0{i + 1}T00:00:00Z", 2 ** 62 + i, position=i) for i in range(3)]
    assert one(_both(rs, evs)).measures["m"] == (3 * 2 ** 62 + 3) / 3


def test_durations_too_long_for_python_are_w090_at_run_time():
    # the checker refuses such literals (W060); a computed one is bounded where it is evaluated
    d, text = _fault_at('rule r by ada because "x" on big award days(1 days * x * 1.0e300)\nscore s = points\n',
                        [_big("2026-01-01T00:00:00Z")])
    assert "the duration is longer than the supported range" in d.message and text == "1 days * x * 1.0e300"


@pytest.mark.parametrize("within", ["800000 days", "3652059 days"])
def test_a_window_reaching_before_year_1_covers_every_event(within):
    # (T - D, T] with T - D before 0001-01-01: every event up to T counts, the first instant included
    rs, _ = _ranges(f'rule r by ada because "x" on big award 1\nmeasure m = count big within {within}\n'
                    'score s = points + m\n')
    evs = [_big("0001-01-01T00:00:00Z"), _big("0001-01-02T00:00:00Z", position=1),
           _big("2026-01-02T00:00:00Z", position=2)]
    result = one(_both(rs, evs))
    assert result.measures["m"] == 3 and result.scores["s"] == 6


@pytest.mark.parametrize("tz,first,second,weeks", [
    # New York (local mean time, -4:56:02): 0001-01-01T00:00Z is Sunday 0000-12-31 local, a day
    # Python cannot hold; 05:00Z is Monday 0001-01-01, the first day of ISO week 1 of year 1
    ("America/New_York", "0001-01-01T00:00:00Z", "0001-01-01T05:00:00Z", 2),
    # Tokyo: 9999-12-31T14:00Z is Friday 9999-12-31 local, 20:00Z Saturday 10000-01-01, same ISO week
    ("Asia/Tokyo", "9999-12-31T14:00:00Z", "9999-12-31T20:00:00Z", 1),
])
def test_calendar_windows_work_where_local_time_leaves_years_1_to_9999(tz, first, second, weeks):
    # the two events fall on two local days and years: each gets its own bucket
    body = ('rule r by ada because "x" on big award 5\n  cap 5 per day\n'
            'rule w by ada because "x" on big award 1\n  once per week\n'
            'rule y by ada because "x" on big award 1\n  once per year\n'
            'measure days = count distinct days of big\nscore s = points\n')
    rs, _ = _ranges(body, tz)
    result = one(_both(rs, [_big(first), _big(second, position=1)]))
    assert result.points_by_rule == {"r": 10, "w": weeks, "y": 2} and result.measures["days"] == 2


def test_rounding_to_any_number_of_digits_is_a_value_not_a_decimal_fault():
    # Decimal's 28-digit context used to fail as "[<class 'decimal.InvalidOperation'>]"
    assert round_half_away(123456789.125, 25) == 123456789.125
    assert round_half_away(0.1, 400) == 0.1
    assert round_half_away(1.5, 10 ** 9) == 1.5
    assert round_half_away(123456.0, -400) == 0.0 and round_half_away(123, -400) == 0.0
    assert round_half_away(650, -3) == 1000.0 and round_half_away(449, -3) == 0.0
    assert round_half_away(2.5) == 3 and round_half_away(-2.5) == -3 and round_half_away(1.005, 2) == 1.01
    rs, _ = _ranges('rule r by ada because "x" on big award round(x * 123456789.125, 25)\nscore s = points\n')
    assert one(_both(rs, [_big("2026-01-01T00:00:00Z")])).scores["s"] == 123456789.125


@pytest.mark.parametrize("tz,body", [
    ("Asia/Tokyo", "award days(event.at - 0001-01-01)"),  # the local midnight of 0001-01-01 is in year 0 UTC
    ("Asia/Tokyo", "where event.at > 0001-01-01\n  award 1"),
    ("UTC", "award days((event.at - 2026-01-01T00:00:00Z) / 0.0000000001)"),
    ("UTC", "award days(event.at - (event.at - 3000000 days))"),
    ("UTC", "award ceil(x * -1.0e300)"),
])
def test_time_and_rounding_faults_are_w090_never_the_generated_engines_escape_hatch(tz, body):
    d, _ = _fault_at(f'rule r by ada because "x" on big\n  {body}\nscore s = points\n',
                     [_big("0001-01-01T00:00:00Z"), _big("2026-01-02T00:00:00Z", position=1)], tz)
    assert "outside the supported range" in d.message or "longer than the supported range" in d.message


def test_a_constant_out_of_range_is_w090_before_any_event_is_read():
    rs, _ = _ranges('rule r by ada because "x" on big award n\nscore s = points\n  floor 1.0e308 * 10 per event\n')
    from whuffie.evaluator import compile_ruleset
    with pytest.raises(EvaluationError) as info:
        compile_ruleset(rs)
    [d] = info.value.diagnostics
    assert d.code == "W090" and "too large for a number" in d.message and (d.span.line, d.span.col) == (7, 9)

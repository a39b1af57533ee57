"""Why not? Each part of a target's condition with its value, bound and gap, and the ways up, on hand-built cases."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from whuffie import evaluator, report, whynot, whynot_render
from whuffie.cli import app
from whuffie.frontend import load_text
from whuffie.inputs import parse_events

RULES = '''ruleset t "why-not cases"
timezone "UTC"
author ada "Ada"
event post { votes: int in 0..10 }
event flag { upheld: bool }
event visit { }
rule posted by ada because "posts help" on post award 2 cap 6 per month
rule voted by ada because "votes count" on post award votes
rule flagged by ada because "flags hurt" on flag where upheld award -5
rule welcomed by ada because "once" on visit award 1 once per year
measure posts = count post
measure visits = count visit within 10 days
score karma = points
score helpful = points(voted)
tier gold when karma >= 40 and posts >= 5 by ada because "both"
tier silver when karma >= 20 or visits >= 3 by ada because "either"
tier bronze otherwise by ada because "everyone"
privilege edit when tier >= silver by ada because "silver edits"
privilege vote when visits >= 1 by ada because "visitors vote"
'''


def _event(subject: str, kind: str, at: str, **fields) -> str:
    return json.dumps({"subject": subject, "type": kind, "at": at, **fields})


def _why(lines: list[str], subject: str, target: str, as_of: str | None = None) -> whynot.WhyNot:
    loaded = load_text(RULES, "t.whuf")
    assert loaded.ok, loaded.diagnostics
    rs = loaded.ruleset
    events = parse_events("\n".join(lines) + "\n", Path("e.jsonl"), rs).events
    at = dt.datetime.fromisoformat(as_of) if as_of else None
    results = evaluator.evaluate(rs, events, None, at, only=subject)
    return whynot.why_not(rs, results.subjects[0], target, source=RULES, history=events, as_of=results.as_of)


def _parts(w: whynot.WhyNot) -> list[tuple]:
    return [(c.text, c.holds, c.value, c.bound, c.gap, c.via) for c in w.conditions]


def test_an_and_tier_where_both_parts_fail_gives_each_gap_and_the_rules_that_raise_them() -> None:
    # 2 posts with 3 votes each: posted 4 + voted 6 = karma 10; posts 2
    w = _why([_event("u", "post", "2026-03-01T00:00:00Z", votes=3),
              _event("u", "post", "2026-03-02T00:00:00Z", votes=3)], "u", "gold")
    assert (w.kind, w.holds, w.tier) == ("tier", False, "bronze")
    assert _parts(w) == [("karma >= 40", False, 10, 40, 30, None), ("posts >= 5", False, 2, 5, 3, None)]
    ways = {x.rule or x.event: x for x in w.ways}
    assert set(ways) == {"posted", "voted", "welcomed", "post"}  # flagged only takes points away
    assert ways["posted"].award == "+2 each"
    assert ways["posted"].room == "2 left this month (cap 6 per month)" and ways["posted"].available
    assert ways["voted"].award == "0 to +10 each (votes)"
    assert ways["post"].raises == ("posts",) and ways["post"].rule is None


def test_an_or_tier_where_neither_part_holds() -> None:
    w = _why([_event("u", "flag", "2026-03-01T00:00:00Z", upheld=True)], "u", "silver")
    assert _parts(w) == [("karma >= 20", False, -5, 20, 25, None), ("visits >= 3", False, 0, 3, 3, None)]
    assert [x.rule or x.event for x in w.ways] == ["posted", "voted", "welcomed", "visit"]


def test_a_tier_privilege_names_the_tier_now_the_tier_needed_and_that_tiers_condition() -> None:
    w = _why([_event("u", "post", "2026-03-01T00:00:00Z", votes=0)], "u", "edit")
    assert w.kind == "privilege" and not w.holds
    assert _parts(w) == [("tier >= silver", False, "bronze", "silver", 1, None),
                         ("karma >= 20", False, 2, 20, 18, "silver"),
                         ("visits >= 3", False, 0, 3, 3, "silver")]


def test_a_measure_within_a_window_says_when_it_expires() -> None:
    # one visit on March 1st: visits = 1 until the 10-day window passes it on March 11th
    w = _why([_event("u", "visit", "2026-03-01T00:00:00Z")], "u", "vote", as_of="2026-03-05T00:00:00+00:00")
    assert w.holds
    (part,) = w.conditions
    assert (part.holds, part.value, part.gap) == (True, 1, 0)
    assert part.changes_at == dt.datetime(2026, 3, 11, 0, 0, 1, tzinfo=dt.timezone.utc)
    assert part.changes == "stops holding at 2026-03-11T00:00:01Z with no new events"


def test_a_capped_rule_with_no_room_left_is_offered_for_the_next_window() -> None:
    posts = [_event("u", "post", f"2026-03-0{d}T00:00:00Z", votes=0) for d in range(1, 5)]  # 4 x 2, cut to 6
    visit = [_event("u", "visit", "2026-02-01T00:00:00Z"), _event("u", "visit", "2026-03-04T00:00:00Z")]
    w = _why(posts + visit, "u", "gold")
    ways = {x.rule or x.event: x for x in w.ways}
    assert not ways["posted"].available
    assert ways["posted"].room == "no room left this month (cap 6 per month); room again from 2026-04-01"
    assert not ways["welcomed"].available
    assert ways["welcomed"].room == "already awarded this year (once per year); again from 2027-01-01"


def test_a_subject_already_in_the_target_has_every_gap_zero_and_no_ways() -> None:
    posts = [_event("u", "post", f"2026-0{m}-01T00:00:00Z", votes=10) for m in range(1, 6)]  # 5 x 12 = 60
    w = _why(posts, "u", "gold")
    assert w.holds and w.tier == "gold"
    assert [c.gap for c in w.conditions] == [0, 0] and all(c.holds for c in w.conditions)
    assert w.ways == ()
    # and a lower tier is reached too: the subject is above it
    assert _why(posts, "u", "silver").holds


def test_otherwise_has_no_condition_and_always_holds() -> None:
    w = _why([_event("u", "flag", "2026-03-01T00:00:00Z", upheld=True)], "u", "bronze")
    assert w.holds and w.conditions == ()


def test_an_unknown_target_suggests_close_names() -> None:
    with pytest.raises(whynot.UnknownTarget) as found:
        _why([_event("u", "visit", "2026-03-01T00:00:00Z")], "u", "gld")
    assert found.value.close == ["gold"]


def test_decay_says_when_the_value_falls_below_the_bound() -> None:
    rules = '''ruleset d "decay"
author ada "Ada"
event helped { }
rule help by ada because "help" on helped award 40 decay half_life 10 days
score warmth = points
tier warm when warmth >= 20 by ada because "warm"
tier cold otherwise by ada because "cold"
'''
    loaded = load_text(rules, "d.whuf")
    rs = loaded.ruleset
    events = parse_events(_event("u", "helped", "2026-01-01T00:00:00Z") + "\n", Path("e.jsonl"), rs).events
    results = evaluator.evaluate(rs, events)
    w = whynot.why_not(rs, results.subjects[0], "warm", history=events, as_of=results.as_of)
    (part,) = w.conditions
    # 40 halves to 20 after exactly one half-life, 10 days, and is below 20 just after
    assert part.holds and part.changes_at is not None
    assert abs((part.changes_at - dt.datetime(2026, 1, 11, tzinfo=dt.timezone.utc)).total_seconds()) <= 120


def test_rendered_text_and_json_shape() -> None:
    w = _why([_event("u", "post", "2026-03-01T00:00:00Z", votes=3),
              _event("u", "post", "2026-03-02T00:00:00Z", votes=3)], "u", "gold")
    text = whynot_render.why_not_text(w)
    assert text.splitlines()[:3] == [
        "Why not gold? u is bronze; tier gold is not reached",
        "  no   karma >= 40: 10.00 now, bound 40, 30.00 short",
        "  no   posts >= 5: 2 now, bound 5, 3 short",
    ]
    assert "  posted by ada: +2 each, 2 left this month (cap 6 per month)   [raises karma; on post]" in text
    data = whynot_render.why_not_data(w)
    assert set(data) == {"target", "kind", "holds", "conditions", "ways"}
    assert set(data["conditions"][0]) >= {"text", "holds", "value", "bound", "gap"}
    assert set(data["ways"][0]) >= {"rule", "by", "award", "room"}


def test_the_library_example_says_what_carol_lacks_for_member() -> None:
    runner = CliRunner()
    lib = "examples/library/"
    got = runner.invoke(app, ["explain", lib + "rules.whuf", lib + "events.jsonl", "carol",
                              "--subjects", lib + "subjects.jsonl", "--why-not", "member"])
    assert got.exit_code == 0, got.output
    assert "  next tier up: member needs standing >= 50 (35.00 now, 15.00 short)" in got.stdout
    assert "  no   standing >= 50: 35.00 now, bound 50, 15.00 short" in got.stdout
    assert "  on_time_return by ada: +2 each, 20 left this month (cap 20 per month)" in got.stdout
    bad = runner.invoke(app, ["explain", lib + "rules.whuf", lib + "events.jsonl", "carol",
                              "--subjects", lib + "subjects.jsonl", "--why-not", "membr"])
    assert bad.exit_code == 2 and "did you mean 'member'" in bad.output


def test_values_near_a_bound_print_enough_digits_to_tell() -> None:
    assert report.near_bound_text(79.9999, [80], 2) == "79.9999"
    assert report.near_bound_text(80.004, [80], 2) == "80.004"
    assert report.near_bound_text(79.5, [80], 2) == "79.50"
    assert report.near_bound_text(80.0, [80], 2) == "80.00"
    assert report.near_bound_text(7, [8], 0) == "7"


def test_for_a_scorecard_the_ways_up_are_the_better_bins_of_each_factor_by_the_difference() -> None:
    rules = '''ruleset s "scorecard"
author risk "Risk"
event applied { months: int in 1..72 }
rule short_loan by risk because "under a year" on applied where months < 12 award 40
rule mid_loan by risk because "one to three years" on applied where months >= 12 and months < 36 award 20
rule long_loan by risk because "three years or more" on applied where months >= 36 award -10
factor duration over short_loan, mid_loan, long_loan by risk because "duration"
score credit = 500 + points
tier approved when credit >= 530 by risk because "530 or more"
tier declined otherwise by risk because "below"
'''
    rs = load_text(rules, "s.whuf").ruleset
    events = parse_events(_event("u", "applied", "2026-01-01T00:00:00Z", months=24) + "\n", Path("e.jsonl"), rs).events
    result = evaluator.evaluate(rs, events).subjects[0]
    w = whynot.why_not(rs, result, "approved", history=events, as_of=events[0].at)
    assert [c.gap for c in w.conditions] == [10.0]
    # long_loan is worse than the bin the applicant is in, and mid_loan is that bin: only short_loan is a way
    assert [(x.rule, x.award, x.because) for x in w.ways] == [
        ("short_loan", "+20 instead of mid_loan (+20) in factor duration", "under a year")]


def test_the_function_for_the_repl_renders_the_same_text() -> None:
    lines = [_event("u", "post", "2026-03-01T00:00:00Z", votes=3)]
    loaded = load_text(RULES, "t.whuf")
    rs = loaded.ruleset
    events = parse_events("\n".join(lines) + "\n", Path("e.jsonl"), rs).events
    results = evaluator.evaluate(rs, events, None, only="u")
    reply = whynot_render.repl_why_not(rs, results, events, None, "gold", RULES)
    assert reply == whynot_render.why_not_text(_why(lines, "u", "gold"))
    with pytest.raises(whynot.UnknownTarget):
        whynot_render.repl_why_not(rs, results, events, None, "golden", RULES)


def test_many_events_in_a_window_are_searched_by_bisection_for_the_first_that_expires() -> None:
    rules = '''ruleset v "visits"
author ada "Ada"
event visit { }
measure visits = count visit within 1000 days
tier regular when visits >= 38 by ada because "38 visits in 1000 days"
tier guest otherwise by ada because "fewer"
'''
    rs = load_text(rules, "v.whuf").ruleset
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    lines = [_event("u", "visit", (start + dt.timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%SZ")) for d in range(40)]
    events = parse_events("\n".join(lines) + "\n", Path("e.jsonl"), rs).events
    results = evaluator.evaluate(rs, events)
    w = whynot.why_not(rs, results.subjects[0], "regular", history=events, as_of=results.as_of)
    (part,) = w.conditions
    # 40 visits now; the third visit (day 2) leaving the window leaves 37, below 38
    assert part.holds and part.value == 40
    assert part.changes_at == start + dt.timedelta(days=2 + 1000, seconds=1)


def test_parts_are_quoted_as_written_and_a_chain_is_cut_into_its_pairs() -> None:
    rules = '''ruleset c "chains"
author ada "Ada"
event did { n: int in 0..100 }
rule r by ada because "n" on did award n
score s = points
tier mid when 10 <= s <= 20 and s>=12 by ada because "a band"
tier low otherwise by ada because "else"
'''
    rs = load_text(rules, "c.whuf").ruleset
    events = parse_events(_event("u", "did", "2026-01-01T00:00:00Z", n=30) + "\n", Path("e.jsonl"), rs).events
    result = evaluator.evaluate(rs, events).subjects[0]
    w = whynot.why_not(rs, result, "mid", source=rules)
    assert [(c.text, c.holds, c.value, c.bound, c.gap) for c in w.conditions] == [
        ("10 <= s", True, 30.0, 10, 0), ("s <= 20", False, 30.0, 20, 10.0), ("s>=12", True, 30.0, 12, 0)]
    assert w.ways == ()  # s must come down: no rule is offered for that


def test_a_gap_too_small_for_the_precision_is_not_printed_as_zero() -> None:
    w = whynot.WhyNot("u", "top", "tier", False, "rest",
                      (whynot.Condition("standing >= 80", False, 79.9999, 80, 80 - 79.9999),), ())
    assert whynot_render.why_not_text(w).splitlines()[1] == "  no   standing >= 80: 79.9999 now, bound 80, 0.0001 short"


def test_explain_json_carries_the_why_not_object() -> None:
    lib = "examples/library/"
    got = CliRunner().invoke(app, ["explain", lib + "rules.whuf", lib + "events.jsonl", "carol",
                                   "--subjects", lib + "subjects.jsonl", "--why-not", "member", "--format", "json"])
    assert got.exit_code == 0, got.output
    why = json.loads(got.stdout)["why_not"]
    assert (why["target"], why["kind"], why["holds"]) == ("member", "tier", False)
    assert why["conditions"] == [{"text": "standing >= 50", "holds": False, "value": 35.0, "bound": 50, "gap": 15.0,
                                  "via": None, "changes": None, "changes_at": None}]
    assert why["ways"][0] == {"rule": "on_time_return", "by": "ada", "award": "+2 each",
                              "room": "20 left this month (cap 20 per month)", "raises": ["standing"],
                              "event": "returned", "available": True,
                              "because": "On-time returns keep the shelves full"}
    plain = CliRunner().invoke(app, ["explain", lib + "rules.whuf", lib + "events.jsonl", "carol",
                                     "--subjects", lib + "subjects.jsonl", "--format", "json"])
    assert "why_not" not in json.loads(plain.stdout)

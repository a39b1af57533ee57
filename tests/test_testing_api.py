"""The public Hypothesis strategies: generated data fits the schema, replays through the readers, shrinks well."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from whuffie.frontend import load_file, load_text
from whuffie.inputs import parse_events, parse_subjects
from whuffie.testing import SPAN_DAYS, base_instant, events, histories, number_literals, subjects, text_literals

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = load_file(ROOT / "examples" / "library" / "rules.whuf").ruleset
DISCOURSE = load_file(ROOT / "examples" / "discourse" / "rules.whuf").ruleset
QUICK = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIND = settings(max_examples=300, database=None, deadline=None, suppress_health_check=list(HealthCheck))


def in_range(value, f) -> bool:
    return f.range is None or f.range.low <= value <= f.range.high


TYPE_CHECKS = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "text": lambda v: isinstance(v, str),
    "date": lambda v: isinstance(v, dt.date) and not isinstance(v, dt.datetime),
    "datetime": lambda v: isinstance(v, dt.datetime) and v.tzinfo is not None,
    "duration": lambda v: isinstance(v, dt.timedelta),
}


def fits(value, f) -> bool:
    if value is None:
        return f.optional
    return TYPE_CHECKS[f.type.name](value) and in_range(value, f)


@QUICK
@given(st.sampled_from([LIBRARY, DISCOURSE]).flatmap(lambda rs: st.tuples(st.just(rs), histories(rs))))
def test_histories_fit_the_schema(pair):
    ruleset, history = pair
    kind = ruleset.subject_kind
    assert 1 <= len(history.subjects) <= 3
    for attrs in history.subjects.values():
        assert set(attrs) == {f.name for f in kind.fields}
        assert all(fits(attrs[f.name], f) for f in kind.fields)
    start = base_instant(ruleset.timezone)
    for i, e in enumerate(history.events, 1):
        assert e.id == f"e{i}" and e.subject in history.subjects and e.type in ruleset.events
        declared = ruleset.events[e.type].fields
        assert set(e.fields) == {f.name for f in declared}
        assert all(fits(e.fields[f.name], f) for f in declared)
        assert start <= e.at <= start + dt.timedelta(days=SPAN_DAYS + 2)
    assert [e.at for e in history.events] == sorted(e.at for e in history.events)
    assert history.as_of == (history.latest or start)


@QUICK
@given(histories(DISCOURSE))
def test_histories_replay_through_the_input_readers(history):
    subjects = parse_subjects(history.subjects_jsonl(), Path("s.jsonl"), DISCOURSE)
    assert not subjects.rejects and subjects.subjects == history.subjects
    loaded = parse_events(history.events_jsonl(), Path("history.jsonl"), DISCOURSE, subjects.subjects, True)
    assert not loaded.rejects
    assert [(e.subject, e.type, e.at, e.id, e.fields) for e in loaded.events] == \
        [(e.subject, e.type, e.at, e.id, e.fields) for e in history.events]


@QUICK
@given(events(LIBRARY, "volunteered", subject="ann"))
def test_single_events_have_the_asked_type_and_subject(event):
    assert event.type == "volunteered" and event.subject == "ann"
    assert 0 <= event.fields["hours"] <= 24


@QUICK
@given(subjects(LIBRARY, max_subjects=2))
def test_subjects_are_named_s1_and_up(people):
    assert list(people) in (["s1"], ["s1", "s2"])


def test_a_shrunk_history_is_small_round_and_near_the_base():
    returns = lambda h: [e for e in h.events if e.type == "returned"]  # noqa: E731
    found = find(histories(LIBRARY), lambda h: len(returns(h)) >= 3, settings=FIND,
                 random=__import__("random").Random(0))
    assert len(found.events) == 3 and list(found.subjects) == ["s1"]
    assert [e.fields for e in found.events] == [{"days_late": 0, "damaged": False}] * 3
    assert found.subjects["s1"] == {"joined": base_instant("UTC").date(), "age": 0, "postcode": ""}
    assert found.events[0].at == base_instant(LIBRARY.timezone)
    assert found.events[-1].at - found.events[0].at <= dt.timedelta(minutes=2)


def test_bursts_put_many_events_of_one_subject_in_one_day():
    def busiest_day(h):
        days = {}
        for e in h.events:
            key = (e.subject, e.at.date())
            days[key] = days.get(key, 0) + 1
        return max(days.values(), default=0)

    found = find(histories(LIBRARY), lambda h: busiest_day(h) >= 12, settings=FIND,
                 random=__import__("random").Random(0))
    assert busiest_day(found) == 12


def test_literals_of_the_rules_steer_generation():
    loaded = load_text("""ruleset t "t"
author a "A"
subject member { region: text }
event paid { days_late: int in 0..90 }
rule on_time by a because "x" on paid where days_late == 0 and member.region == "north" award 5
score standing = points
""", "t.whuf")
    assert text_literals(loaded.ruleset) == ("north",)
    assert {-1, 0, 1, 4, 5, 6} <= set(number_literals(loaded.ruleset))

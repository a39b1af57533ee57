"""Input validation: every bad line is reported with file:line and exactly what is wrong."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whuffie.frontend import load_file
from whuffie.inputs import load_events, parse_events, parse_subjects

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = load_file(ROOT / "examples" / "library" / "rules.whuf").ruleset
UTC = dt.timezone.utc

GOOD = {"subject": "alice", "type": "returned", "at": "2026-01-10T09:00:00Z", "days_late": 0, "damaged": False}


def jsonl(*rows) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


def messages(text: str, name: str = "events.jsonl", **kw) -> list[str]:
    return [str(r) for r in parse_events(text, Path(name), LIBRARY, **kw).rejects]


@pytest.mark.parametrize("row,message", [
    ({**GOOD, "days_late": "three"}, 'field days_late: expected int in 0..3650, got "three"'),
    ({**GOOD, "days_late": 4000}, "field days_late: expected int in 0..3650, got 4000"),
    ({**GOOD, "days_late": -1}, "field days_late: expected int in 0..3650, got -1"),
    ({**GOOD, "days_late": 1.5}, "field days_late: expected int in 0..3650, got 1.5"),
    ({**GOOD, "damaged": "no"}, 'field damaged: expected bool, got "no"'),
    ({k: v for k, v in GOOD.items() if k != "damaged"}, "missing required field damaged of returned"),
    ({**GOOD, "colour": "red"}, "unknown field colour for event returned"),
    ({**GOOD, "type": "returnd"}, 'unknown event type "returnd" (did you mean returned?)'),
    ({**GOOD, "at": "yesterday"},
     'at: expected an ISO 8601 datetime such as 2026-01-10T09:30:00Z, got "yesterday"'),
    ({**GOOD, "at": "2026-02-30T10:00:00Z"},
     'at: expected an ISO 8601 datetime such as 2026-01-10T09:30:00Z, got "2026-02-30T10:00:00Z"'),
    ({k: v for k, v in GOOD.items() if k != "subject"}, "missing subject"),
    ({**GOOD, "subject": 7}, "subject: expected a text id, got 7"),
    ({**GOOD, "id": 12}, "id: expected text, got 12"),
    ({"subject": "a", "type": "volunteered", "at": "2026-01-01", "hours": True},
     "field hours: expected number in 0..24, got true"),
    ('{"subject": "alice", "type": ', "malformed JSON: Expecting value at column 30"),
    ("[1, 2]", "malformed JSON: expected an object {...} on each line"),
])
def test_bad_event_line_is_reported_with_file_line_and_reason(row, message):
    assert messages(jsonl(GOOD, row)) == [f"events.jsonl:2: {message}"]


def test_every_bad_line_is_reported_not_just_the_first():
    text = jsonl({**GOOD, "days_late": "x"}, GOOD, {**GOOD, "type": "nope"}, "{", {**GOOD, "damaged": 1})
    load = parse_events(text, Path("events.jsonl"), LIBRARY)
    assert [r.where for r in load.rejects] == ["events.jsonl:1", "events.jsonl:3", "events.jsonl:4", "events.jsonl:5"]
    assert len(load.events) == 1 and load.read == 5
    # the rejected lines are kept verbatim
    assert load.rejects[2].text == "{"


def test_several_problems_on_one_line_are_all_named():
    row = {"subject": "alice", "type": "returned", "at": "soon", "days_late": "x"}
    [message] = messages(jsonl(row))
    assert message == ('events.jsonl:1: at: expected an ISO 8601 datetime such as 2026-01-10T09:30:00Z, got "soon"; '
                       'field days_late: expected int in 0..3650, got "x"; missing required field damaged of returned')


def test_duplicate_ids():
    text = jsonl({**GOOD, "id": "e1"}, {**GOOD, "id": "e2"}, {**GOOD, "id": "e1"})
    assert messages(text) == ['events.jsonl:3: duplicate id "e1" (first at events.jsonl:1)']


def test_unknown_subject_when_attributes_are_needed():
    subjects = {"alice": {}, "bob": {}}
    text = jsonl(GOOD, {**GOOD, "subject": "alicia"})
    assert messages(text, subjects=subjects, attributes_needed=True) == [
        'events.jsonl:2: unknown member "alicia": not in the subjects file (did you mean alice?)']
    assert messages(text, subjects=subjects, attributes_needed=False) == []


def test_ids_times_and_positions():
    text = jsonl({**GOOD, "id": "x1"}, {**GOOD, "at": "2026-07-01T10:00:00"}, {**GOOD, "at": "2026-07-01"})
    load = parse_events(text, Path("events.jsonl"), LIBRARY)
    assert [e.id for e in load.events] == ["x1", "events.jsonl:2", "events.jsonl:3"]
    assert [e.position for e in load.events] == [0, 1, 2]
    # without an offset: Europe/London (BST in July) -> 09:00Z; a date is local midnight -> June 30 23:00Z
    assert load.events[1].at == dt.datetime(2026, 7, 1, 9, tzinfo=UTC)
    assert load.events[2].at == dt.datetime(2026, 6, 30, 23, tzinfo=UTC)


def test_blank_lines_are_skipped_and_line_numbers_stay_true():
    text = jsonl(GOOD) + "\n   \n" + jsonl({**GOOD, "days_late": "x"})
    assert messages(text) == ['events.jsonl:4: field days_late: expected int in 0..3650, got "x"']


# ---------------------------------------------------------------- CSV


CSV_HEADER = "subject,type,at,id,days_late,damaged,hours,upheld\n"


def test_csv_values_are_parsed_by_declared_type():
    text = CSV_HEADER + "alice,returned,2026-01-10T09:00:00Z,r1,3,true,,\nbob,volunteered,2026-01-11,,,,2.5,\n"
    load = parse_events(text, Path("events.csv"), LIBRARY)
    assert not load.rejects
    assert load.events[0].fields == {"days_late": 3, "damaged": True}
    assert load.events[1].fields == {"hours": 2.5} and load.events[1].id == "events.csv:3"


@pytest.mark.parametrize("line,message", [
    ("alice,returned,2026-01-10,,three,false,,", 'field days_late: expected int in 0..3650, got "three"'),
    ("alice,returned,2026-01-10,,0,maybe,,", 'field damaged: expected bool, got "maybe"'),
    ("alice,returned,2026-01-10,,0,,,", "missing required field damaged of returned"),
    ("alice,returned,2026-01-10,,0,false,3,", "field hours: not a field of returned"),
    ("alice,returned,2026-01-10,,0", "malformed CSV: 5 columns, the header has 8"),
    ('alice,"returned,2026-01-10,,0,false,,', "malformed CSV: unexpected end of data"),
])
def test_bad_csv_line(line, message):
    assert messages(CSV_HEADER + line + "\n", "events.csv") == [f"events.csv:2: {message}"]


def test_csv_header_must_name_the_required_columns():
    assert messages("who,type,at\nalice,returned,2026-01-10\n", "events.csv") == [
        "events.csv:1: CSV header lacks column subject"]


def test_csv_and_jsonl_examples_load_the_same_events():
    a = load_events(ROOT / "examples/library/events.jsonl", LIBRARY)
    b = load_events(ROOT / "examples/library/events.csv", LIBRARY)
    assert not a.rejects and not b.rejects
    assert [(e.subject, e.type, e.at, e.id, e.fields) for e in a.events] == \
           [(e.subject, e.type, e.at, e.id, e.fields) for e in b.events]


# ---------------------------------------------------------------- subjects


def subject_messages(text: str, name: str = "subjects.jsonl") -> list[str]:
    return [str(r) for r in parse_subjects(text, Path(name), LIBRARY).rejects]


GOOD_SUBJECT = {"id": "alice", "joined": "2020-01-01", "age": 30, "postcode": "RV1"}


@pytest.mark.parametrize("row,message", [
    ({**GOOD_SUBJECT, "joined": "last year"}, 'attribute joined: expected date, got "last year"'),
    ({**GOOD_SUBJECT, "age": "30"}, 'attribute age: expected int, got "30"'),
    ({k: v for k, v in GOOD_SUBJECT.items() if k != "postcode"}, "missing required attribute postcode of member"),
    ({**GOOD_SUBJECT, "shoe_size": 42}, "unknown attribute shoe_size of member"),
    ({k: v for k, v in GOOD_SUBJECT.items() if k != "id"}, "missing id"),
    ({**GOOD_SUBJECT, "joined": 2020}, "attribute joined: expected date, got 2020"),
])
def test_bad_subject_line(row, message):
    good_bob = {**GOOD_SUBJECT, "id": "bob"}
    assert subject_messages(jsonl(good_bob, row)) == [f"subjects.jsonl:2: {message}"]


def test_duplicate_subject():
    assert subject_messages(jsonl(GOOD_SUBJECT, GOOD_SUBJECT)) == [
        'subjects.jsonl:2: duplicate id "alice" (first at subjects.jsonl:1)']


def test_subjects_csv():
    load = parse_subjects("id,joined,age,postcode\nalice,2020-01-01,30,RV1\n", Path("s.csv"), LIBRARY)
    assert load.subjects == {"alice": {"joined": dt.date(2020, 1, 1), "age": 30, "postcode": "RV1"}}


# ---------------------------------------------------------------- laws


json_values = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                        st.floats(allow_nan=False), st.text(max_size=8))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["subject", "type", "at", "id", "days_late", "damaged",
                                                 "hours", "upheld", "other"]), json_values, max_size=7),
                max_size=8))
def test_every_line_is_either_accepted_or_rejected(rows):
    text = jsonl(*rows)
    load = parse_events(text, Path("events.jsonl"), LIBRARY)
    assert len(load.events) + len(load.rejects) == load.read == len(rows)
    for event in load.events:
        assert event.type in LIBRARY.events
        assert set(event.fields) == {f.name for f in LIBRARY.events[event.type].fields}

"""Input validation: every bad line is reported with file:line and exactly what is wrong."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from whuffie.frontend import load_file, load_text
from whuffie.inputs import DataError, load_events, load_subjects, parse_events, parse_subjects

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


def test_csv_header_lacking_a_required_column_stops_the_file_naming_the_columns():
    with pytest.raises(DataError) as caught:
        parse_events("who,type\nalice,returned\n", Path("events.csv"), LIBRARY)
    assert caught.value.code == "W080" and caught.value.where == "events.csv:1"
    assert "lacks the required columns subject, at (it has who, type)" in str(caught.value)
    with pytest.raises(DataError, match="lacks the required column id"):
        parse_subjects("name,age\nalice,3\n", Path("s.csv"), LIBRARY)


def test_semicolon_separated_csv_is_recognised():
    with pytest.raises(DataError, match="looks separated by ';'"):
        parse_events("subject;type;at\nalice;returned;2026-01-10\n", Path("events.csv"), LIBRARY)


def test_csv_header_naming_a_column_twice_is_refused():
    with pytest.raises(DataError, match="names column at more than once"):
        parse_events("subject,type,at,at\n", Path("events.csv"), LIBRARY)


def test_a_quoted_csv_cell_may_hold_a_newline_and_lines_count_from_the_record_start():
    rules = load_file_text('ruleset n\nauthor a "A"\nevent note { text: text }\n'
                           'rule r by a because "b" on note award 1\nscore s = points\n')
    text = 'subject,type,at,text\nann,note,2026-01-01,"two\r\nlines"\nann,note,2026-01-02,x,extra\n'
    load = parse_events(text, Path("events.csv"), rules)
    assert [e.fields["text"] for e in load.events] == ["two\r\nlines"]
    assert [str(r) for r in load.rejects] == ["events.csv:4: malformed CSV: 5 columns, the header has 4"]
    assert load.events[0].id == "events.csv:2"


def test_an_unclosed_quote_costs_its_own_line_only():
    text = CSV_HEADER + 'alice,"returned,2026-01-10,,0,false,,\n' + "alice,returned,2026-01-10,,0,false,,\n"
    load = parse_events(text, Path("events.csv"), LIBRARY)
    assert [str(r) for r in load.rejects] == ["events.csv:2: malformed CSV: unexpected end of data"]
    assert len(load.events) == 1 and load.events[0].line == "events.csv:3"


def load_file_text(source: str):
    from whuffie.frontend import load_text

    return load_text(source, "t.whuf").ruleset


# ---------------------------------------------------------------- bytes, keys, numbers, time range


def test_an_invalid_utf8_byte_is_one_bad_line_kept_verbatim(tmp_path):
    path = tmp_path / "events.jsonl"
    good = json.dumps(GOOD).encode()
    bad = good.replace(b"alice", b"al\xffce")
    path.write_bytes(good + b"\n" + bad + b"\n" + good + b"\n")
    load = load_events(path, LIBRARY)
    assert len(load.events) == 2 and load.read == 3
    [reject] = load.rejects
    assert str(reject) == "events.jsonl:2: not valid UTF-8 (byte 0xff at column 16); save the file as UTF-8"
    assert reject.text.encode("utf-8", "surrogateescape") == bad


def test_an_invalid_utf8_byte_in_csv_is_one_bad_line(tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(CSV_HEADER.encode() + b"al\xe9,returned,2026-01-10,,0,false,,\n"
                     + b"alice,returned,2026-01-10,,0,false,,\n")
    load = load_events(path, LIBRARY)
    assert [r.where for r in load.rejects] == ["events.csv:2"] and len(load.events) == 1


def test_a_utf16_file_is_refused_as_a_whole(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(jsonl(GOOD).encode("utf-16"))
    with pytest.raises(DataError, match="UTF-16") as caught:
        load_events(path, LIBRARY)
    assert caught.value.code == "W080"


def test_a_key_given_twice_rejects_the_line_naming_it():
    line = json.dumps(GOOD)[:-1] + ', "days_late": 3}'
    assert messages(jsonl(GOOD, line)) == ['events.jsonl:2: malformed JSON: key "days_late" given twice']
    assert subject_messages('{"id": "a", "id": "b"}\n') == ['subjects.jsonl:1: malformed JSON: key "id" given twice']


def test_an_integer_of_thousands_of_digits_is_a_bad_line():
    line = json.dumps(GOOD)[:-1].replace('"days_late": 0', '"days_late": ' + "9" * 5000) + "}"
    assert messages(jsonl(line, GOOD)) == ["events.jsonl:1: malformed JSON: integer too large"]
    assert subject_messages('{"id": "a", "age": ' + "1" * 5000 + "}\n") == [
        "subjects.jsonl:1: malformed JSON: integer too large"]


@pytest.mark.parametrize("at", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+01:00"])
def test_datetimes_past_the_supported_range_are_bad_lines(at):
    expected = f'at: "{at}" is outside the supported range 0001-01-01..9999-12-31 UTC'
    assert messages(jsonl({**GOOD, "at": at})) == [f"events.jsonl:1: {expected}"]
    assert messages(CSV_HEADER + f"alice,returned,{at},,0,false,,\n", "events.csv") == [f"events.csv:2: {expected}"]


def test_naive_year_one_in_berlin_is_a_bad_line():
    rules = load_file_text('ruleset n\ntimezone "Europe/Berlin"\nauthor a "A"\nevent e { when: datetime }\n'
                           'rule r by a because "b" on e award 1\nscore s = points\n')
    text = jsonl({"subject": "a", "type": "e", "at": "0001-01-01T00:30:00", "when": "2026-01-01"},
                 {"subject": "a", "type": "e", "at": "2026-01-01", "when": "0001-01-01T00:00:00"})
    assert [str(r) for r in parse_events(text, Path("e.jsonl"), rules).rejects] == [
        'e.jsonl:1: at: "0001-01-01T00:30:00" is outside the supported range 0001-01-01..9999-12-31 UTC',
        'e.jsonl:2: field when: "0001-01-01T00:00:00" is outside the supported range 0001-01-01..9999-12-31 UTC']


def test_look_alike_subject_ids_are_warned_about_naming_both_lines():
    text = jsonl({**GOOD, "subject": "Zoe\u0301"}, GOOD, {**GOOD, "subject": "Zo\u00e9"}, {**GOOD, "subject": "bob "})
    load = parse_events(text, Path("events.jsonl"), LIBRARY)
    assert len(load.events) == 4
    assert load.warnings == [
        ("events.jsonl:3", 'member id "Zo\\u00e9" looks like "Zoe\\u0301" (at events.jsonl:1) but is a different id'),
        ("events.jsonl:4", 'member id "bob " has leading or trailing spaces')]
    subjects = parse_subjects(jsonl({**GOOD_SUBJECT, "id": "ann"}, {**GOOD_SUBJECT, "id": " ann"}),
                              Path("s.jsonl"), LIBRARY)
    assert [w for w, _ in subjects.warnings] == ["s.jsonl:2"]


# ---------------------------------------------------------------- files that are not files


def test_inputs_that_are_not_regular_files_are_refused_before_reading(tmp_path):
    import os

    fifo = tmp_path / "events.jsonl"
    os.mkfifo(fifo)
    for reader in (load_events, load_subjects):
        with pytest.raises(DataError, match="named pipe") as caught:
            reader(fifo, LIBRARY)
        assert caught.value.code == "W080"
    with pytest.raises(DataError, match="is a device"):
        load_events(Path("/dev/zero"), LIBRARY)


def test_standard_input_is_jsonl_unless_it_starts_like_a_csv_header(monkeypatch):
    import io
    import sys

    for text, name in ((jsonl(GOOD, {**GOOD, "days_late": "x"}), "<stdin>:2"),
                       (CSV_HEADER + "alice,returned,2026-01-10,,0,false,,\nalice,returned,x,,0,false,,\n",
                        "<stdin>:3")):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
        load = load_events(Path("-"), LIBRARY)
        assert len(load.events) == 1 and [r.where for r in load.rejects] == [name]


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


# ---------------------------------------------------------------- the CSV quick path

QUICK_RULES = load_text("""ruleset quick "csv quick path"
timezone "Europe/London"
author a "A"
event voted { up: bool }
event paid { amount: int in 1..500, rate: number in 0..2.5, label: text }
event chose { color: text in ["red", "green"] }
event dated { on: date, note: text? }
event bare {}
rule up by a because "u" on voted where up award 1
rule pay by a because "p" on paid award amount
rule pick by a because "c" on chose where color == "red" award 1
rule dated_rule by a because "d" on dated award 1
rule bare_rule by a because "b" on bare award 1
score total = points
""", "quick.whuf").ruleset
# each column's cells: the valid ones first (a row mostly of those is the common case), then the odd ones
QUICK_COLUMNS = {
    "subject": (["u1", "u2"], ["u1 ", "ü"]),
    "type": (["voted", "paid", "chose", "dated", "bare"], ["vote"]),
    "at": (["2026-01-02T10:00:00Z", "2026-01-02T10:00:00", "2026-07-02T10:00:00+05:00"],
           ["2026-01-02", "2026-13-02T10:00:00Z", "0001-01-01T00:30:00+01:00", "soon"]),
    "id": (["", "e1", "e2"], ["quick.csv:2", "quick.csv:3"]),
    "up": (["true", "false"], ["TRUE", " false", "yes", "1"]),
    "amount": (["1", "500", " 12 "], ["501", "1_0", "2.0", "-0", "x"]),
    "rate": (["0", "2.5", " 1 "], ["2.50", "1e0", "2.6", "nan", "inf", "-0.0"]),
    "label": (["a", " "], ["true"]),
    "color": (["red", "green"], ["blue", "Red"]),
    "on": (["2026-02-01"], ["2026-02-30", " 2026-02-01", "2026-02-01T10:00:00Z"]),
    "note": (["n", "two words"], []),
    "extra": ([], ["x"]),
}


@st.composite
def csv_logs(draw) -> str:
    columns = ["subject", "type", "at", "id"] + draw(st.lists(
        st.sampled_from(list(QUICK_COLUMNS)[4:]), unique=True, max_size=len(QUICK_COLUMNS) - 4))
    lines = [",".join(columns)]
    for _ in range(draw(st.integers(0, 10))):
        etype = draw(st.sampled_from(sum(QUICK_COLUMNS["type"], [])))
        own = {f.name for f in QUICK_RULES.events[etype].fields} if etype in QUICK_RULES.events else set()
        cells = []
        for column in columns:
            valid, odd = QUICK_COLUMNS[column]
            if column == "type":
                cells.append(etype)
            elif column in own or column in ("subject", "at", "id"):  # mostly valid: 1 in 8 odd
                cells.append(draw(st.sampled_from(odd)) if odd and draw(st.integers(0, 7)) == 0
                             else draw(st.sampled_from(valid)))
            else:  # another type's field: mostly left empty
                cells.append("" if draw(st.integers(0, 7)) else draw(st.sampled_from(valid + odd)))
        if draw(st.integers(0, 12)) == 0:
            cells = cells[:-1]  # a row of the wrong width
        lines.append(",".join(cells))
    return "".join(line + draw(st.sampled_from(["\n", "\r\n"])) for line in lines)


def _read(load):
    events = [(e.subject, e.type, e.at, e.id, e.line, e.position, [(k, v, type(v)) for k, v in e.fields.items()])
              for e in load.events]
    return events, [(r.where, r.message, r.text, r.end) for r in load.rejects], load.warnings, load.read


@settings(max_examples=300, deadline=None)
@given(csv_logs())
# a row naming the next row's default id, then that row naming it too: a duplicate on both paths
@example("subject,type,at,id,up,amount\nu1 ,voted,2026-01-02,quick.csv:3,TRUE,\n"
         "u1 ,voted,2026-01-02T10:00:00Z,quick.csv:3,TRUE,\n")
def test_csv_quick_path_reads_as_the_careful_path(text):
    quick = parse_events(text, Path("quick.csv"), QUICK_RULES)
    careful = parse_events(text, Path("quick.csv"), QUICK_RULES, careful_only=True)
    assert _read(quick) == _read(careful)
    assert len(careful.events) + len(careful.rejects) == careful.read


_ID_CHOICES = st.sampled_from([None, "q.jsonl:1", "q.jsonl:2", "q.jsonl:3", "q.jsonl:4", "x"])
_AT_CHOICES = st.sampled_from(["2026-01-02T10:00:00Z", "2026-01-02"])  # a date: the careful path reads it


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_ID_CHOICES, _AT_CHOICES), min_size=1, max_size=5))
@example([("q.jsonl:1", "2026-01-02T10:00:00Z"), (None, "2026-01-02T10:00:00Z"), ("q.jsonl:1", "2026-01-02T10:00:00Z")])
def test_jsonl_ids_read_by_the_fast_decoder_as_by_the_careful_path(lines):
    """Ids given, repeated, and equal to a line's own default id (`file:line`): the same events and rejects."""
    text = "".join(json.dumps({"subject": "u1", "type": "voted", "at": at, "up": True,
                               **({"id": given} if given is not None else {})}) + "\n" for given, at in lines)
    quick = parse_events(text, Path("q.jsonl"), QUICK_RULES)
    careful = parse_events(text, Path("q.jsonl"), QUICK_RULES, careful_only=True)
    assert _read(quick) == _read(careful)
    assert [e.given_id for e in quick.events] == [e.given_id for e in careful.events]

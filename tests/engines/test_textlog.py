"""The DuckDB engine's JSONL reader (engines/textlog.py) reads every log exactly as inputs.py does."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whuffie import inputs
from whuffie.engines import sqlengine, textlog
from whuffie.frontend import load_text
from whuffie.plan import lower

RULES = """ruleset t "text log"
timezone "UTC"
author ada "Ada"
event post { words: int in 0..1000, score: number, pinned: bool, kind: text in ["q", "a"], title: text,
             due: date?, seen: datetime? }
event vote { up: bool }
event ping {}
rule posted by ada because "x" on post where pinned or words > 10 award score
rule voted by ada because "x" on vote where up award 2
rule pinged by ada because "x" on ping award 1
"""

RULESET = load_text(RULES, "t.whuf").ruleset

# times: the plain forms SQL takes, and the odd ones only inputs.py can judge
TIMES = ["2026-03-01T10:00:00Z", "2026-03-01T10:00:00.123Z", "2026-03-01T10:00:00.123456+02:00",
         "2026-03-01T10:00:00", "2026-03-01", "2026-03-01 10:00:00Z", "2026-13-01T00:00:00Z",
         "2026-03-01T10:00:00.1Z", "2026-03-01T24:00:00Z", "9999-12-31T23:00:00-05:00",
         "0001-01-01T00:30:00+01:00", "2026-03-01T10:00:00+0200", "", "yesterday"]
SUBJECTS = ["m1", "m2", "Ω", "m1 ", "e\u0301", "\u00e9", ""]
NUMBERS = st.one_of(st.integers(-2, 1002), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from([0.0, 12.0, -0.0, 2 ** 63, 2 ** 64, -(2 ** 63) - 1, 10 ** 30]))
ODD_VALUES = st.sampled_from([None, "", "12", [], [1], {}, {"a": 1}, True, 1.5, "2026-03-01", "q"])


def _value(kind: str):
    plain = {"int": NUMBERS, "number": NUMBERS, "bool": st.booleans(), "text": st.text(max_size=4),
             "choice": st.sampled_from(["q", "a", "Q", "b"]),
             "date": st.sampled_from(["2026-04-01", "2026-02-30", "2026-4-1"]),
             "datetime": st.sampled_from(TIMES)}[kind]
    return st.one_of(plain, plain, ODD_VALUES)


POST_FIELDS = {"words": "int", "score": "number", "pinned": "bool", "kind": "choice", "title": "text",
               "due": "date", "seen": "datetime"}


@st.composite
def record(draw) -> dict:
    etype = draw(st.sampled_from(["post", "post", "vote", "ping", "poke", 7]))
    row = {"subject": draw(st.one_of(st.sampled_from(SUBJECTS), ODD_VALUES)) if draw(st.integers(0, 9)) else None,
           "type": etype, "at": draw(st.sampled_from(TIMES)) if draw(st.integers(0, 9)) else 5}
    if row["subject"] is None and draw(st.booleans()):
        del row["subject"]
    if draw(st.integers(0, 3)) == 0:
        row["id"] = draw(st.one_of(st.sampled_from(["a", "b", "c"]), ODD_VALUES))
    fields = POST_FIELDS if etype == "post" else {"up": "bool"} if etype == "vote" else {}
    for name, kind in fields.items():
        if draw(st.integers(0, 11)):  # now and then a field left out
            row[name] = draw(_value(kind))
    if draw(st.integers(0, 9)) == 0:
        row["extra"] = 1
    return row


@st.composite
def good_record(draw) -> dict:
    """A line SQL accepts whole (most of a real log), now and then with an id that may repeat."""
    row = {"subject": draw(st.sampled_from(SUBJECTS[:-1])), "type": draw(st.sampled_from(["post", "vote", "ping"])),
           "at": draw(st.sampled_from(TIMES[:3]))}
    if draw(st.booleans()):
        row["id"] = draw(st.sampled_from(["a", "b", "c", "d", "e"]))
    if row["type"] == "vote":
        row["up"] = draw(st.booleans())
    elif row["type"] == "post":
        row.update(words=draw(st.integers(0, 1000)), score=draw(st.one_of(st.integers(-10, 10), st.floats(-5, 5))),
                   pinned=draw(st.booleans()), kind=draw(st.sampled_from(["q", "a"])), title=draw(st.text(max_size=3)))
        if draw(st.booleans()):
            row["due"] = "2026-04-01"
    return row


def _nan_ish(text: str) -> str:
    """A number Python's json module reads and DuckDB may not: NaN, Infinity, -Infinity."""
    return text.replace('"score": 1.5', '"score": NaN').replace('"words": 3', '"words": Infinity')


MALFORMED = ['{"subject": "m1"', "[1, 2]", '"text"', "nul", "{}", "   ", "\t", "{,}", "{\"a\" 1}",
             '{"subject": "m1", "type": "ping", "at": "2026-03-01T10:00:00Z",}',
             '{"subject": "m1", "type": "ping", "at": "2026-03-01T10:00:00Z", "at": "2026-03-02T10:00:00Z"}',
             '{"subject": "m1", "type": "post", "at": "2026-03-01T10:00:00Z", "words": 3, "score": 1.5, '
             '"pinned": true, "kind": "q", "title": "x"}',
             '{"subject": "m1", "type": "vote", "at": "2026-03-01T10:00:00Z", "up": true} trailing',
             '{"subject": "m1", "type": "vote", "at": "2026-03-01T10:00:00Z", "up": true} {"a": 1}',
             '{"subject": "m1", "type": "vote", "at": "2026-03-01T10:00:00Z", "up": true, "nested": {"x": [1]}}',
             '{"subject": "m1", "type": "post", "at": "2026-03-01T10:00:00Z", "words": 1e3, "score": 1E2, '
             '"pinned": false, "kind": "a", "title": "\\u00e9\\n"}',
             '{"subject": "m1", "type": "post", "at": "2026-03-01T10:00:00Z", "words": 100000000000000000000000, '
             '"score": 1e400, "pinned": false, "kind": "a", "title": ""}']

LINES = st.one_of(good_record().map(json.dumps), good_record().map(json.dumps),
                  record().map(lambda r: json.dumps(r, ensure_ascii=False)), record().map(json.dumps),
                  st.sampled_from(MALFORMED), st.sampled_from(MALFORMED).map(_nan_ish), st.just(""))


def _both(tmp: Path, data: bytes):
    path = tmp / "events.jsonl"
    path.write_bytes(data)
    expected = inputs.load_events(path, RULESET)
    got = sqlengine.load_text_log(str(path), lower(RULESET), None, False)
    return expected, got


def _same(expected, got) -> None:
    assert [(r.where, r.message, r.text, r.end) for r in got.rejects] == \
        [(r.where, r.message, r.text, r.end) for r in expected.rejects]
    assert (got.read, got.accepted) == (expected.read, len(expected.events))
    assert [(e.line, e.id, e.subject, e.type, e.at, e.fields) for e in got.events()] == \
        [(e.line, e.id, e.subject, e.type, e.at, e.fields) for e in expected.events]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINES, max_size=30), st.sampled_from(["\n", "\r\n"]), st.booleans(), st.booleans())
def test_any_log_gets_the_events_and_rejects_of_inputs_py(lines, ending, bom, final_newline) -> None:
    text = ("\ufeff" if bom else "") + ending.join(lines) + (ending if final_newline and lines else "")
    with tempfile.TemporaryDirectory() as tmp:
        expected, got = _both(Path(tmp), text.encode("utf-8"))
        _same(expected, got)


def test_a_log_with_no_bad_line_has_no_second_pass(tmp_path, monkeypatch) -> None:
    lines = [json.dumps({"subject": f"m{i % 3}", "type": "vote", "at": f"2026-03-0{1 + i % 5}T10:00:00Z",
                         "up": i % 2 == 0, "id": f"v{i}"}) for i in range(50)]
    data = ("\n".join(lines) + "\n").encode()
    expected = inputs.load_events(_write(tmp_path, data), RULESET)

    def no_second_pass(*args, **kwargs):
        raise AssertionError("inputs.parse_events called for a log SQL accepts whole")

    monkeypatch.setattr(inputs, "parse_events", no_second_pass)
    got = sqlengine.load_text_log(str(tmp_path / "events.jsonl"), lower(RULESET), None, False)
    _same(expected, got)
    assert got.accepted == 50


def test_only_the_bad_lines_go_to_inputs_py_with_their_line_numbers(tmp_path, monkeypatch) -> None:
    good = json.dumps({"subject": "m1", "type": "ping", "at": "2026-03-01T10:00:00Z"})
    data = "\r\n".join([good, "", good, "{oops", good, json.dumps({"subject": "m1", "type": "poke",
                                                                    "at": "2026-03-01T10:00:00Z"})]).encode()
    expected = inputs.load_events(_write(tmp_path, data), RULESET)
    seen = []
    real = inputs.parse_events

    def spy(lines, *args, **kwargs):
        lines = list(lines)
        seen.extend(number for number, _ in lines)
        return real(iter(lines), *args, **kwargs)

    monkeypatch.setattr(inputs, "parse_events", spy)
    got = sqlengine.load_text_log(str(tmp_path / "events.jsonl"), lower(RULESET), None, False)
    _same(expected, got)
    assert seen == [4, 6]
    assert [r.where for r in got.rejects] == ["events.jsonl:4", "events.jsonl:6"]


def test_a_staging_pass_that_fails_is_run_again_guarded_with_the_same_result(tmp_path) -> None:
    """The JSON calls of the staging pass run without try() (no valid line makes them fail); should one
    fail, the pass runs again with it: same events and rejects, no error."""
    import duckdb

    good = [json.dumps({"subject": f"m{i % 2}", "type": "vote", "at": "2026-03-01T10:00:00Z", "up": True})
            for i in range(4)]
    data = "\n".join(good[:2] + ["{oops", '{"subject": "m1", "type": "ping", "at": 5}'] + good[2:]).encode()
    expected = inputs.load_events(_write(tmp_path, data), RULESET)
    statements = []

    class FirstStagingFails:
        def __init__(self, con):
            self.con = con

        def execute(self, sql, *args):
            statements.append(sql)
            if sql.startswith("CREATE TEMP TABLE __staged") and "try(" not in sql:
                raise duckdb.InvalidInputException("as a JSON call failing on a line would")
            return self.con.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self.con, name)

    got = textlog.read_text_log(str(tmp_path / "events.jsonl"), lower(RULESET), None, False,
                                FirstStagingFails(sqlengine.connect()))
    _same(expected, got)
    assert sum("__staged AS SELECT" in sql for sql in statements) == 2
    assert len(got.rejects) == 2


def test_the_events_are_a_view_of_the_staged_rows(tmp_path) -> None:
    """No copy of the staged rows: ``events`` is a view (its labels and calendar keys computed when read)."""
    good = json.dumps({"subject": "m1", "type": "ping", "at": "2026-03-01T10:00:00Z"})
    got = sqlengine.load_text_log(str(_write(tmp_path, f"{good}\n{good}\n".encode())), lower(RULESET), None, False)
    kinds = dict(got.con.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall())
    assert kinds["events"] == "VIEW" and kinds["__staged"] == "LOCAL TEMPORARY"
    assert got.con.execute("SELECT line, id, local_day, local_month FROM events ORDER BY pos").fetchall() == \
        [("events.jsonl:1", "events.jsonl:1", 20513, 2026 * 12 + 2), ("events.jsonl:2", "events.jsonl:2", 20513,
                                                                       2026 * 12 + 2)]


def test_a_file_duckdb_cannot_split_as_python_does_is_read_by_inputs_py(tmp_path) -> None:
    good = json.dumps({"subject": "m1", "type": "ping", "at": "2026-03-01T10:00:00Z"})
    expected, got = _both(tmp_path, f"{good}\r{good}\n\xff{good}\n".encode("latin-1"))
    _same(expected, got)


def test_the_reader_is_the_entry_function_of_its_module() -> None:
    assert sqlengine.load_text_log.__module__ == "whuffie.engines.sqlengine"
    assert callable(textlog.read_text_log)


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_bytes(data)
    return path

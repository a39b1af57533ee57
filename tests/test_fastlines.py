"""The bulk JSON Lines decoder (fastlines.py) against the careful line-by-line reader.

Law: whatever the lines, reading them through the fast path gives exactly
the events, rejects, warnings and counts of the careful path (parse_events
with numbered lines never takes the fast path), and valid lines really are
decoded in bulk.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from whuffie import fastlines
from whuffie.frontend import load_text
from whuffie.inputs import parse_events

RULES = """ruleset fast "fast lines"
timezone "Europe/London"
author a "A"
event voted { up: bool }
event paid { amount: int in 1..500, rate: number in 0..2.5, label: text }
event chose { color: text in ["red", "green"] }
event dated { on: date }
event bare {}
rule up by a because "u" on voted where up award 1
rule pay by a because "p" on paid award amount
rule pick by a because "c" on chose where color == "red" award 1
rule dated_rule by a because "d" on dated award 1
rule bare_rule by a because "b" on bare award 1
score total = points
"""
RULESET = load_text(RULES, "fast.whuf").ruleset

GOOD = [
    '{"subject":"u1","type":"voted","at":"2026-01-02T10:00:00Z","up":true}',
    '{"subject":"u2","type":"paid","at":"2026-01-02T10:00:00","amount":50,"rate":1.5,"label":"x"}',
    '{"subject":"u1","type":"chose","at":"2026-01-03T10:00:00+01:00","color":"green","id":"e1"}',
    '{"subject":"u3","type":"dated","at":"2026-01-04T10:00:00Z","on":"2026-01-01"}',
    '{"subject":"u3","type":"bare","at":"2026-01-04T10:00:00Z"}',
    '{"subject":"u2","type":"paid","at":"2026-01-05T10:00:00Z","amount":500,"rate":2,"label":"a, b"}',
]
# (old, new) replacements: each makes a line bad, or odd and still good
EDITS = [
    ('"up":true', '"up":1'), ('"up":true', '"up":true,"up":false'), ('"amount":50', '"amount":50.0'),
    ('"amount":50', '"amount":501'), ('"amount":50', '"amount":' + "9" * 30), ('"rate":1.5', '"rate":2.6'),
    ('"rate":1.5', '"rate":1e400'), ('"color":"green"', '"color":"blue"'), ('"id":"e1"', '"id":""'),
    ('"id":"e1"', '"id":null'), ('"subject":"u1"', '"subject":""'), ('"subject":"u1"', '"subject":"u 1"'),
    ('"subject":"u1"', '"subject":"u1,x"'), ('"subject":"u2"', '"subject":"u2 "'), ('"type":"voted"', '"type":"vote"'),
    ("T10:00:00Z", "T25:00:00Z"), ("2026-01-02T10:00:00Z", "2026-01-02"), ("2026-01-04T10:00:00Z", "9999-12-31T23:00:00-05:00"),
    ('"label":"x"', '"label":"\\u00e9,"'), ("}", ',"extra":1}'), ('"at"', '"\\u0061t"'), ('"up":true', '"up":NaN'),
    ('"subject":"u1"', '"subject":"u\\ud800"'), ('{"subject"', '{"type":"bare","subject"'),
]
WHOLE = ["", "   ", "{}", "[1]", "not json", '{"subject":', "\x00"]
ENDS = ["\n", "\r\n", "\r"]


@st.composite
def logs(draw) -> list[str]:
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        if draw(st.integers(0, 5)) == 0:
            line = draw(st.sampled_from(WHOLE))
        else:
            line = draw(st.sampled_from(GOOD))
            for old, new in draw(st.lists(st.sampled_from(EDITS), max_size=2)):
                line = line.replace(old, new, 1)
        lines.append(line + draw(st.sampled_from(ENDS)))
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(GOOD)))  # the last line without its line end
    return lines


def _summary(load):
    events = [(e.subject, e.type, e.at, e.id, e.line, e.position, [(k, v, type(v)) for k, v in e.fields.items()])
              for e in load.events]
    rejects = [(r.where, r.message, r.text, r.end) for r in load.rejects]
    return events, rejects, load.warnings, load.read, load.expanded


def _careful(text: str, subjects=None, needed=False):
    numbered = enumerate(io.StringIO(text, newline=""), 1)
    return parse_events(numbered, Path("e.jsonl"), RULESET, subjects, needed, numbered=True)


@settings(max_examples=300, deadline=None)
@given(logs(), st.sampled_from([None, 64]), st.booleans())
def test_fast_path_reads_as_the_careful_path(lines, chunk, with_subjects):
    text = "".join(lines)
    subjects = {"u1": {}, "u2": {}} if with_subjects else None
    original = fastlines.CHUNK_BYTES
    fastlines.CHUNK_BYTES = chunk or original  # small chunks: lines on both sides of every boundary
    try:
        fast = parse_events(text, Path("e.jsonl"), RULESET, subjects, with_subjects)
    finally:
        fastlines.CHUNK_BYTES = original
    assert _summary(fast) == _summary(_careful(text, subjects, with_subjects))


def test_a_file_is_read_through_the_fast_path_as_the_careful_path(tmp_path):
    from whuffie.inputs import load_events

    path = tmp_path / "e.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "".join(line + "\n" for line in GOOD * 3).encode() + b'{"bad"\n')
    assert _summary(load_events(path, RULESET)) == _summary(_careful(path.read_text(encoding="utf-8-sig")))


def test_valid_lines_are_decoded_in_bulk():
    schema = fastlines.schema_for(RULESET, list(RULESET.events), {})
    lines = [GOOD[0], GOOD[1], GOOD[4]] * 5
    out = list(fastlines.DecodedLines([("\n".join(lines) + "\n").encode()], schema))
    assert [n for n, _ in out] == list(range(1, 16))
    assert not any(isinstance(item, bytes) for _, item in out)
    # a date field is not decoded fast (the careful path parses it), nor is a key given twice
    twice = GOOD[0].replace('"up":true', '"up":false,"up":true')
    out = list(fastlines.DecodedLines([(GOOD[3] + "\n" + twice + "\n" + GOOD[0]).encode()], schema))
    assert [isinstance(item, bytes) for _, item in out] == [True, True, False]
    assert json.loads(out[1][1]) == json.loads(twice)

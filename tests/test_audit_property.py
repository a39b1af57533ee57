"""The `four fifths over KIND.ATTR for NAME` property: syntax, checks, and `whuffie test --events --subjects`."""

from __future__ import annotations

import json

import pytest

from whuffie import nodes as n
from whuffie.formatter import format_program
from whuffie.frontend import load_text
from whuffie.parser import parse
from clirun import whuffie

RULES = """\
ruleset lending "Lending"
author council "Council"
subject member { postcode: text protected, age: int protected, remote: bool protected }
event returned { days_late: int in 0..100 }
rule on_time by council because "On time" on returned where days_late == 0 award 1
score standing = points
tier member when standing >= 1 by council because "Returned a book on time"
tier newcomer otherwise by council because "Not yet"
privilege reserve when tier >= member by council because "Members reserve"
property "reserving is fair across postcodes" by council: four fifths over member.postcode for reserve
property "membership is fair for remote members" by council: four fifths over member.remote for member
"""


def test_it_parses_and_formats_back_to_itself():
    program = parse(RULES, "r.whuf").program
    body = program.items[-2].body
    assert isinstance(body, n.FourFifths)
    assert (body.kind.name, body.attr.name, body.selection.name) == ("member", "postcode", "reserve")
    formatted = format_program(program)
    assert formatted.splitlines()[-2:] == RULES.splitlines()[-2:]
    assert parse(format_program(program), "r.whuf").program == program


@pytest.mark.parametrize("body,code,words", [
    ("four fifths over member.postcod for reserve", "W015", "did you mean"),
    ("four fifths over member.age for reserve", "W020", "text or bool attribute, but member.age is int"),
    ("four fifths over person.postcode for reserve", "W017", "unknown subject kind person"),
    ("four fifths over member.postcode for reserv", "W018", "unknown privilege or tier reserv"),
])
def test_checks(body, code, words):
    text = RULES.replace("four fifths over member.postcode for reserve", body, 1)
    found = [(d.code, d.message, d.hint) for d in load_text(text, "r.whuf").diagnostics if d.is_error]
    assert len(found) == 1 and found[0][0] == code and words in f"{found[0][1]} {found[0][2]}", found


def community(tmp_path, selected: dict[str, tuple[int, int]]):
    """Rules, events and subjects where `selected[postcode] = (members, returned on time)`; remote alternates."""
    subjects, events = [], []
    for postcode, (size, on_time) in selected.items():
        for i in range(size):
            sid = f"{postcode}-{i}"
            subjects.append({"id": sid, "postcode": postcode, "age": 30, "remote": i % 2 == 1})
            events.append({"subject": sid, "type": "returned", "at": "2026-03-01T10:00:00Z",
                           "days_late": 0 if i < on_time else 5})
    (tmp_path / "r.whuf").write_text(RULES, encoding="utf-8")
    (tmp_path / "s.jsonl").write_text("".join(json.dumps(s) + "\n" for s in subjects), encoding="utf-8")
    (tmp_path / "e.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return tmp_path / "r.whuf", "--events", tmp_path / "e.jsonl", "--subjects", tmp_path / "s.jsonl"


def test_without_events_the_property_is_skipped(tmp_path):
    rules, *_ = community(tmp_path, {"RV1": (2, 2)})
    out = whuffie("test", rules, "--seed", "1", "--max-examples", "5")
    assert out.exit_code == 0
    assert out.stdout.count("SKIP property") == 2 and "--events F --subjects F" in out.stdout
    assert out.stdout.rstrip().endswith("0 passed, 0 failed, 2 skipped")


def test_exactly_four_fifths_passes(tmp_path):
    # RV1: 5 of 5 hold reserve; RV2: 4 of 5, a ratio of exactly 4/5
    out = whuffie("test", *community(tmp_path, {"RV1": (5, 5), "RV2": (5, 4)}), "--seed", "1")
    assert out.exit_code == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert 'PASS property "reserving is fair across postcodes" by council  [' in out.stdout
    assert "    RV2: 4 of 5, rate 0.80, impact ratio 4/5 (0.80)" in lines
    assert out.stdout.rstrip().endswith("2 passed, 0 failed")


def test_below_four_fifths_fails_and_names_the_group(tmp_path):
    # RV1: 48 of 80; RV2: 21 of 50 (ratio 7/10); remote members: odd positions
    out = whuffie("test", *community(tmp_path, {"RV1": (80, 48), "RV2": (50, 21)}), "--seed", "1")
    assert out.exit_code == 1
    lines = out.stdout.splitlines()
    assert 'FAIL property "reserving is fair across postcodes" by council  [' in out.stdout
    assert "  privilege reserve by member.postcode, against RV1 (the highest rate):" in lines
    assert "    RV2: 21 of 50, rate 0.42, impact ratio 7/10 (0.70)  below four fifths" in lines
    assert "  tier >= member by member.remote, against false (the highest rate):" in lines
    # remote (odd i): RV1 24 of 40 on time, RV2 10 of 25; not remote: RV1 24 of 40, RV2 11 of 25
    assert "    true: 34 of 65, rate 0.52, impact ratio 34/35 (0.97)" in lines
    assert out.stdout.rstrip().endswith("1 passed, 1 failed")


def test_a_small_group_fails_with_an_uncertain_flag(tmp_path):
    out = whuffie("test", *community(tmp_path, {"RV1": (2, 2), "RV2": (2, 1)}), "--seed", "1")
    assert out.exit_code == 1
    assert "    RV2: 1 of 2, rate 0.50, impact ratio 1/2 (0.50)  below four fifths (uncertain: a small group)" \
        in out.stdout.splitlines()


def test_events_need_subjects(tmp_path):
    rules, _, events, _, _ = community(tmp_path, {"RV1": (2, 2)})
    out = whuffie("test", rules, "--events", events)
    assert out.exit_code == 2 and "give both --events and --subjects" in out.stderr


def test_the_repl_checks_it_on_the_loaded_events_and_counts_it_skipped_without_them(tmp_path):
    import io

    from whuffie.repl import Reply, Session, run_piped

    rules, _, events, _, subjects = community(tmp_path, {"RV1": (80, 48), "RV2": (50, 21)})
    bare = Session()
    reply = Reply()
    bare.load_rules(rules, reply)
    out, err = io.StringIO(), io.StringIO()
    run_piped(bare, [":test 1\n"], out, err)
    assert out.getvalue().count("SKIP property") == 2
    assert "0 passed, 0 failed, 2 skipped (seed 1)" in out.getvalue()

    session = Session()
    session.load_rules(rules, reply)
    session.load_data("subjects", subjects, reply)
    session.load_data("events", events, reply)
    out, err = io.StringIO(), io.StringIO()
    code = run_piped(session, [":test 1\n"], out, err)
    assert code == 1  # RV2's 21 of 50 against RV1's 48 of 80 is 7/10
    assert "    RV2: 21 of 50, rate 0.42, impact ratio 7/10 (0.70)  below four fifths" in out.getvalue().splitlines()
    assert "1 passed, 1 failed (seed 1)" in out.getvalue()

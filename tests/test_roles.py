"""Roles (roles.py): events that name several subjects, `on EVENT as ROLE`, measures `as ROLE`."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from whuffie import engines, evaluator, report
from whuffie.engines import codegen, sqlengine
from whuffie.cli import app
from whuffie.formatter import format_program
from whuffie.frontend import load_text
from whuffie.inputs import parse_events
from whuffie.parser import parse
from whuffie.plan import lower

ROOT = Path(__file__).resolve().parents[1]
SO = ROOT / "examples" / "stackoverflow"
RULES = """ruleset t "t"
timezone "UTC"
author a "A"
subject user { joined: date? }
event voted { voter: user, receiver: user, up: bool }
rule upvote_received by a because "x" on voted as receiver where up and voter != receiver award 10 cap 20 per day
rule downvote_received by a because "x" on voted as receiver where not up award -2
rule downvote_cast by a because "x" on voted as voter where not up award -1
measure votes_cast = count voted as voter
measure voters = count distinct voted.voter as receiver within 30 days
score reputation = 1 + points
  floor 1 per event
"""
runner = CliRunner()


def vote(voter, receiver, at, up, **extra):
    return json.dumps({"voter": voter, "receiver": receiver, "type": "voted", "at": at, "up": up, **extra}) + "\n"


EVENTS = (vote("ann", "bob", "2026-01-01T10:00:00Z", False) + vote("cai", "bob", "2026-01-01T11:00:00Z", True)
          + vote("bob", "ann", "2026-01-01T12:00:00Z", True) + vote("ann", "ann", "2026-01-01T13:00:00Z", True))


def loaded(text=RULES):
    result = load_text(text, "t.whuf")
    assert result.ok, [d.message for d in result.diagnostics if d.is_error]
    return result.ruleset


def scores(results):
    return {r.subject: (r.scores["reputation"], r.measures["votes_cast"], r.measures["voters"])
            for r in results.subjects}


# ann: -1 (her downvote on bob, at 1 cut by the floor to 0), +10 from bob, a self-vote earns nothing -> 11
# bob: -2 (floor: 0), +10 -> 11; cai: cast an upvote -> 1
EXPECTED = {"ann": (11, 2, 2), "bob": (11, 1, 2), "cai": (1, 1, 0)}


@pytest.mark.parametrize("engine", ["reference", "codegen", "duckdb"])
def test_one_line_scores_every_subject_it_names_in_its_role(engine):
    rs = loaded()
    load = parse_events(EVENTS, Path("e.jsonl"), rs)
    assert len(load.events) == 8 and load.expanded == 4 and load.read == 4
    assert [(e.subject, e.type) for e in load.events[:2]] == [("ann", "voted as voter"), ("bob", "voted as receiver")]
    assert scores(engines.evaluate(engine, rs, load.events, None, ledger=False)) == EXPECTED


def test_the_ledger_names_the_role():
    rs = loaded()
    [ann] = evaluator.evaluate(rs, parse_events(EVENTS, Path("e.jsonl"), rs).events, None, only="ann").subjects
    assert [(e.rule, e.event_type, e.value) for e in ann.ledger] == [
        ("downvote_cast", "voted as voter", 0), ("upvote_received", "voted as receiver", 10)]


@pytest.mark.parametrize("form", ["jsonl", "parquet", "duckdb"])
def test_duckdb_reads_role_events_from_every_input(tmp_path, form):
    import duckdb

    rs = loaded()
    jsonl = tmp_path / "votes.jsonl"
    jsonl.write_text(EVENTS)
    spec = str(jsonl)
    if form != "jsonl":
        con = duckdb.connect(str(tmp_path / "db.duckdb"))
        con.execute(f"CREATE TABLE votes AS SELECT * FROM read_json('{jsonl}')")
        con.execute(f"COPY votes TO '{tmp_path / 'votes.parquet'}' (FORMAT parquet)")
        con.close()
        spec = str(tmp_path / "votes.parquet") if form == "parquet" else f"duckdb:{tmp_path / 'db.duckdb'}#votes"
    load = sqlengine.load_columnar(spec, lower(rs), None, False)
    assert load.accepted == 8 and load.expanded == 4 and not load.rejects
    assert scores(engines.evaluate_columnar(load, rs)) == EXPECTED


@pytest.mark.parametrize("line,message", [
    ({"subject": "ann", "voter": "ann", "receiver": "bob", "type": "voted", "at": "2026-01-01", "up": True},
     "subject: an event voted names its subjects by role (voter, receiver), not in a subject column"),
    ({"voter": "ann", "type": "voted", "at": "2026-01-01", "up": True}, "missing required field receiver of voted"),
    ({"subject": "ann", "voter": "a", "receiver": "b", "type": "voted as voter", "at": "2026-01-01", "up": True},
     'unknown event type "voted as voter"'),
    ({"voter": "", "receiver": "bob", "type": "voted", "at": "2026-01-01", "up": True},
     'field voter: expected the id of a user, got ""'),
])
def test_a_bad_role_line_is_rejected_with_its_reason(line, message):
    load = parse_events(json.dumps(line) + "\n", Path("e.jsonl"), loaded())
    [reject] = load.rejects
    assert message in reject.message and not load.events


def test_integer_role_ids_are_text_with_a_mapping():
    from whuffie.columns import parse_options

    line = json.dumps({"voter": 7, "receiver": 8, "kind": "voted", "at": "2026-01-01", "up": False}) + "\n"
    load = parse_events(line, Path("e.jsonl"), loaded(), columns=parse_options("type=kind"))
    assert [(e.subject, e.type) for e in load.events] == [("7", "voted as voter"), ("8", "voted as receiver")]


@pytest.mark.parametrize("change,code,hint", [
    (("on voted as receiver where up and", "on voted where up and"), "W070", "write `voted as voter`"),
    (("on voted as voter", "on voted as votr"), "W070", "did you mean voter?"),
    (("count voted as voter", "count voted"), "W070", None),
    (("where not up award -1", 'where not up and receiver == "bob" award -1'), "W041", None),
])
def test_a_rule_or_measure_says_which_role_it_scores(change, code, hint):
    diags = [d for d in load_text(RULES.replace(*change), "t.whuf").diagnostics if d.is_error]
    assert [d.code for d in diags] == [code]
    if hint:
        assert hint in diags[0].hint


def test_a_role_on_an_event_without_roles_is_w070():
    text = RULES + 'event posted { words: int }\nrule p by a because "x" on posted as author award 1\n'
    [diag] = [d for d in load_text(text, "t.whuf").diagnostics if d.is_error]
    assert diag.code == "W070" and "drop `as author`" in diag.hint


def test_the_formatter_keeps_roles_as_written():
    program = parse(RULES, "t.whuf").program
    text = format_program(program)
    assert "on voted as receiver where up" in text and "count distinct voted.voter as receiver within 30 days" in text
    assert parse(text, "t.whuf").program == program


def test_a_test_block_writes_a_role_event_by_its_roles():
    from whuffie.testblocks import run_tests

    text = RULES + """
test "a downvote costs both" {
  at 2026-01-01T10:00:00Z voted { voter: "v", receiver: "r", up: true }
  at 2026-01-02T10:00:00Z voted { voter: "v", receiver: "r", up: false }
  expect reputation of r == 9
  expect reputation of v == 1
  expect votes_cast of v == 2
}
"""
    rs = load_text(text, "t.whuf")
    [outcome] = run_tests(rs.ruleset, rs.source)
    assert outcome.passed
    wrong = text.replace('at 2026-01-01T10:00:00Z voted {', 'at 2026-01-01T10:00:00Z v voted {')
    assert "W070" in [d.code for d in load_text(wrong, "t.whuf").diagnostics]


DISCOURSE = """ruleset forum "Discourse TL2"
timezone "UTC"
author board "Board"
subject user { joined: date? }
event visited {}
event liked { giver: user, receiver: user, post: text }
measure days_visited = count distinct days of visited
measure likes_given = count liked as giver where giver != receiver
measure likes_received = count liked as receiver where giver != receiver
tier member when days_visited >= 2 and likes_given >= 1 and likes_received >= 1
  by board because "Discourse's trust level 2 needs likes given and received"
tier basic otherwise by board because "x"
"""


def test_discourse_trust_level_2_needs_likes_given_and_received():
    rs = loaded(DISCOURSE)
    text = "".join(json.dumps({"subject": s, "type": "visited", "at": f"2026-01-0{d}T08:00:00Z"}) + "\n"
                   for s in ("ann", "bob", "cai") for d in (1, 2))
    like = lambda g, r, d: json.dumps({"giver": g, "receiver": r, "type": "liked",  # noqa: E731
                                       "at": f"2026-01-0{d}T09:00:00Z", "post": "p"}) + "\n"
    # ann likes bob's post and bob likes ann's: both have given and received one; cai only liked himself
    text += like("ann", "bob", 2) + like("bob", "ann", 2) + like("cai", "cai", 2)
    for engine in ("reference", "codegen", "duckdb"):
        results = engines.evaluate(engine, rs, parse_events(text, Path("e.jsonl"), rs).events, None, ledger=False)
        assert {r.subject: (r.measures["likes_given"], r.measures["likes_received"], r.tier)
                for r in results.subjects} == {"ann": (1, 1, "member"), "bob": (1, 1, "member"),
                                               "cai": (0, 0, "basic")}


def test_the_stackoverflow_example_scores_voter_and_receiver_from_one_row():
    got = runner.invoke(app, ["explain", str(SO / "rules.whuf"), str(SO / "events.jsonl"), "cai", "--format", "json"])
    assert got.exit_code == 0, got.output
    data = json.loads(got.stdout)
    assert data["scores"]["reputation"] == 1049
    text = runner.invoke(app, ["explain", str(SO / "rules.whuf"), str(SO / "events.jsonl"), "cai"]).stdout
    assert "answer_downvote_cast by so_team: -2 points from 2 events" in text
    assert "answer_voted as voter" in text
    ana = runner.invoke(app, ["explain", str(SO / "rules.whuf"), str(SO / "events.jsonl"), "ana"]).stdout
    assert "answer_downvote by so_team: -2 points from 1 event" in ana
    summary = runner.invoke(app, ["score", str(SO / "rules.whuf"), str(SO / "events.jsonl")]).stderr
    assert "read 564, scored 564, rejected 0" in summary  # lines, however many subjects each reached


# ---------------------------------------------------------------- the law

SPLIT = """ruleset t "t"
timezone "UTC"
author a "A"
subject user { joined: date? }
event vote_cast { voter: text, receiver: text, up: bool }
event vote_received { voter: text, receiver: text, up: bool }
rule upvote_received by a because "x" on vote_received where up and voter != receiver award 10 cap 20 per day
rule downvote_received by a because "x" on vote_received where not up award -2
rule downvote_cast by a because "x" on vote_cast where not up award -1
measure votes_cast = count vote_cast
measure voters = count distinct vote_received.voter within 30 days
score reputation = 1 + points
  floor 1 per event
"""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["ann", "bob", "cai"]), st.sampled_from(["ann", "bob", "cai"]),
                          st.integers(0, 60 * 24 * 5), st.booleans()), max_size=30))
def test_a_two_role_event_scores_as_the_same_event_split_in_two_and_engines_agree(votes):
    import datetime as dt

    base = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    at = lambda minutes: (base + dt.timedelta(minutes=minutes)).isoformat()  # noqa: E731
    roles_text = "".join(vote(v, r, at(m), up) for v, r, m, up in votes)
    split_text = "".join(
        json.dumps({"subject": v, "type": "vote_cast", "at": at(m), "voter": v, "receiver": r, "up": up}) + "\n"
        + json.dumps({"subject": r, "type": "vote_received", "at": at(m), "voter": v, "receiver": r, "up": up}) + "\n"
        for v, r, m, up in votes)
    with_roles, split = loaded(), loaded(SPLIT)
    role_events = parse_events(roles_text, Path("e.jsonl"), with_roles).events
    split_events = parse_events(split_text, Path("e.jsonl"), split).events
    expected = scores(evaluator.evaluate(split, split_events, None))
    assert scores(evaluator.evaluate(with_roles, role_events, None)) == expected
    assert scores(codegen.evaluate(with_roles, role_events, None)) == expected
    assert scores(engines.evaluate("duckdb", with_roles, role_events, None, ledger=False)) == expected
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "votes.jsonl"
        path.write_text(roles_text)
        load = sqlengine.load_text_log(str(path), lower(with_roles), None, False)
        assert scores(engines.evaluate_columnar(load, with_roles)) == expected
    assert report.score_json(evaluator.evaluate(with_roles, role_events, None)) == \
        report.score_json(codegen.evaluate(with_roles, role_events, None))

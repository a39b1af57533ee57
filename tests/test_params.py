"""Parameters (params.py): `param` declarations, their uses, --set on the commands and :set in the REPL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from whuffie import engines, evaluator, report
from whuffie.engines import codegen
from whuffie.cli import app
from whuffie.formatter import format_program
from whuffie.frontend import load_text
from whuffie.inputs import parse_events
from whuffie.parser import parse
from clirun import whuffie

RULES = """ruleset t "t"
timezone "UTC"
author council "Council"
event voted { up: bool }
param upvote = 10 by council because "the site's default"
param daily_cap = 20 by council because "two votes a day count"
param recent_window = 7 days by council because "a week"
param member_at = 15 by council because "tl1_requires"
rule upvote_received by council because "x" on voted where up award upvote cap daily_cap per day
measure recent_votes = count voted within recent_window
score reputation = points
tier member when reputation >= member_at and recent_votes >= 1 by council because "x"
tier new otherwise by council because "x"
"""
# three upvotes on 1 January (two count under the cap of 20), one on 9 January
EVENTS = "".join(json.dumps({"subject": "ana", "type": "voted", "at": at, "up": True}) + "\n" for at in (
    "2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z", "2026-01-01T12:00:00Z", "2026-01-09T12:00:00Z"))
runner = CliRunner()


def score(overrides=None, engine="reference"):
    loaded = load_text(RULES, "t.whuf", overrides=overrides)
    assert loaded.ok and not loaded.set_errors, [d.message for d in loaded.diagnostics] + loaded.set_errors
    events = parse_events(EVENTS, Path("e.jsonl"), loaded.ruleset).events
    results = engines.evaluate(engine, loaded.ruleset, events, None, None, ledger=False)
    [ana] = results.subjects
    return ana.scores["reputation"], ana.measures["recent_votes"], ana.tier


def test_a_param_is_used_where_its_literal_would_be():
    # 2 upvotes on the 1st (cap 20 per day), 1 on the 9th; within 7 days of the 9th: one vote
    assert score() == (30, 1, "member")


@pytest.mark.parametrize("engine", ["reference", "codegen", "duckdb"])
def test_set_overrides_a_cap_a_window_and_a_threshold_on_every_engine(engine):
    assert score({"daily_cap": "30"}, engine) == (40, 1, "member")
    assert score({"recent_window": "10 days"}, engine) == (30, 4, "member")
    assert score({"member_at": "31"}, engine) == (30, 1, "new")
    assert score({"upvote": "1", "daily_cap": "1"}, engine) == (2, 1, "new")


@pytest.mark.parametrize("overrides,message", [
    ({"daily_cap": "1.5"}, "--set daily_cap=1.5: daily_cap is an int (a whole number such as 20), not '1.5'"),
    ({"recent_window": "7"}, "--set recent_window=7: recent_window is a duration such as 7 days, not '7'"),
    ({"dailycap": "3"}, "--set dailycap: no param dailycap in the rules (did you mean daily_cap?)"),
    ({"daily_cap": "-5"}, "--set daily_cap=-5: `cap` takes 0 or more; param daily_cap is -5"),
])
def test_a_set_value_is_type_checked(overrides, message):
    assert load_text(RULES, "t.whuf", overrides=overrides).set_errors == [message]


def test_a_value_that_does_not_fit_its_use_is_the_checkers_error_at_the_use():
    loaded = load_text(RULES, "t.whuf", overrides={"recent_window": "0 days"})
    assert not loaded.ok and any(d.code == "W055" for d in loaded.diagnostics)


@pytest.mark.parametrize("text,code", [
    ('param p = 1 because "x"\n', "W030"),
    ('param p = 1 by nobody because "x"\n', "W013"),
    ("param p = 1 by council\n", "W031"),
    ('param up = 1 by council because "x"\n', "W050"),  # a field's name
    ('param reputation = 1 by council because "x"\n', "W050"),
    ('param q = 1 by council because "x"\nparam q = 2 by council because "y"\n', "W050"),
    ('param neg = -1 by council because "x"\nrule r by council because "x" on voted award 1 cap neg total\n',
     "W025"),
])
def test_a_param_needs_provenance_and_a_name_of_its_own(text, code):
    loaded = load_text(RULES + text, "t.whuf")
    assert code in [d.code for d in loaded.diagnostics if d.is_error]


def test_a_param_of_the_wrong_kind_or_an_unknown_one_where_a_literal_belongs():
    wrong = RULES.replace("within recent_window", "within member_at")
    assert [d.code for d in load_text(wrong, "t.whuf").diagnostics if d.is_error] == ["W020"]
    unknown = RULES.replace("cap daily_cap", "cap daily_capp")
    [diag] = [d for d in load_text(unknown, "t.whuf").diagnostics if d.is_error]
    assert diag.code == "W010" and diag.hint == "did you mean daily_cap?"


def test_an_author_who_decided_only_params_owns_something():
    text = RULES.replace('author council "Council"', 'author council "Council"\nauthor ops "Ops"') + \
        'param unused = true by ops because "x"\n'
    assert "W033" not in [d.code for d in load_text(text, "t.whuf").diagnostics]


def test_the_formatter_keeps_params_as_written():
    program = parse(RULES, "t.whuf").program
    text = format_program(program)
    assert "param recent_window = 7 days by council" in text and "cap daily_cap per day" in text
    assert parse(text, "t.whuf").program == program


@settings(max_examples=25, deadline=None)
@given(cap=st.integers(1, 60), window=st.integers(1, 20), threshold=st.integers(-5, 60))
def test_setting_a_param_scores_as_writing_its_literal(cap, window, threshold):
    overrides = {"daily_cap": str(cap), "recent_window": f"{window} days", "member_at": str(threshold)}
    written = (RULES.replace("cap daily_cap", f"cap {cap}").replace("within recent_window", f"within {window} days")
               .replace(">= member_at", f">= {threshold}"))
    a, b = load_text(RULES, "t.whuf", overrides=overrides), load_text(written, "t.whuf")
    events = parse_events(EVENTS, Path("e.jsonl"), a.ruleset).events
    for run in (evaluator.evaluate, codegen.evaluate):
        assert report.score_json(run(a.ruleset, events, None)) == report.score_json(run(b.ruleset, events, None))


# ---------------------------------------------------------------- the commands


@pytest.fixture
def files(tmp_path):
    rules, events = tmp_path / "rules.whuf", tmp_path / "events.jsonl"
    rules.write_text(RULES)
    events.write_text(EVENTS)
    return rules, events


def test_score_with_set_records_the_params_it_used(files):
    rules, events = files
    got = whuffie("score", rules, events, "--set", "daily_cap=30", "--format", "json")
    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout)[0]["scores"]["reputation"] == 40
    assert "params: upvote=10, daily_cap=30 (--set), recent_window=7 days, member_at=15" in got.stderr
    bad = whuffie("score", rules, events, "--set", "daily_cap")
    assert bad.exit_code == 2 and "--set takes NAME=VALUE" in bad.stderr


def test_diff_of_one_file_with_set_new_is_a_what_if(files):
    rules, events = files
    got = whuffie("diff", rules, rules, events, "--set-new", "member_at=31", "--format", "json")
    assert got.exit_code == 0, got.output
    assert "member_at=31 (--set-new)" in got.stderr
    data = json.loads(got.stdout)
    assert data["changes"] == [] and data["params"] == [{"name": "member_at", "old": "15", "new": "31"}]
    assert [s["subject"] for s in data["subjects"]] == ["ana"]
    assert "member" in json.dumps(data["summary"]["tier_changes"])
    text = whuffie("diff", rules, rules, events, "--set-new", "member_at=31")
    assert "param member_at: 15 -> 31 (--set-old/--set-new)" in text.stdout


def test_explain_and_test_take_set(files):
    rules, events = files
    assert whuffie("explain", rules, events, "ana", "--set", "upvote=2").exit_code == 0
    got = whuffie("test", rules, "--set", "member_at=x")
    assert got.exit_code == 2 and "member_at is an int" in got.stderr


def test_the_repl_set_command_changes_a_value_for_the_session(files):
    rules, events = files
    got = runner.invoke(app, ["repl", str(rules), "--events", str(events)],
                        input=":set daily_cap=30\nreputation of ana\n:set daily_cap\nreputation of ana\n:set\n")
    assert "daily_cap = 30 for this session" in got.stdout
    assert "40" in got.stdout and "daily_cap is back to its declared value" in got.stdout
    assert "daily_cap = 20  (declared, by council)" in got.stdout


def test_diff_names_a_changed_param_value_and_a_site_wide_clause():
    from whuffie.diff import declaration_changes

    old = parse(RULES, "old.whuf").program
    new = parse(RULES.replace("param daily_cap = 20", "param daily_cap = 25")
                .replace("count voted within recent_window", "count voted across everyone within recent_window"),
                "new.whuf").program
    changes = {(c.kind, c.name): [(k.clause, k.old, k.new) for k in c.clauses] for c in declaration_changes(old, new)}
    assert changes == {("param", "daily_cap"): [("value", "20", "25")],
                       ("measure", "recent_votes"): [("across", None, "across everyone")]}


def test_explain_records_the_params_it_used(files):
    rules, events = files
    text = whuffie("explain", rules, events, "ana", "--set", "daily_cap=30").stdout
    assert "Params\n  upvote = 10\n  daily_cap = 30   (--set)\n  recent_window = 7 days\n  member_at = 15\n" in text
    data = json.loads(whuffie("explain", rules, events, "ana", "--format", "json", "--set", "member_at=31").stdout)
    assert data["params"][3] == {"name": "member_at", "value": "31", "set": True} and data["tier"] == "new"


@pytest.mark.parametrize("engine", ["reference", "codegen", "duckdb"])
def test_a_shared_cap_amount_may_be_a_param(engine):
    text = RULES.replace("cap daily_cap per day", "") + \
        'shared cap votes daily_cap per day over upvote_received by council because "one cap for votes"\n'
    for overrides, expected in ((None, 30), ({"daily_cap": "25"}, 35)):
        loaded = load_text(text, "t.whuf", overrides=overrides)
        assert loaded.ok, [d.message for d in loaded.diagnostics]
        events = parse_events(EVENTS, Path("e.jsonl"), loaded.ruleset).events
        [ana] = engines.evaluate(engine, loaded.ruleset, events, None, None, ledger=False).subjects
        assert ana.scores["reputation"] == expected
    assert "shared cap votes daily_cap per day" in format_program(parse(text, "t.whuf").program)


@settings(max_examples=60, deadline=None)
@given(number=st.one_of(st.integers(-10**6, 10**6), st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: round(x, 3))),
       days=st.integers(1, 3650), flag=st.booleans(),
       text=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12))
def test_the_formatter_round_trips_every_kind_of_param(number, days, flag, text):
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    source = RULES + (f"param n = {number!r} by council because \"x\"\n"
                      f"param d = {days} days by council because \"x\"\n"
                      f"param b = {'true' if flag else 'false'} by council because \"x\"\n"
                      f"param s = \"{escaped}\" by council because \"x\"\n")
    program = parse(source, "t.whuf").program
    assert program is not None
    assert parse(format_program(program), "t.whuf").program == program
    values = {p.name: p.value for p in load_text(source, "t.whuf").params}
    assert (values["n"].value, values["d"].amount, values["b"].value, values["s"].value) == \
        (number, days, flag, text)


def test_the_repl_completes_param_names_after_set(files):
    from prompt_toolkit.document import Document

    from whuffie.repl import Reply, Session, make_completer

    rules, _ = files
    session = Session()
    session.load_rules(rules, Reply())
    got = [c.text for c in make_completer(session).get_completions(Document(":set dai"), None)]
    assert got == ["daily_cap"]

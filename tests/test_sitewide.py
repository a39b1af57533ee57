"""Site-wide measures (sitewide.py): `across everyone`, on every engine, at window edges, in tests."""

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
from whuffie.testblocks import run_tests

RULES = """ruleset t "t"
timezone "UTC"
author a "A"
event topic_created {}
event read { topic: text }
param share = 0.25 by a because "Discourse: 25 % of the site's topics"
measure site_topics = count topic_created across everyone within 10 days by a because "the site's recent topics"
measure site_readers = count distinct days of read across everyone
measure topics_read = count distinct read.topic within 10 days
score reading = topics_read
tier regular when topics_read >= min(round(share * site_topics), 500) and site_topics > 0 by a because "TL3"
tier basic otherwise by a because "x"
"""
runner = CliRunner()


def line(subject, etype, at, **fields):
    return json.dumps({"subject": subject, "type": etype, "at": at, **fields}) + "\n"


# eight topics by x and y; ann reads two, bob one; as of 2026-01-11T00:00Z the window starts at 2026-01-01T00:00Z
EVENTS = "".join([line("x" if i % 2 else "y", "topic_created", f"2026-01-0{i + 1}T00:00:00Z") for i in range(8)]
                 + [line("ann", "read", "2026-01-09T00:00:00Z", topic="t1"),
                    line("ann", "read", "2026-01-09T01:00:00Z", topic="t2"),
                    line("bob", "read", "2026-01-10T00:00:00Z", topic="t1")])


def run(engine, as_of="2026-01-11T00:00:00+00:00", text=RULES, events=EVENTS):
    import datetime as dt

    loaded = load_text(text, "t.whuf")
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    evs = parse_events(events, Path("e.jsonl"), loaded.ruleset).events
    results = engines.evaluate(engine, loaded.ruleset, evs, None, dt.datetime.fromisoformat(as_of), ledger=False)
    return {r.subject: (r.measures["site_topics"], r.measures["site_readers"], r.tier) for r in results.subjects}


@pytest.mark.parametrize("engine", ["reference", "codegen", "duckdb"])
def test_a_site_wide_measure_is_one_value_for_everyone_and_gates_a_tier(engine):
    # the topic of 2026-01-01T00:00Z is exactly 10 days before: outside the window (it starts after it)
    assert run(engine) == {"ann": (7, 2, "regular"), "bob": (7, 2, "basic"),
                           "x": (7, 2, "basic"), "y": (7, 2, "basic")}


@pytest.mark.parametrize("engine", ["reference", "codegen", "duckdb"])
def test_at_the_window_edge_one_second_earlier_counts_the_first_topic(engine):
    # as of 10:59:59 before, the first topic is inside: 8 topics, round(0.25 * 8) = 2, ann still qualifies
    got = run(engine, "2026-01-10T23:59:59+00:00")
    assert {s: v[0] for s, v in got.items()} == {"ann": 8, "bob": 8, "x": 8, "y": 8}
    # as of 2026-01-18T12:00Z only the topics after 2026-01-08T12:00Z count: none; so nobody is regular
    late = run(engine, "2026-01-18T12:00:00+00:00")
    assert {s: (v[0], v[2]) for s, v in late.items()} == {"ann": (0, "basic"), "bob": (0, "basic"),
                                                           "x": (0, "basic"), "y": (0, "basic")}


def test_one_subjects_explain_still_counts_everyones_events():
    loaded = load_text(RULES, "t.whuf")
    evs = parse_events(EVENTS, Path("e.jsonl"), loaded.ruleset).events
    [ann] = evaluator.evaluate(loaded.ruleset, evs, None, None, only="ann").subjects
    # as of the latest event (bob's read, 2026-01-10T00:00Z) all eight topics are within 10 days
    assert ann.measures["site_topics"] == 8 and ann.tier == "regular"


def test_the_cli_shows_the_value_in_score_and_explain(tmp_path):
    rules, events = tmp_path / "rules.whuf", tmp_path / "events.jsonl"
    rules.write_text(RULES)
    events.write_text(EVENTS)
    got = runner.invoke(app, ["explain", str(rules), str(events), "bob", "--as-of", "2026-01-11"])
    assert got.exit_code == 0, got.output
    assert "site_topics = 7" in got.stdout and "across everyone" in got.stdout
    table = runner.invoke(app, ["score", str(rules), str(events), "--format", "csv", "--engine", "duckdb",
                                "--as-of", "2026-01-11"])
    assert table.exit_code == 0, table.output
    assert "ann,2,regular,,7,2,2" in table.stdout.replace("2.00", "2")


def test_in_a_test_block_the_tests_subjects_are_everyone():
    text = RULES + """
test "a quarter of four topics" {
  at 2026-01-01T00:00:00Z p topic_created
  at 2026-01-02T00:00:00Z p topic_created
  at 2026-01-03T00:00:00Z q topic_created
  at 2026-01-04T00:00:00Z q topic_created
  at 2026-01-05T00:00:00Z r read { topic: "t" }
  expect site_topics of r == 4
  expect tier of r == regular
}
"""
    loaded = load_text(text, "t.whuf")
    [outcome] = run_tests(loaded.ruleset, loaded.source)
    assert outcome.passed


@pytest.mark.parametrize("extra,code", [
    ("measure longest = max read.topic across everyone\n", "W020"),  # max of text: the usual check
    ('event posted { words: int }\nmeasure most = max posted.words across everyone by a because "x"\n', "W035"),
    ("subject member { level: int }\nmeasure mine = count read across everyone where member.level > 1\n", "W025"),
])
def test_what_a_site_wide_measure_may_not_do(extra, code):
    loaded = load_text(RULES + extra, "t.whuf")
    assert code in [d.code for d in loaded.diagnostics if d.is_error]


def test_the_formatter_keeps_across_everyone():
    program = parse(RULES, "t.whuf").program
    text = format_program(program)
    assert "across everyone within 10 days" in text
    assert parse(text, "t.whuf").program == program


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["x", "y", "ann", "bob"]), st.booleans(), st.integers(0, 20),
                          st.sampled_from(["t1", "t2", "t3"])), max_size=25))
def test_engines_agree_on_site_wide_measures(rows):
    events = "".join(line(s, "topic_created", f"2026-01-{day + 1:02d}T00:00:00Z") if topic else
                     line(s, "read", f"2026-01-{day + 1:02d}T00:00:00Z", topic=t) for s, topic, day, t in rows)
    loaded = load_text(RULES, "t.whuf")
    evs = parse_events(events, Path("e.jsonl"), loaded.ruleset).events
    reference = report.score_json(evaluator.evaluate(loaded.ruleset, evs, None), 6)
    assert report.score_json(codegen.evaluate(loaded.ruleset, evs, None), 6) == reference
    on_sql = engines.evaluate("duckdb", loaded.ruleset, evs, None, ledger=False)
    assert report.score_json(on_sql, 6) == reference


def test_a_site_wide_count_of_a_role_event_counts_each_event_once():
    text = """ruleset t "t"
timezone "UTC"
author a "A"
subject user { joined: date? }
event liked { giver: user, receiver: user }
measure site_likes = count liked across everyone by a because "every like on the site"
measure received = count liked as receiver
"""
    loaded = load_text(text, "t.whuf")
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    events = "".join(json.dumps({"giver": g, "receiver": r, "type": "liked", "at": "2026-01-01T00:00:00Z"}) + "\n"
                     for g, r in (("ann", "bob"), ("bob", "ann"), ("cai", "ann")))
    evs = parse_events(events, Path("e.jsonl"), loaded.ruleset).events
    for engine in ("reference", "codegen", "duckdb"):
        results = engines.evaluate(engine, loaded.ruleset, evs, None, ledger=False)
        assert {r.subject: (r.measures["site_likes"], r.measures["received"]) for r in results.subjects} == \
            {"ann": (3, 2), "bob": (3, 1), "cai": (3, 0)}


@pytest.mark.parametrize("as_of", [None, "2026-01-11T00:00:00+00:00", "2026-01-10T23:59:59+00:00"])
def test_on_parquet_the_site_wide_value_is_one_aggregate_in_duckdb(tmp_path, monkeypatch, as_of):
    import datetime as dt

    import duckdb

    from whuffie import sitewide
    from whuffie.engines import sqlengine
    from whuffie.plan import lower

    source = tmp_path / "events.jsonl"
    source.write_text(EVENTS)
    parquet = tmp_path / "events.parquet"
    duckdb.connect().execute(f"COPY (SELECT * FROM read_json('{source}')) TO '{parquet}' (FORMAT parquet)")
    rs = load_text(RULES, "t.whuf").ruleset
    instant = dt.datetime.fromisoformat(as_of) if as_of else None
    expected = report.score_json(evaluator.evaluate(rs, parse_events(EVENTS, Path("e.jsonl"), rs).events, None,
                                                    instant), 6)

    def not_in_python(*args, **kwargs):
        raise AssertionError("the site-wide value was computed in Python")

    monkeypatch.setattr(sitewide, "site_values", not_in_python)
    notes = []
    load = sqlengine.load_columnar(str(parquet), lower(rs), None, False)
    got = engines.evaluate_columnar(load, rs, None, instant, notes=notes.append)
    assert notes == [] and report.score_json(got, 6) == expected


@pytest.mark.parametrize("engine", ["reference", "codegen", "duckdb"])
def test_a_site_wide_measure_next_to_a_tier_with_memory(engine):
    # the site-wide pass runs no tiers: a `keep while` tier (a timeline) must not be decided there,
    # where the other measures it reads do not exist
    text = RULES.replace('tier regular when topics_read >= min(round(share * site_topics), 500) and site_topics > 0',
                         'tier regular when topics_read >= min(round(share * site_topics), 500) and site_topics > 0\n'
                         '  keep while topics_read >= 1')
    got = run(engine, text=text)
    assert {s: (v[0], v[2]) for s, v in got.items()} == {"ann": (7, "regular"), "bob": (7, "basic"),
                                                         "x": (7, "basic"), "y": (7, "basic")}

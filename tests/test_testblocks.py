"""Test blocks: histories built from the block, expectations over results, and the exact report."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from whuffie.cli import app
from whuffie.evaluator import evaluate
from whuffie.frontend import load_text
from whuffie.report import explain_text
from whuffie.testblocks import build_history, ResultCompiler, render_outcome, run_test, run_tests

runner = CliRunner()

CLUB = """\
ruleset club "A small club"

author ada "Ada"

subject member { joined: date }

event attended { hours: number in 0..12 }
event missed {}

rule attendance by ada
  because "Turning up is the point"
  on attended
  award hours
  cap 10 per day

rule no_show by ada
  because "A no-show leaves a gap"
  on missed
  award -3

measure visits = count attended

score standing = 50 + points

tier regular when standing >= 55 by ada because "Regulars run the club"
tier guest otherwise by ada because "Everyone starts here"

privilege keys when tier >= regular by ada because "Regulars open up"

test "a visit and a no-show" {
  member m { joined: 2026-01-01 }
  at 2026-01-10T10:00:00Z m attended { hours: 8 }
  at 2026-01-10T12:00:00Z m attended { hours: 4 }
  at 2026-01-11 m missed
  expect standing of m == 57
  expect points(attendance) of m == 10
  expect tier of m == regular
  expect keys of m and visits of m == 2
}

test "tenths add up within 1e-9" {
  member m { joined: 2026-01-01 }
  at 2026-01-10T10:00:00Z m attended { hours: 0.1 }
  at 2026-01-10T11:00:00Z m attended { hours: 0.2 }
  expect points of m == 0.3
}
"""


def write(tmp_path: Path, text: str, name: str = "club.whuf") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(tmp_path: Path, monkeypatch, text: str):
    write(tmp_path, text)
    monkeypatch.chdir(tmp_path)
    return runner.invoke(app, ["test", "club.whuf", "--seed", "0"])


def test_passing_tests_report_exactly(tmp_path, monkeypatch):
    result = run_cli(tmp_path, monkeypatch, CLUB)
    assert result.exit_code == 0
    assert result.stdout == (
        "club.whuf (seed 0, 100 examples per property)\n"
        'PASS test "a visit and a no-show"  [club.whuf:30:1]\n'
        'PASS test "tenths add up within 1e-9"  [club.whuf:41:1]\n'
        "\n"
        "2 passed, 0 failed\n"
    )


def test_failing_expectations_report_exactly_with_the_ledger(tmp_path, monkeypatch):
    broken = (CLUB.replace("expect standing of m == 57", "expect standing of m == 58")
              .replace("expect tier of m == regular", "expect tier of m == guest")
              .replace("expect points of m == 0.3", "expect points of m == 0.3000001"))
    result = run_cli(tmp_path, monkeypatch, broken)
    assert result.exit_code == 1
    loaded = load_text(broken, "club.whuf")
    first, second = loaded.ruleset.tests

    def ledger(decl):
        subjects, events, as_of = build_history(loaded.ruleset, decl, ResultCompiler(loaded.ruleset, __import__("zoneinfo").ZoneInfo("UTC")))
        results = evaluate(loaded.ruleset, events, subjects, as_of)
        text = explain_text(results.subjects[0], loaded.ruleset, broken, results.as_of)
        return textwrap.indent(text, "    ")

    assert result.stdout == (
        "club.whuf (seed 0, 100 examples per property)\n"
        'FAIL test "a visit and a no-show"  [club.whuf:30:1]\n'
        "  club.whuf:35:3: expect standing of m == 58\n"
        "    expected: standing of m == 58\n"
        "    actual:   57 == 58\n"
        "  club.whuf:37:3: expect tier of m == guest\n"
        "    expected: tier of m == guest\n"
        "    actual:   regular == guest\n"
        "  ledger of m:\n" + ledger(first) +
        'FAIL test "tenths add up within 1e-9"  [club.whuf:41:1]\n'
        "  club.whuf:45:3: expect points of m == 0.3000001\n"
        "    expected: points of m == 0.3000001\n"
        "    actual:   0.30000000000000004 == 0.3000001\n"
        "  ledger of m:\n" + ledger(second) +
        "\n"
        "0 passed, 2 failed\n"
    )
    # The ledger names the rule, its author and the test line of each event.
    assert "attendance by ada" in result.stdout and "club.whuf:33" in result.stdout


def outcomes(text: str):
    loaded = load_text(text, "t.whuf")
    assert loaded.ok, loaded.diagnostics
    return loaded, run_tests(loaded.ruleset, loaded.source)


HEADER = """\
ruleset t "t"
timezone "Europe/London"
author ada "Ada"
subject member { joined: date, age: int protected }
event helped { hours: number in 0..12 }
rule helping by ada because "Help" on helped award 2 * hours decay half_life 10 days
rule welcome by ada because "New members" on helped where now - member.joined <= 30 days award 1 once
score standing = points
"""


def test_as_of_decides_now_and_decay():
    _, (outcome,) = outcomes(HEADER + """
test "decay halves after one half-life" {
  member m { joined: 2026-01-01, age: 40 }
  at 2026-01-10T12:00:00Z m helped { hours: 5 }
  as of 2026-01-20T12:00:00Z
  expect points(helping) of m == 5
  expect points(welcome) of m == 1
}
""")
    assert outcome.passed


def test_default_as_of_is_the_latest_event_and_dates_are_local_midnight():
    loaded, (outcome,) = outcomes(HEADER + """
test "summer time" {
  member m { joined: 2026-06-01, age: 40 }
  at 2026-07-01 m helped { hours: 1 }
  expect points of m == 3
}
""")
    assert outcome.passed
    # 2026-07-01 in Europe/London is 23:00 UTC the day before.
    assert outcome.results.as_of.isoformat() == "2026-06-30T23:00:00+00:00"


def test_an_expect_calls_defs_with_constants_and_with_what_a_subject_has():
    loaded, got = outcomes(HEADER + """
def twice(x: number): number = 2 * x
def both(a: number, b: number): number = twice(a) + b
test "defs in expectations" {
  member m { joined: 2026-01-01, age: 40 }
  at 2026-01-10T12:00:00Z m helped { hours: 2 }
  expect twice(3) == 6 and both(1, 1) == 3
  expect twice(standing of m) == 10
}
test "a def's value that does not hold fails" {
  expect twice(3) == 7
}
""")
    assert [o.passed for o in got] == [True, False]
    assert "internal error" not in render_outcome(got[1], loaded.ruleset, loaded.source)


def test_a_subject_with_events_but_no_attributes_is_an_error_not_a_crash():
    loaded, (outcome,) = outcomes(HEADER + """
test "forgot the member" {
  at 2026-07-01 m helped { hours: 1 }
  expect points of m == 3
}
""")
    assert not outcome.passed
    assert outcome.error.startswith("subject m has events but no attributes")


def test_a_run_time_fault_fails_the_test_with_its_code():
    text = """\
ruleset t "t"
author ada "Ada"
subject member { joined: date }
event rated { score: int in 0..10, votes: int in 0..10 }
rule rating by ada because "Average" on rated award score / votes
score standing = points
test "no votes" {
  member m { joined: 2026-01-01 }
  at 2026-02-01 m rated { score: 3, votes: 0 }
  expect standing of m == 0
}
"""
    _, (outcome,) = outcomes(text)
    assert "W090" in outcome.error and "division by zero" in outcome.error


@pytest.mark.parametrize("expectation, holds", [
    ("standing of m == 6.000000000", True),
    ("standing of m == 6.0000000001", True),
    ("standing of m == 6.00001", False),
    ("standing of m < 6.0000000001", False),
    ("standing of m <= 5.9999999999", True),
    ("standing of m != 6.0000000001", False),
    ("0 <= standing of m <= 6", True),
])
def test_numbers_compare_within_1e_9(expectation, holds):
    _, (outcome,) = outcomes(HEADER + f"""
test "t" {{
  member m {{ joined: 2020-01-01, age: 1 }}
  at 2026-07-01 m helped {{ hours: 3 }}
  expect {expectation}
}}
""")
    assert outcome.passed is holds


def test_a_broken_or_missing_rule_file_is_one_failure_not_a_traceback(tmp_path, monkeypatch):
    write(tmp_path, CLUB.replace("award hours", "award hourz"))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["test", "club.whuf", "missing.whuf", "--seed", "0"])
    assert result.exit_code == 1 and isinstance(result.exception, (SystemExit, type(None)))
    assert "FAIL club.whuf: 1 error; no test run" in result.stdout
    assert "FAIL missing.whuf: 1 error; no test run" in result.stdout
    assert result.stdout.splitlines()[-1] == "0 passed, 2 failed"
    assert "Traceback" not in result.output

"""The pytest plugin: *.whuf files collected on request, one item per test block and property."""

from __future__ import annotations

import pytest

# The plugin imports whuffie lazily; pytester's in-process runs drop modules
# first imported inside them, so import them here, once, for every run to share.
import whuffie.frontend  # noqa: F401
import whuffie.properties  # noqa: F401
import whuffie.testblocks  # noqa: F401

pytest_plugins = ["pytester"]

RULES = """\
ruleset club "A small club"

author ada "Ada"

subject member { joined: date }

event attended { hours: number in 0..12 }

rule attendance by ada
  because "Turning up is the point"
  on attended
  award hours

score standing = 50 + points

test "a visit counts its hours" {
  member m { joined: 2026-01-01 }
  at 2026-01-10 m attended { hours: 4 }
  expect standing of m == 54
}

test "a wrong expectation" {
  member m { joined: 2026-01-01 }
  at 2026-01-10 m attended { hours: 4 }
  expect standing of m == 55
}

property "standing never falls below 50" by ada: always standing >= 50
property "no more than 12 a day" by ada: gain per day <= 12
"""


@pytest.fixture
def club(pytester: pytest.Pytester):
    pytester.makefile(".whuf", club=RULES)
    return pytester


def test_a_named_rule_file_is_collected_and_run(club):
    result = club.runpytest("club.whuf", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines([
        '*_ test "a wrong expectation" _*',
        "*expect standing of m == 55",
        "*actual:   54 == 55",
        "*ledger of m:*",
        '*_ property "no more than 12 a day" _*',
        "*counterexample: s1 gains * standing on 2026-03-02*more than 12 per day",
    ])
    assert "Traceback" not in result.stdout.str()


def test_item_names_are_the_blocks(club):
    result = club.runpytest("club.whuf", "--collect-only", "-q")
    result.stdout.fnmatch_lines([
        'club.whuf::test "a visit counts its hours"',
        'club.whuf::test "a wrong expectation"',
        'club.whuf::property "standing never falls below 50"',
        'club.whuf::property "no more than 12 a day"',
    ])


def test_a_named_directory_collects_its_rule_files(club):
    club.mkdir("rules")
    (club.path / "rules" / "club.whuf").write_text(RULES.replace("== 55", "== 54"), encoding="utf-8")
    result = club.runpytest("rules", "--whuffie-max-examples", "20")
    result.assert_outcomes(passed=3, failed=1)


def test_rule_files_are_not_collected_unless_asked(club):
    club.makepyfile(test_plain="def test_ok():\n    assert True\n")
    result = club.runpytest()
    result.assert_outcomes(passed=1)
    club.makeini("[pytest]\ntestpaths = .\n")
    result = club.runpytest()
    result.assert_outcomes(passed=1)


def test_opt_in_by_option_or_ini(club):
    result = club.runpytest("--whuffie", "--whuffie-max-examples", "20")
    result.assert_outcomes(passed=2, failed=2)
    club.makeini("[pytest]\nwhuffie = true\n")
    result = club.runpytest("--whuffie-max-examples", "20")
    result.assert_outcomes(passed=2, failed=2)


def test_a_rule_file_with_errors_is_one_failing_item(pytester: pytest.Pytester):
    pytester.makefile(".whuf", broken=RULES.replace("award hours", "award hourz"))
    result = pytester.runpytest("broken.whuf")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*broken.whuf:*W010*hourz*"])


def test_the_seed_option_makes_reports_repeatable(club):
    first = club.runpytest("club.whuf", "--whuffie-seed", "3", "--whuffie-max-examples", "30")
    second = club.runpytest("club.whuf", "--whuffie-seed", "3", "--whuffie-max-examples", "30")

    def failures(result):
        lines = result.stdout.lines
        return [line for line in lines if "counterexample" in line or line.startswith("    {")]

    assert failures(first) == failures(second) and failures(first)

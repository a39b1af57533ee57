"""Named conditions: checked (types, scope, cycles), formatted, inlined into every engine."""

from __future__ import annotations

from timehelpers import diagnostics_of, ev, ruleset_of, run_all, subject

from whuffie import nodes as n
from whuffie.formatter import format_program
from whuffie.parser import parse

BODY = """
rule r by ada because "x" on visited award 1
measure visits = count visited
measure long_visits = count visited where minutes >= 30
condition regular = visits >= 3 and often
condition often = long_visits >= 2
tier leader when regular by ada
tier newcomer otherwise by ada
privilege post when regular or tier >= leader by ada
"""


def test_a_condition_decides_tiers_and_privileges_on_every_engine():
    events = [ev("visited", "2026-01-02T10:00:00Z", "a", minutes=40),
              ev("visited", "2026-01-03T10:00:00Z", "a", minutes=40),
              ev("visited", "2026-01-04T10:00:00Z", "a", minutes=1),
              # b: three visits but only one long one, so `often` (declared below `regular`) fails
              ev("visited", "2026-01-02T10:00:00Z", "b", minutes=40),
              ev("visited", "2026-01-03T10:00:00Z", "b", minutes=5),
              ev("visited", "2026-01-04T10:00:00Z", "b", minutes=5)]
    for results in run_all(BODY, events).values():
        assert (subject(results, "a").tier, subject(results, "a").privileges) == ("leader", ["post"])
        assert (subject(results, "b").tier, subject(results, "b").privileges) == ("newcomer", [])


def test_conditions_are_inlined_and_the_program_keeps_the_text():
    rs = ruleset_of(BODY)
    leader = rs.tiers["leader"].condition
    assert isinstance(leader, n.Binary) and leader.op == "and"  # `regular` became its body
    assert not any(isinstance(x, n.Name) and x.id in rs.conditions for x in n.walk(leader))
    assert any(isinstance(i, n.ConditionDecl) for i in rs.program.items)


def test_a_condition_must_be_a_bool():
    codes = diagnostics_of("measure visits = count visited\ncondition c = visits + 1\n")
    assert ("W021", "condition c must be a bool, but its expression is int") in codes


def test_a_condition_that_reaches_itself_is_w051():
    codes = diagnostics_of("measure v = count visited\ncondition a = b and v > 1\ncondition b = a\n")
    messages = [m for c, m in codes if c == "W051"]
    assert messages == ["condition a refers to itself through a -> b -> a",
                        "condition b refers to itself through b -> a -> b"]


def test_a_condition_cannot_be_read_by_a_rule_or_a_score():
    codes = diagnostics_of("measure v = count visited\ncondition c = v > 1\n"
                           "rule r by ada because \"x\" on visited where c award 1\nscore s = if c then 1 else 0\n")
    assert [c for c, _ in codes if c == "W025"] == ["W025", "W025"]


def test_an_unknown_name_in_a_condition_suggests_the_measure():
    codes = diagnostics_of("measure visits = count visited\ncondition c = vists > 1\n")
    assert any(c == "W010" for c, _ in codes)


def test_a_condition_in_a_test_block_and_of_a_subject():
    rs = ruleset_of(BODY + """
test "regular" {
  member m { joined: 2026-01-01 }
  at 2026-01-02 m visited { minutes: 40 }
  at 2026-01-03 m visited { minutes: 40 }
  at 2026-01-04 m visited { minutes: 1 }
  expect regular of m
  expect not often of m == false
}
""")
    from whuffie.testblocks import run_tests

    outcomes = run_tests(rs, None)
    assert [o.passed for o in outcomes] == [True]


def test_the_formatter_keeps_a_condition_and_reads_back_the_same():
    text = "condition   c=visits>=3 and often   by ada\n"
    program = parse(text).program
    out = format_program(program)
    assert out == "condition c = visits >= 3 and often by ada\n"
    assert parse(out).program == program


def test_the_repl_reads_a_condition_of_a_subject_and_completes_its_name(tmp_path):
    import io
    import json

    from timehelpers import HEADER

    from whuffie.repl import Session, run_piped

    rules = tmp_path / "c.whuf"
    rules.write_text(HEADER.format(tz="UTC") + BODY)
    events = tmp_path / "e.jsonl"
    events.write_text("".join(json.dumps(ev("visited", f"2026-01-0{d}T10:00:00Z", "a", minutes=40)) + "\n"
                              for d in (1, 2, 3)))
    session = Session()
    out, err = io.StringIO(), io.StringIO()
    code = run_piped(session, [f":load {rules}\n", f":events {events}\n", "regular of a\n", "often of a\n"], out, err)
    assert code == 0, err.getvalue()
    assert out.getvalue().splitlines()[-2:] == ["true", "true"]
    assert "regular" in session.names()["conditions"]

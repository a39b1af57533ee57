"""The REPL with piped input: the language, every command, errors that do not end the session.

Subprocess tests run `.venv/bin/whuffie repl` as a user's script would; the
in-process tests drive ``Session`` directly for the finer points (multi-line
input, reload, the :diff and :save round trip) and the laws.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from zoneinfo import ZoneInfo
from hypothesis import given, settings
from hypothesis import strategies as st

from whuffie.parser import parse
from whuffie.repl import Reply, Session, open_brackets, run_piped

ROOT = Path(__file__).resolve().parents[1]
WHUFFIE = ROOT / ".venv" / "bin" / "whuffie"
LIBRARY = ROOT / "examples" / "library"
RULES = LIBRARY / "rules.whuf"
EVENTS = LIBRARY / "events.jsonl"
SUBJECTS = LIBRARY / "subjects.jsonl"
DATA = ["--events", str(EVENTS), "--subjects", str(SUBJECTS)]


def repl(script: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run `whuffie repl ARGS` with the script on stdin."""
    return subprocess.run([str(WHUFFIE), "repl", *args], input=script, capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def scores_json(rules: Path, *more: str) -> dict[str, dict]:
    """What `whuffie score` computes for the library data, by subject: the REPL must agree with it."""
    done = subprocess.run([str(WHUFFIE), "score", str(rules), str(EVENTS), "--subjects", str(SUBJECTS),
                           "--format", "json", *more], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return {r["subject"]: r for r in json.loads(done.stdout)}


def library_session() -> Session:
    session = Session()
    reply = Reply()
    session.load_rules(RULES, reply)
    session.load_data("subjects", SUBJECTS, reply)
    session.load_data("events", EVENTS, reply)
    assert reply.ok, reply.text("err")
    return session


def run_script(session: Session, script: str) -> tuple[int, str, str]:
    import io

    out, err = io.StringIO(), io.StringIO()
    code = run_piped(session, script.splitlines(keepends=True), out, err)
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------- piped sessions (subprocess)


def test_expressions_agree_with_whuffie_score():
    expected = scores_json(RULES)
    script = "\n".join([
        "1 + 2 * 3",
        'standing of "bob"',
        "tier of carol",
        'hours_volunteered of "alice"',
        "points(late_return) of bob",
        "tier of carol >= member",
        "reserve_new_books of dan",
        "now",
        "10 / 4",
    ]) + "\n"
    done = repl(script, str(RULES), *DATA)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "7"
    assert float(lines[1]) == expected["bob"]["scores"]["standing"]
    assert lines[2] == expected["carol"]["tier"] == "restricted"
    assert float(lines[3]) == expected["alice"]["measures"]["hours_volunteered"]
    late = [json.loads(x) for x in EVENTS.read_text().splitlines()]
    bob_late = sum(-min(e["days_late"], 10) for e in late
                   if e["subject"] == "bob" and e["type"] == "returned" and e["days_late"] > 0)
    assert int(lines[4]) == bob_late
    assert lines[5] == "false"  # restricted is below member
    assert lines[6] == ("true" if "reserve_new_books" in expected["dan"]["privileges"] else "false")
    assert lines[7] == max(e["at"] for e in late)  # now is the as-of instant: the latest event
    assert lines[8] == "2.5"
    # Piped output is for scripts: no prompt, no escape codes.
    assert "\x1b" not in done.stdout + done.stderr
    assert "whuffie>" not in done.stdout


def test_a_declaration_that_fixes_a_rule_changes_the_score(tmp_path):
    # The broken file rewards lateness (the sign of the award is lost).
    broken = tmp_path / "broken.whuf"
    broken.write_text(RULES.read_text().replace("award -min(days_late, 10)", "award min(days_late, 10)"))
    assert broken.read_text() != RULES.read_text()
    script = (
        "standing of bob\n"
        "rule late_return by ben\n"
        '  because "Lateness costs other members"\n'
        "  on returned where days_late > 0\n"
        "  award -min(days_late, 10)\n"
        "\n"
        "standing of bob\n"
        ":diff\n"
    )
    done = repl(script, str(broken), *DATA)
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    before, after = float(out[0]), float(out[2])
    assert out[1] == "replaced rule late_return by ben"
    assert before == scores_json(broken)["bob"]["scores"]["standing"]
    assert after == scores_json(RULES)["bob"]["scores"]["standing"]
    assert after < before
    line = broken.read_text().splitlines().index("rule late_return by ben") + 1
    assert f"replaces the rule declared at {broken}:{line}:1" in done.stderr
    # :diff names the change and its author, then shows it as a unified diff of formatted text.
    assert "~ rule late_return changed, by ben" in done.stdout
    assert "      - award min(days_late, 10)\n      + award -min(days_late, 10)" in done.stdout
    assert "-  award min(days_late, 10)" in done.stdout
    assert "+  award -min(days_late, 10)" in done.stdout


def test_an_error_does_not_end_the_session_and_the_exit_code_says_it_failed():
    done = repl("standing of bobb\n1 + 1\n", str(RULES), *DATA)
    assert done.returncode == 1
    assert done.stdout == "2\n"
    assert "<stdin>:1:1: error[W010]: unknown subject bobb" in done.stderr
    assert "1 | standing of bobb" in done.stderr
    assert "  | ^^^^^^^^^^^^^^^^" in done.stderr
    assert "did you mean `bob`?" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_syntax_error_shows_a_caret_under_the_input_line():
    done = repl("1 + 1\n2 * (3 +\n\n4 - 1\n")
    assert done.returncode == 1
    assert done.stdout.splitlines() == ["2", "3"]
    assert "<stdin>:2:" in done.stderr and "error[W001]" in done.stderr
    assert "2 | 2 * (3 +" in done.stderr


def test_data_and_result_commands():
    script = "\n".join([
        f":load {RULES}",
        f":subjects {SUBJECTS}",
        f":events {EVENTS}",
        "standing of bob",
        ":as-of 2026-03-01",
        "standing of bob",
        ":as-of",
        ":as-of latest",
        ":explain carol",
        ":ledger bob late_return",
        ":authors",
        ":type standing of bob",
        ":type tier of carol",
        ":type now - 2026-01-01",
        ":scores",
        ":show standing",
        ":help",
        ":quit",
        "1 + 1",
    ]) + "\n"
    done = repl(script)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"loaded {RULES}: 3 authors, 3 events, 4 rules" in out
    assert f"{SUBJECTS}: 5 subjects loaded" in out
    assert f"{EVENTS}: 28 events loaded" in out
    lines = out.splitlines()
    standing_now = lines[lines.index(f"{EVENTS}: 28 events loaded") + 1]
    assert float(standing_now) == scores_json(RULES)["bob"]["scores"]["standing"]
    # As of 1 March, as `whuffie score --as-of` computes it (bob's later events do not count yet).
    assert "as of 2026-03-01T00:00:00Z (given)" in out
    earlier = float(lines[lines.index("as of 2026-03-01T00:00:00Z (given)") + 1])
    assert earlier == scores_json(RULES, "--as-of", "2026-03-01")["bob"]["scores"]["standing"]
    assert earlier != float(standing_now)
    assert out.count("as of 2026-03-01T00:00:00Z (given)") == 2
    events = [json.loads(x) for x in EVENTS.read_text().splitlines()]
    latest = max(e["at"] for e in events)
    assert f"as of {latest} (the latest event)" in out
    # :explain is whuffie explain's text: ledger by rule, reasons.
    carols = sum(e["subject"] == "carol" for e in events)
    assert f"carol as of {latest} ({carols} events)" in out
    assert "1. upheld_complaint by council: -45" in out
    # :ledger lists one rule's contributions, with the total.
    assert "b-ret-1" in out and "2 contributions, total -13" in out
    # :authors: what each author owns and their share.
    assert "council  Riverside Library Council" in out and "tiers: trusted, member, restricted" in out
    assert "number\ntier\nduration\n" in out
    assert "subject  standing  tier" in out
    assert "# score standing, declared at" in out and "score standing = clamp(100 + points, 0, 200)" in out
    assert ":ledger SUBJECT [RULE]" in out and ":diff" in out
    # :quit ends the session: the line after it is not run.
    assert not out.endswith("2\n")


def test_editing_commands(tmp_path):
    saved = tmp_path / "saved.whuf"
    script = "\n".join([
        ":check",
        'author zoe "Zoe Park"',
        'rule reading_club by zoe because "Book talks bring members together" on volunteered where hours >= 2 award 1',
        "measure long_shifts = count volunteered where hours >= 4",
        ":drop active_days",
        ":diff",
        f":save {saved}",
        ":reload",
        "points(reading_club) of erin",
    ]) + "\n"
    done = repl(script, str(RULES), *DATA)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "session rule set (3 authors, 3 events, 4 rules, 2 measures" in out and "no problems" in out
    assert "added author zoe" in out and "added rule reading_club by zoe" in out
    assert "dropped measure active_days" in out
    assert f"{RULES} -> session: 4 declarations (3 added, 1 removed)" in out
    for line in ("+ author zoe added  [", "+ rule reading_club added, by zoe", "+ measure long_shifts added",
                 "- measure active_days removed"):
        assert line in out
    assert "-measure active_days = count distinct days of returned within 100 days" in out
    declarations = len(parse(RULES.read_text(), str(RULES)).program.items) + 3 - 1  # author, rule, measure; one dropped
    assert f"saved {declarations} declarations to {saved}" in out
    # :reload keeps typed declarations on top of the file.
    assert "kept on top of the file" in done.stderr
    erin = [json.loads(x) for x in EVENTS.read_text().splitlines()]
    shifts = sum(1 for e in erin if e["subject"] == "erin" and e["type"] == "volunteered" and e["hours"] >= 2)
    assert out.splitlines()[-1] == str(shifts)
    # The saved file is a whole, formatted, valid rule file with the session's changes.
    check = subprocess.run([str(WHUFFIE), "check", str(saved)], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr
    text = saved.read_text()
    assert "rule reading_club by zoe" in text and "active_days" not in text
    fmt = subprocess.run([str(WHUFFIE), "fmt", "--check", str(saved)], capture_output=True, text=True, timeout=120)
    assert fmt.returncode == 0, fmt.stderr


def test_test_command(tmp_path):
    rules = tmp_path / "small.whuf"
    rules.write_text(
        'ruleset small "Small"\nauthor ada "Ada"\nevent ping { n: int in 0..10 }\n'
        'rule pinged by ada because "Pings help" on ping award n\n'
        "score total = points\n"
        'test "a ping counts" {\n  at 2026-01-01 s ping { n: 3 }\n  expect total of s == 3\n}\n')
    done = repl(":test\n", str(rules))
    assert done.returncode == 0, done.stderr
    assert 'PASS test "a ping counts"' in done.stdout and "1 passed, 0 failed" in done.stdout
    # The same test against a changed rule fails, and the session says so with its exit code.
    done = repl('rule pinged by ada because "Pings help" on ping award 2 * n\n:test\n', str(rules))
    assert done.returncode == 1
    assert 'FAIL test "a ping counts"' in done.stdout and "0 passed, 1 failed" in done.stdout


def test_unknown_command_suggests_the_closest():
    done = repl(":expalin bob\n:frobnicate\n")
    assert done.returncode == 1
    assert "unknown command :expalin; did you mean :explain?" in done.stderr
    assert "unknown command :frobnicate (:help lists the commands)" in done.stderr


def test_missing_files_are_usage_errors():
    done = repl("", "no/such/rules.whuf")
    assert done.returncode == 2
    assert "no such file: no/such/rules.whuf" in done.stderr
    done = repl("", "--as-of", "yesterday")
    assert done.returncode == 2
    assert "--as-of 'yesterday' is not an ISO 8601 date" in done.stderr
    edge = repl("", "--as-of", "0001-01-01T00:00:00+01:00")
    assert edge.returncode == 2 and "outside the supported range" in edge.stderr and "Traceback" not in edge.stderr


def test_a_rejected_declaration_leaves_the_rule_set_unchanged():
    script = ('rule late_return by nobody because "x" on returned award "a lot"\n'
              "points of bob\n")
    done = repl(script, str(RULES), *DATA)
    assert done.returncode == 1
    assert "error[W013]: rule late_return names an unknown author nobody" in done.stderr
    assert "error[W022]" in done.stderr and "the rule set is unchanged" in done.stderr
    assert "1 | rule late_return by nobody" in done.stderr
    assert int(done.stdout) == int(scores_json(RULES)["bob"]["scores"]["standing"]) - 100


# ---------------------------------------------------------------- the session (in process)


def test_multi_line_input_continues_while_a_declaration_is_unfinished():
    session = Session()
    assert session.needs_more("event ping {")
    assert session.needs_more("rule x by ada")  # no because, on or award yet
    assert session.needs_more("tier gold when")
    assert session.needs_more("max(1,")
    assert not session.needs_more("max(1, 2)")
    assert not session.needs_more("tier of carol")
    assert not session.needs_more("1 +")  # an expression is not continued: it is an error
    assert not session.needs_more("rule x by ada\n")  # an empty line ends it
    assert not session.needs_more(':help')
    assert not session.needs_more('rule x by ada because "y" on ping award 1')


def test_piped_declarations_span_lines_by_braces_and_indentation():
    session = Session()
    code, out, err = run_script(session, (
        'author ada "Ada"\n'
        "event ping {\n"
        "  n: int in 0..10,\n"
        "  tag: text\n"
        "}\n"
        'rule pinged by ada because "Pings help"\n'
        "  on ping\n"
        "  award n\n"
        "score reputation = 1 + points\n"
        "  floor 1 per event\n"
        ":show reputation\n"
    ))
    assert code == 0, err
    assert out.splitlines()[:4] == ["added author ada", "added event ping", "added rule pinged by ada",
                                    "added score reputation"]
    assert "score reputation = 1 + points floor 1 per event" in out.replace("\n  ", " ")


def test_a_command_ends_an_unfinished_declaration():
    code, out, err = run_script(library_session(), "rule half by ada\n:as-of\n1 + 1\n")
    assert code == 1
    assert "error[W035]: rule half has no `on` and no `award` clause" in err
    latest = max(json.loads(x)["at"] for x in EVENTS.read_text().splitlines())
    assert out.splitlines() == [f"as of {latest} (the latest event)", "2"]


def test_reload_reads_the_files_again_and_keeps_typed_declarations(tmp_path):
    rules = tmp_path / "r.whuf"
    rules.write_text(RULES.read_text())
    session = Session()
    reply = Reply()
    session.load_rules(rules, reply)
    session.load_data("subjects", SUBJECTS, reply)
    session.load_data("events", EVENTS, reply)
    assert session.execute("standing of carol").text("out") == "35\n"
    session.execute('author zoe "Zoe"')
    rules.write_text(RULES.read_text().replace("award -15", "award -5"))
    reply = session.execute(":reload")
    assert reply.ok, reply.text("err")
    # Three upheld complaints now cost 5 each instead of 15: 30 points back.
    assert session.execute("standing of carol").text("out") == "65\n"
    assert [(what, new.name) for what, _, new in session.changes()] == [("added", "zoe")]


def test_save_then_load_gives_the_same_scores(tmp_path):
    session = library_session()
    session.execute('rule late_return by ben because "Softer" on returned where days_late > 0 award -1')
    session.execute("tier gold when standing >= 190 by council because \"Top readers\"")
    before = {s: session.execute(f"standing of {s}").text("out") for s in session.known_subjects()}
    tiers = {s: session.execute(f"tier of {s}").text("out") for s in session.known_subjects()}
    target = tmp_path / "out.whuf"
    assert session.execute(f":save {target}").ok
    again = Session()
    reply = Reply()
    again.load_rules(target, reply)
    again.load_data("subjects", SUBJECTS, reply)
    again.load_data("events", EVENTS, reply)
    assert reply.ok, reply.text("err")
    assert {s: again.execute(f"standing of {s}").text("out") for s in again.known_subjects()} == before
    assert {s: again.execute(f"tier of {s}").text("out") for s in again.known_subjects()} == tiers
    assert again.execute(":diff").text("out").startswith("no changes against")


def test_a_rule_set_built_from_nothing_can_be_diffed_and_saved(tmp_path):
    from whuffie.frontend import load_file

    session = Session()
    code, out, err = run_script(session, (
        'author ada "Ada"\n'
        "event ping { n: int in 0..10 }\n"
        'rule pinged by ada because "Pings help" on ping award n\n'
        "score total = points\n"
        ":diff\n"
        f":save {tmp_path / 'new.whuf'}\n"
    ))
    assert code == 0, err
    assert "the empty rule set -> session: 4 declarations (4 added)" in out
    assert "+ rule pinged added, by ada" in out and "+rule pinged by ada" in out
    loaded = load_file(tmp_path / "new.whuf")
    assert loaded.ok, loaded.diagnostics
    assert [type(d).__name__ for d in loaded.program.items] == ["AuthorDecl", "EventDecl", "RuleDecl", "ScoreDecl"]


def test_results_are_cached_and_invalidated_on_change():
    session = library_session()
    first = session.subject_result("bob")
    assert session.subject_result("bob") is first  # computed once
    session.execute(":as-of 2026-03-01")
    assert session.subject_result("bob") is not first
    earlier = scores_json(RULES, "--as-of", "2026-03-01")["bob"]["scores"]["standing"]
    assert session.subject_result("bob").scores["standing"] == earlier != first.scores["standing"]


def test_as_of_takes_now_and_today_and_refuses_instants_beyond_the_range():
    import datetime as dt

    session = library_session()
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    reply = session.execute(":as-of now")
    assert reply.ok, reply.text("err")
    instant = session.derived().as_of
    assert before <= instant <= dt.datetime.now(dt.timezone.utc)
    assert session.derived().as_of == instant  # read once: the session's instant stays put
    assert session.execute(":as-of today").ok
    today = session.derived().as_of.astimezone(ZoneInfo("Europe/London"))
    assert (today.hour, today.minute, today.second) == (0, 0, 0)
    for edge in ("9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+01:00"):
        reply = session.execute(f":as-of {edge}")
        assert not reply.ok and "outside the supported range 0001-01-01..9999-12-31 UTC" in reply.text("err")


def test_a_fifo_is_refused_as_a_data_file(tmp_path):
    import os

    fifo = tmp_path / "events.jsonl"
    os.mkfifo(fifo)
    reply = library_session().execute(f":events {fifo}")
    assert not reply.ok and "not a regular file" in reply.text("err")


def test_bare_values_need_a_subject_and_errors_name_it():
    session = library_session()
    reply = session.execute("standing + 1")
    assert not reply.ok
    assert "standing is a value of one subject" in reply.text("err")
    assert "hint: name the subject: standing of SUBJECT" in reply.text("err")
    reply = session.execute("1 / 0")
    assert not reply.ok and "error[W090]: run-time fault in the REPL: division by zero" in reply.text("err")


def test_a_new_tier_goes_above_otherwise():
    session = library_session()
    reply = session.execute('tier gold when standing >= 190 by council because "Top readers"')
    assert reply.ok, reply.text("err")
    tiers = [d.name for d in session.items() if type(d).__name__ == "TierDecl"]
    assert tiers == ["trusted", "member", "gold", "restricted"]


@pytest.mark.parametrize("example", sorted(p.parent.name for p in (ROOT / "examples").glob("*/rules.whuf")))
def test_typing_a_declaration_of_the_file_again_changes_nothing(example):
    # The law: any declaration of the file, formatted and typed again, replaces itself in place.
    from whuffie.formatter import format_program
    from whuffie import nodes as n

    session = Session()
    reply = Reply()
    rules = ROOT / "examples" / example / "rules.whuf"
    session.load_rules(rules, reply)
    assert session.derived().ruleset is not None, reply.text("err")
    for item in session.base.items:
        reply = session.execute(format_program(n.Program((item,))))
        assert reply.ok, reply.text("err")
        assert "(no change)" in reply.text("err")
    assert session.changes() == []
    assert [type(d) for d in session.items()] == [type(d) for d in session.base.items]
    assert session.execute(":diff").text("out").startswith("no changes against")


@settings(max_examples=60, deadline=None)
@given(st.recursive(
    st.integers(min_value=0, max_value=1000).map(str),
    lambda inner: st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
    max_leaves=8))
def test_integer_arithmetic_is_python_arithmetic(text):
    session = _EMPTY
    reply = session.execute(text)
    assert reply.ok, reply.text("err")
    assert reply.text("out") == f"{eval(text)}\n"  # noqa: S307 - the law: same digits as Python's ints


_EMPTY = Session()


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="()[]{} ab\n", max_size=30), st.text(alphabet="()[]{} ab", max_size=10))
def test_brackets_inside_strings_and_comments_never_count(code, inside):
    assert open_brackets(code + f' "{inside}"') == open_brackets(code)
    assert open_brackets(code + f" # {inside}") == open_brackets(code)


def test_no_traceback_on_hostile_input():
    session = library_session()
    for text in [":load", ":ledger", ":ledger nobody", ":as-of yesterday", ":save /no/such/dir/x.whuf",
                 ":events /no/such.jsonl", ":type", ":type 1 +", "))", '"unterminated', "rule", "tier",
                 ":drop nothing", ":show nothing", ":ledger bob no_rule", ":test x"]:
        reply = session.execute(text)
        assert not reply.ok, text
        assert "internal error" not in reply.text("err"), (text, reply.text("err"))
    assert session.execute("standing of bob").ok


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))


def test_diff_shows_the_impact_of_the_sessions_edits_on_the_loaded_events():
    session = library_session()
    session.execute('rule upheld_complaint by council because "Upheld complaints follow a hearing" '
                    'on complaint where upheld award -5 once per year')
    reply = session.execute(":diff")
    assert reply.ok, reply.text("err")
    out = reply.text("out")
    assert "~ rule upheld_complaint changed, by council" in out
    assert "      - award -15\n      + award -5" in out
    assert "because" not in out.split("Impact")[0]  # only the award changed
    # carol's three upheld complaints cost 5 each instead of 15: 30 points back, and she climbs from
    # restricted to member, which reserves new books; bob's one upheld complaint gives him 10 back.
    assert "Impact as of 2026-04-10T12:00:00Z: 5 subjects, 2 move; points 102.68 -> 142.68 (+40.00)" in out
    assert re.search(r"carol\s+35.00 -> 65.00\s+restricted -> member\s+\+reserve_new_books", out)
    assert re.search(r"bob\s+72.00 -> 82.00\s+member\s+-", out)
    impact = session.rule_diff()[0].impact
    assert [(r.rule, r.by, r.change, r.points) for r in impact.by_rule] == [
        ("upheld_complaint", "council", "changed", 30 + 10)]
    assert impact.tier_changes == (("restricted", "member", 1),)
    # the impact's new side is what the session itself computes
    assert [(r.subject, r.scores, r.tier) for r in impact.new_results.subjects] == \
        [(s, session.subject_result(s).scores, session.subject_result(s).tier) for s in session.known_subjects()]


def test_diff_without_events_shows_only_the_declarations():
    session = Session()
    reply = Reply()
    session.load_rules(RULES, reply)
    session.execute('author zoe "Zoe Park <zoe@riverside.example>"')
    out = session.execute(":diff").text("out")
    assert "1 declaration (1 added)" in out and "Impact" not in out


def test_why_not_names_the_unmet_condition_its_gap_and_the_ways_up():
    session = library_session()
    code, out, err = run_script(session, ":why-not carol member\n")
    assert code == 0, err
    # carol's standing is 35 (hand-computed in test_evaluate's library cases): 15 short of member's 50
    assert "Why not member? carol is restricted" in out
    assert "standing >= 50: 35.00 now, bound 50, 15.00 short" in out
    assert "on_time_return by ada: +2 each" in out and "upheld_complaint" not in out  # never a rule that takes away


def test_why_not_refuses_an_unknown_target_with_did_you_mean_and_the_session_goes_on():
    session = library_session()
    code, out, err = run_script(session, ":why-not carol membr\n:why-not carol\nstanding of carol\n")
    assert "unknown tier or privilege 'membr' (did you mean 'member'?)" in err
    assert "usage: :why-not SUBJECT TARGET" in err
    assert out.strip().endswith("35")


def test_a_rule_file_with_factors_loads_and_explains_in_the_repl():
    session = Session()
    reply = Reply()
    session.load_rules(ROOT / "tests" / "data" / "german_credit" / "rules.whuf", reply)
    assert reply.ok, reply.text("err")
    assert "factor" in reply.text("out")
    code, out, err = run_script(session, ":show duration_in_month\n")
    assert code == 0 and out.startswith("# factor duration_in_month by card, declared at "), (out, err)
    assert "\nfactor duration_in_month over duration_in_month_1, duration_in_month_2, " in out

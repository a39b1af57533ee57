"""The checker: golden diagnostics per code, near misses that pass, and targeted cases.

Golden files live in tests/golden/check/: ``<CODE>_<what>.whuf`` must report
CODE, ``<CODE>_nearmiss.whuf`` must report nothing at all; each has a ``.out``
with the rendered diagnostics (regenerate with ``pytest --update-golden``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from whuffie import nodes as n
from whuffie.checker import check
from whuffie.diagnostics import CODES, render
from whuffie.frontend import load_text
from whuffie.parser import parse
from whuffie.symbols import stdlib_module_path, stdlib_modules
from whuffie.types import INT, NUMBER, Type

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "check"
GOLDEN_FILES = sorted(GOLDEN.glob("*.whuf"))

HEADER = '''ruleset t
author ada "Ada"
subject member { joined: date, age: int protected, nick: text? }
event returned { days_late: int in 0..3650, damaged: bool, note: text? }
event volunteered { hours: number in 0..24 }
'''


def run(text: str, with_header: bool = True):
    """Check text (after the shared header) and return the Loaded result."""
    return load_text((HEADER if with_header else "") + text, "t.whuf")


def codes(text: str, with_header: bool = True) -> list[str]:
    """The diagnostic codes of checking text."""
    return [d.code for d in run(text, with_header).diagnostics]


def rendered(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    loaded = load_text(text, path.name)
    return render(loaded.diagnostics, {path.name: text}) or "(no diagnostics)\n"


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.stem)
def test_golden(path: Path, golden) -> None:
    golden(path.with_suffix(".out"), rendered(path))


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.stem)
def test_golden_file_reports_its_code(path: Path) -> None:
    code, _, what = path.stem.partition("_")
    found = [d.code for d in load_text(path.read_text(encoding="utf-8"), path.name).diagnostics]
    if what == "nearmiss":
        assert found == []
    else:
        assert code in found


def test_every_checker_code_has_a_failing_file_a_near_miss_and_a_page() -> None:
    stems = {p.stem for p in GOLDEN_FILES}
    checker_codes = {c for c in CODES if "W010" <= c <= "W069"}
    for code in checker_codes:
        assert any(s.startswith(code + "_") and not s.endswith("nearmiss") for s in stems), code
        assert f"{code}_nearmiss" in stems, code
        assert (ROOT / "docs" / "errors" / f"{code}.md").is_file(), code


def test_examples_pass_strict() -> None:
    for path in sorted((ROOT / "examples").glob("*/rules.whuf")):
        loaded = load_text(path.read_text(encoding="utf-8"), str(path))
        assert loaded.diagnostics == [], render(loaded.diagnostics, {str(path): loaded.source})
        assert loaded.ruleset is not None


def test_cli_check_prints_diagnostics_and_fails_only_on_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.whuf"
    bad.write_text(HEADER + 'rule r by ada on returned award 1\n', encoding="utf-8")
    warn = tmp_path / "warn.whuf"
    warn.write_text(HEADER + 'rule r by ada because "x" on returned award 10 / days_late\n', encoding="utf-8")
    cmd = [sys.executable, "-m", "whuffie", "check"]
    result = subprocess.run(cmd + [str(bad)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "W031" in result.stderr and "bad.whuf:6:6" in result.stderr
    result = subprocess.run(cmd + [str(warn)], capture_output=True, text=True)
    assert result.returncode == 0 and "W026" in result.stderr
    result = subprocess.run(cmd + ["--strict", str(warn)], capture_output=True, text=True)
    assert result.returncode == 1


# ---------------------------------------------------------------- results


def test_checked_ruleset_carries_types_and_is_none_on_errors() -> None:
    loaded = run('rule r by ada because "x" on volunteered award 3 * hours\n'
                 "measure most = max returned.days_late\nscore s = 1 + points\n")
    rs = loaded.ruleset
    assert rs is not None
    award = rs.rules["r"].first(n.Award).value
    assert rs.types[id(award)] == NUMBER
    assert rs.measure_types["most"] == Type("int", optional=True)
    assert rs.score_types["s"] == NUMBER
    assert run('rule r by ada on returned award 1\n').ruleset is None


def test_all_diagnostics_come_together_sorted_by_position() -> None:
    diags = run('rule b by nobody on returned award x\nrule a by ada because "x" on nothing award 1\n').diagnostics
    positions = [(d.span.line, d.span.col) for d in diags]
    assert positions == sorted(positions)
    assert {"W013", "W031", "W010", "W012"} <= {d.code for d in diags}


def test_stdlib_defs_are_merged_and_only_stdlib_paths_resolve() -> None:
    assert "std/math" in stdlib_modules()
    assert stdlib_module_path("../../etc/passwd") is None
    assert stdlib_module_path("/etc/passwd") is None
    loaded = run('import "std/math"\nrule r by ada because "x" on volunteered award ratio_or(hours, 2, 0)\n')
    assert loaded.diagnostics == []
    assert "ratio_or" in loaded.ruleset.defs and "ratio_or" in loaded.ruleset.stdlib_defs
    assert codes('import "../secrets"\nrule r by ada because "x" on returned award 1\n') == ["W019"]


def test_stdlib_modules_check_cleanly() -> None:
    for name in stdlib_modules():
        path = stdlib_module_path(name)
        program = parse(path.read_text(encoding="utf-8"), str(path)).program
        result = check(program)
        assert [d for d in result.diagnostics if d.code != "W033"] == []
        assert all(isinstance(item, n.DefDecl) for item in program.items)


# ---------------------------------------------------------------- names and scopes


@pytest.mark.parametrize("expr", [
    "event.at < now", "event.id != \"\"", "member.id != event.id", "now - member.joined >= 30 days",
    "days(now - member.joined) > 3.5", "days_late in [1, 2, 3]", "(nick ?? \"\") == \"x\"".replace("nick", "member.nick"),
    "event.days_late == days_late", "if damaged then days_late > 1 else true",
])
def test_rule_scope_accepts(expr: str) -> None:
    assert codes(f'rule r by ada because "x" on returned where {expr} award 1\n') == []


@pytest.mark.parametrize("expr, code", [
    ("hours > 1", "W010"),             # a field of another event
    ("volunteered.hours > 1", "W025"),  # another event's fields
    ("event.hours > 1", "W015"),
    ("member.nick == \"x\"", "W024"),
    ("days_late > 1 and 2", "W020"),
    ("damaged + 1 > 0", "W020"),
    ("days_late in [1, \"2\"]", "W020"),
    ("member.joined + 3 > member.joined", "W020"),
    ("member.id in [\"ann\", \"bob\"]", "W041"),
    ("\"bob\" != member.id", "W041"),
    ("days_late % 2.5 == 0", "W020"),
    ("standing of m", "W025"),
])
def test_rule_scope_rejects(expr: str, code: str) -> None:
    assert code in codes(f'rule r by ada because "x" on returned where {expr} award 1\n')


def test_operand_span_points_at_the_offending_operand() -> None:
    line = 'rule r by ada because "x" on returned where days_late + "3" > 0 award 1'
    (d,) = run(line + "\n").diagnostics
    col = line.index('"3"') + 1
    assert d.code == "W020"
    assert (d.span.line, d.span.col, d.span.end_col) == (6, col, col + 3)


def test_did_you_mean_comes_from_names_in_scope() -> None:
    (d,) = run('rule r by ada because "x" on returned where damagd award 1\n').diagnostics
    assert d.code == "W010" and "damaged" in d.hint
    (d,) = run('rule r by ada because "x" on returned award 1\nscore s = 1 + pionts\n').diagnostics
    assert d.code == "W010" and "points" in d.hint


def test_scores_see_earlier_scores_measures_and_points_of_rules() -> None:
    text = ('rule r by ada because "x" on returned award 1\n'
            "measure n = count returned within 30 days\n"
            "measure best = max volunteered.hours default 0\n"
            "score a = 1 + points\nscore b = a + n + best + points(r)\n")
    assert codes(text) == []
    assert "W051" in codes(text.replace("score a = 1 + points\n", "") + "score a = 1 + points\n")
    assert "W014" in codes(text.replace("points(r)", "points(q)"))
    assert "W050" in codes(text + "score a = 2\n")
    assert "W024" in codes(text.replace(" default 0", ""))
    assert "W055" in codes(text.replace("30 days", "0 days"))


def test_score_cycle_is_rejected() -> None:
    assert "W051" in codes('rule r by ada because "x" on returned award 1\nscore a = b + 1\nscore b = a + 1\n')
    assert codes('rule r by ada because "x" on returned award 1\nscore a = a + 1\n') == ["W051"]


def test_tiers_privileges_and_tier_values() -> None:
    text = ('rule r by ada because "x" on returned award 1\nscore s = points\n'
            'tier gold when s >= 10 by ada\ntier base otherwise by ada\n'
            'privilege keys when tier >= gold by ada\nprivilege vip when keys and s > 20 by ada\n')
    assert codes(text) == []
    assert "W051" in codes(text.replace("keys and", "vip2 and") + "privilege vip2 when true by ada\n")
    assert "W024" in codes(text.replace("tier base otherwise by ada\n", ""))
    assert "W025" in codes(text.replace("score s = points", "score s = points + (if tier >= gold then 1 else 0)"))
    assert "W021" in codes(text.replace("when s >= 10", "when s"))


def test_unreachable_tiers_need_implication_not_just_overlap() -> None:
    base = 'rule r by ada because "x" on returned award 1\nscore s = points\nmeasure n = count returned\n'
    assert "W053" in codes(base + "tier a when s >= 10 by ada\ntier b when s >= 50 and n > 3 by ada\n")
    assert "W053" in codes(base + "tier a when s >= 10 by ada\ntier b when 20 <= s <= 30 by ada\n")
    assert codes(base + "tier a when s >= 50 by ada\ntier b when s >= 10 by ada\n") == []
    assert codes(base + "tier a when s >= 10 and n > 3 by ada\ntier b when s >= 50 by ada\n") == []


def test_where_interval_reasoning() -> None:
    rule = 'rule r by ada because "x" on returned where {} award 1\n'
    assert "W054" in codes(rule.format("days_late < 0"))
    assert "W054" in codes(rule.format("days_late > 3 and days_late < 4"))  # int: nothing strictly between
    assert "W054" in codes(rule.format("0 <= days_late <= 10 and days_late >= 11"))
    assert codes(rule.format("days_late >= 3650")) == []
    assert codes(rule.format("days_late > 3 and days_late < 5")) == []


def test_defs_are_typed_checked_once_and_not_recursive() -> None:
    text = ('def late(d: int): bool = d > 7\n'
            'rule r by ada because "x" on returned where late(days_late) award 1\n')
    assert codes(text) == []
    assert "W020" in codes(text.replace("late(days_late)", "late(damaged)"))
    assert "W023" in codes(text.replace("late(days_late)", "late(days_late, 1)"))
    assert "W020" in codes(text.replace(": bool = d > 7", ": int = d > 7"))
    assert "W025" in codes(text.replace("d > 7", "now > 2020-01-01T00:00:00Z"))
    assert "W010" in codes(text.replace("d > 7", "days_late > 7"))
    assert "W056" in codes("def a(x: int): int = b(x)\ndef b(x: int): int = a(x)\n" + text)


def test_protected_attribute_through_a_def_and_in_scores() -> None:
    text = 'def older(a: int): bool = a > 60\nrule r by ada because "x" on returned where older(member.age) award 1\n'
    (d,) = run(text).diagnostics
    assert d.code == "W040" and "rule r" in d.message and "ada" in d.message
    assert "W040" in codes('rule r by ada because "x" on returned award 1\nscore s = points + member.age by ada\n')
    assert codes('rule r by ada because "x" on returned award 1\nscore s = points\n'
                 'property "fair" by ada: always s >= 0 or member.age > 0\n') == []


def test_singling_out_through_nested_defs() -> None:
    text = ('def is_bob(x: text): bool = x == "bob"\ndef special(y: text): bool = is_bob(y)\n'
            'rule r by ada because "x" on returned where special(member.id) award 1\n')
    assert codes(text) == ["W041"]
    assert codes(text.replace("special(member.id)", 'special(note ?? "")')) == []


def test_running_bound_forms() -> None:
    base = 'rule r by ada because "x" on returned award 1\n'
    assert codes(base + "score rep = 1 + points floor 1 per event\n") == []
    assert codes(base + "score rep = points + 1 floor 1 per event ceiling 100 per event\n") == []
    assert "W025" in codes(base + "score rep = 2 * points floor 1 per event\n")
    assert "W025" in codes(base + "score a = points floor 0 per event\nscore b = points floor 0 per event\n")
    assert "W025" in codes(base + "score a = points floor points per event\n")


def test_tests_and_properties_are_checked() -> None:
    base = 'rule r by ada because "x" on returned award 1\nscore s = points\n'
    good = ('test "t" {\n member m { joined: 2024-01-01, age: 3 }\n'
            ' at 2026-01-10 m returned { days_late: 3, damaged: false }\n'
            ' expect s of m == 1\n expect points(r) of m == 1\n}\n')
    assert codes(base + good) == []
    assert "W015" in codes(base + good.replace("age: 3", "age: 3, shoe: 4"))
    assert "W020" in codes(base + good.replace("damaged: false", "damaged: 0"))
    assert "W012" in codes(base + good.replace("m returned", "m returnd"))
    assert "W010" in codes(base + good.replace("s of m", "s of q"))
    assert "W017" in codes(base + good.replace("member m", "person m"))
    assert "W021" in codes(base + good.replace("expect s of m == 1", "expect s of m"))
    props = ('property "a" by ada: monotone in returned.days_late for s\n'
             'property "b" by ada: independent of member.age\nproperty "c" by ada: gain per week <= 10\n')
    assert codes(base + props) == []
    assert "W020" in codes(base + props.replace("returned.days_late", "returned.damaged"))
    assert "W015" in codes(base + props.replace("member.age", "member.shoe"))
    assert "W017" in codes(base + props.replace("member.age", "person.age"))
    assert "W030" in codes(base + props.replace('"c" by ada', '"c"'))


def test_schema_structure() -> None:
    assert "W025" in codes("subject person { x: int }\n")
    assert "W050" in codes("event returned { x: int }\n")
    assert "W050" in codes("event e { at: datetime }\n")
    assert "W050" in codes("score points = 1\n")
    assert "W034" in codes('timezone "UTC"\ntimezone "UTC"\n')
    assert "W011" in codes("def f(x: intt) = 1\n")


def test_no_traceback_on_odd_but_parseable_input() -> None:
    odd = ['rule r\n', 'score s = s\n', 'tier t otherwise\n', 'def f() = f()\n', 'measure m = sum nothing.x\n',
           'rule r by ada because "x" on returned where event.event.at award 1\n',
           'rule r by ada because "x" on returned where member.joined.x award (1).y\n',
           'score s = standing of m\n', 'privilege p when tier by ada\n',
           'property "p" by ada: monotone in nothing.x for nothing\n']
    for text in odd:
        result = run(text)
        assert result.diagnostics and all(d.code in CODES for d in result.diagnostics), text


def test_int_widening_in_types() -> None:
    loaded = run('rule r by ada because "x" on volunteered award if hours > 2 then 1 else hours\n')
    assert loaded.diagnostics == []
    award = loaded.ruleset.rules["r"].first(n.Award).value
    assert loaded.ruleset.types[id(award)] == NUMBER
    loaded = run('rule r by ada because "x" on returned award days_late * 2 % 7\n')
    assert loaded.ruleset.types[id(loaded.ruleset.rules["r"].first(n.Award).value)] == INT


@pytest.mark.parametrize("page", sorted((ROOT / "docs" / "errors").glob("W0[1-5]*.md")), ids=lambda p: p.stem)
def test_error_pages_show_the_code_and_a_fix_that_checks(page: Path) -> None:
    import re

    text = page.read_text(encoding="utf-8")
    blocks = dict((kind, code) for kind, code in re.findall(r"^```([\w-]+)\n(.*?)^```$", text, re.M | re.S))
    assert page.stem in codes(blocks["whuffie-invalid"], with_header=False)
    assert codes(blocks["whuffie"], with_header=False) == []


# ---------------------------------------------------------------- W060 durations, W062 caps


@pytest.mark.parametrize("duration", ["1.0e300 days", "99999999999 days", "3652060 days", "521723 weeks"])
@pytest.mark.parametrize("place", ["within", "decay", "expression"])
def test_durations_past_the_supported_dates_are_w060(duration: str, place: str) -> None:
    text = {
        "within": f"measure m = count returned within {duration}\nscore s = m\n",
        "decay": f'rule r by ada because "x" on returned award 1 decay half_life {duration}\n',
        "expression": f'rule r by ada because "x" on returned award days({duration})\n',
    }[place]
    found = [d for d in run(text).diagnostics if d.is_error]
    assert [d.code for d in found] == ["W060"]
    assert duration.split()[1] in found[0].message


@pytest.mark.parametrize("duration", ["3652058 days", "521722 weeks", "3650 days"])
def test_durations_within_the_supported_dates_pass(duration: str) -> None:
    text = f"measure m = count returned within {duration}\nscore s = m\n" \
        f'rule r by ada because "x" on returned award days({duration}) decay half_life {duration}\n'
    assert [d for d in run(text).diagnostics if d.is_error] == []


@pytest.mark.parametrize("award", ["-5", "-min(days_late, 10)", "-clamp(days_late, 1, 5)", "0 - days_late",
                                   "if damaged then -2 else 0", "-(days_late * 2) - 1"])
def test_a_cap_on_a_rule_that_only_takes_points_away_is_w062(award: str) -> None:
    found = run(f'rule r by ada because "x" on returned award {award} cap 30 per week\n').diagnostics
    assert [(d.code, d.is_error) for d in found] == [("W062", False)]


@pytest.mark.parametrize("award", ["5", "5 - days_late", "-hours", "max(-days_late, 1)",
                                   "if damaged then -2 else 1", "-clamp(days_late - 3, -1, 5)"])
def test_a_cap_on_a_rule_that_may_give_points_is_not_w062(award: str) -> None:
    text = 'event shift { hours: number }\n' \
        f'rule r by ada because "x" on {"shift" if "hours" in award else "returned"} award {award} cap 30 per week\n'
    assert [d.code for d in run(text).diagnostics] == []


def test_a_rule_without_cap_that_takes_points_away_is_fine() -> None:
    assert codes('rule r by ada because "x" on returned award -5\n') == []


# ---------------------------------------------------------------- imports stay inside the stdlib


def test_an_import_name_too_long_for_the_file_system_is_w019() -> None:
    found = run(f'import "std/{"a" * 300}"\n').diagnostics
    assert [d.code for d in found if d.is_error] == ["W019"]


def test_a_stdlib_symlink_pointing_outside_the_stdlib_is_refused(tmp_path: Path, monkeypatch) -> None:
    import whuffie.symbols as symbols

    outside = tmp_path / "secret.whuf"
    outside.write_text("def leaked(x: int) = x\n", encoding="utf-8")
    (tmp_path / "stdlib" / "std").mkdir(parents=True)
    (tmp_path / "stdlib" / "std" / "math.whuf").write_text("def sign(x: int) = x\n", encoding="utf-8")
    (tmp_path / "stdlib" / "std" / "evil.whuf").symlink_to(outside)
    (tmp_path / "stdlib" / "std" / "alias.whuf").symlink_to(tmp_path / "stdlib" / "std" / "math.whuf")
    monkeypatch.setattr(symbols, "stdlib_root", lambda: tmp_path / "stdlib")
    assert symbols.stdlib_module_path("std/evil") is None
    assert symbols.stdlib_module_path("std/alias") is not None
    assert symbols.stdlib_modules() == ["std/alias", "std/math"]
    found = run('import "std/evil"\n').diagnostics
    assert [d.code for d in found if d.is_error] == ["W019"]


def test_a_long_recursive_cycle_is_w056_on_every_def_with_a_short_message() -> None:
    length = 400
    defs = "".join(f"def f{i}(x: int) = f{i % length + 1}(x)\n" for i in range(1, length + 1))
    found = [d for d in run(defs).diagnostics if d.is_error]
    assert [d.code for d in found] == ["W056"] * length
    assert all(len(d.message) < 200 for d in found)
    assert "(f1 -> f2 -> f3 -> f4 -> … -> f400 -> f1)" in found[0].message

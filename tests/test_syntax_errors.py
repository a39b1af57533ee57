"""Syntax errors: golden rendered diagnostics, recovery, deep nesting, unreadable files, fuzzing.

Golden files: tests/golden/syntax/<CODE>_<what>.whuf must report <CODE>;
<same>.out holds the rendered diagnostics (regenerate with ``pytest --update-golden``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whuffie.diagnostics import CODES, render
from whuffie.parser import parse, parse_expression, read_source

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "syntax"
GOLDEN_FILES = sorted(GOLDEN.glob("*.whuf"))
FRONT_END_CODES = [f"W00{i}" for i in range(1, 10)]
EXAMPLES = sorted(ROOT.glob("examples/*/*.whuf"))


def _terminal_names() -> re.Pattern:
    from whuffie.parser import lark_parser

    names = {t.name for t in lark_parser().terminals} | {"$END", "__ANON"}
    return re.compile("|".join(rf"(?<![\w$]){re.escape(name)}(?!\w)" for name in sorted(names, key=len, reverse=True)))


LARK_TERMINAL = _terminal_names()


def diagnose(path: Path) -> str:
    """What `whuffie check` shows for the front end: rendered diagnostics, the path relative to tests/."""
    shown = path.relative_to(GOLDEN).as_posix()
    text, diags = read_source(path)
    if text is None:
        return render([d.__class__(d.code, d.message.replace(str(path), shown),
                                   d.span.__class__(shown, *_pos(d.span)), d.hint, d.severity)
                       for d in diags], {})
    result = parse(text, shown)
    return render(result.diagnostics, {shown: text})


def _pos(span):
    return span.line, span.col, span.end_line, span.end_col


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.stem)
def test_golden(path: Path, golden) -> None:
    golden(path.with_suffix(".out"), diagnose(path))


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.stem)
def test_golden_reports_its_code_in_words(path: Path) -> None:
    code = path.stem.split("_")[0]
    rendered = diagnose(path)
    assert f"[{code}]" in rendered
    messages = [line for line in rendered.splitlines() if "error[" in line or "warning[" in line]
    for line in messages:
        message = line.split("]: ", 1)[1]
        assert not LARK_TERMINAL.search(message), line  # never a Lark terminal name


def test_every_front_end_code_has_a_golden_file_and_a_page() -> None:
    covered = {p.stem.split("_")[0] for p in GOLDEN_FILES}
    covered.add("W006")  # also directories and missing files, below
    for code in FRONT_END_CODES:
        assert code in CODES
        assert code in covered, code
        assert (ROOT / "docs" / "errors" / f"{code}.md").is_file(), code


# ---------------------------------------------------------------- specific behaviour


def codes(text: str) -> list[tuple[str, int]]:
    return [(d.code, d.span.line) for d in parse(text, "t.whuf").diagnostics]


def test_several_errors_in_one_file_and_the_rest_still_parses() -> None:
    text = (GOLDEN / "W001_several_errors.whuf").read_text()
    result = parse(text, "t.whuf")
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("W001", 5), ("W001", 7), ("W008", 10)]
    assert [type(d).__name__ for d in result.program.items] == ["AuthorDecl", "TierDecl"]


def test_hints_for_common_slips() -> None:
    def hint(text: str) -> str:
        return parse(text, "t.whuf").diagnostics[0].hint or ""

    assert "by ada" in hint("rule r ada\n  award 1\n")
    assert '"=="' in hint("rule r by a\n  on e where x = 1\n")
    assert "because" in hint('rule r by a "why"\n')
    assert '"score"' in hint("scor s = 1\n")
    assert '"award"' in hint("rule r by a\n  awrd 1\n")
    assert "and" in hint("score s = a && b\n")
    assert "or" in hint("score s = a || b\n")
    assert '"' in hint("author ada 'Ada'\n")
    assert "when" in hint("tier t standing > 1\n")
    assert 'missing before "by"' in hint("shared cap v 200 per day over\n  by ada\n")
    assert 'missing before "award"' in hint("rule r by ada\n  on e where\n  award 1\n")
    assert '"late"' in hint("test late {\n}\n")
    assert "YYYY-MM-DD" in hint('test "t" {\n  at 2026-1-10 m e\n}\n')
    assert "name: type" in hint("event e { x = int }\n")
    assert "[1, 2]" in hint("score s = x in 1\n")
    assert "floor N per event" in hint("score s = points\n  floor 1\n")


def test_no_terminal_names_in_messages_of_many_broken_files() -> None:
    valid = (ROOT / "examples" / "library" / "rules.whuf").read_text()
    lines = valid.splitlines(keepends=True)
    for i in range(len(lines)):
        for broken in (lines[:i] + lines[i + 1:], lines[:i] + [lines[i][: len(lines[i]) // 2] + "\n"] + lines[i + 1:]):
            for d in parse("".join(broken), "t.whuf").diagnostics:
                assert not LARK_TERMINAL.search(d.message), d.message
                assert d.code in CODES and d.span.line >= 1


@pytest.mark.parametrize("text, expected", [
    ("score s = " + "(" * 10_000 + "1" + ")" * 10_000, None),
    ("score s = " + "-" * 10_000 + "1", "W005"),
    ("score s = " + "not " * 10_000 + "true", "W005"),
    ("score s = " + " + ".join(["1"] * 5_000), "W005"),
    ("score s = " + "f(" * 5_000 + "1" + ")" * 5_000, "W005"),
    ("score s = " + "[" * 10_000, "W001"),
    ("score s = " + "(" * 10_000, "W001"),
])
def test_deep_nesting_never_overflows(text: str, expected: str | None) -> None:
    result = parse(text, "deep.whuf")
    found = [d.code for d in result.diagnostics]
    if expected is None:
        assert result.ok and not found
    else:
        assert expected in found and not result.ok


def test_nesting_just_under_the_limit_parses() -> None:
    assert parse("score s = " + "-" * 150 + "1", "t.whuf").ok
    expr, diags = parse_expression("-" * 300 + "1")
    assert expr is None and diags[0].code == "W005"


# ---------------------------------------------------------------- unreadable files


def test_unreadable_sources(tmp_path: Path) -> None:
    (tmp_path / "bin.whuf").write_bytes(b"rule\x00\x01")
    (tmp_path / "latin.whuf").write_bytes("author zo\u00eb\n".encode("latin-1"))
    (tmp_path / "bom.whuf").write_bytes("\ufeffauthor ada\n".encode("utf-8"))
    (tmp_path / "folder.whuf").mkdir()
    for name, fragment in [("bin.whuf", "not a text file"), ("latin.whuf", "not valid UTF-8 (byte 0xeb)"),
                           ("folder.whuf", "is a directory"), ("missing.whuf", "no such file")]:
        text, diags = read_source(tmp_path / name)
        assert text is None and [d.code for d in diags] == ["W006"], name
        assert fragment in diags[0].message
    latin = read_source(tmp_path / "latin.whuf")[1][0]
    assert (latin.span.line, latin.span.col) == (1, 10)
    assert read_source(tmp_path / "bom.whuf") == ("author ada\n", [])


def test_empty_files_warn(tmp_path: Path) -> None:
    for text in ("", "  \n\n", "# only a comment\n"):
        result = parse(text, "e.whuf")
        assert [d.code for d in result.diagnostics] == ["W007"]
        assert result.ok and result.program.items == ()


def test_check_command_never_shows_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "bin.whuf").write_bytes(b"\x00\xff\xfe")
    (tmp_path / "dir.whuf").mkdir()
    (tmp_path / "bad.whuf").write_text("score s = (1 +\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "whuffie", "check", "bin.whuf", "dir.whuf", "bad.whuf", "nope.whuf"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert run.stderr.count("error[W006]") == 3 and "bad.whuf:1:15: error[W001]" in run.stderr


# ---------------------------------------------------------------- fuzzing

ALPHABET = st.sampled_from(list('abcdefghijklmnopqrstuvwxyz_0123456789 \n\t"#(){}[],.:?=<>!+-*/%&|\'\\') +
                           ["rule ", "by ", "award ", "score ", "= ", "tier ", "when ", "if ", "then ", "else ",
                            "event ", "{ ", "} ", "test ", "at ", "2026-01-10", "\u00e9", "\u201c"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ALPHABET, max_size=60).map("".join))
def test_random_text_gives_diagnostics_not_exceptions(text: str) -> None:
    result = parse(text, "fuzz.whuf")
    assert result.program is not None or any(d.is_error for d in result.diagnostics)
    render(result.diagnostics, {"fuzz.whuf": text})
    for d in result.diagnostics:
        assert not LARK_TERMINAL.search(d.message), d.message


def _mutate(source: str, data) -> str:
    chars = list(source)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        if not chars:
            break
        i = data.draw(st.integers(0, len(chars) - 1), label="at")
        kind = data.draw(st.sampled_from(["delete", "swap", "duplicate", "insert"]), label="kind")
        if kind == "delete":
            del chars[i]
        elif kind == "swap" and i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        elif kind == "duplicate":
            chars.insert(i, chars[i])
        else:
            chars.insert(i, data.draw(st.sampled_from(list('"(){}#=\n-.:,')), label="char"))
    return "".join(chars)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(EXAMPLES), st.data())
def test_mutated_examples_give_diagnostics_not_exceptions(path: Path, data) -> None:
    text = _mutate(path.read_text(encoding="utf-8"), data)
    result = parse(text, "m.whuf")
    render(result.diagnostics, {"m.whuf": text})
    for d in result.diagnostics:
        assert d.code in CODES and d.message and d.span.file == "m.whuf"
        assert not LARK_TERMINAL.search(d.message), d.message
        assert d.hint is None or not LARK_TERMINAL.search(d.hint), d.hint


def test_grammar_generated_text_never_crashes() -> None:
    """Hypothesis' Lark strategy writes text from the grammar itself; the front end must take all of it."""
    lark_strategies = pytest.importorskip("hypothesis.extra.lark")
    from lark import Lark

    from strategies import dates, datetimes, names, texts
    from whuffie import nodes as n
    from whuffie.formatter import format_number, format_string, format_time
    from whuffie.parser import grammar_path

    # A plain copy of the grammar (no in-parse builder) for the generator.
    grammar = Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr", lexer="contextual", start="start")
    # Whitespace is ignored by the grammar, so the generator never writes any: every token brings its own.
    spaced = {t.name: st.just(f" {t.pattern.value} ") for t in grammar.terminals if t.pattern.type == "str"}
    spaced.update({
        "NAME": names.map(lambda s: f" {s} "),
        "INT": st.integers(0, 10**6).map(lambda i: f" {i} "),
        "FLOAT": st.floats(0, 1e6).map(lambda f: f" {format_number(f)} "),
        "STRING": texts.map(lambda s: f" {format_string(s)} "),
        "DATE": dates.map(lambda d: f" {d.isoformat()} "),
        "DATETIME": datetimes.map(lambda d: f" {format_time(n.DateTime(d))} "),
        "COMMENT": texts.filter(lambda s: "\n" not in s).map(lambda s: f" #{s}\n"),
    })
    strategy = lark_strategies.from_lark(grammar, start="start", explicit=spaced)
    outcomes = {"ok": 0, "errors": 0}

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def check(text: str) -> None:
        result = parse(text, "g.whuf")
        render(result.diagnostics, {"g.whuf": text})
        outcomes["ok" if result.ok else "errors"] += 1

    check()
    # Grammar-made text is valid except for literal errors (W004) and nesting (W005).
    assert outcomes["ok"] > outcomes["errors"], outcomes


@pytest.mark.parametrize("code", FRONT_END_CODES)
def test_error_page_example_fails_with_its_code_and_the_fix_parses(code: str) -> None:
    text = (ROOT / "docs" / "errors" / f"{code}.md").read_text(encoding="utf-8")
    golden = re.search(r"tests/golden/syntax/(\w+)\.whuf", text).group(1)
    # The rendered message shown on the page is the golden output, verbatim.
    assert (GOLDEN / f"{golden}.out").read_text(encoding="utf-8") in text
    blocks = dict(re.findall(r"^```([\w-]+)\n(.*?)^```$", text, re.M | re.S))
    if "whuffie-invalid" in blocks:
        assert code in [d.code for d in parse(blocks["whuffie-invalid"], "page.whuf").diagnostics]
    if "whuffie-fragment" in blocks:
        fixed = parse(blocks["whuffie-fragment"], "fix.whuf")
        assert fixed.ok and not fixed.diagnostics


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_recovery_drops_exactly_the_broken_declarations(data) -> None:
    """Break some declarations of a valid file: each gives one error, and every other one parses as before."""
    from strategies import programs

    from whuffie.formatter import format_program

    program = data.draw(programs.filter(lambda p: p.items), label="program")
    text = format_program(program)
    spans = [d.span for d in parse(text, "r.whuf").program.items]
    broken = data.draw(st.sets(st.integers(0, len(spans) - 1)), label="broken")
    lines = text.split("\n")
    for i in broken:
        lines[spans[i].line - 1] += " @"
    result = parse("\n".join(lines), "r.whuf")
    assert [d.code for d in result.diagnostics] == ["W003"] * len(broken)
    assert sorted(d.span.line for d in result.diagnostics) == sorted(spans[i].line for i in broken)
    kept = tuple(d for i, d in enumerate(program.items) if i not in broken)
    assert result.program.items == kept


# Issue 10: literals no engine can hold are located W004s, not ValueError or an inf that fmt cannot print.

@pytest.mark.parametrize("award, message", [
    ("1.0e999", "would be infinite"),
    ("-1.0e400", "would be infinite"),
    ("9" * 5000, "5000 digits"),
])
def test_unrepresentable_literal_is_w004(award, message):
    from whuffie.frontend import load_text

    text = ('ruleset x "x"\nauthor a "A"\nsubject member { }\nevent e { }\n'
            f'rule r by a because "b"\n  on e\n  award {award}\n')
    loaded = load_text(text, "x.whuf")
    codes = [(d.code, d.span.line, d.span.col) for d in loaded.diagnostics]
    assert ("W004", 7, 9 if not award.startswith("-") else 10) in codes
    assert any(message in d.message for d in loaded.diagnostics)


RULE_HEAD = 'ruleset t\nauthor a "A"\nevent ev { x: int }\nrule r by a because "x" on ev '


@pytest.mark.parametrize("window", ["day", "week", "month", "year"])
@pytest.mark.parametrize("clause", ["award 1 cap 30 per {}s", "award 1 once per {}s"])
def test_a_plural_window_names_the_word_written_and_hints_the_singular(window: str, clause: str) -> None:
    text = RULE_HEAD + clause.format(window) + "\n"
    [d] = parse(text, "t.whuf").diagnostics
    assert d.code == "W001"
    assert f'unexpected "{window}s"' in d.message
    assert f"per {window}" in d.hint and "singular" in d.hint
    assert d.span.end_col - d.span.col == len(window) + 1
    assert text.splitlines()[d.span.line - 1][d.span.col - 1:d.span.end_col - 1] == f"{window}s"


@pytest.mark.parametrize("clause", ["award 1 decay half_life 1 month", "award 1 decay half_life 2 years",
                                    "where x > 1 year award 1", "award 1 decay half_life 3 months"])
def test_months_and_years_as_durations_hint_days(clause: str) -> None:
    [d] = parse(RULE_HEAD + clause + "\n", "t.whuf").diagnostics
    assert "no fixed length" in d.hint
    assert ("30 days" if "month" in clause else "365 days") in d.hint


@pytest.mark.parametrize("clause, rewrite", [
    ("award -5 if x > 1 else -2", "award if x > 1 then -5 else -2"),
    ("award 3 if x == 2 else 0  # python habit", "award if x == 2 then 3 else 0"),
])
def test_a_python_style_conditional_hints_if_then_else(clause: str, rewrite: str) -> None:
    [d] = parse(RULE_HEAD + clause + "\n", "t.whuf").diagnostics
    assert rewrite in d.hint


def test_a_python_style_conditional_in_a_score_hints_if_then_else() -> None:
    [d] = parse('ruleset t\nscore s = points if points > 0 else 0\n', "t.whuf").diagnostics
    assert "= if points > 0 then points else 0" in d.hint

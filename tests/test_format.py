"""The formatter: round-trip and idempotence laws, comments kept, golden layout, and `whuffie fmt`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from strategies import exprs, programs
from whuffie import nodes as n
from whuffie.formatter import format_expr, format_number, format_program, format_string
from whuffie.parser import parse, parse_expression

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "format"
EXAMPLES = sorted(ROOT.glob("examples/*/*.whuf")) + sorted(ROOT.glob("stdlib/std/*.whuf"))
WHUFFIE = [sys.executable, "-m", "whuffie"]


def parsed(text: str) -> n.Program:
    result = parse(text, "t.whuf")
    assert result.ok, result.diagnostics
    return result.program


def fmt(text: str) -> str:
    return format_program(parsed(text))


# ---------------------------------------------------------------- laws


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs)
def test_parse_of_format_is_identity(program: n.Program) -> None:
    text = format_program(program)
    assert parsed(text) == program, text


@settings(max_examples=300, deadline=None)
@given(exprs)
def test_expression_round_trip(expr) -> None:
    text = format_expr(expr)
    back, diags = parse_expression(text)
    assert not diags, (text, diags)
    assert back == expr, text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs)
def test_format_is_idempotent(program: n.Program) -> None:
    once = format_program(program)
    assert fmt(once) == once


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_examples_idempotent_and_meaning_kept(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    program = parsed(source)
    once = format_program(program)
    assert parsed(once) == program
    assert fmt(once) == once
    assert [c.text for c in parsed(once).comments] == [c.text for c in program.comments]


def test_library_example_is_already_formatted() -> None:
    path = ROOT / "examples" / "library" / "rules.whuf"
    source = path.read_text(encoding="utf-8")
    assert fmt(source) == source


# ---------------------------------------------------------------- comments

_NOTE = re.compile(r"note\d+")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, st.data())
def test_comments_survive_anywhere(program: n.Program, data) -> None:
    """Comments inserted on their own lines or at line ends all come back, in order, stably."""
    lines = format_program(program).splitlines()
    assume(lines)
    out: list[str] = []
    count = 0
    for line in lines:
        if data.draw(st.booleans(), label="own-line comment before"):
            out.append(f"# note{count}")
            count += 1
        if data.draw(st.booleans(), label="trailing comment"):
            line += f"  # note{count}"
            count += 1
        out.append(line)
    commented = "\n".join(out) + "\n"
    program_again = parsed(commented)
    assert program_again.items == program.items
    formatted = format_program(program_again)
    assert parsed(formatted).items == program.items
    kept = [m for c in parsed(formatted).comments for m in _NOTE.findall(c.text)]
    assert kept == [f"note{i}" for i in range(count)]
    assert fmt(formatted) == formatted


def test_comment_placement() -> None:
    source = (
        "# header\n"
        "ruleset r   # the name\n"
        "\n\n\n"
        "# about ada\n"
        "author ada\n"
        "rule a by ada\n"
        "  # why\n"
        "  because \"x\"   # trailing\n"
        "  on e\n"
        "  where true\n"
        "  # last words\n"
        "# after the rule\n"
    )
    assert fmt(source) == (
        "# header\n"
        "ruleset r  # the name\n"
        "\n"
        "# about ada\n"
        "author ada\n"
        "\n"
        "rule a by ada\n"
        "  # why\n"
        "  because \"x\"  # trailing\n"
        "  on e where true\n"
        "\n"
        "# last words\n"
        "# after the rule\n"
    )


def test_comment_inside_a_short_declaration_keeps_it_spread() -> None:
    source = 'tier t when x > 1\n  # reviewed in March\n  by ada because "y"\n'
    assert fmt(source) == source
    assert fmt('tier t when x > 1 by ada because "y"\n') == 'tier t when x > 1 by ada because "y"\n'


# ---------------------------------------------------------------- details


@pytest.mark.parametrize("source, expected", [
    ("1 + 2 * 3", "1 + 2 * 3"),
    ("(1 + 2) * 3", "(1 + 2) * 3"),
    ("1 - (2 - 3)", "1 - (2 - 3)"),
    ("(1 - 2) - 3", "1 - 2 - 3"),
    ("((a))", "a"),
    ("a ?? (b ?? c)", "a ?? b ?? c"),
    ("(a ?? b) ?? c", "(a ?? b) ?? c"),
    ("(a < b) == c", "(a < b) == c"),
    ("0 <= x <= 200", "0 <= x <= 200"),
    ("not (a and b)", "not (a and b)"),
    ("(not a) and b", "not a and b"),
    ("- (- 3)", "- -3"),
    ("-(a * b)", "-(a * b)"),
    ("(standing) of m", "standing of m"),
    ("(a + b) of m", "(a + b) of m"),
    ("x of \"Mary Jane\"", "x of \"Mary Jane\""),
    ("(if a then b else c) + 1", "(if a then b else c) + 1"),
    ("if a then b else c or d", "if a then b else c or d"),
    ("a or (b and c)", "a or b and c"),
    ("(a or b) and c", "(a or b) and c"),
    ("x not in [1, 2]", "x not in [1, 2]"),
    ("not x in []", "not x in []"),
    ("(a in [1]) == b", "(a in [1]) == b"),
    ("f()", "f()"),
    ("member.joined", "member.joined"),
    ("(a + b).c", "(a + b).c"),
    ("1 days", "1 day"),
    ("2 week", "2 weeks"),
    ("1.0 hours", "1.0 hour"),
    ("2026-01-10T09:30:00+00:00", "2026-01-10T09:30:00Z"),
    ("2026-01-10T09:30", "2026-01-10T09:30:00"),
    ("2026-01-10T09:30:00-05:30", "2026-01-10T09:30:00-05:30"),
])
def test_expression_layout(source: str, expected: str) -> None:
    expr, diags = parse_expression(source)
    assert not diags
    assert format_expr(expr) == expected


@pytest.mark.parametrize("value, expected", [
    (0, "0"), (12, "12"), (1.0, "1.0"), (0.1, "0.1"), (1e-05, "1.0e-05"), (1e16, "1.0e+16"),
    (1.5e300, "1.5e+300"), (123456789.125, "123456789.125"),
])
def test_numbers(value, expected) -> None:
    assert format_number(value) == expected
    back, _ = parse_expression(expected)
    assert back == n.Number(value) and type(back.value) is type(value)


@given(st.floats(min_value=0, allow_nan=False, allow_infinity=False))
def test_floats_round_trip_exactly(value: float) -> None:
    back, _ = parse_expression(format_number(abs(value)))
    assert back.value == abs(value) and isinstance(back.value, float)


def test_strings_are_re_escaped() -> None:
    value = 'say "hi"\\ \n\t\r \x01 \u2028 é'
    text = format_string(value)
    assert text == '"say \\"hi\\"\\\\ \\n\\t\\r \\u{1} \\u{2028} é"'
    back, _ = parse_expression(text)
    assert back == n.String(value)


def test_long_declarations_split_and_short_ones_fold() -> None:
    long_reason = "r" * 80
    source = f'privilege p when reputation >= 15 by so_team because "{long_reason}"\n'
    assert fmt(source) == f'privilege p when reputation >= 15\n  by so_team because "{long_reason}"\n'
    fields = ", ".join(f"field_{i}: int in 0..10" for i in range(6))
    out = fmt(f"event e {{ {fields} }}\n")
    assert out.splitlines()[0] == "event e {"
    assert out.splitlines()[1] == "  field_0: int in 0..10"
    assert fmt("subject member {\n  joined: date\n}\n") == "subject member { joined: date }\n"


def test_blank_lines_collapse_and_surround_multi_line_declarations() -> None:
    source = ("author a\n\n\n\nauthor b\nauthor c\nrule r by a\n  award 1\nscore s = 1\n"
              "score t = 2\n\n")
    assert fmt(source) == ("author a\n\nauthor b\nauthor c\n\nrule r by a\n  award 1\n\nscore s = 1\n"
                           "score t = 2\n")


# ---------------------------------------------------------------- golden


def test_golden_messy_file(golden) -> None:
    messy = GOLDEN / "messy.whuf"
    got = fmt(messy.read_text(encoding="utf-8"))
    golden(GOLDEN / "messy.out", got)
    assert fmt(got) == got


# ---------------------------------------------------------------- command line


def run_fmt(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(WHUFFIE + ["fmt", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_fmt_command(tmp_path: Path) -> None:
    messy = tmp_path / "messy.whuf"
    messy.write_text("author   ada\nscore s=( 1+2 )\n", encoding="utf-8")
    broken = tmp_path / "broken.whuf"
    broken.write_text("score s = (1 +\n", encoding="utf-8")

    check = run_fmt("--check", "messy.whuf", cwd=tmp_path)
    assert check.returncode == 1 and "would reformat messy.whuf" in check.stderr
    assert messy.read_text() == "author   ada\nscore s=( 1+2 )\n"

    diff = run_fmt("--diff", "messy.whuf", cwd=tmp_path)
    assert diff.returncode == 0 and "+score s = 1 + 2" in diff.stdout
    assert messy.read_text() == "author   ada\nscore s=( 1+2 )\n"

    write = run_fmt("messy.whuf", cwd=tmp_path)
    assert write.returncode == 0
    assert messy.read_text() == "author ada\nscore s = 1 + 2\n"
    assert run_fmt("--check", "messy.whuf", cwd=tmp_path).returncode == 0

    bad = run_fmt("broken.whuf", "missing.whuf", cwd=tmp_path)
    assert bad.returncode == 1
    assert "broken.whuf:1:15: error[W001]" in bad.stderr and "still open" in bad.stderr
    assert "missing.whuf: error[W006]" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert broken.read_text() == "score s = (1 +\n"


def test_long_and_or_chains_break_before_the_operator() -> None:
    terms = " and ".join(f"measure_number_{i} >= {i}" for i in range(9))
    source = f"tier regular when {terms}\n  by board because \"x\"\n"
    out = fmt(source)
    lines = out.splitlines()
    assert all(len(line) <= 88 for line in lines)
    assert lines[0].startswith("tier regular when measure_number_0 >= 0 and")
    assert all(line.startswith("    and measure_number_") for line in lines[1:-1])
    assert lines[-1] == '  by board because "x"'
    assert parsed(out) == parsed(source)
    assert fmt(out) == out
    rule = f"rule r by ada\n  on e where {terms.replace(' and ', ' or ')}\n  award 1\n"
    rule_out = fmt(rule)
    assert rule_out.splitlines()[2].startswith("      or measure_number_")
    assert parsed(rule_out) == parsed(rule) and fmt(rule_out) == rule_out
    # Only the outermost chain is broken; an operand longer than a line stays whole.
    nested = f"privilege p when ({terms}) or fallback\n"
    assert fmt(nested).splitlines()[1] == "    or fallback"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["a_long_measure_name >= 10", "b", "not c", "(d or e)", "x == y"]),
                min_size=2, max_size=30), st.sampled_from(["and", "or"]))
def test_broken_chains_round_trip(terms: list[str], op: str) -> None:
    source = f"privilege p when {f' {op} '.join(terms)}\n"
    out = fmt(source)
    assert parsed(out) == parsed(source)
    assert fmt(out) == out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, st.data())
def test_comments_between_any_two_tokens(program: n.Program, data) -> None:
    """Line breaks and comments dropped between any two tokens: meaning kept, every comment kept, stable."""
    from whuffie.parser import lark_parser

    text = format_program(program)
    tokens = list(lark_parser().lex(text))
    gaps = [(a.end_pos, b.start_pos) for a, b in zip(tokens, tokens[1:])
            if b.start_pos > a.end_pos and "\n" not in text[a.end_pos:b.start_pos]]
    assume(gaps)
    chosen = data.draw(st.lists(st.sampled_from(gaps), unique=True, max_size=8), label="gaps")
    pieces, position, count = [], 0, 0
    for start, stop in sorted(chosen):
        kind = data.draw(st.sampled_from(["newline", "trailing", "own line"]), label="what")
        insert = {"newline": "\n  ", "trailing": f"  # note{count}\n", "own line": f"\n# note{count}\n"}[kind]
        count += kind != "newline"
        pieces += [text[position:start], insert]
        position = stop
    pieces.append(text[position:])
    source = "".join(pieces)
    again = parsed(source)
    assert again.items == program.items
    formatted = format_program(again)
    assert parsed(formatted).items == program.items
    kept = [m for c in parsed(formatted).comments for m in _NOTE.findall(c.text)]
    assert kept == [f"note{i}" for i in range(count)]
    assert fmt(formatted) == formatted


# ---------------------------------------------------------------- comments in defs, line endings

DEF_HEAD = 'ruleset t\nauthor a "A"\nsubject member { joined: date }\nevent ev { x: int }\n'


@pytest.mark.parametrize("body", [
    "def f(x: int) =\n  # the doubling\n  2 * x\n",
    "def f(x: int) = # after the equals sign\n  2 * x\n",
    "def f(x: int) = # c1\n  # c2\n  2 * # c3\n  x\n",
    "def f(x: int,\n      y: int): int =\n  # between\n  x + y\n",
])
def test_fmt_keeps_a_comment_between_the_equals_sign_and_a_def_body(tmp_path: Path, body: str) -> None:
    path = tmp_path / "d.whuf"
    path.write_text(DEF_HEAD + body, encoding="utf-8")
    result = run_fmt(str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    formatted = path.read_text(encoding="utf-8")
    assert [c.text for c in parsed(formatted).comments] == [c.text for c in parsed(DEF_HEAD + body).comments]
    assert parsed(formatted) == parsed(DEF_HEAD + body)
    assert fmt(formatted) == formatted


def test_an_own_line_comment_above_a_def_body_stays_on_its_own_line() -> None:
    formatted = fmt(DEF_HEAD + "def f(x: int) =\n  # the doubling\n  2 * x\n")
    assert "def f(x: int) =\n  # the doubling\n  2 * x\n" in formatted


def test_fmt_accepts_an_own_line_comment_inside_a_folded_expression(tmp_path: Path) -> None:
    path = tmp_path / "e.whuf"
    path.write_text(DEF_HEAD + 'rule r by a because "x" on ev award 1 +\n  # mid\n  2\n', encoding="utf-8")
    result = run_fmt(str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "# mid" in path.read_text(encoding="utf-8")


def test_fmt_keeps_crlf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "crlf.whuf"
    formatted = fmt(DEF_HEAD + "def f(x: int) = 2 * x  # doubled\n")
    crlf = formatted.replace("\n", "\r\n")
    path.write_bytes(crlf.encode("utf-8"))
    check = run_fmt("--check", str(path), cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    messy = DEF_HEAD.replace("\n", "\r\n") + "def f(x: int)   =   2*x  # doubled\r\n"
    path.write_bytes(messy.encode("utf-8"))
    assert run_fmt(str(path), cwd=tmp_path).returncode == 0
    assert path.read_bytes() == crlf.encode("utf-8")


def test_format_program_writes_the_line_ending_asked_for() -> None:
    once = fmt(DEF_HEAD)
    assert format_program(parsed(DEF_HEAD), newline="\r\n") == once.replace("\n", "\r\n")

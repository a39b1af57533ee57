"""Mutated rule files through the whole front end: parse, check, render, fmt.

Every example and stdlib file is mutated (deletions, duplicated lines, and
insertions from a pool of hostile pieces: deep nesting, huge literals, odd line
breaks, wide characters, keywords out of place). The laws:

- no pass raises: every problem is a Diagnostic with a known code, and the
  renderer draws it;
- a diagnostic's line exists in the file and its caret stays on that line;
- when the file parses, `fmt` is meaning-preserving (same AST) and idempotent.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from whuffie import diagnostics, sourcelines
from whuffie.formatter import format_program
from whuffie.frontend import load_text
from whuffie.parser import parse

from .budget import fuzz_settings

ROOT = Path(__file__).resolve().parents[2]
CORPUS = sorted([*ROOT.glob("examples/*/rules.whuf"), *ROOT.glob("stdlib/**/*.whuf")])
SOURCES = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in CORPUS}

# Pieces a hostile or careless writer puts into a rule file.
HOSTILE = [
    "(", ")", "{", "}", "[", "]", '"', "#", "\n", "\r\n", "\r", "\t", "\f", "\v", "\x85", "\u2028", "\u2029",
    "\x00", "\ufeff", "界", "😀", "é", "e\u0301", " and ", " or ", " not ", " if ", " then ", " else ",
    "award ", " where ", " cap 30 per weeks", " cap 10 per day", " once", " decay half_life 1 month",
    " within 1.0e300 days", " within 99999999999 days", " 1.0e999", " 1e308", "9" * 4400, "-9223372036854775808",
    "abs(" * 190 + "1" + ")" * 190, "(" * 250 + "1" + ")" * 250, "-" * 199 + "1", " and x > 1" * 40,
    " < 1" * 300, 'import "std/' + "a" * 300 + '"', 'import "../../etc/passwd"', "def f(x) = ",
    "rule r by ada because \"x\" on e award -5 if c else -2\n", "0001-01-01", "9999-12-31T23:59:59Z",
    " days(1.0e300 days)", " per fortnight", "score s = ", "tier t when ", "privilege p when ",
    " ?? ", " in 1..2", " 1 / 0", " % 0", "clamp(", "min(", "max(", ",", ":", "=", "==", ".", "..",
]


# Expressions that are well formed but extreme, spliced in front of an existing expression.
EXTREME_TERMS = [
    "abs(" * 190 + "1" + ")" * 190, "(" * 199 + "1" + ")" * 199, "- " * 199 + "1", "9" * 4400, "1.0e308 * 10",
    "(1.0e308 * 10 - 1.0e308 * 10)", "9223372036854775807 + 1", "days(1.0e300 days)", "1 / 0", "5 % 0",
    "min(" * 100 + "1" + ", 2)" * 100, "clamp(" * 60 + "1" + ", 0, 2)" * 60, "(if true then 1 else 2)",
]
SPLICE_AFTER = ["award ", "where ", " = ", "when ", "cap "]


@st.composite
def mutated(draw) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(SOURCES)))
    text = SOURCES[name]
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "insert", "splice", "splice", "delete", "duplicate", "char"]))
        anchors = [i + len(a) for a in SPLICE_AFTER for i in _occurrences(text, a)]
        if kind == "splice" and anchors:
            at = draw(st.sampled_from(anchors))
            joiner = draw(st.sampled_from([" + ", " * ", " > 0 and ", " or ", " - "]))
            text = text[:at] + draw(st.sampled_from(EXTREME_TERMS)) + joiner + text[at:]
        elif kind == "insert":
            text = text[:at] + draw(st.sampled_from(HOSTILE)) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        elif kind == "duplicate":
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            text = "\n".join(lines)
        else:
            text = text[:at] + draw(st.characters(codec="utf-8")) + text[at + 1:]
    return name, text


def _occurrences(text: str, word: str) -> list[int]:
    out, at = [], text.find(word)
    while at >= 0:
        out.append(at)
        at = text.find(word, at + 1)
    return out


def _visible(line: str) -> str:
    """A line without what a renderer may show differently: spaces, controls, format characters."""
    return "".join(c for c in line if not unicodedata.category(c).startswith(("C", "Z")))


def assert_diagnostics_drawable(diags: list[diagnostics.Diagnostic], path: str, text: str) -> None:
    rendered = diagnostics.render(diags, {path: text})
    assert rendered.count("[W") >= len(diags)
    for d in diags:
        assert d.code in diagnostics.CODES, d
        if d.span.line and d.span.file == path:
            # The renderer shows the very line the lexer counted, and the caret starts on it.
            shown = sourcelines.line(text, d.span.line)
            assert shown is not None or d.span.line == sourcelines.count(text) + 1, (d, sourcelines.count(text))
            if shown is not None:
                assert 1 <= d.span.col <= len(shown) + 2, (d, shown)
                drawn = diagnostics.render_one(d, text).split("\n")[2].partition(" | ")[2]
                assert _visible(drawn) == _visible(shown), (d, shown, drawn)


@fuzz_settings(quick=300)
@given(mutated())
def test_mutated_rule_files_give_diagnostics_never_exceptions(case):
    name, text = case
    loaded = load_text(text, name)
    assert_diagnostics_drawable(loaded.diagnostics, name, text)
    if loaded.program is None or any(d.is_error for d in loaded.diagnostics if d.code < "W010"):
        return
    formatted = format_program(loaded.program)
    again = parse(formatted, name)
    assert again.ok, diagnostics.render(again.diagnostics, {name: formatted})
    assert again.program == loaded.program, "fmt changed the meaning"
    assert format_program(again.program) == formatted, "fmt is not idempotent"

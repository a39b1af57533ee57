"""What a line is: the lexer's count (at "\\n" only), used wherever rule-file text is shown or located."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whuffie import sourcelines
from whuffie.diagnostics import render
from whuffie.frontend import load_text

ODD_BREAKS = ["\f", "\v", "\x85", "\u2028", "\u2029", "\r", "\x1c", "\x1d", "\x1e"]
texts = st.lists(st.sampled_from(["a", "b", " ", "\n", "\r\n", *ODD_BREAKS]), max_size=40).map("".join)


@given(texts)
def test_every_character_is_where_line_col_says(text: str) -> None:
    lines = sourcelines.split(text)
    for offset, ch in enumerate(text):
        if ch == "\n" or (ch == "\r" and text[offset + 1:offset + 2] == "\n"):
            continue
        line, col = sourcelines.line_col(text, offset)
        assert lines[line - 1][col - 1] == ch


@given(texts)
def test_lines_with_their_ends_give_the_text_back(text: str) -> None:
    assert "".join(sourcelines.split_keeping_ends(text)) == text
    assert len(sourcelines.split_keeping_ends(text)) == len(sourcelines.split(text)) == sourcelines.count(text)


@given(texts)
def test_a_shown_line_has_one_column_per_character(text: str) -> None:
    for line in sourcelines.split(text):
        shown = sourcelines.shown(line)
        assert len(shown) == len(line)
        assert shown.splitlines() == ([shown] if shown else [])


def test_line_endings() -> None:
    assert sourcelines.line_ending("a\r\nb\r\n") == "\r\n"
    assert sourcelines.line_ending("a\nb\r\n") == "\n"
    assert sourcelines.line_ending("") == "\n"


RULES = ('ruleset t\n# a comment with {odd} inside\nauthor a "A"\nsubject member {{ joined: date }}\n'
         'event ev {{ x: int }}\nrule r by a because "x{odd}y" on ev award zz\n')


@pytest.mark.parametrize("odd", ODD_BREAKS)
def test_a_diagnostic_after_an_odd_line_break_shows_its_own_line_with_the_caret_under_it(odd: str) -> None:
    text = RULES.format(odd=odd)
    loaded = load_text(text, "t.whuf")
    [d] = [d for d in loaded.diagnostics if d.code == "W010"]
    assert (d.span.line, d.span.col) == (6, 39)
    shown = render([d], {"t.whuf": text}).splitlines()
    source_line = next(s for s in shown if s.startswith("6 |"))
    caret_line = next(s for s in shown if s.lstrip(" |").startswith("^"))
    assert source_line.endswith("award zz")
    assert caret_line.index("^") == source_line.index("zz")


@pytest.mark.parametrize("odd", ODD_BREAKS)
def test_a_syntax_error_after_an_odd_line_break_is_located_and_shown(odd: str) -> None:
    text = f'ruleset t\n# {odd} here\nauthor a "A"\nscore s = 1 +\n'
    loaded = load_text(text, "t.whuf")
    d = loaded.diagnostics[0]
    assert d.span.line in (4, 5)
    shown = render([d], {"t.whuf": text})
    assert "score s = 1 +" in shown or d.span.line == 5


# extra: the columns the terminal adds (wide characters) or takes away (a combining mark) before the span
@pytest.mark.parametrize(("because", "extra"), [("规则", 2), ("ルール説明", 5), ("plain", 0), ("e\u0301", -1)])
def test_the_caret_sits_under_the_span_as_a_terminal_draws_wide_characters(because: str, extra: int) -> None:
    text = f'ruleset t\nauthor a "A"\nsubject member {{ joined: date }}\nevent ev {{ x: int }}\n' \
           f'rule r by a because "{because}" on ev award zz\n'
    [d] = [d for d in load_text(text, "t.whuf").diagnostics if d.code == "W010"]
    shown = render([d], {"t.whuf": text}).splitlines()
    source_line = next(s for s in shown if s.startswith("5 |"))
    caret_line = next(s for s in shown if s.lstrip(" |").startswith("^"))
    before = source_line[:source_line.index("zz")]
    assert caret_line.index("^") == sourcelines.display_width(before)
    assert caret_line.index("^") - source_line.index("zz") == extra
    assert caret_line.endswith("^^")

"""The Pygments lexer: covers every example without errors, marks keywords, round-trips text."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark import Lark, Token
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Error, Keyword, Name, Number, Operator, String

from whuffie.highlight import TYPE_NAMES, WhuffieLexer
from whuffie.parser import grammar_path

ROOT = Path(__file__).resolve().parents[1]
RULE_FILES = sorted(ROOT.glob("examples/**/*.whuf")) + sorted(ROOT.glob("stdlib/**/*.whuf")) + \
    [ROOT / "tests" / "data" / "german_credit" / "rules.whuf"]  # factors and enumerated fields


def lex(text: str) -> list[tuple[int, object, str]]:
    return list(WhuffieLexer().get_tokens_unprocessed(text))


@lru_cache(maxsize=1)
def token_keeping_parser() -> Lark:
    """The project grammar, built so that keyword tokens stay in the tree."""
    return Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr", lexer="contextual",
                keep_all_tokens=True, start="start")


def keyword_offsets(text: str) -> dict[int, str]:
    """Offsets of the words the real parser read as keywords (not as NAME)."""
    tree = token_keeping_parser().parse(text)
    found: dict[int, str] = {}
    for tok in tree.scan_values(lambda v: isinstance(v, Token)):
        if tok.value.isalpha() or "_" in tok.value:
            if tok.type not in ("NAME", "STRING", "INT", "FLOAT", "DATE", "DATETIME"):
                found[tok.start_pos] = tok.value
    return found


def test_there_are_example_files():
    assert len(RULE_FILES) >= 3


def test_lexer_is_registered_with_pygments():
    assert isinstance(get_lexer_by_name("whuffie"), WhuffieLexer)
    assert isinstance(get_lexer_by_name("whuf"), WhuffieLexer)
    assert isinstance(get_lexer_for_filename("rules.whuf"), WhuffieLexer)


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_example_has_no_error_tokens_and_round_trips(path):
    text = path.read_text(encoding="utf-8")
    tokens = lex(text)
    errors = [(pos, value) for pos, kind, value in tokens if kind in Error]
    assert errors == []
    assert "".join(value for _, _, value in tokens) == text


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_keyword_the_parser_sees_is_highlighted_as_one(path):
    text = path.read_text(encoding="utf-8")
    kinds = {pos: (kind, value) for pos, kind, value in lex(text)}
    missed = []
    for offset, word in keyword_offsets(text).items():
        kind, value = kinds.get(offset, (None, None))
        if value != word or not (kind in Keyword or kind in Operator.Word):
            missed.append((text.count("\n", 0, offset) + 1, word, kind))
    assert missed == []


def name_offsets(text: str) -> dict[int, str]:
    """Offsets of the words the real parser read as names."""
    tree = token_keeping_parser().parse(text)
    return {tok.start_pos: tok.value for tok in tree.scan_values(lambda v: isinstance(v, Token))
            if tok.type == "NAME"}


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_name_the_parser_sees_is_highlighted_as_a_keyword(path):
    # Type names are NAMEs to the grammar (the checker resolves them) but read as types.
    text = path.read_text(encoding="utf-8")
    kinds = {pos: (kind, value) for pos, kind, value in lex(text)}
    wrong = []
    for offset, word in name_offsets(text).items():
        kind, _ = kinds.get(offset, (None, None))
        if kind is None:
            wrong.append((text.count("\n", 0, offset) + 1, word, "not a token start"))
        elif kind in Keyword.Type and word in TYPE_NAMES:
            continue
        elif kind in Keyword or kind in Operator.Word:
            wrong.append((text.count("\n", 0, offset) + 1, word, kind))
    assert wrong == []


def kinds_of(text: str) -> dict[str, object]:
    return {value: kind for _, kind, value in lex(text) if value.strip()}


def test_declaration_keyword_inside_an_expression_is_a_name():
    tokens = [(kind, value) for _, kind, value in lex("privilege keys when tier >= trusted\n")]
    assert tokens[0] == (Keyword.Declaration, "privilege")
    assert (Name, "tier") in tokens
    assert (Name, "trusted") in tokens


def test_unit_words_are_names_unless_they_follow_a_number():
    tokens = [(kind, value) for _, kind, value in lex("  award 3 * hours\n  decay half_life 180 days\n")]
    assert (Name, "hours") in tokens
    assert (Keyword.Type, "days") in tokens


def test_fields_and_calls_are_not_keywords():
    kinds = kinds_of("  where event.at > now and min(total, 3) == floor(x)\n")
    assert kinds["at"] in Name.Attribute
    assert kinds["min"] in Name.Builtin
    assert kinds["floor"] in Name.Builtin
    assert kinds["total"] in Name
    assert kinds["now"] in Name.Builtin.Pseudo
    assert kinds_of("  cap 1000 total\n")["total"] in Keyword


@pytest.mark.parametrize("text", [
    "rule r by a because \"b\" on e\n  award (x - 600) / 20\n",
    "rule r by a because \"b\" on e\n  where (x > 1 or y) and not (z) award 1\n",
    "privilege p when (tier >= basic) by a\n",
    "score s = if (a > 1) then (2) else (3)\n",
    "test \"t\" {\n  expect (s of m) == 1\n}\n",
])
def test_keywords_before_a_parenthesis_stay_keywords(text):
    kinds = {pos: (kind, value) for pos, kind, value in lex(text)}
    missed = [(word, kinds.get(pos)) for pos, word in keyword_offsets(text).items()
              if not (kinds.get(pos, (None,))[0] in Keyword or kinds.get(pos, (None,))[0] in Operator.Word)]
    assert missed == []


def test_aggregates_and_bounds_are_keywords():
    kinds = kinds_of("measure longest = max shift.hours default 0\n")
    assert kinds["max"] in Keyword
    assert kinds["default"] in Keyword
    kinds = kinds_of("score rep = 1 + points\n  floor 1 per event\n")
    assert kinds["floor"] in Keyword
    assert kinds["event"] in Keyword


def test_string_escapes_and_literals():
    tokens = [(kind, value) for _, kind, value in lex('  because "say \\"hi\\"\\n" at 2026-01-10T09:30:00Z 2026-01-10 1.5\n')]
    assert (String.Escape, '\\"') in tokens
    assert (String.Escape, "\\n") in tokens
    assert (Number.Other, "2026-01-10T09:30:00Z") in tokens
    assert (Number.Other, "2026-01-10") in tokens
    assert (Number.Float, "1.5") in tokens


def test_unknown_escape_and_unclosed_string_are_errors():
    assert any(kind in Error for _, kind, _ in lex('  because "bad \\q"\n'))
    assert any(kind in Error for _, kind, _ in lex('  because "never closed\n'))


whuffie_alphabet = st.sampled_from(list('abcdefghijklmnopqrstuvwxyz_0123456789 \t\n"\\#.:,(){}[]<>=!?+-*/%') +
                                   ["rule ", "tier ", "per day", "30 days", "2026-01-10", "T09:00Z", "é", "§"])


@settings(max_examples=300, deadline=None)
@given(st.lists(whuffie_alphabet, max_size=60).map("".join))
def test_any_text_round_trips(text):
    assert "".join(value for _, _, value in lex(text)) == text
    # The public entry point only adds the final newline Pygments always ensures.
    joined = "".join(value for _, value in WhuffieLexer().get_tokens(text))
    assert joined == (text if text.endswith("\n") else text + "\n")

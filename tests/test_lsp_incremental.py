"""The language server's incremental parser gives what parser.parse gives: the same program, spans and diagnostics."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_strategies import rule_sets
from whuffie import nodes as n
from whuffie.diagnostics import sort_key
from whuffie.lsp.incremental import IncrementalParser
from whuffie.parser import parse

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(ROOT.glob("examples/*/rules.whuf"))
GOLDEN = sorted((ROOT / "tests" / "golden").glob("*/*.whuf"))


def spans(program: n.Program | None) -> list:
    if program is None:
        return []
    return [node.span for node in n.walk(*program.items)] + [c.span for c in program.comments]


def assert_same(text: str, parser: IncrementalParser) -> None:
    whole = parse(text, "doc.whuf")
    pieces = parser.parse(text)
    assert pieces.program == whole.program
    assert spans(pieces.program) == spans(whole.program)
    assert sorted(pieces.diagnostics, key=sort_key) == sorted(whole.diagnostics, key=sort_key)


def test_every_golden_file_and_example_parses_the_same() -> None:
    # the golden files hold every syntax error the parser words, with the declarations around them
    for path in GOLDEN + EXAMPLES:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # W006's golden file is not UTF-8: no editor sends it
        assert_same(text, IncrementalParser("doc.whuf"))


def test_a_changed_declaration_is_parsed_again_and_the_others_are_reused() -> None:
    text = EXAMPLES[0].read_text(encoding="utf-8")
    parser = IncrementalParser("doc.whuf")
    before = parser.parse(text).program.items
    at = text.index("award ") + len("award ")
    after = parser.parse(text[:at] + "1" + text[at:]).program.items
    changed = [i for i, (old, new) in enumerate(zip(before, after)) if old is not new]
    assert len(changed) == 1 and isinstance(after[changed[0]], n.RuleDecl)


def test_a_keyword_in_column_1_that_continues_a_declaration() -> None:
    # `per` then `event` on the next line is the window `per event`, not an event declaration
    text = 'ruleset r "R"\nscore s = 1 + points\n  floor 1 per\nevent\n\ntier t otherwise\n'
    assert_same(text, IncrementalParser("doc.whuf"))
    assert [type(item).__name__ for item in IncrementalParser("doc.whuf").parse(text).program.items] == [
        "RulesetDecl", "ScoreDecl", "TierDecl"]


def test_an_empty_document_and_comments_only_warn_as_the_whole_file_does() -> None:
    for text in ("", "\n\n", "# only a comment\n"):
        assert_same(text, IncrementalParser("doc.whuf"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_sets())
def test_generated_rule_sets_parse_the_same(generated) -> None:
    assert_same(generated.text, IncrementalParser("doc.whuf"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(EXAMPLES), st.data())
def test_typing_into_an_example_parses_the_same_after_every_key(path: Path, data) -> None:
    """A few keys typed or deleted anywhere (breaking declarations, joining lines), each followed by a parse."""
    text = path.read_text(encoding="utf-8")
    parser = IncrementalParser("doc.whuf")
    parser.parse(text)
    for _ in range(data.draw(st.integers(1, 4), label="keys")):
        at = data.draw(st.integers(0, len(text)), label="at")
        if data.draw(st.booleans(), label="delete") and at < len(text):
            text = text[:at] + text[at + 1:]
        else:
            key = data.draw(st.sampled_from([*'a1 \n"(){}#=.:,r[]-', "\nevent", "\ntier ", "per ", "\nrule x"]),
                            label="key")
            text = text[:at] + key + text[at:]
        assert_same(text, parser)

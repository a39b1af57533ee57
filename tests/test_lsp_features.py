"""The language server's features as plain functions: positions, the name index, and answers at any cursor."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types as lsp

from whuffie import nodes as n
from whuffie.lsp.analysis import analyse
from whuffie.lsp.complete import complete
from whuffie.lsp.diagnose import to_lsp
from whuffie.lsp.edits import code_actions, format_document, outline
from whuffie.lsp.hover import hover
from whuffie.lsp.navigate import definition, prepare_rename, references
from whuffie.lsp.positions import LineTable

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(ROOT.glob("examples/*/rules.whuf"))
LIBRARY = (ROOT / "examples" / "library" / "rules.whuf").read_text(encoding="utf-8")


def test_columns_count_utf16_units_outside_the_basic_plane() -> None:
    table = LineTable('rule r because "📚 books" on e\nx\n')
    # 📚 is one code point (whuffie column) and two UTF-16 units (LSP character)
    assert table.to_lsp(1, 18) == lsp.Position(line=0, character=18)
    assert table.to_lsp(1, 19) == lsp.Position(line=0, character=19)
    assert table.from_lsp(lsp.Position(line=0, character=19)) == (1, 19)
    assert table.to_lsp(1, 27) == lsp.Position(line=0, character=27)
    assert table.from_lsp(lsp.Position(line=0, character=27)) == (1, 27)
    assert table.to_lsp(1, 17) == lsp.Position(line=0, character=16)  # the book itself


def test_crlf_lines_and_the_end_of_the_text() -> None:
    table = LineTable("a\r\nbc\r\n")
    assert table.lines == ["a", "bc"]
    assert table.offset(2, 2) == 4  # "a\r\n" is three characters
    assert table.end() == lsp.Position(line=2, character=0)
    assert LineTable("a\nbc").end() == lsp.Position(line=1, character=2)


def test_a_unicode_reason_keeps_later_ranges_right() -> None:
    text = LIBRARY.replace('"On-time returns keep the shelves full"', '"📚 on time 📚"')
    analysis = analyse("file:///lib.whuf", text.replace("on returned where days_late == 0",
                                                         "on returnd where days_late == 0"))
    (typo,) = [d for d in to_lsp(analysis) if d.code == "W012"]
    assert typo.range.start.character == 5 and typo.range.end.character == 12


def test_the_index_finds_every_kind_of_reference_in_the_library() -> None:
    analysis = analyse("file:///lib.whuf", LIBRARY)
    index = analysis.index
    uses = {key: len(index.uses(key)) for key in index.declarations}
    # upheld_complaint, three tiers, the privilege and four properties
    assert uses[("author", "council")] == 9
    assert uses[("event", "returned")] >= 3  # two rules and a measure (and tests)
    assert uses[("value", "standing")] >= 3  # two tiers, tests
    assert uses[("field:returned", "days_late")] >= 2  # two where clauses (and test events)
    assert uses[("value", "member")] >= 1  # the tier, read by the privilege
    assert uses[("rule", "volunteering")] == 2  # expect points(volunteering) of m, in two tests


def test_hover_definition_and_rename_agree_on_every_reference_of_the_examples() -> None:
    for path in EXAMPLES:
        text = path.read_text(encoding="utf-8")
        analysis = analyse(path.as_uri(), text)
        for ref in analysis.index.references:
            if ref.span.file != analysis.file:
                continue
            at = analysis.lines.to_lsp(ref.span.line, ref.span.col)
            (target,) = definition(analysis, at)
            assert target.range == analysis.lines.range(analysis.index.declarations[ref.key].span)
            assert hover(analysis, at) is not None
            assert any(loc.range == analysis.lines.range(ref.span) for loc in references(analysis, at))


def test_outline_lists_each_declaration_once_and_the_fields() -> None:
    symbols = outline(analyse("file:///lib.whuf", LIBRARY))
    names = [s.name for s in symbols]
    assert names[:4] == ["ada", "ben", "council", "member"]
    assert [c.name for c in symbols[3].children] == ["joined", "age", "postcode"]


def test_formatting_a_file_with_a_syntax_error_changes_nothing() -> None:
    assert format_document(analyse("file:///x.whuf", 'ruleset r "R"\nscore s = 1 +\n')) is None


def test_a_did_you_mean_from_the_parser_becomes_a_fix() -> None:
    text = LIBRARY.replace("  award 2\n  cap 20 per month", "  award 2\n  capp 20 per month")
    analysis = analyse("file:///x.whuf", text)
    syntax = [d for d in to_lsp(analysis) if d.code == "W001"]
    assert syntax and "did you mean" in syntax[0].message
    (fix,) = code_actions(analysis, syntax[:1])
    assert fix.edit.changes["file:///x.whuf"][0].new_text == "cap"


def test_rename_is_only_offered_on_a_declared_name() -> None:
    analysis = analyse("file:///lib.whuf", LIBRARY)
    line = LIBRARY.splitlines().index("score standing = clamp(100 + points, 0, 200)")
    assert prepare_rename(analysis, lsp.Position(line=line, character=8)) is not None
    assert prepare_rename(analysis, lsp.Position(line=line, character=2)) is None  # the keyword


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(EXAMPLES), st.data())
def test_no_feature_raises_at_any_cursor_even_in_a_broken_file(path: Path, data) -> None:
    text = path.read_text(encoding="utf-8")
    if data.draw(st.booleans(), label="break it"):
        at = data.draw(st.integers(0, len(text)), label="at")
        text = text[:at] + data.draw(st.sampled_from(['"', "(", "{", "\nrule", " = ", "#"]), label="junk") + text[at:]
    analysis = analyse("file:///x.whuf", text)
    lines = text.split("\n")
    line = data.draw(st.integers(0, len(lines)), label="line")
    character = data.draw(st.integers(0, len(lines[line]) + 2 if line < len(lines) else 3), label="character")
    position = lsp.Position(line=line, character=character)
    hover(analysis, position)
    definition(analysis, position)
    references(analysis, position)
    complete(analysis, position)
    prepare_rename(analysis, position)
    code_actions(analysis, to_lsp(analysis))


def test_every_declaration_with_a_name_has_an_outline_kind() -> None:
    import typing

    from whuffie.lsp.edits import _SYMBOL_KIND

    named = {t for t in typing.get_args(n.Decl) if "name_span" in t.__slots__}
    assert named - set(_SYMBOL_KIND) == set(), "give the new declaration a SymbolKind in lsp/edits.py"


def test_related_places_of_a_cycle_and_of_a_rule_named_twice() -> None:
    text = '''ruleset r "R"
def f(x: int): int = g(x) + 1
def g(x: int): int = f(x) - 1
shared cap c 10 per day over a, b, a by ada because "y"
author ada "A"
event e {}
rule a by ada because "x" on e award f(1)
rule b by ada because "x" on e award 1
'''
    found = {(d.code, d.range.start.line): d for d in to_lsp(analyse("file:///c.whuf", text))}
    (other,) = found[("W056", 1)].related_information  # f -> g -> f, reported at f: g is the other member
    assert (other.location.range.start.line, other.location.range.start.character) == (2, 4)
    assert other.message == "def g is part of the cycle"
    (first,) = found[("W057", 3)].related_information  # the second `a` (column 35) points at the first (29)
    assert found[("W057", 3)].range.start.character == 35
    assert first.location.range.start.character == 29


def _decode(data: list[int]) -> list[tuple[int, int, int, int]]:
    out, line, start = [], 0, 0
    for i in range(0, len(data), 5):
        d_line, d_start, length, kind, _ = data[i:i + 5]
        line, start = line + d_line, (start + d_start if d_line == 0 else d_start)
        out.append((line, start, length, kind))
    return out


def test_semantic_tokens_mark_what_the_parser_reads_as_keywords() -> None:
    from test_highlight import keyword_offsets

    from whuffie.lsp.semantic import LEGEND, semantic_tokens

    for path in EXAMPLES:
        text = path.read_text(encoding="utf-8")
        decoded = _decode(list(semantic_tokens(text).data))
        kinds = {(line, start): LEGEND[kind] for line, start, _, kind in decoded}
        lines = text.split("\n")
        for line, start, length, _ in decoded:  # every token lies within its line
            assert start + length <= len(lines[line].encode("utf-16-le")) // 2
        for offset, word in keyword_offsets(text).items():
            line = text.count("\n", 0, offset)
            column = offset - (text.rfind("\n", 0, offset) + 1)
            assert kinds.get((line, column)) in ("keyword", "type"), (path.name, line + 1, word)


def test_semantic_tokens_of_a_small_rule() -> None:
    from whuffie.lsp.semantic import LEGEND, semantic_tokens

    decoded = _decode(list(semantic_tokens('rule r by ada\n  award 2 # why\n').data))
    assert [(line, start, length, LEGEND[kind]) for line, start, length, kind in decoded] == [
        (0, 0, 4, "keyword"), (0, 5, 1, "class"), (0, 7, 2, "keyword"), (0, 10, 3, "variable"),
        (1, 2, 5, "keyword"), (1, 8, 1, "number"), (1, 10, 5, "comment")]


def test_hover_on_an_imported_def_shows_its_comment_from_the_stdlib() -> None:
    text = 'ruleset r "R"\nimport "std/math"\nscore s = percent(points, 200)\n'
    shown = hover(analyse("file:///x.whuf", text), lsp.Position(line=2, character=12)).contents.value
    assert shown.startswith("**def** `percent`: number")
    assert "part as a percentage of whole; 0 when whole is 0" in shown
    assert shown.rstrip().endswith("std/math.whuf`")


def test_conditions_and_factors_are_declared_and_referred_to() -> None:
    text = '''ruleset r "R"
author ada "A"
event loan { months: int in 1..72 }
rule short by ada because "s" on loan where months <= 12 award 10
rule long by ada because "l" on loan where months > 12 award 0
factor duration over short, long by ada because "duration"
measure loans = count loan
condition regular = loans >= 2 by ada because "two loans"
tier good when regular by ada
tier other otherwise by ada
'''
    analysis = analyse("file:///f.whuf", text)
    index = analysis.index
    assert len(index.uses(("rule", "short"))) == 1 and len(index.uses(("rule", "long"))) == 1  # in `over`
    assert len(index.uses(("value", "regular"))) == 1  # read by the tier
    assert len(index.uses(("value", "loans"))) == 1  # read by the condition
    at = analysis.lines.to_lsp(9, 16)  # `regular` in the tier
    (target,) = definition(analysis, at)
    assert target.range == analysis.lines.range(index.declarations[("value", "regular")].span)
    kinds = {s.name: s.kind for s in outline(analysis)}
    assert kinds["duration"] == lsp.SymbolKind.Enum and kinds["regular"] == lsp.SymbolKind.Boolean


def test_a_param_is_declared_and_found_where_it_is_read_and_where_a_literal_goes() -> None:
    text = '''ruleset r "R"
author ada "A"
event post { words: int in 0..1000 }
param long = 100 by ada because "a long post"
param daily = 20 by ada because "a day's cap"
rule r by ada because "r" on post where words >= long award 1 cap daily per day
score s = points
'''
    analysis = analyse("file:///p.whuf", text)
    index = analysis.index
    assert len(index.uses(("value", "long"))) == 1  # in the where clause
    assert len(index.uses(("value", "daily"))) == 1  # `cap daily`: a ParamRef
    assert {s.name: s.kind for s in outline(analysis)}["long"] == lsp.SymbolKind.Constant

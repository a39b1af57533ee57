"""Semantic tokens: the Pygments lexer's tokens (highlight.WhuffieLexer) in LSP's encoding.

For editors that highlight through the server rather than a TextMate grammar
(Helix, Neovim without a whuffie grammar). Each token is five numbers: the line
and start relative to the previous token, the length (UTF-16 units), the type's
index in ``LEGEND`` and no modifiers.
"""

from __future__ import annotations

from lsprotocol import types as lsp
from pygments.token import Comment, Keyword, Name, Number, Operator, String

from ..highlight import WhuffieLexer

LEGEND = ["keyword", "type", "string", "number", "comment", "operator", "class", "function", "property",
          "variable"]

# The first Pygments type (most specific first) that a token is in decides its semantic type.
_MAPPING = [
    (Keyword.Type, "type"), (Keyword, "keyword"), (Operator.Word, "keyword"), (Operator, "operator"),
    (String, "string"), (Number, "number"), (Comment, "comment"), (Name.Class, "class"),
    (Name.Function, "function"), (Name.Builtin.Pseudo, "variable"), (Name.Builtin, "function"),
    (Name.Attribute, "property"), (Name.Variable, "property"), (Name, "variable"),
]

LEGEND_OPTIONS = lsp.SemanticTokensLegend(token_types=LEGEND, token_modifiers=[])


def _semantic_type(kind) -> int | None:
    for pygments_type, name in _MAPPING:
        if kind in pygments_type:
            return LEGEND.index(name)
    return None  # whitespace, punctuation, error


def tokens(text: str) -> list[tuple[int, int, int, int]]:
    """(line, start, length, type) of each highlighted token, 0-based and in UTF-16 units."""
    found = []
    line, column = 0, 0
    for _, kind, value in WhuffieLexer().get_tokens_unprocessed(text):
        index = _semantic_type(kind)
        for number, piece in enumerate(value.split("\n")):
            if number:
                line, column = line + 1, 0
            width = sum(2 if ord(ch) > 0xFFFF else 1 for ch in piece.rstrip("\r"))
            if index is not None and width:
                found.append((line, column, width, index))
            column += sum(2 if ord(ch) > 0xFFFF else 1 for ch in piece)
    return found


def semantic_tokens(text: str) -> lsp.SemanticTokens:
    """The whole document's tokens, relative-encoded as LSP wants them."""
    data: list[int] = []
    previous_line, previous_start = 0, 0
    for line, start, length, index in tokens(text):
        delta_start = start - previous_start if line == previous_line else start
        data += [line - previous_line, delta_start, length, index, 0]
        previous_line, previous_start = line, start
    return lsp.SemanticTokens(data=data)

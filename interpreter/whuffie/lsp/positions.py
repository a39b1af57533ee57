"""Positions: whuffie spans (lines and columns from 1, in code points) and LSP's (from 0, in UTF-16 units).

LSP counts columns in UTF-16 code units by default, so a character outside the
Basic Multilingual Plane (an emoji in a reason) takes two; whuffie's spans count
code points. Every conversion goes through the line's text.
"""

from __future__ import annotations

from lsprotocol import types as lsp

from .. import sourcelines
from ..nodes import Span


class LineTable:
    """The lines of one document, for converting columns both ways."""

    def __init__(self, text: str) -> None:
        self.lines = sourcelines.split(text)
        self._ends = [len(l) for l in sourcelines.split_keeping_ends(text)]

    def line(self, number: int) -> str:
        """Line `number` (from 1), or "" past the end."""
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""

    def to_lsp(self, line: int, col: int) -> lsp.Position:
        """A whuffie (line, col) as an LSP position."""
        text = self.line(line)
        prefix = text[:max(col - 1, 0)]
        return lsp.Position(line=max(line - 1, 0), character=_utf16_len(prefix))

    def range(self, span: Span) -> lsp.Range:
        """A span as an LSP range; a span without an end covers its line from the start column."""
        start = self.to_lsp(span.line, span.col)
        if span.end_line and (span.end_line, span.end_col) > (span.line, span.col):
            end = self.to_lsp(span.end_line, span.end_col)
        else:
            end = lsp.Position(line=start.line, character=max(start.character, _utf16_len(self.line(span.line))))
        return lsp.Range(start=start, end=end)

    def from_lsp(self, position: lsp.Position) -> tuple[int, int]:
        """An LSP position as a whuffie (line, col)."""
        text = self.line(position.line + 1)
        units = 0
        for index, ch in enumerate(text):
            if units >= position.character:
                return position.line + 1, index + 1
            units += 2 if ord(ch) > 0xFFFF else 1
        return position.line + 1, len(text) + 1

    def end(self) -> lsp.Position:
        """The position just after the last character of the text."""
        if self._ends and self._ends[-1] > len(self.lines[-1]):  # the text ends with a line break
            return lsp.Position(line=len(self.lines), character=0)
        last = self.lines[-1] if self.lines else ""
        return lsp.Position(line=max(len(self.lines) - 1, 0), character=_utf16_len(last))

    def offset(self, line: int, col: int) -> int:
        """The offset in the text of a whuffie (line, col)."""
        return sum(self._ends[:line - 1]) + col - 1


def _utf16_len(text: str) -> int:
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def contains(span: Span, line: int, col: int) -> bool:
    """True when (line, col) lies within the span (its end included, for a cursor just after a word)."""
    return (span.line, span.col) <= (line, col) <= (span.end_line, span.end_col)

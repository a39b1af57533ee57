"""What a line of a rule file is: the one definition for every pass that maps offsets to lines.

The lexer counts lines at "\\n" only, so that is what a span's line and column
mean. A "\\r" just before the "\\n" belongs to the line break (a CRLF file);
every other character is part of its line: a form feed, a vertical tab,
U+0085, U+2028 or U+2029 in a comment or string, even a lone "\\r". Python's
``str.splitlines()`` breaks at all of those, which shifts every line after
them; nothing that shows or locates rule-file text may use it.
"""

from __future__ import annotations

from functools import lru_cache


def split(text: str) -> list[str]:
    """The lines of a text, without their line breaks; like splitlines(), no empty last line."""
    pieces = text.split("\n")
    last = pieces.pop()  # after the last line break: no "\r" of a CRLF to drop
    lines = [piece[:-1] if piece.endswith("\r") else piece for piece in pieces]
    return lines + [last] if last else lines


def split_keeping_ends(text: str) -> list[str]:
    """The lines of a text with their line breaks, for diffs: joined, they give the text back."""
    pieces = text.split("\n")
    lines = [piece + "\n" for piece in pieces[:-1]]
    if pieces[-1]:
        lines.append(pieces[-1])
    return lines


def line(text: str, number: int) -> str | None:
    """Line ``number`` (from 1) without its line break, or None past the end."""
    lines = _lines(text)
    return lines[number - 1] if 0 < number <= len(lines) else None


@lru_cache(maxsize=16)
def _lines(text: str) -> tuple[str, ...]:
    # Rendering a thousand diagnostics of one file splits it once (a str keeps its hash).
    return tuple(split(text))


def count(text: str) -> int:
    """How many lines a text has (a final line break does not start another)."""
    return len(split(text))


def line_col(text: str, offset: int) -> tuple[int, int]:
    """The line and column (both from 1) of a character offset, as the lexer counts them."""
    line_number = text.count("\n", 0, offset) + 1
    return line_number, offset - (text.rfind("\n", 0, offset) + 1) + 1


def line_start(text: str, offset: int) -> int:
    """The offset where the line holding ``offset`` starts."""
    return text.rfind("\n", 0, offset) + 1


def line_ending(text: str) -> str:
    """The file's line break: "\\r\\n" when its first line ends so, else "\\n"."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def shown(text: str) -> str:
    """A line as printed under a diagnostic: one column per character, whatever the character.

    Tabs, form feeds, line separators and other characters a terminal would move the cursor
    for (or print as nothing) are shown as one space each, so a caret counted in characters
    stays under its column.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else " " for ch in text)


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal (wide characters count two, combining marks none)."""
    from wcwidth import wcswidth

    if text.isascii():
        return len(text)
    width = wcswidth(text)
    return width if width >= 0 else len(text)

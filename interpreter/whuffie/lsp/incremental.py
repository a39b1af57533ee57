"""Parsing a document as it is edited, one declaration at a time.

Typing changes one declaration; re-parsing a 2,000-rule file for each key costs
more than half a second. The text is cut where the parser's own error recovery
cuts it (a declaration keyword in column 1), each piece is parsed alone with
blank lines in front so that its spans are those of the whole file, and a
piece whose text and first line are unchanged is not parsed again.

A piece with a syntax error is parsed again together with the next one: the
keyword in column 1 may continue the declaration (``per`` then ``event`` on
the next line), and only with both can the parser say "the declaration
before it is unfinished" as it does for the whole file. The result is the
program, spans and diagnostics of ``parser.parse`` (tests/test_lsp_incremental.py
holds the two equal on every golden file, generated rule sets and typed
keys). The checker then runs on the whole program, as ``whuffie check`` does.
"""

from __future__ import annotations

from .. import nodes as n
from ..frontend import Loaded
from ..parser import ParseResult, parse
from ..parser import _declaration_starts as declaration_starts  # the same cut the error recovery makes


class IncrementalParser:
    """Parses successive versions of one document, re-parsing only the declarations that changed."""

    def __init__(self, file: str) -> None:
        self.file = file
        self._pieces: dict[tuple[int, str], ParseResult] = {}

    def parse(self, text: str) -> ParseResult:
        """The same program as ``parser.parse(text, file)``, and the same diagnostics (in another order)."""
        cuts = [0, *[s for s in declaration_starts(text) if s > 0], len(text)]
        chunks, lines, line = [], [], 1
        for begin, end in zip(cuts, cuts[1:]):
            chunks.append(text[begin:end])
            lines.append(line)
            line += chunks[-1].count("\n")
        fresh: dict[tuple[int, str], ParseResult] = {}
        results = [self._piece(lines[i], chunks[i], fresh) for i in range(len(chunks))]
        if any(r.program is None for r in results):  # a piece nothing could be read of (too deep)
            self._pieces = fresh
            return parse(text, self.file)
        items: list = []
        comments: list = []
        diags: list = []
        i = 0
        while i < len(chunks):
            result = results[i]
            if not result.ok and i + 1 < len(chunks):
                # A keyword in column 1 may continue the declaration (`per` then `event` on the next
                # line), or be read as the end of an unfinished one ("the declaration before it is
                # unfinished"): the parser decides it seeing both pieces.
                joined = self._piece(lines[i], chunks[i] + chunks[i + 1], fresh)
                if joined.program is None:
                    self._pieces = fresh
                    return parse(text, self.file)
                if joined.ok:
                    result, i = joined, i + 1
                else:
                    result = ParseResult(result.program, [d for d in joined.diagnostics
                                                          if d not in results[i + 1].diagnostics])
            items += result.program.items
            comments += result.program.comments
            diags += result.diagnostics
            i += 1
        self._pieces = fresh
        if not items:
            return parse(text, self.file)  # the empty-file warning is the whole text's to give
        diags = [d for d in diags if d.code != "W007"]
        last = text.count("\n") + 1
        return ParseResult(n.Program(tuple(items), tuple(comments), span=n.Span(self.file, 1, 1, last, 1)), diags)

    def _piece(self, line: int, chunk: str, fresh: dict) -> ParseResult:
        key = (line, chunk)
        result = fresh.get(key) or self._pieces.get(key) or parse("\n" * (line - 1) + chunk, self.file)
        fresh[key] = result
        return result

    def load(self, text: str) -> Loaded:
        """The front end's ``Loaded`` for this version: parsed incrementally, checked whole."""
        result = self.parse(text)
        loaded = Loaded(self.file, text, result.program, None, list(result.diagnostics))
        if result.program is not None and result.ok:
            from ..checker import check

            checked = check(result.program)
            loaded.ruleset = checked.ruleset
            loaded.diagnostics.extend(checked.diagnostics)
        return loaded

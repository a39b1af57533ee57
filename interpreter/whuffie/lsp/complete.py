"""Completion by context, from the parser's own state.

The text of the current declaration up to the cursor is fed to the grammar's
LALR parser (``parser.lark_parser``, the one every pass uses); the terminals
it would accept next are the keywords to offer (so new keywords of the
grammar flow in without a list here), and where it would accept a name, the
word before the cursor says which declared names fit: events after ``on``,
authors after ``by``, rules in a shared cap's ``over`` list, the rule's event
fields in ``where`` and ``award``, fields after ``x.``, stdlib modules after
``import``.
"""

from __future__ import annotations

import re

from lark.exceptions import LarkError
from lsprotocol import types as lsp

from ..parser import DECLARATION_KEYWORDS  # the words the file is cut at; the grammar decides which fit
from ..parser import _terminal_text as terminal_text
from ..parser import lark_parser
from ..symbols import BUILTIN_FUNCTIONS, stdlib_modules
from .analysis import Analysis
from .incremental import declaration_starts

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PREVIOUS = re.compile(r"([A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|\"[^\"\n]*\"|\S)\s*\Z")
_EVENT_OF = re.compile(r"\bon\s+([A-Za-z_][A-Za-z0-9_]*)")
_TEST_EVENT = re.compile(r"\bat\s+\S+\s+[A-Za-z_][A-Za-z0-9_]*\s+\Z")  # `at 2026-01-10 m ` wants an event
_MEASURE_OF = re.compile(r"=\s*(?:count(?:\s+distinct(?:\s+days\s+of)?)?|sum|avg|min|max)\s+([A-Za-z_][A-Za-z0-9_]*)")

K = lsp.CompletionItemKind


def expected_terminals(prefix: str) -> set[str] | None:
    """The terminals the parser accepts after ``prefix`` (a declaration's start), or None if it is broken."""
    try:
        interactive = lark_parser().parse_interactive(prefix, start="start")
        interactive.exhaust_lexer()
        return set(interactive.accepts())
    except LarkError:
        return None


def complete(analysis: Analysis, position: lsp.Position) -> list[lsp.CompletionItem]:
    """Completion items for the cursor, by what the grammar accepts there."""
    text = analysis.text
    line, col = analysis.lines.from_lsp(position)
    offset = analysis.lines.offset(line, col)
    before = text[:offset]
    word = re.search(r"[A-Za-z_][A-Za-z0-9_]*\Z", before)
    word_start = offset - (len(word.group()) if word else 0)
    starts = [s for s in declaration_starts(text) if s < word_start]
    decl_start = starts[-1] if starts else 0
    prefix = text[decl_start:word_start]
    line_before = before[before.rfind("\n") + 1:word_start]
    accepted = expected_terminals(prefix)
    words = terminal_text()
    items: list[lsp.CompletionItem] = []
    seen: set[str] = set()

    def add(label: str, kind: lsp.CompletionItemKind, detail: str) -> None:
        if label not in seen:
            seen.add(label)
            items.append(lsp.CompletionItem(label=label, kind=kind, detail=detail))

    if accepted is None:  # the declaration so far does not parse: offer what could fit anywhere
        accepted = set(words) | {"NAME"}
    keywords = sorted(words[t] for t in accepted if t in words and _WORD.match(words[t]))
    at_line_start = line_before == ""
    previous = _previous_token(prefix)
    for keyword in keywords:
        # a declaration starts in column 1, and a clause never does (that is how the file is cut)
        if (keyword in DECLARATION_KEYWORDS) == at_line_start:
            add(keyword, K.Keyword, "declaration" if at_line_start else _keyword_detail(keyword, previous))
    if "NAME" in accepted and not at_line_start:
        for label, kind, detail in _names(analysis, prefix, previous):
            add(label, kind, detail)
    if "STRING" in accepted and previous == "import":
        for module in stdlib_modules():
            items.append(lsp.CompletionItem(label=f'"{module}"', kind=K.Module, detail="stdlib module",
                                            insert_text=f'"{module}"'))
    return items


def _previous_token(prefix: str) -> str:
    match = _PREVIOUS.search(prefix)
    return match.group(1) if match else ""


def _keyword_detail(keyword: str, previous: str) -> str:
    if re.fullmatch(r"\d+(?:\.\d+)?", previous):
        return "unit"
    if previous == "per":
        return "window"
    return "keyword"


def _names(analysis: Analysis, prefix: str, previous: str):
    """Declared names that fit where the parser wants a name, judged by the words before the cursor."""
    index = analysis.index
    head = prefix.lstrip().split(None, 1)[0] if prefix.strip() else ""
    if previous == "by":
        return [(a, K.Constant, "author") for a in index.names_in("author")]
    if previous == "on" or (head == "measure" and previous in ("count", "sum", "avg", "min", "max", "of",
                                                                "distinct")):
        return [(e, K.Event, "event") for e in index.names_in("event")]
    if head == "test" and _TEST_EVENT.search(prefix):
        return [(e, K.Event, "event") for e in index.names_in("event")]
    if head == "test" and re.search(r"[{\n]\s*\Z", prefix):  # a statement starts: a subject of a kind
        return [(k, K.Class, "subject kind") for k in index.names_in("kind")]
    if head == "shared" and (previous == "over" or previous == ","):
        return [(r, K.Function, "rule") for r in index.names_in("rule")]
    if previous == ".":
        owner = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*\.\s*\Z", prefix)
        name = owner.group(1) if owner else ""
        return [(f, K.Field, f"field of {name}") for f in index.names_in(f"field:{name}")]
    found = []
    event = _EVENT_OF.search(prefix) if head == "rule" else _MEASURE_OF.search(prefix) if head == "measure" else None
    if event:
        found += [(f, K.Field, f"field of {event.group(1)}") for f in index.names_in(f"field:{event.group(1)}")]
    if head in ("score", "tier", "privilege", "test", "property"):
        for (space, name), decl in index.declarations.items():
            if space == "value":
                found.append((name, K.Variable, decl.kind))
    if head == "def":
        match = re.match(r"\s*def\s+([A-Za-z_][A-Za-z0-9_]*)", prefix)
        if match:
            found += [(p, K.Variable, "parameter") for p in index.names_in(f"param:{match.group(1)}")]
    if head in ("score", "tier", "privilege", "test", "property"):
        found += [(value, K.Constant, "built-in value") for value in ("points", "now")]
    found += [(kind, K.Class, "subject kind") for kind in index.names_in("kind")]
    found += [(d, K.Function, "def") for d in index.names_in("def")]
    found += [(f, K.Function, "built-in function") for f in BUILTIN_FUNCTIONS]
    return found

"""Go to definition, find references and rename, over the name index."""

from __future__ import annotations

import re

from lsprotocol import types as lsp

from .. import nodes as n
from ..parser import _keywords as grammar_keywords
from ..symbols import BUILTIN_FUNCTIONS, RESERVED_NAMES, stdlib_module_path
from .analysis import Analysis, uri_of
from .diagnose import location
from .names import Declaration, Key

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SHARED_NAMES = ("event", "rule", "cap", "value", "def")  # as checkdecls.KIND_WORDS


def _key_at(analysis: Analysis, position: lsp.Position) -> tuple[Key, object] | None:
    line, col = analysis.lines.from_lsp(position)
    entry = analysis.index.at(analysis.file, line, col)
    return (entry.key, entry) if entry is not None else None


def definition(analysis: Analysis, position: lsp.Position) -> list[lsp.Location]:
    """Where the name under the cursor is declared (an imported def: in its stdlib module)."""
    module = _import_at(analysis, position)
    if module is not None:
        path = stdlib_module_path(module)
        if path is not None:
            start = lsp.Position(line=0, character=0)
            return [lsp.Location(uri=uri_of(str(path)), range=lsp.Range(start=start, end=start))]
    found = _key_at(analysis, position)
    if found is None:
        return []
    decl = analysis.index.declarations.get(found[0])
    return [location(analysis, decl.span)] if decl is not None else []


def references(analysis: Analysis, position: lsp.Position, include_declaration: bool = True) -> list[lsp.Location]:
    """Every use of the name under the cursor in this document (and its declaration, when asked)."""
    found = _key_at(analysis, position)
    if found is None:
        return []
    key = found[0]
    spans = [r.span for r in analysis.index.uses(key) if r.span.file == analysis.file]
    decl = analysis.index.declarations.get(key)
    if include_declaration and decl is not None:
        spans.insert(0, decl.span)
    return [location(analysis, span) for span in spans]


def prepare_rename(analysis: Analysis, position: lsp.Position) -> lsp.Range | None:
    """The range of a name that can be renamed here: declared in this document."""
    found = _key_at(analysis, position)
    if found is None:
        return None
    decl = analysis.index.declarations.get(found[0])
    if decl is None or decl.span.file != analysis.file:
        return None
    return analysis.lines.range(found[1].span)


def rename_problem(analysis: Analysis, decl: Declaration, new_name: str) -> str | None:
    """Why a name cannot take ``new_name``, or None when it can."""
    if not _NAME.match(new_name):
        return f"{new_name!r} is not a name (letters, digits and _, not starting with a digit)"
    if new_name in grammar_keywords() or new_name in RESERVED_NAMES or new_name in BUILTIN_FUNCTIONS:
        return f"{new_name} is a keyword or a built-in name"
    space = decl.key[0]
    # rules, events, measures, scores, tiers, privileges and defs share one set of names (W050)
    spaces = _SHARED_NAMES if space in _SHARED_NAMES else (space,)
    taken = next((analysis.index.declarations[(s, new_name)] for s in spaces
                  if (s, new_name) in analysis.index.declarations), None)
    if taken is not None:
        return f"{new_name} is already the name of a {taken.kind}"
    return None


def rename(analysis: Analysis, position: lsp.Position, new_name: str) -> lsp.WorkspaceEdit | str | None:
    """Rename a declared name and every use of it in the document.

    None when no declared name is there; the reason, as text, when the new name cannot be taken.
    """
    found = _key_at(analysis, position)
    if found is None:
        return None
    key = found[0]
    decl = analysis.index.declarations.get(key)
    if decl is None or decl.span.file != analysis.file:
        return None
    problem = rename_problem(analysis, decl, new_name)
    if problem is not None:
        return problem
    spans = [decl.span] + [r.span for r in analysis.index.uses(key)]
    spans += [d.span for d in analysis.index.duplicates if d.key == key]
    edits = [lsp.TextEdit(range=analysis.lines.range(span), new_text=new_name) for span in _unique(spans)]
    return lsp.WorkspaceEdit(changes={analysis.uri: edits})


def _unique(spans: list[n.Span]) -> list[n.Span]:
    seen, out = set(), []
    for span in spans:
        if (span.line, span.col) not in seen:
            seen.add((span.line, span.col))
            out.append(span)
    return out


def _import_at(analysis: Analysis, position: lsp.Position) -> str | None:
    line, col = analysis.lines.from_lsp(position)
    program = analysis.program
    for item in program.items if program else ():
        if isinstance(item, n.ImportDecl) and item.span.line == line and item.span.col <= col <= item.span.end_col:
            return item.path
    return None

"""Formatting (exactly `whuffie fmt`), the document outline, and code actions for the checker's hints."""

from __future__ import annotations

import re

from lsprotocol import types as lsp

from .. import nodes as n
from .. import sourcelines
from ..formatter import format_program
from ..frontend import load_text
from ..parser import parse
from .analysis import Analysis
from .names import kind_of


def format_document(analysis: Analysis) -> list[lsp.TextEdit] | None:
    """One edit replacing the text by `whuffie fmt`'s output; [] when already formatted; None when it cannot be.

    Like the command, a file with a syntax error is left alone, and so is one whose
    formatted text would parse to another program (a whuffie bug, never written).
    """
    text = analysis.text
    loaded = load_text(text, analysis.file, check=False)
    if loaded.program is None or any(d.is_error for d in loaded.diagnostics):
        return None
    formatted = format_program(loaded.program, newline=sourcelines.line_ending(text))
    if formatted == text:
        return []
    if parse(formatted, analysis.file).program != loaded.program:
        return None
    whole = lsp.Range(start=lsp.Position(line=0, character=0), end=analysis.lines.end())
    return [lsp.TextEdit(range=whole, new_text=formatted)]


_SYMBOL_KIND = {
    n.AuthorDecl: lsp.SymbolKind.Constant, n.SubjectDecl: lsp.SymbolKind.Class, n.EventDecl: lsp.SymbolKind.Event,
    n.RuleDecl: lsp.SymbolKind.Method, n.SharedCapDecl: lsp.SymbolKind.Operator, n.MeasureDecl: lsp.SymbolKind.Variable,
    n.ScoreDecl: lsp.SymbolKind.Property, n.TierDecl: lsp.SymbolKind.EnumMember,
    n.PrivilegeDecl: lsp.SymbolKind.Boolean, n.DefDecl: lsp.SymbolKind.Function, n.TestDecl: lsp.SymbolKind.Module,
    n.PropertyDecl: lsp.SymbolKind.Interface, n.FactorDecl: lsp.SymbolKind.Enum,
    n.ConditionDecl: lsp.SymbolKind.Boolean, n.ParamDecl: lsp.SymbolKind.Constant,
}


def outline(analysis: Analysis) -> list[lsp.DocumentSymbol]:
    """Every named declaration in source order; schemas list their fields."""
    program = analysis.program
    symbols = []
    for item in program.items if program else ():
        if not hasattr(item, "name_span"):
            continue  # the header: ruleset, version, timezone, import
        kind = _SYMBOL_KIND.get(type(item), lsp.SymbolKind.Object)
        children = None
        if isinstance(item, (n.SubjectDecl, n.EventDecl)):
            children = [lsp.DocumentSymbol(name=f.name, kind=lsp.SymbolKind.Field, detail=f.type.name,
                                           range=analysis.lines.range(f.span),
                                           selection_range=analysis.lines.range(_name_of(f.span, f.name)))
                        for f in item.fields]
        symbols.append(lsp.DocumentSymbol(
            name=item.name, kind=kind, detail=kind_of(item), range=analysis.lines.range(item.span),
            selection_range=analysis.lines.range(item.name_span), children=children))
    return symbols


def _name_of(span: n.Span, name: str) -> n.Span:
    return n.Span(span.file, span.line, span.col, span.line, span.col + len(name))


_DID_YOU_MEAN = re.compile(r"did you mean [`\"]([^`\"]+)[`\"]")


def code_actions(analysis: Analysis, diagnostics: list[lsp.Diagnostic]) -> list[lsp.CodeAction]:
    """Quick fixes for the diagnostics in the request: a did-you-mean replacement, a `by` or `because` stub."""
    actions = []
    for d in diagnostics:
        data = d.data if isinstance(d.data, dict) else {}
        hint = data.get("hint") or ""
        code = data.get("code") or d.code
        match = _DID_YOU_MEAN.search(hint)
        if match:
            actions.append(_fix(analysis, f"Replace with `{match.group(1)}`", d, d.range, match.group(1),
                                replace=True))
        elif code in ("W030", "W031"):
            # a clause may follow the whole declaration, whatever its kind, so the stub goes at its end
            decl = _declaration_named_at(analysis, d.range)
            if decl is None:
                continue
            end = analysis.lines.range(decl.span).end
            at = lsp.Range(start=end, end=end)
            if code == "W030":
                authors = analysis.index.names_in("author") or ["AUTHOR"]
                actions.append(_fix(analysis, f"Add `by {authors[0]}`", d, at, f" by {authors[0]}"))
            else:
                actions.append(_fix(analysis, 'Add `because "…"`', d, at, ' because "TODO: why this exists"'))
    return actions


def _declaration_named_at(analysis: Analysis, where: lsp.Range):
    program = analysis.program
    for item in program.items if program else ():
        if hasattr(item, "name_span") and analysis.lines.range(item.name_span) == where:
            return item
    return None


def _fix(analysis: Analysis, title: str, d: lsp.Diagnostic, where: lsp.Range, text: str,
         replace: bool = False) -> lsp.CodeAction:
    target = where if replace else lsp.Range(start=where.end, end=where.end)
    edit = lsp.WorkspaceEdit(changes={analysis.uri: [lsp.TextEdit(range=target, new_text=text)]})
    return lsp.CodeAction(title=title, kind=lsp.CodeActionKind.QuickFix, diagnostics=[d], edit=edit,
                          is_preferred=replace)

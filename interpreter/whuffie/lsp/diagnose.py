"""The front end's diagnostics as LSP diagnostics: codes, severities, ranges, related places, docs links."""

from __future__ import annotations

import re
from pathlib import Path

from lsprotocol import types as lsp

from .. import nodes as n
from ..diagnostics import CODES, Diagnostic, sort_key
from .analysis import Analysis, uri_of

SOURCE = "whuffie"
_SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning}


def docs_base() -> str | None:
    """Where the docs/errors pages are: the source tree's folder as a file: URI, when it is there."""
    folder = Path(__file__).resolve().parents[3] / "docs" / "errors"
    return folder.as_uri() + "/" if folder.is_dir() else None


def to_lsp(analysis: Analysis, base: str | None = None) -> list[lsp.Diagnostic]:
    """Every diagnostic of the document, in position order."""
    base = base if base is not None else docs_base()
    return [_one(analysis, d, base) for d in sorted(analysis.loaded.diagnostics, key=sort_key)]


def _one(analysis: Analysis, d: Diagnostic, base: str | None) -> lsp.Diagnostic:
    message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
    if d.span.file != analysis.file:  # about another file (an imported module): shown on the first line
        message = f"{d.span}: {message}"
        d = Diagnostic(d.code, d.message, n.Span(analysis.file, 1, 1, 1, 1), d.hint, d.severity)
    related = [lsp.DiagnosticRelatedInformation(location=location(analysis, span), message=text)
               for span, text in related_places(analysis, d)]
    return lsp.Diagnostic(
        range=analysis.lines.range(d.span),
        message=message,
        severity=_SEVERITY.get(d.severity, lsp.DiagnosticSeverity.Error),
        code=d.code,
        code_description=lsp.CodeDescription(href=f"{base}{d.code}.md") if base and d.code in CODES else None,
        source=SOURCE,
        related_information=related or None,
        data={"code": d.code, "hint": d.hint},
    )


def location(analysis: Analysis, span: n.Span) -> lsp.Location:
    """An LSP location for a span of this document or of another file (a stdlib module)."""
    if span.file == analysis.file:
        return lsp.Location(uri=analysis.uri, range=analysis.lines.range(span))
    from .positions import LineTable

    try:
        lines = LineTable(Path(span.file).read_text(encoding="utf-8"))
    except OSError:
        lines = LineTable("")
    return lsp.Location(uri=uri_of(span.file), range=lines.range(span))


def related_places(analysis: Analysis, d: Diagnostic) -> list[tuple[n.Span, str]]:
    """The other places a diagnostic is about: the other declaration of a duplicate, a cycle's defs."""
    program = analysis.program
    if program is None:
        return []
    if d.code in ("W032", "W050"):
        name = _declared_name_at(program, d.span)
        return [(item.name_span, f"{name} is also declared here") for item in program.items
                if getattr(item, "name", None) == name and hasattr(item, "name_span") and item.name_span != d.span]
    if d.code == "W056":
        cycle = re.search(r"\(([^)]*)\)", d.message)
        names = cycle.group(1).split(" -> ") if cycle else []
        return [(item.name_span, f"def {item.name} is part of the cycle") for item in program.items
                if isinstance(item, n.DefDecl) and item.name in names and item.name_span != d.span]
    if d.code == "W057":
        word = d.message.rsplit(" twice", 1)[0].rsplit(" ", 1)[-1]
        return [(ident.span, f"rule {word} is first named here") for item in program.items
                if isinstance(item, n.SharedCapDecl) for ident in _first_mention(item, word, d.span)]
    return []


def _first_mention(cap: n.SharedCapDecl, rule: str, later: n.Span) -> list[n.Ident]:
    mentions = [ident for ident in cap.rules if ident.name == rule]
    return mentions[:1] if len(mentions) > 1 and later in [m.span for m in mentions[1:]] else []


def _declared_name_at(program: n.Program, span: n.Span) -> str | None:
    for item in program.items:
        if getattr(item, "name_span", None) == span:
            return item.name
    return None

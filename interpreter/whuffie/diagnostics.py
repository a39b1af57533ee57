"""Diagnostics: the one error value of every pass, and the one renderer.

A pass never raises for a mistake in the user's input; it appends a
``Diagnostic`` to a list. Exceptions are for bugs in whuffie itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from . import sourcelines
from .nodes import Span

ERROR = "error"
WARNING = "warning"

# Every code is stable: once published it keeps its meaning. Each has a page
# docs/errors/<code>.md (a test keeps the two in step).
CODES: dict[str, str] = {
    # front end
    "W001": "syntax error",
    "W002": "unterminated string",
    "W003": "unexpected character",
    "W004": "invalid literal",
    "W005": "nesting too deep",
    "W006": "unreadable source file",
    "W007": "empty rule file",
    "W008": "unclosed bracket or brace",
    "W009": "keyword used as a name",
    # names
    "W010": "unknown name",
    "W011": "unknown type",
    "W012": "unknown event type",
    "W013": "unknown author",
    "W014": "unknown rule",
    "W015": "unknown field",
    "W016": "unknown function",
    "W017": "unknown subject kind",
    "W018": "unknown score",
    "W019": "unknown module",
    # types
    "W020": "type mismatch",
    "W021": "condition is not a bool",
    "W022": "award is not a number",
    "W023": "wrong number of arguments",
    "W024": "a value that may be none is used",
    "W025": "value not allowed here",
    "W026": "possible division by zero",
    "W027": "missing field value",
    "W028": "value outside the declared range",
    # provenance
    "W030": "missing author",
    "W031": "missing reason",
    "W032": "duplicate author",
    "W033": "author owns nothing",
    "W034": "clause given twice",
    "W035": "missing clause",
    # fairness
    "W040": "protected attribute read",
    "W041": "rule singles out one subject",
    # structure
    "W050": "duplicate name",
    "W051": "score or privilege used before it is declared",
    "W052": "tier after otherwise",
    "W053": "tier can never be reached",
    "W054": "condition can never hold",
    "W055": "zero-length window or decay",
    "W056": "recursive function",
    "W057": "rule named twice in a shared cap",
    "W058": "invalid range",
    "W059": "invalid timezone",
    # limits
    "W060": "duration too long",
    "W061": "expression too large once defs are expanded",
    "W062": "cap that can never cut",
    "W063": "factor bins that overlap",
    "W064": "factor bins that leave a gap",
    "W065": "rules that cannot be a factor's bins",
    "W066": "factor bins that cannot be proven",
    "W067": "text an enumerated field never holds",
    "W070": "event role not given or unknown",
    # input data
    "W080": "input file cannot be read",
    "W081": "rejects file would overwrite an input",
    "W082": "look-alike subject ids",
    "W083": "as-of instant later than the clock",
    "W084": "nothing to score",
    # run time
    "W090": "run-time fault",
    "W091": "engine cannot express a construct",
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding of any pass: where, what, and how to fix it."""

    code: str
    message: str
    span: Span
    hint: str | None = None
    severity: str = ERROR

    @property
    def is_error(self) -> bool:
        """True for errors, False for warnings."""
        return self.severity == ERROR


def error(code: str, message: str, span: Span, hint: str | None = None) -> Diagnostic:
    """An error diagnostic."""
    return Diagnostic(code, message, span, hint, ERROR)


def warning(code: str, message: str, span: Span, hint: str | None = None) -> Diagnostic:
    """A warning diagnostic."""
    return Diagnostic(code, message, span, hint, WARNING)


def sort_key(d: Diagnostic) -> tuple:
    """Order diagnostics by file, position, then code."""
    return (d.span.file, d.span.line, d.span.col, d.code, d.message)


_STYLE = {ERROR: "\x1b[1;31m", WARNING: "\x1b[1;33m"}
_BOLD = "\x1b[1m"
_BLUE = "\x1b[1;34m"
_RESET = "\x1b[0m"


def render(diags: list[Diagnostic], sources: dict[str, str], color: bool = False) -> str:
    """Render diagnostics the way compilers do: location, message, source line, caret, hint."""
    return "".join(render_one(d, sources.get(d.span.file), color) for d in diags)


def render_one(d: Diagnostic, source: str | None, color: bool = False) -> str:
    """Render one diagnostic, with the offending source line when it is known."""

    def paint(style: str, text: str) -> str:
        return f"{style}{text}{_RESET}" if color else text

    head = f"{d.span}: " if d.span.line else f"{d.span.file}: "
    out = [paint(_BOLD, head) + paint(_STYLE[d.severity], f"{d.severity}[{d.code}]")
           + paint(_BOLD, f": {d.message}") + "\n"]
    line = sourcelines.line(source, d.span.line) if source is not None and d.span.line else None
    if line is not None:
        text = sourcelines.shown(line)
        number = str(d.span.line)
        gutter = " " * len(number)
        start = max(d.span.col, 1)
        if d.span.end_line == d.span.line and d.span.end_col > start:
            width = d.span.end_col - start
        else:
            width = max(len(text.rstrip()) - start + 1, 1)
        width = max(1, min(width, max(len(text) - start + 1, 1)))
        out.append(paint(_BLUE, f"{gutter} |") + "\n")
        out.append(paint(_BLUE, f"{number} |") + f" {text}\n")
        # the caret sits under the span as a terminal draws the line: wide (CJK) characters take two columns
        indent = sourcelines.display_width(text[:start - 1])
        width = max(1, sourcelines.display_width(text[start - 1:start - 1 + width]))
        out.append(paint(_BLUE, f"{gutter} |") + " " * (indent + 1)
                   + paint(_STYLE[d.severity], "^" * width) + "\n")
        if d.hint:
            out.append(paint(_BLUE, f"{gutter} =") + f" hint: {d.hint}\n")
    elif d.hint:
        out.append(f"  = hint: {d.hint}\n")
    return "".join(out)


def to_json(diags: list[Diagnostic]) -> str:
    """Diagnostics as a JSON list, for editors and CI."""
    return json.dumps([as_dict(d) for d in diags], indent=2, ensure_ascii=False)


def as_dict(d: Diagnostic) -> dict:
    """One diagnostic as a plain dict with a stable shape."""
    return {
        "file": d.span.file,
        "line": d.span.line,
        "col": d.span.col,
        "end_line": d.span.end_line,
        "end_col": d.span.end_col,
        "severity": d.severity,
        "code": d.code,
        "message": d.message,
        "hint": d.hint,
    }


def summary(diags: list[Diagnostic]) -> str:
    """A closing line such as '2 errors, 1 warning'."""
    errors = sum(d.is_error for d in diags)
    warnings = len(diags) - errors
    parts = [f"{errors} error{'s' * (errors != 1)}"]
    if warnings:
        parts.append(f"{warnings} warning{'s' * (warnings != 1)}")
    return ", ".join(parts)

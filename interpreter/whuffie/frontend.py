"""The front-end pipeline: file -> text -> AST -> checked ruleset.

This module only composes the passes; each pass is its own module with one
entry function (parser.parse, checker.check).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import nodes as n
from .diagnostics import Diagnostic
from .parser import parse, read_source
from .symbols import Ruleset


@dataclass
class Loaded:
    """A rule file after the front end: its text, AST, checked ruleset and diagnostics."""

    path: str
    source: str | None
    program: n.Program | None
    ruleset: Ruleset | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file has no errors (warnings allowed)."""
        return self.program is not None and not any(d.is_error for d in self.diagnostics)


def load_text(text: str, path: str = "<input>", check: bool = True) -> Loaded:
    """Run the front end on text already in memory."""
    result = parse(text, path)
    loaded = Loaded(path, text, result.program, None, list(result.diagnostics))
    if check and result.program is not None and result.ok:
        from .checker import check as check_program

        checked = check_program(result.program)
        loaded.ruleset = checked.ruleset
        loaded.diagnostics.extend(checked.diagnostics)
    return loaded


def load_file(path: str | Path, check: bool = True) -> Loaded:
    """Read, parse and (unless check=False) check one rule file."""
    text, diags = read_source(path)
    if text is None:
        return Loaded(str(path), None, None, None, diags)
    return load_text(text, str(path), check)

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
    params: list = field(default_factory=list)  # params.ParamValue: each parameter as this run uses it
    set_errors: list[str] = field(default_factory=list)  # --set values that cannot be used (usage errors)

    @property
    def ok(self) -> bool:
        """True when the file has no errors (warnings allowed)."""
        return self.program is not None and not any(d.is_error for d in self.diagnostics)


def load_text(text: str, path: str = "<input>", check: bool = True, overrides: dict[str, str] | None = None) -> Loaded:
    """Run the front end on text already in memory; ``overrides`` are ``--set`` values of parameters."""
    result = parse(text, path)
    loaded = Loaded(path, text, result.program, None, list(result.diagnostics))
    if check and result.program is not None and result.ok:
        checked, _ = check_bound(result.program, overrides, loaded)
        loaded.ruleset = checked.ruleset
    return loaded


def check_bound(program: n.Program, overrides: dict[str, str] | None, loaded: Loaded | None = None):
    """Bind the parameters (params.bind) and check the result: (CheckResult, params.Bound).

    ``loaded``, when given, gets the diagnostics, the parameters' values and the --set problems.
    """
    from .checker import CheckResult
    from .checker import check as check_program
    from .params import bind

    from .roles import bind as bind_roles

    bound = bind(program, overrides)
    with_roles, role_diagnostics = bind_roles(bound.program)
    bound.program = with_roles
    bound.diagnostics += role_diagnostics
    checked = check_program(bound.program)
    owners = {p.by for p in bound.params}
    # an author who decided only parameters owns something all the same
    diagnostics = bound.diagnostics + [d for d in checked.diagnostics if not (
        d.code == "W033" and any(d.message.startswith(f"author {o} ") for o in owners))]
    ok = not any(d.is_error for d in diagnostics)
    if checked.ruleset is not None:
        checked.ruleset.params = bound.params
    if loaded is not None:
        loaded.diagnostics.extend(diagnostics)
        loaded.params = bound.params
        loaded.set_errors = bound.set_errors
    return CheckResult(checked.ruleset if ok else None, diagnostics), bound


def load_file(path: str | Path, check: bool = True, overrides: dict[str, str] | None = None) -> Loaded:
    """Read, parse and (unless check=False) check one rule file."""
    text, diags = read_source(path)
    if text is None:
        return Loaded(str(path), None, None, None, diags)
    return load_text(text, str(path), check, overrides)

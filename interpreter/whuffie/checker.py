"""Static checker: names, types, provenance, protected attributes, structure.

Entry point: ``check(program)``. (Placeholder until the checker lands: it
only gathers the declaration tables.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import nodes as n
from .diagnostics import Diagnostic
from .symbols import Ruleset, build


@dataclass
class CheckResult:
    """The checked ruleset (None if it has errors) and every diagnostic."""

    ruleset: Ruleset | None
    diagnostics: list[Diagnostic] = field(default_factory=list)


def check(program: n.Program) -> CheckResult:
    """Check a parsed program and return the ruleset the evaluator can trust."""
    return CheckResult(build(program), [])

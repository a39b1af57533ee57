"""Checking named conditions (`condition NAME = EXPR`).

A condition is a bool over one subject's finished results: it reads what a
tier reads (subject attributes, `now`, `points`, measures, every score) and
other conditions, in any declaration order, as long as no condition reaches
itself. Tiers, privileges, properties and tests (through `X of s`) read it by
name. The engines never see a condition: conditions.inline puts each body in
place of its name, so each engine runs exactly what it already runs.
"""

from __future__ import annotations

from . import callgraph
from . import nodes as n
from .checkbase import CheckerBase, Scope, walk


class ConditionChecks(CheckerBase):
    """Types, names and cycles of named conditions."""

    def condition_references(self, decl: n.ConditionDecl) -> set[str]:
        """The conditions a condition's body names directly."""
        names = self.rs.conditions
        return {x.id for x in walk(decl.expr) if isinstance(x, n.Name) and x.id in names}

    def conditions(self) -> None:
        refs = {name: self.condition_references(d) for name, d in self.rs.conditions.items()}
        for name, loop in callgraph.cycles(refs).items():
            shown = loop.names(most=7)
            what = "refers to itself" if len(loop) == 1 else f"refers to itself through {' -> '.join(shown)}"
            self.err("W051", f"condition {name} {what}", self.rs.conditions[name].name_span,
                     "a condition is read from measures, scores and other conditions, never from itself")
        for item in self.program.items:
            if not isinstance(item, n.ConditionDecl):
                continue
            what = f"condition {item.name}"
            self.provenance(item, what, need_by=False)
            scope = Scope(what, item.by, subject=True, now=True, points=True, measures=True, scores=None)
            t = self.value(item.expr, scope)
            if not t.has("bool"):
                self.err("W021", f"{what} must be a bool, but its expression is {t}", item.expr.span,
                         "compare the value, e.g. condition active = days_visited >= 10")

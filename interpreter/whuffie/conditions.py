"""Named conditions, put in place: every reference to a condition becomes its body.

Entry point: ``inline_conditions(ruleset)``, run by the checker on a ruleset
without errors. It rewrites the expressions of tiers, privileges, `always`
properties and `expect` statements in the ruleset's tables (the program keeps
the text as written, for the formatter, diff and explain), so the reference
evaluator, the generated Python and the SQL engine all run a condition as the
expression it names, with no construct of its own. The checker has already
typed every body in the condition's own scope, and a body is put in place as
the very same node, so the type table still describes it; a node rebuilt
around it takes the type of the node it replaces.
"""

from __future__ import annotations

import dataclasses

from . import nodes as n
from .limits import stack_for_nesting
from .symbols import Ruleset

_EXPR_TYPES = tuple(getattr(n.Expr, "__args__", ()))


class _Inliner:
    def __init__(self, rs: Ruleset):
        self.rs = rs
        self.bodies: dict[str, n.Expr] = {}

    def body(self, name: str) -> n.Expr:
        if name not in self.bodies:
            self.bodies[name] = self.expr(self.rs.conditions[name].expr)
        return self.bodies[name]

    def expr(self, e: n.Expr) -> n.Expr:
        if isinstance(e, n.Name) and e.id in self.rs.conditions:
            return self.body(e.id)
        changes = {}
        for f in dataclasses.fields(e):
            value = getattr(e, f.name)
            if isinstance(value, _EXPR_TYPES):
                new = self.expr(value)
                if new is not value:
                    changes[f.name] = new
            elif isinstance(value, tuple) and value and isinstance(value[0], _EXPR_TYPES):
                new_items = tuple(self.expr(v) for v in value)
                if any(a is not b for a, b in zip(new_items, value)):
                    changes[f.name] = new_items
        if not changes:
            return e
        rebuilt = dataclasses.replace(e, **changes)
        if id(e) in self.rs.types:
            self.rs.types[id(rebuilt)] = self.rs.types[id(e)]
        return rebuilt


def inline_conditions(rs: Ruleset) -> None:
    """Replace every condition name in the ruleset's tables by the condition's body."""
    if not rs.conditions:
        return
    inliner = _Inliner(rs)
    with stack_for_nesting():
        for name, tier in rs.tiers.items():
            clauses = tuple(dataclasses.replace(c, cond=inliner.expr(c.cond))
                            if isinstance(c, n.Keep) and c.cond is not None else c for c in tier.clauses)
            condition = inliner.expr(tier.condition) if tier.condition is not None else None
            rs.tiers[name] = dataclasses.replace(tier, condition=condition, clauses=clauses)
        for name, privilege in rs.privileges.items():
            rs.privileges[name] = dataclasses.replace(privilege, condition=inliner.expr(privilege.condition))
        for i, prop in enumerate(rs.properties):
            if isinstance(prop.body, n.Always):
                body = dataclasses.replace(prop.body, expr=inliner.expr(prop.body.expr))
                rs.properties[i] = dataclasses.replace(prop, body=body)
        for i, test in enumerate(rs.tests):
            stmts = tuple(dataclasses.replace(s, expr=inliner.expr(s.expr)) if isinstance(s, n.Expect) else s
                          for s in test.body)
            rs.tests[i] = dataclasses.replace(test, body=stmts)


def inline_expression(rs: Ruleset, e: n.Expr) -> n.Expr:
    """One expression with its condition names replaced (the REPL's typed expressions)."""
    if not rs.conditions:
        return e
    with stack_for_nesting():
        return _Inliner(rs).expr(e)

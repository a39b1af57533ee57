"""Static checker: names, types, provenance, protected attributes, structure.

Entry point: ``check(program)``. It gathers the declaration tables
(symbols.build, with imported stdlib defs merged in), then checks every
declaration against the scope and type rules of docs/design/decisions.md.
Every finding is a Diagnostic; all of them are returned together, sorted by
position. The ruleset is handed on only when there is no error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import nodes as n
from .checkbase import Scope
from .checkconditions import ConditionChecks
from .checkearlier import EarlierChecks
from .checktiers import TierMemoryChecks
from .checkdecls import DeclChecks
from .checkchoices import ChoiceChecks
from .checkexprs import ExprChecks
from .checkfactors import FactorChecks
from .checkitems import ItemChecks
from .checkranges import RangeChecks
from .checkscope import ScopeChecks
from .checksite import SiteChecks
from .checksize import SizeChecks
from .conditions import inline_conditions
from .diagnostics import Diagnostic, sort_key
from .limits import stack_for_nesting
from .symbols import Ruleset, build
from .types import Type


@dataclass
class CheckResult:
    """The checked ruleset (None if it has errors) and every diagnostic."""

    ruleset: Ruleset | None
    diagnostics: list[Diagnostic] = field(default_factory=list)


def check(program: n.Program) -> CheckResult:
    """Check a parsed program and return the ruleset the evaluator can trust."""
    checker = _Checker(program)
    with stack_for_nesting():
        ruleset = checker.run()
    diags = sorted(checker.diags, key=sort_key)
    ok = not any(d.is_error for d in diags)
    if ok:
        inline_conditions(ruleset)
    return CheckResult(ruleset if ok else None, diags)


def check_expression(program: n.Program, expr: n.Expr, subjects=()) -> tuple[Type, list[Diagnostic]]:
    """Type one expression read on its own (the REPL): the scope of a test's `expect`, plus `now`."""
    checker = _Checker(program)
    with stack_for_nesting():
        checker.run()
        checker.diags = []  # the program's own findings are not about this expression
        scope = Scope("the REPL", tiers=True, now=True, test_subjects=frozenset(subjects), no_singling_out=False)
        result = checker.infer(expr, scope)
        checker.expand(expr, {}, None, "this expression")
    return result, sorted(checker.diags, key=sort_key)


class _Checker(ConditionChecks, EarlierChecks, TierMemoryChecks, DeclChecks, ItemChecks, FactorChecks, ChoiceChecks,
               ExprChecks, ScopeChecks, RangeChecks, SizeChecks, SiteChecks):
    """One run of the checker over one program: the mixins' checks, in order."""

    def run(self) -> Ruleset:
        imported, modules = self.imports()
        rs = build(self.program, imported)
        self.rs = rs
        rs.stdlib_defs = imported
        rs.stdlib_programs = modules
        self.kind = rs.subject_kind
        self.has_otherwise = any(t.condition is None for t in rs.tiers.values())
        self.header()
        self.authors()
        self.unique_names(imported)
        self.schema()
        self.expansion_bounds(self.defs())
        for item in self.program.items:
            if isinstance(item, n.RuleDecl):
                self.rule(item)
            elif isinstance(item, n.SharedCapDecl):
                self.shared_cap(item)
        self.factors()
        self.choices_in_expressions()
        measures = [i for i in self.program.items if isinstance(i, n.MeasureDecl)]
        for m in measures:
            self.measure_types.setdefault(m.name, self.measure_type(m))
        for m in measures:
            self.measure(m)
        self.site_measures()
        self.scores()
        self.conditions()
        self.tiers()
        self.privileges()
        for prop in rs.properties:
            self.property(prop)
        for test in rs.tests:
            self.test(test)
        self.ownership()
        rs.types = self.types
        rs.measure_types = self.measure_types
        rs.score_types = self.score_types
        rs.def_types = {name: info.returns for name, info in self.def_infos.items()}
        return rs

"""The plan layer: a checked ruleset lowered once into small, engine-neutral plans.

Entry point: ``lower(ruleset) -> Plan``. A plan keeps the checked AST of each
expression (the engines translate those), and turns everything else into
plain data: each rule's event filter, award, ``once`` window, the chain of
caps it passes through (its own caps in the order written, then the shared
caps in declaration order), its decay; the measures, the scores with the one
running bound, the tiers and the privileges. The generated-Python engine
(codegen.py) and the SQL engine (sqlengine.py) both read only this, so the
pipeline order of decisions.md ("Evaluation") is written down in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import nodes as n
from .symbols import Ruleset

WINDOWS = ("day", "week", "month", "year")


def fmt_amount(x) -> str:
    """A cap or bound amount as it appears in a cut's label (``cap 20 per month``)."""
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


@dataclass(frozen=True)
class CapStep:
    """One bucket an award passes through: a rule's own cap or a shared cap."""

    label: str  # as in the ledger: "cap 20 per month", "shared cap votes 200 per day"
    amount: int | float
    window: str | None  # day | week | month | year | None (total)
    shared: str | None  # the shared cap's name; None for a rule's own cap
    owner: str  # the rule that owns an own cap; the shared cap's name otherwise
    bucket: str  # the running sum it keeps: "rule#position" for an own cap, the shared cap's name otherwise


@dataclass(frozen=True)
class RulePlan:
    """One rule: which events, which award, and the cuts in pipeline order."""

    index: int  # declaration order
    name: str
    author: str | None
    because: str | None
    cites: tuple[str, ...]
    event: str
    where: n.Expr | None
    award: n.Expr
    once: str | None  # None: no once; "total" for plain `once`; else the window
    once_label: str | None
    caps: tuple[CapStep, ...]
    half_life: float | None  # seconds
    span: n.Span
    award_span: n.Span


@dataclass(frozen=True)
class MeasurePlan:
    """One measure: an aggregate over one event type."""

    name: str
    kind: str  # count | count_days | count_distinct | sum | min | max | avg | last | first
    event: str
    field: str | None
    where: n.Expr | None
    within: float | None  # seconds
    default: n.Expr | None
    span: n.Span
    within_months: int | None = None  # `within N months|years`: a calendar window (then within is None)


@dataclass(frozen=True)
class ScorePlan:
    """One score, in declaration order."""

    name: str
    expr: n.Expr
    author: str | None
    span: n.Span


@dataclass(frozen=True)
class BoundPlan:
    """The one running floor/ceiling (decisions.md: at most one bounded score)."""

    score: str
    floor: int | float | None
    ceiling: int | float | None
    start: int | float  # C in C + points


@dataclass(frozen=True)
class TierPlan:
    """One tier, highest first; condition None for ``otherwise``."""

    name: str
    condition: n.Expr | None
    rank: int
    author: str | None
    span: n.Span


@dataclass(frozen=True)
class PrivilegePlan:
    """One privilege, in declaration order."""

    name: str
    condition: n.Expr
    author: str | None
    span: n.Span


@dataclass
class Plan:
    """The whole ruleset as plans, ready for any engine."""

    ruleset: Ruleset
    timezone: str
    subject_kind: str | None
    rules: list[RulePlan]
    measures: list[MeasurePlan]
    scores: list[ScorePlan]
    bound: BoundPlan | None
    tiers: list[TierPlan]
    privileges: list[PrivilegePlan]
    shared_caps: list[str]
    reads_attributes: bool
    needs_local: bool  # some window or `count distinct days` needs local (ruleset-zone) time

    def rules_on(self, event: str) -> list[RulePlan]:
        """The rules on one event type, in declaration order (the order they fire in)."""
        return [r for r in self.rules if r.event == event]

    def measures_on(self, event: str) -> list[MeasurePlan]:
        """The measures over one event type, in declaration order."""
        return [m for m in self.measures if m.event == event]

    def event_types(self) -> list[str]:
        """Every event type some rule or measure reads, in first-use order."""
        seen: dict[str, None] = {}
        for r in self.rules:
            seen.setdefault(r.event, None)
        for m in self.measures:
            seen.setdefault(m.event, None)
        return list(seen)

    def type_of(self, expr: n.Expr):
        """The checker's type of an expression node (types.Type), or None when it was not recorded."""
        return self.ruleset.types.get(id(expr))


def lower(ruleset: Ruleset) -> Plan:
    """Lower a checked ruleset into plans; raises evaluator.EvaluationError where the reference would."""
    from .evaluator import compile_ruleset

    # The reference compiler validates the program and evaluates the bound's constants;
    # taking them from it keeps the two from ever disagreeing about them.
    program = compile_ruleset(ruleset)
    shared = list(ruleset.shared_caps.values())
    rules = []
    needs_local = False
    for decl in ruleset.rules.values():
        on = decl.first(n.On)
        award = decl.first(n.Award)
        if on is None or award is None:
            continue
        where = decl.first(n.Where)
        once = decl.first(n.Once)
        decay = decl.first(n.Decay)
        caps = []
        for position, cap in enumerate(decl.clauses_of(n.Cap)):
            label = f"cap {fmt_amount(cap.amount)} " + (f"per {cap.window}" if cap.window else "total")
            caps.append(CapStep(label, cap.amount, cap.window, None, decl.name, f"{decl.name}#{position}"))
        for sc in shared:
            if any(r.name == decl.name for r in sc.rules):
                label = f"shared cap {sc.name} {fmt_amount(sc.amount)} " + (
                    f"per {sc.window}" if sc.window else "total")
                caps.append(CapStep(label, sc.amount, sc.window, sc.name, sc.name, sc.name))
        once_window = None
        once_label = None
        if once is not None:
            once_window = once.window or "total"
            once_label = "once" + (f" per {once.window}" if once.window else "")
        needs_local |= once is not None and once.window is not None
        needs_local |= any(c.window is not None for c in caps)
        rules.append(RulePlan(
            len(rules), decl.name, decl.by, decl.because, decl.cites, on.event.name,
            where.cond if where else None, award.value, once_window, once_label, tuple(caps),
            decay.half_life.seconds() if decay else None, decl.span, award.value.span))
    measures = []
    for decl in ruleset.measures.values():
        agg = decl.aggregate
        where = decl.first(n.Where)
        within = decl.first(n.Within)
        default = decl.first(n.Default)
        calendar = decl.first(n.CalendarWithin)
        needs_local |= agg.kind == "count_days"
        measures.append(MeasurePlan(
            decl.name, agg.kind, agg.event.name, agg.field.name if agg.field else None,
            where.cond if where else None, within.duration.seconds() if within else None,
            default.value if default else None, decl.span, calendar.months if calendar else None))
    scores = [ScorePlan(d.name, d.expr, d.by, d.span) for d in ruleset.scores.values()]
    bound = None
    if program.bounds is not None:
        bounded = next(d.name for d in ruleset.scores.values() if d.clauses_of(n.Bound))
        bound = BoundPlan(bounded, program.bounds[0], program.bounds[1], program.bound_start)
    tiers = [TierPlan(d.name, d.condition, ruleset.tier_rank(d.name), d.by, d.span)
             for d in ruleset.tiers.values()]
    privileges = [PrivilegePlan(d.name, d.condition, d.by, d.span) for d in ruleset.privileges.values()]
    kind = ruleset.subject_kind
    return Plan(ruleset, ruleset.timezone, kind.name if kind else None, rules, measures, scores, bound,
                tiers, privileges, [s.name for s in shared], program.reads_attributes, needs_local)

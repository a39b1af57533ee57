"""The abstract syntax tree: plain frozen data, one class per construct.

Every node carries a ``span``. Spans never take part in equality, so two
trees that differ only in layout compare equal; that is what makes the
formatter's law ``parse(fmt(ast)) == ast`` checkable.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file; lines and columns count from 1."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NO_SPAN = Span("<generated>", 0, 0, 0, 0)


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False, kw_only=True)


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Number:
    value: int | float
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Duration:
    """A duration literal such as ``30 days``; ``unit`` is always plural."""

    amount: int | float
    unit: str  # seconds | minutes | hours | days | weeks
    span: Span = _span()

    def seconds(self) -> float:
        """The length of the duration in seconds."""
        return self.amount * UNIT_SECONDS[self.unit]


UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}


@dataclass(frozen=True, slots=True)
class String:
    value: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Date:
    value: dt.date
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DateTime:
    """A datetime literal; ``value`` is naive when written without an offset."""

    value: dt.datetime
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Name:
    id: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Attribute:
    """``obj.name``: an event's or a subject's field."""

    obj: Expr
    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" | "not"
    operand: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # + - * / % and or
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Compare:
    """A comparison chain: ``0 <= x <= 200`` has operands (0, x, 200)."""

    operands: tuple[Expr, ...]
    ops: tuple[str, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class In:
    value: Expr
    options: tuple[Expr, ...]
    negated: bool = False
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Coalesce:
    """``left ?? right``: right when left is none."""

    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class If:
    cond: Expr
    then: Expr
    orelse: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Of:
    """``standing of m``: a value of one subject (tests and the REPL)."""

    target: Expr
    subject: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Earlier:
    """``earlier(AGGREGATE clauses)``: a measure over the subject's events before this one (rules only).

    ``clauses`` are Where, Within, CalendarWithin and Default nodes, as a measure's.
    """

    aggregate: "Aggregate"
    clauses: tuple = ()
    span: Span = _span()

    def first(self, kind: type):
        """The first clause of one kind, or None."""
        return next((c for c in self.clauses if isinstance(c, kind)), None)


Expr = Union[
    Number, Duration, String, Bool, Date, DateTime, Name, Attribute, Call,
    Unary, Binary, Compare, In, Coalesce, If, Of, Earlier,
]


# ---------------------------------------------------------------- shared pieces


@dataclass(frozen=True, slots=True)
class Ident:
    """A reference to a declared name, with the span of the reference."""

    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TypeRef:
    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Range:
    low: int | float
    high: int | float
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Choices:
    """The values an enumerated text field may hold, in the order written."""

    values: tuple[str, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: TypeRef
    optional: bool = False
    range: Range | None = None
    protected: bool = False
    span: Span = _span()
    choices: Choices | None = None  # `purpose: text in ["car", "education"]`


@dataclass(frozen=True, slots=True)
class By:
    author: Ident
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Because:
    text: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Cites:
    text: str
    span: Span = _span()


ProvenanceClause = Union[By, Because, Cites]


class _Provenance:
    """Small helpers shared by every declaration that carries clauses."""

    __slots__ = ()

    def clauses_of(self, kind: type) -> list:
        """The clauses of one kind, in source order."""
        return [c for c in self.clauses if isinstance(c, kind)]  # type: ignore[attr-defined]

    def first(self, kind: type):
        """The first clause of one kind, or None."""
        for c in self.clauses:  # type: ignore[attr-defined]
            if isinstance(c, kind):
                return c
        return None

    @property
    def by(self) -> str | None:
        """The author's name, if the declaration names one."""
        clause = self.first(By)
        return clause.author.name if clause else None

    @property
    def because(self) -> str | None:
        """The stated reason, if any."""
        clause = self.first(Because)
        return clause.text if clause else None

    @property
    def cites(self) -> tuple[str, ...]:
        """Every citation, in source order."""
        return tuple(c.text for c in self.clauses_of(Cites))


# ---------------------------------------------------------------- rule clauses


@dataclass(frozen=True, slots=True)
class On:
    event: Ident
    span: Span = _span()
    role: Ident | None = None  # `on voted as receiver` (roles.py resolves it to the event `voted as receiver`)


@dataclass(frozen=True, slots=True)
class Where:
    cond: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Award:
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Cap:
    """``cap N per WINDOW``, or ``cap N total`` when ``window`` is None."""

    amount: int | float
    window: str | None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Once:
    """``once`` (ever) or ``once per WINDOW``."""

    window: str | None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Decay:
    half_life: Duration
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Within:
    duration: Duration
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class CalendarWithin:
    """``within N months`` / ``within N years``: from the same local date N months before T."""

    amount: int | float
    unit: str  # months | years
    span: Span = _span()

    @property
    def months(self) -> int:
        """The window's length in calendar months (a year is 12)."""
        return int(self.amount) * (12 if self.unit.startswith("year") else 1)


@dataclass(frozen=True, slots=True)
class Keep:
    """``keep`` (never lost once reached) or ``keep while COND`` on a tier."""

    cond: Expr | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Hold:
    """``hold DURATION`` on a tier: never lost within DURATION of reaching it."""

    duration: Duration
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Default:
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Bound:
    """A running ``floor`` or ``ceiling`` ``per event`` on a score."""

    kind: str  # floor | ceiling
    value: Expr
    span: Span = _span()


# ---------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True)
class RulesetDecl:
    name: str
    title: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class VersionDecl:
    value: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TimezoneDecl:
    value: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ImportDecl:
    path: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class AuthorDecl:
    name: str
    description: str | None = None
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class SubjectDecl:
    name: str
    fields: tuple[Field, ...]
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class EventDecl:
    name: str
    fields: tuple[Field, ...]
    span: Span = _span()
    name_span: Span = _span()


RuleClause = Union[By, Because, Cites, On, Where, Award, Cap, Once, Decay]


@dataclass(frozen=True, slots=True)
class RuleDecl(_Provenance):
    name: str
    clauses: tuple[RuleClause, ...]
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class SharedCapDecl(_Provenance):
    name: str
    amount: int | float
    window: str | None
    rules: tuple[Ident, ...]
    clauses: tuple[ProvenanceClause, ...] = ()
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class FactorDecl(_Provenance):
    """``factor NAME over RULE, …``: the bins of one characteristic (one rule fires per event, constant awards)."""

    name: str
    rules: tuple[Ident, ...]
    clauses: tuple[ProvenanceClause, ...] = ()
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class Aggregate:
    """What a measure aggregates.

    kind is one of count, count_days, count_distinct, sum, min, max, avg, last, first;
    ``field`` is None for count and count_days.
    """

    kind: str
    event: Ident
    field: Ident | None = None
    role: Ident | None = None  # `count liked as receiver`
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Across:
    """``across everyone``: the measure aggregates every subject's events into one site-wide value."""

    span: Span = _span()


@dataclass(frozen=True, slots=True)
class AsRole:
    """A second ``as ROLE`` of a measure (the first is its aggregate's ``role``): reported by roles.py."""

    role: Ident
    span: Span = _span()


MeasureClause = Union[Where, Within, CalendarWithin, Default, Across, AsRole, By, Because, Cites]


@dataclass(frozen=True, slots=True)
class MeasureDecl(_Provenance):
    name: str
    aggregate: Aggregate
    clauses: tuple[MeasureClause, ...] = ()
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class ScoreDecl(_Provenance):
    name: str
    expr: Expr
    clauses: tuple[Union[Bound, By, Because, Cites], ...] = ()
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class TierDecl(_Provenance):
    """A tier; ``condition`` is None for ``otherwise``."""

    name: str
    condition: Expr | None
    clauses: tuple[Union[By, Because, Cites, Keep, Hold], ...] = ()
    span: Span = _span()
    name_span: Span = _span()


def has_memory(tier: TierDecl) -> bool:
    """Whether a tier keeps state along the timeline (`keep` or `hold`)."""
    return any(isinstance(c, (Keep, Hold)) for c in tier.clauses)


@dataclass(frozen=True, slots=True)
class PrivilegeDecl(_Provenance):
    name: str
    condition: Expr
    clauses: tuple[ProvenanceClause, ...] = ()
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class ConditionDecl(_Provenance):
    """``condition NAME = EXPR``: a named bool over a subject's results."""

    name: str
    expr: Expr
    clauses: tuple[ProvenanceClause, ...] = ()
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: TypeRef
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DefDecl:
    name: str
    params: tuple[Param, ...]
    body: Expr
    return_type: TypeRef | None = None
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class FieldValue:
    name: str
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TestSubject:
    """``member m { joined: 2024-01-01 }`` inside a test."""

    kind: Ident
    id: str
    values: tuple[FieldValue, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TestEvent:
    """``at 2026-01-10 m returned { days_late: 3 }`` inside a test."""

    at: Date | DateTime
    subject: str
    event: Ident
    values: tuple[FieldValue, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Expect:
    expr: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class AsOf:
    at: Date | DateTime
    span: Span = _span()


TestStmt = Union[TestSubject, TestEvent, Expect, AsOf]


@dataclass(frozen=True, slots=True)
class TestDecl:
    name: str
    body: tuple[TestStmt, ...]
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class Always:
    expr: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Independent:
    kind: Ident
    attr: Ident
    score: Ident | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Monotone:
    event: Ident
    field: Ident | None = None
    score: Ident | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class GainBound:
    window: str
    amount: int | float
    score: Ident | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class FourFifths:
    """``four fifths over KIND.ATTR for NAME``: no group's rate of holding a privilege (or reaching a tier)
    is below four fifths of the highest group's, on the given events."""

    kind: Ident
    attr: Ident
    selection: Ident  # a privilege, or a tier (reached at or above)
    span: Span = _span()


PropertyBody = Union[Always, Independent, Monotone, GainBound, FourFifths]


@dataclass(frozen=True, slots=True)
class PropertyDecl(_Provenance):
    name: str
    clauses: tuple[ProvenanceClause, ...]
    body: PropertyBody
    span: Span = _span()
    name_span: Span = _span()


@dataclass(frozen=True, slots=True)
class ParamRef:
    """A parameter named where the grammar wants a literal: ``cap NAME``, ``within NAME``, ``half_life NAME``.

    params.bind replaces it (and every ``Name`` of a parameter in an expression)
    by the parameter's value before the checker runs, so no later pass sees one.
    """

    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ParamDecl(_Provenance):
    """``param NAME = LITERAL by … because "…"``: a named constant with provenance (params.py)."""

    name: str
    value: Union[Number, Duration, String, Bool]
    clauses: tuple[ProvenanceClause, ...] = ()
    span: Span = _span()
    name_span: Span = _span()


Decl = Union[
    RulesetDecl, VersionDecl, TimezoneDecl, ImportDecl, AuthorDecl, SubjectDecl,
    EventDecl, RuleDecl, SharedCapDecl, FactorDecl, MeasureDecl, ScoreDecl, TierDecl,
    PrivilegeDecl, DefDecl, TestDecl, PropertyDecl, ConditionDecl, ParamDecl,
]

# The kind of each declaration as messages and reports name it (one table: a new kind is added here).
KIND_WORDS = {
    RulesetDecl: "ruleset", VersionDecl: "version", TimezoneDecl: "timezone", ImportDecl: "import",
    AuthorDecl: "author", SubjectDecl: "subject", EventDecl: "event", RuleDecl: "rule",
    SharedCapDecl: "shared cap", FactorDecl: "factor", MeasureDecl: "measure", ScoreDecl: "score",
    TierDecl: "tier", PrivilegeDecl: "privilege", DefDecl: "def", TestDecl: "test", PropertyDecl: "property",
    ConditionDecl: "condition", ParamDecl: "param",
}


@dataclass(frozen=True, slots=True)
class Comment:
    """A ``#`` comment; ``trailing`` when code precedes it on its line.

    Like a span, ``trailing`` is layout, not meaning: the formatter may move an
    own-line comment from inside a folded expression to the end of its line.
    """

    text: str
    trailing: bool = field(default=False, compare=False)
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Program:
    items: tuple[Decl, ...]
    comments: tuple[Comment, ...] = ()
    span: Span = _span()


WINDOWS = ("day", "week", "month", "year")
TYPE_NAMES = ("int", "number", "bool", "text", "date", "datetime", "duration")


def children(node) -> list:
    """The direct sub-nodes of a node, in field order (spans and plain values left out)."""
    found = []
    for name in getattr(node, "__slots__", ()):
        if name in ("span", "name_span"):
            continue
        value = getattr(node, name, None)
        if isinstance(value, tuple):
            found.extend(v for v in value if hasattr(v, "span"))
        elif hasattr(value, "span"):
            found.append(value)
    return found


def walk(*roots):
    """Every node under the roots, each node before its sub-nodes, in source order; no recursion."""
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))

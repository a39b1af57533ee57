"""What every part of the checker shares: scopes, def signatures, the reporting base, tree walks.

The checker is one pass (checker.check) split by concern into mixins, one per
module: checkscope (names), checkdecls (header, schema, provenance, defs),
checkitems (rules, measures, scores, tiers, privileges, properties, tests),
checkexprs (expression typing), checkranges (interval reasoning). They meet
in ``checker._Checker``; this module holds the state they all read.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from . import nodes as n
from .diagnostics import Diagnostic, error, warning
from .symbols import Ruleset
from .types import ERROR, Type


def suggest(name: str, candidates) -> str | None:
    """A "did you mean …" hint from the names in scope, or None."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=3, cutoff=0.6)
    if not close:
        return None
    return "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"


@dataclass(slots=True)
class Scope:
    """What an expression may read (decisions.md, "Names and scopes")."""

    construct: str
    author: str | None = None
    event: n.EventDecl | None = None
    event_unknown: bool = False  # the rule's event is unknown: its names are not reported again
    subject: bool = False
    now: bool = False
    points: bool = False
    measures: bool = False
    scores: frozenset[str] | None = frozenset()  # None: every score
    later_scores: frozenset[str] = frozenset()
    tiers: bool = False
    privileges: frozenset[str] | None = frozenset()
    later_privileges: frozenset[str] = frozenset()
    protected_ok: bool = False
    params: dict[str, tuple[int, Type]] | None = None
    singled_params: set[int] | None = None
    test_subjects: frozenset[str] | None = None
    literals_only: bool = False
    no_singling_out: bool = True
    earlier: bool = False  # `earlier(...)` is allowed: a rule's where and award

    def who(self) -> str:
        """The construct and its author, for messages."""
        return f"{self.construct} (by {self.author})" if self.author else self.construct


@dataclass
class DefInfo:
    """A checked def: parameter types, return type, parameters compared with a text literal."""

    params: list[tuple[str, Type]]
    returns: Type
    singled: set[int] = field(default_factory=set)


def children(e: n.Expr):
    """The direct sub-expressions of an expression node, in source order (none for a leaf)."""
    of = SUB_EXPRESSIONS.get(type(e))
    return () if of is None else of(e)


# one lookup per node instead of a chain of isinstance tests (most nodes are leaves, which went through all
# of them); the node classes have no subclasses, so the exact class is the test
SUB_EXPRESSIONS = {
    n.Attribute: lambda e: (e.obj,),
    n.Call: lambda e: e.args,
    n.Unary: lambda e: (e.operand,),
    n.Binary: lambda e: (e.left, e.right),
    n.Coalesce: lambda e: (e.left, e.right),
    n.Compare: lambda e: e.operands,
    n.In: lambda e: (e.value, *e.options),
    n.If: lambda e: (e.cond, e.then, e.orelse),
    n.Of: lambda e: (e.target,),
}


def walk(e: n.Expr):
    stack = [e]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(children(node))


def constant(e: n.Expr) -> float | None:
    """The value of a numeric literal, possibly negated, else None."""
    if isinstance(e, n.Number):
        return e.value
    if isinstance(e, n.Unary) and e.op == "-":
        inner = constant(e.operand)
        return None if inner is None else -inner
    return None


def conjuncts(e: n.Expr) -> list[n.Expr]:
    if isinstance(e, n.Binary) and e.op == "and":
        return conjuncts(e.left) + conjuncts(e.right)
    return [e]


class CheckerBase:
    """The state of one checker run and the two ways to report a finding."""

    rs: Ruleset

    def __init__(self, program: n.Program) -> None:
        self.program = program
        self.diags: list[Diagnostic] = []
        self.types: dict[int, Type] = {}
        self.def_infos: dict[str, DefInfo] = {}
        self.recursive_defs: set[str] = set()
        self.measure_types: dict[str, Type] = {}
        self.score_types: dict[str, Type] = {}
        self.owners: set[str] = set()
        self.kind: n.SubjectDecl | None = None
        self.fields_by_name: dict[int, dict[str, n.Field]] = {}  # id(event type) -> its fields (checkscope)
        self.field_types: dict[int, Type] = {}  # id(field) -> its type (checkscope)

    def err(self, code: str, message: str, span: n.Span, hint: str | None = None) -> Type:
        self.diags.append(error(code, message, span, hint))
        return ERROR

    def warn(self, code: str, message: str, span: n.Span, hint: str | None = None) -> None:
        self.diags.append(warning(code, message, span, hint))

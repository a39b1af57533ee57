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


@dataclass
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
    if isinstance(e, n.Attribute):
        return (e.obj,)
    if isinstance(e, n.Call):
        return e.args
    if isinstance(e, n.Unary):
        return (e.operand,)
    if isinstance(e, (n.Binary, n.Coalesce)):
        return (e.left, e.right)
    if isinstance(e, n.Compare):
        return e.operands
    if isinstance(e, n.In):
        return (e.value, *e.options)
    if isinstance(e, n.If):
        return (e.cond, e.then, e.orelse)
    if isinstance(e, n.Of):
        return (e.target,)
    return ()


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

    def err(self, code: str, message: str, span: n.Span, hint: str | None = None) -> Type:
        self.diags.append(error(code, message, span, hint))
        return ERROR

    def warn(self, code: str, message: str, span: n.Span, hint: str | None = None) -> None:
        self.diags.append(warning(code, message, span, hint))

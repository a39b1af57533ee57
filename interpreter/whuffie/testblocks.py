"""Running a rule file's ``test`` blocks: build the small history, evaluate it, check every ``expect``.

Entry point: ``run_tests(ruleset, source)`` (one ``TestOutcome`` per test
block, in source order); ``render_outcome`` turns an outcome into the text
``whuffie test`` prints. The expression compiler used here (``ResultCompiler``)
is shared with property checking: it evaluates expressions over finished
results (``X of s`` in tests, ``always`` in properties), with tiers as named
values and numbers compared within ``TOLERANCE``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from . import nodes as n
from . import sourcelines
from .evaluator import (
    Compiler, Env, EvaluationError, Program, Results, RuntimeFault, Scope, SubjectResult, compile_ruleset,
    evaluate,
)
from .inputs import Event
from .roles import role_type, roles_of
from .report import explain_text, iso, source_of
from .symbols import Ruleset

TOLERANCE = 1e-9


# ---------------------------------------------------------------- values over results


class TierValue:
    """A tier as a value: compares by rank (the top tier highest), prints as its name."""

    __slots__ = ("name", "rank")

    def __init__(self, name: str | None, rank: int):
        self.name = name
        self.rank = rank

    def _other(self, other):
        if isinstance(other, TierValue):
            return other.rank
        return NotImplemented

    def __eq__(self, other):
        rank = self._other(other)
        return rank if rank is NotImplemented else self.rank == rank

    def __hash__(self):
        return hash(self.rank)

    def __lt__(self, other):
        rank = self._other(other)
        return rank if rank is NotImplemented else self.rank < rank

    def __le__(self, other):
        rank = self._other(other)
        return rank if rank is NotImplemented else self.rank <= rank

    def __gt__(self, other):
        rank = self._other(other)
        return rank if rank is NotImplemented else self.rank > rank

    def __ge__(self, other):
        rank = self._other(other)
        return rank if rank is NotImplemented else self.rank >= rank

    def __str__(self):
        return self.name or "none"


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _close(a, b) -> bool:
    return _is_number(a) and _is_number(b) and abs(a - b) <= TOLERANCE


_TOLERANT = {
    "==": lambda a, b: _close(a, b) or a == b,
    "!=": lambda a, b: not (_close(a, b) or a == b),
    "<": lambda a, b: a < b and not _close(a, b),
    "<=": lambda a, b: a <= b or _close(a, b),
    ">": lambda a, b: a > b and not _close(a, b),
    ">=": lambda a, b: a >= b or _close(a, b),
}


class _ExpectSubjects(dict):
    """The subjects of an ``expect`` (id -> Env), with the argument slot a def's body reads (``env.args``)."""

    args: tuple = ()


class ResultCompiler(Compiler):
    """Compiles expressions read over finished results: ``expect`` bodies and ``always`` properties.

    An ``expect`` expression (scope kind "expect") is called with a dict
    subject id -> Env; ``X of s`` looks its subject up there. Anything else is
    called with one subject's Env, as a privilege condition would be.
    """

    def __init__(self, ruleset: Ruleset, tz: dt.tzinfo):
        super().__init__(ruleset, tz)
        self.tier_by_rank = {rank: name for name, rank in self.tier_ranks.items()}
        self.result_scope = Scope("privilege", scores=frozenset(ruleset.scores),
                                  privileges=frozenset(ruleset.privileges))

    def _name(self, node: n.Name, scope: Scope):
        if scope.kind in ("privilege", "expect"):
            if node.id in self.tier_ranks:
                value = TierValue(node.id, self.tier_ranks[node.id])
                return lambda env: value
            if node.id == "tier" and scope.kind == "privilege":
                names = self.tier_by_rank
                return lambda env: TierValue(names.get(env.tier), env.tier)
        return super()._name(node, scope)

    def _of(self, node: n.Of, scope: Scope):
        target = self.expr(node.target, self.result_scope)
        subject = node.subject
        return lambda envs: target(envs[subject])

    def _call(self, node: n.Call, scope: Scope):
        call = super()._call(node, scope)
        if scope.kind != "expect" or node.func not in self.rs.defs:
            return call
        # a def called in an expect keeps its arguments beside the subjects it reads them from
        return lambda envs: call(_ExpectSubjects(envs))

    def _compare(self, node: n.Compare, scope: Scope):
        operands = [self.expr(o, scope) for o in node.operands]
        ops = [_TOLERANT[o] for o in node.ops]
        as_instant = self._as_instant

        def chain(env):
            a = operands[0](env)
            for op, operand in zip(ops, operands[1:]):
                b = operand(env)
                try:
                    ok = op(a, b)
                except TypeError:
                    if isinstance(a, dt.date) and isinstance(b, dt.date):
                        ok = op(as_instant(a), as_instant(b))
                    else:
                        raise RuntimeFault(f"cannot compare {type(a).__name__} with {type(b).__name__}",
                                           node.span) from None
                if not ok:
                    return False
                a = b
            return True
        return chain

    def condition(self, expr: n.Expr):
        """Compile an expression read over one subject's results (as an ``always`` property is)."""
        return self.expr(expr, self.result_scope)

    def expectation(self, expr: n.Expr):
        """Compile an ``expect`` expression, read over a dict subject id -> Env."""
        return self.expr(expr, Scope("expect"))


def subject_env(ruleset: Ruleset, result: SubjectResult, attrs: dict, as_of: dt.datetime) -> Env:
    """The environment an expression over one subject's results reads."""
    env = Env(as_of)
    env.subject = result.subject
    env.attrs = attrs
    env.points = result.points
    env.by_rule = result.points_by_rule
    env.measures = result.measures
    env.scores = result.scores
    env.tier = ruleset.tier_rank(result.tier) if result.tier in ruleset.tiers else 0
    env.privileges = {p: p in result.privileges for p in ruleset.privileges}
    return env


def show(value) -> str:
    """A value as a test or property report prints it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, TierValue):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
        return f"{show(seconds / 86400)} days" if seconds % 86400 == 0 else f"{show(seconds)} seconds"
    return str(value)


def actual_text(expr: n.Expr, source: str | None, parts, env) -> str | None:
    """The expression's source with each part (``X of s``, a score…) replaced by its value, or None.

    ``parts`` is a list of (node, compiled) pairs; only single-line
    expressions are rewritten.
    """
    span = expr.span
    if source is None or not span.line or span.line != span.end_line:
        return None
    if isinstance(source, dict):  # the REPL's rule set mixes the file and typed declarations
        source = source.get(span.file, "")
    line = sourcelines.line(source, span.line) or ""
    pieces = []
    for node, compiled in parts:
        s = node.span
        if s.line != span.line or s.col < span.col or s.end_col > span.end_col:
            return None
        pieces.append((s.col, s.end_col, show(compiled(env))))
    pieces.sort()
    out, cursor = [], span.col
    for start, end, text in pieces:
        if start < cursor:
            continue
        out.append(line[cursor - 1:start - 1])
        out.append(text)
        cursor = end
    out.append(line[cursor - 1:span.end_col - 1])
    return "".join(out)


def value_parts(expr: n.Expr, compiler: ResultCompiler, scope_kind: str, names: set[str]) -> list:
    """The parts of an expression whose values a failure report shows, compiled.

    For ``expect``: every ``X of s``. For ``always``: every bare name of a
    score, measure, privilege, ``points``, ``tier``, and every attribute and
    ``points(rule)``.
    """
    found = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if scope_kind == "expect" and isinstance(node, n.Of):
            found.append((node, compiler.expectation(node)))
            continue
        if scope_kind == "always":
            if isinstance(node, n.Name) and node.id in names:
                found.append((node, compiler.condition(node)))
                continue
            if isinstance(node, n.Attribute) or (isinstance(node, n.Call) and node.func == "points"):
                found.append((node, compiler.condition(node)))
                continue
        stack.extend(n.children(node))
    return found


# ---------------------------------------------------------------- running tests


@dataclass
class ExpectFailure:
    """One ``expect`` that did not hold (or could not be evaluated)."""

    expect: n.Expect
    expected: str
    actual: str
    subjects: list[str]


@dataclass
class TestOutcome:
    """The result of one test block."""

    decl: n.TestDecl
    failures: list[ExpectFailure] = field(default_factory=list)
    error: str | None = None
    results: Results | None = None
    expectations: int = 0

    @property
    def passed(self) -> bool:
        """True when every expectation held and nothing went wrong."""
        return not self.failures and self.error is None


def _literal(expr: n.Expr, compiler: Compiler):
    return compiler.expr(expr, Scope("const"))(None)


def _instant(node: n.Date | n.DateTime, compiler: Compiler) -> dt.datetime:
    value = _literal(node, compiler)
    if isinstance(value, dt.datetime):
        return value
    return compiler.local_midnight(value)


def build_history(ruleset: Ruleset, decl: n.TestDecl, compiler: Compiler):
    """The subjects (id -> attributes), events and as-of instant a test block declares."""
    subjects: dict[str, dict] = {}
    events: list[Event] = []
    as_of = None
    kind = ruleset.subject_kind
    for stmt in decl.body:
        if isinstance(stmt, n.TestSubject):
            attrs = {f.name: None for f in (kind.fields if kind else ()) if f.optional}
            attrs.update({v.name: _literal(v.value, compiler) for v in stmt.values})
            subjects[stmt.id] = attrs
        elif isinstance(stmt, n.TestEvent):
            etype = ruleset.events[stmt.event.name]
            values = {f.name: None for f in etype.fields if f.optional}
            values.update({v.name: _literal(v.value, compiler) for v in stmt.values})
            where = f"{Path(stmt.span.file).name}:{stmt.span.line}"
            roles = roles_of(ruleset).get(stmt.event.name, ())
            for subject, etype in ([(values.get(r), role_type(stmt.event.name, r)) for r in roles] if roles
                                   else [(stmt.subject, stmt.event.name)]):  # one event per role it names
                events.append(Event(subject, etype, _instant(stmt.at, compiler), where, where, len(events), values))
        elif isinstance(stmt, n.AsOf):
            as_of = _instant(stmt.at, compiler)
    return subjects, events, as_of


def run_test(ruleset: Ruleset, decl: n.TestDecl, source: str | None = None,
             program: Program | None = None) -> TestOutcome:
    """Run one test block: evaluate its history and check each expectation."""
    program = program or compile_ruleset(ruleset)
    compiler = ResultCompiler(ruleset, ZoneInfo(ruleset.timezone))
    outcome = TestOutcome(decl)
    subjects, events, as_of = build_history(ruleset, decl, compiler)
    if program.reads_attributes:
        missing = sorted({e.subject for e in events} - set(subjects))
        if missing:
            outcome.error = (f"subject {missing[0]} has events but no attributes, and the rules read "
                             f"attributes; declare it, e.g. {ruleset.subject_kind.name} {missing[0]} {{ ... }}")
            return outcome
    try:
        results = evaluate(ruleset, events, subjects, as_of, program=program)
    except EvaluationError as exc:
        outcome.error = "; ".join(f"{d.span}: {d.code} {d.message}" for d in exc.diagnostics)
        return outcome
    outcome.results = results
    envs = {r.subject: subject_env(ruleset, r, subjects.get(r.subject, {}), results.as_of)
            for r in results.subjects}
    for stmt in decl.body:
        if not isinstance(stmt, n.Expect):
            continue
        outcome.expectations += 1
        expected = source_of(stmt.expr.span, source) or "(expression)"
        parts = value_parts(stmt.expr, compiler, "expect", set())
        named = sorted({node.subject for node, _ in parts})
        absent = [s for s in named if s not in envs]
        if absent:
            outcome.failures.append(ExpectFailure(
                stmt, expected, f"subject {absent[0]} has no events and is not declared in this test", []))
            continue
        try:
            held = compiler.expectation(stmt.expr)(envs)
            if held:
                continue
            actual = actual_text(stmt.expr, source, parts, envs)
            if actual is None:
                actual = "false; " + ", ".join(f"{source_of(node.span, source)} = {show(fn(envs))}"
                                               for node, fn in parts)
        except RuntimeFault as exc:
            actual = f"run-time fault: {exc.message}"
        outcome.failures.append(ExpectFailure(stmt, expected, actual, named))
    return outcome


def run_tests(ruleset: Ruleset, source: str | None = None, program: Program | None = None) -> list[TestOutcome]:
    """Run every test block of a ruleset, in source order."""
    program = program or compile_ruleset(ruleset)
    return [run_test(ruleset, decl, source, program) for decl in ruleset.tests]


def _indent(text: str, by: str) -> str:
    return "".join(by + line + "\n" if line else "\n" for line in text.splitlines())


def render_outcome(outcome: TestOutcome, ruleset: Ruleset, source: str | None) -> str:
    """The report of one test: a PASS line, or FAIL with each failed expectation and the ledgers."""
    decl = outcome.decl
    head = f'test "{decl.name}"  [{decl.span}]'
    if outcome.passed:
        return f"PASS {head}\n"
    out = [f"FAIL {head}\n"]
    if outcome.error is not None:
        out.append(f"  error: {outcome.error}\n")
    shown: list[str] = []
    for failure in outcome.failures:
        out.append(f"  {failure.expect.span}: expect {failure.expected}\n")
        out.append(f"    expected: {failure.expected}\n")
        out.append(f"    actual:   {failure.actual}\n")
        shown += [s for s in failure.subjects if s not in shown]
    results = outcome.results
    if results is not None:
        by_id = {r.subject: r for r in results.subjects}
        for sid in shown:
            if sid in by_id:
                out.append(f"  ledger of {sid}:\n")
                out.append(_indent(explain_text(by_id[sid], ruleset, source, results.as_of), "    "))
    return "".join(out)

"""The reference evaluator: a checked ruleset and validated events -> scores with a ledger.

Entry point: ``evaluate(ruleset, events, subjects, as_of)``. Expressions are
compiled once per run into Python closures; evaluation is then one pass over
each subject's events in order (time, then input position), with every firing
of every rule written to the ledger with the cuts that caps, ``once`` and
running bounds made to it.

Semantics follow docs/design/decisions.md ("Evaluation").
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from . import nodes as n
from . import values
from .diagnostics import Diagnostic, error
from .inputs import Event, paused_gc
from .symbols import Ruleset
from .values import HOST_FAULTS, RuntimeFault, check_for, check_int, check_number, host_fault, round_half_away

UTC = dt.timezone.utc


# ---------------------------------------------------------------- results


@dataclass(slots=True)
class Cut:
    """One reduction of an award: what cut it (``once per year``, ``cap 20 per month``, …) and by how much."""

    by: str
    amount: int | float  # the value before minus the value after (0 < amount for a cut award)


@dataclass(slots=True)
class LedgerEntry:
    """One firing of one rule on one event, and what became of its award."""

    rule: str
    author: str | None
    because: str | None
    cites: tuple[str, ...]
    event_id: str
    event_type: str
    at: dt.datetime
    line: str
    raw: int | float
    capped: int | float  # after once, caps and running bounds
    cuts: list[Cut]
    decay: float  # the factor applied; 1.0 without decay
    value: int | float  # what counts towards points
    span: n.Span
    earlier: tuple = ()  # (the `earlier(...)` as written, the value it had) for each one the rule read


@dataclass
class SubjectResult:
    """Everything computed for one subject."""

    subject: str
    scores: dict[str, object]
    tier: str | None
    privileges: list[str]
    measures: dict[str, object]
    points: int | float
    points_by_rule: dict[str, int | float]
    ledger: list[LedgerEntry] = field(default_factory=list)
    events: int = 0
    tier_log: list = field(default_factory=list)  # tiertimeline.TierChange, when some tier has memory


@dataclass
class Results:
    """The outcome of one run: one record per subject, sorted by subject id."""

    as_of: dt.datetime
    subjects: list[SubjectResult]
    scored: int = 0
    after_as_of: int = 0


class EvaluationError(Exception):
    """A run that cannot complete: a run-time fault (W090) or a program the checker should have refused."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


class _CompileError(Exception):
    def __init__(self, code: str, message: str, span: n.Span, hint: str | None = None):
        super().__init__(message)
        self.diagnostic = error(code, message, span, hint)


# ---------------------------------------------------------------- built-ins


def _sqrt(x, span):
    if x < 0:
        raise RuntimeFault(f"sqrt of a negative number ({x})", span)
    return math.sqrt(x)


def _log(x, span):
    if x <= 0:
        raise RuntimeFault(f"log of {'zero' if x == 0 else 'a negative number'} ({x})", span)
    return math.log(x)


def _exp(x, span):
    try:
        return math.exp(x)
    except OverflowError:
        raise RuntimeFault(f"exp({x}) is too large for a number", span) from None


def _clamp(x, lo, hi, span):
    return lo if x < lo else hi if x > hi else x


def _plain(f):
    return lambda *args: f(*args[:-1])


BUILTINS = {
    "min": (2, None, _plain(min)),
    "max": (2, None, _plain(max)),
    "clamp": (3, 3, _clamp),
    "abs": (1, 1, _plain(abs)),
    "floor": (1, 1, _plain(math.floor)),
    "ceil": (1, 1, _plain(math.ceil)),
    "round": (1, 2, _plain(round_half_away)),
    "sqrt": (1, 1, _sqrt),
    "log": (1, 1, _log),
    "exp": (1, 1, _exp),
    "days": (1, 1, _plain(lambda d: d.total_seconds() / 86400)),
    "hours": (1, 1, _plain(lambda d: d.total_seconds() / 3600)),
}


# ---------------------------------------------------------------- compiling


class Env:
    """What a compiled expression reads: the current event, subject and computed values."""

    __slots__ = ("fields", "event", "attrs", "subject", "now", "points", "by_rule",
                 "measures", "scores", "tier", "privileges", "args", "history", "position", "seen")

    def __init__(self, now: dt.datetime):
        self.fields: dict = {}
        self.event: Event | None = None
        self.attrs: dict = {}
        self.subject = ""
        self.now = now
        self.points = 0
        self.by_rule: dict = {}
        self.measures: dict = {}
        self.scores: dict = {}
        self.tier = 0
        self.privileges: dict = {}
        self.args: tuple = ()
        self.history: list = []  # the subject's events in processing order, for `earlier(...)`
        self.position = 0  # the index of the current event in history
        self.seen: list | None = None  # the values `earlier(...)` had, while a ledger entry is being made


@dataclass
class Scope:
    """What bare names mean in one place of the program (decisions.md, "Names and scopes")."""

    kind: str  # event | default | score | tier | privilege | def | const
    event_fields: frozenset = frozenset()
    scores: frozenset = frozenset()
    privileges: frozenset = frozenset()
    params: dict = field(default_factory=dict)


class Compiler:
    """Turns expressions into closures ``f(env) -> value``, resolving names once."""

    def __init__(self, ruleset: Ruleset, tz: dt.tzinfo):
        self.rs = ruleset
        self.tz = tz
        self.kind = ruleset.subject_kind.name if ruleset.subject_kind else None
        self.tier_ranks = {name: ruleset.tier_rank(name) for name in ruleset.tiers}
        self._defs: dict[str, object] = {}
        self._compiling: set[str] = set()

    def local_midnight(self, d: dt.date) -> dt.datetime:
        """A date as the instant its day starts in the ruleset timezone."""
        return dt.datetime(d.year, d.month, d.day, tzinfo=self.tz).astimezone(UTC)

    def _as_instant(self, v):
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            return self.local_midnight(v)
        return v

    # -- expressions

    def expr(self, node: n.Expr, scope: Scope):
        """Compile one expression for a scope."""
        method = getattr(self, "_" + type(node).__name__.lower(), None)
        if method is None:
            raise _CompileError("W025", f"{type(node).__name__} cannot be evaluated here", node.span)
        return method(node, scope)

    def _number(self, node, scope):
        v = node.value
        return lambda env: v

    def _string(self, node, scope):
        v = node.value
        return lambda env: v

    def _bool(self, node, scope):
        v = node.value
        return lambda env: v

    def _duration(self, node, scope):
        span = node.span
        try:
            v = values.duration(node.seconds(), span)
        except RuntimeFault as exc:  # a literal too long for the range faults where it is evaluated
            fault = exc

            def too_long(env):
                raise fault
            return too_long
        return lambda env: v

    def _date(self, node, scope):
        v = node.value
        return lambda env: v

    def _datetime(self, node, scope):
        v = node.value
        if v.tzinfo is None:
            v = v.replace(tzinfo=self.tz)
        try:
            v = v.astimezone(UTC)
        except OverflowError:  # a local time whose instant is before year 1 or after 9999
            fault = values.instant_fault(node.span)

            def outside(env):
                raise fault
            return outside
        return lambda env: v

    def _name(self, node: n.Name, scope: Scope):
        name = node.id
        if name in scope.params:
            index = scope.params[name]
            return lambda env: env.args[index]
        if scope.kind == "event" and name in scope.event_fields:
            return lambda env: env.fields[name]
        if name == "now" and scope.kind not in ("def", "const"):
            return lambda env: env.now
        if scope.kind in ("score", "tier", "privilege"):
            if name == "points":
                return lambda env: env.points
            if scope.kind == "privilege" and name == "tier":
                return lambda env: env.tier
            if scope.kind == "privilege" and name in self.tier_ranks:
                rank = self.tier_ranks[name]
                return lambda env: rank
            if scope.kind == "privilege" and name in scope.privileges:
                return lambda env: env.privileges[name]
            if name in scope.scores:
                return lambda env: env.scores[name]
            if name in self.rs.measures:
                return lambda env: env.measures[name]
        raise _CompileError("W010", f"unknown name {name!r} here", node.span)

    def _attribute(self, node: n.Attribute, scope: Scope):
        obj, attr = node.obj, node.name
        if isinstance(obj, n.Name) and obj.id not in scope.params:
            if obj.id == "event" and scope.kind == "event":
                if attr == "at":
                    return lambda env: env.event.at
                if attr == "id":
                    return lambda env: env.event.id
                if attr in scope.event_fields:
                    return lambda env: env.fields[attr]
            if obj.id == self.kind and scope.kind not in ("def", "default", "const"):
                if attr == "id":
                    return lambda env: env.subject
                return lambda env: env.attrs[attr]
        raise _CompileError("W015", f"cannot read {attr!r} here", node.span)

    def type_of(self, node: n.Expr):
        """The checker's type of an expression (None where it was not recorded)."""
        return self.rs.types.get(id(node))

    def _unary(self, node: n.Unary, scope):
        operand = self.expr(node.operand, scope)
        if node.op == "not":
            return lambda env: not operand(env)
        return _checked1(operator.neg, operand, check_for(self.type_of(node)), node.span)

    def _binary(self, node: n.Binary, scope):
        left = self.expr(node.left, scope)
        right = self.expr(node.right, scope)
        op, span = node.op, node.span
        if op == "and":
            return lambda env: left(env) and right(env)
        if op == "or":
            return lambda env: left(env) or right(env)
        as_instant = self._as_instant
        if op == "+":
            def add(a, b):
                try:
                    return a + b
                except TypeError:  # a date is its local midnight
                    return as_instant(a) + b
            fn = add
        elif op == "-":
            def sub(a, b):
                try:
                    return a - b
                except TypeError:
                    return as_instant(a) - as_instant(b)
            fn = sub
        elif op == "*":
            fn = operator.mul
        elif op == "/":
            def div(a, b):
                if not b:
                    raise RuntimeFault("division by zero", span)
                return a / b
            fn = div
        elif op == "%":
            def mod(a, b):
                if not b:
                    raise RuntimeFault("modulo by zero", span)
                return a % b
            fn = mod
        else:
            raise _CompileError("W025", f"unknown operator {op}", span)
        return _checked2(fn, left, right, check_for(self.type_of(node)), span)

    def _compare(self, node: n.Compare, scope):
        operands = [self.expr(o, scope) for o in node.operands]
        ops = [_COMPARE[o] for o in node.ops]
        to_instant = self._as_instant

        def as_instant(v):
            try:
                return to_instant(v)
            except OverflowError:  # the local midnight of 0001-01-01 east of UTC is before year 1
                raise values.instant_fault(node.span) from None

        def slow(a, op, b):
            if isinstance(a, dt.date) and isinstance(b, dt.date):
                return op(as_instant(a), as_instant(b))
            raise RuntimeFault(f"cannot compare {type(a).__name__} with {type(b).__name__}", node.span)

        if len(ops) == 1 and node.ops[0] in ("==", "!="):
            left, right, op = operands[0], operands[1], ops[0]

            def equal(env):
                a, b = left(env), right(env)
                # Python says a date never equals a datetime; here a date is its local midnight
                if type(a) is not type(b) and isinstance(a, dt.date) and isinstance(b, dt.date):
                    return op(as_instant(a), as_instant(b))
                return op(a, b)
            return equal

        if len(ops) == 1:
            left, right, op = operands[0], operands[1], ops[0]

            def compare(env):
                a, b = left(env), right(env)
                try:
                    return op(a, b)
                except TypeError:
                    return slow(a, op, b)
            return compare

        def chain(env):
            a = operands[0](env)
            for op, operand in zip(ops, operands[1:]):
                b = operand(env)
                try:
                    ok = op(a, b)
                except TypeError:
                    ok = slow(a, op, b)
                if not ok:
                    return False
                a = b
            return True
        return chain

    def _in(self, node: n.In, scope):
        value = self.expr(node.value, scope)
        options = [self.expr(o, scope) for o in node.options]
        negated = node.negated
        return lambda env: (value(env) in [o(env) for o in options]) != negated

    def _coalesce(self, node: n.Coalesce, scope):
        left, right = self.expr(node.left, scope), self.expr(node.right, scope)

        def coalesce(env):
            v = left(env)
            return right(env) if v is None else v
        return coalesce

    def _if(self, node: n.If, scope):
        cond, then, orelse = (self.expr(x, scope) for x in (node.cond, node.then, node.orelse))
        return lambda env: then(env) if cond(env) else orelse(env)

    def _call(self, node: n.Call, scope: Scope):
        name, span = node.func, node.span
        if name == "points" and scope.kind in ("score", "tier", "privilege") and "points" not in self.rs.defs:
            if len(node.args) != 1 or not isinstance(node.args[0], n.Name) or node.args[0].id not in self.rs.rules:
                raise _CompileError("W014", "points(...) takes the name of one rule", span)
            rule = node.args[0].id
            return lambda env: env.by_rule.get(rule, 0)
        args = [self.expr(a, scope) for a in node.args]
        if name in self.rs.defs:
            decl = self.rs.defs[name]
            if len(args) != len(decl.params):
                raise _CompileError("W023", f"{name} takes {len(decl.params)} arguments, not {len(args)}", span)
            body = self._def_body(decl)
            if len(args) == 1:
                only = args[0]

                def call1(env):
                    saved = env.args
                    env.args = (only(env),)
                    try:
                        return body(env)
                    finally:
                        env.args = saved
                return call1

            def call(env):
                values = tuple(a(env) for a in args)
                saved = env.args
                env.args = values
                try:
                    return body(env)
                finally:
                    env.args = saved
            return call
        if name in BUILTINS:
            low, high, fn = BUILTINS[name]
            if len(args) < low or (high is not None and len(args) > high):
                raise _CompileError("W023", f"{name} takes {low}{'' if high == low else ' or more' if high is None else f' to {high}'} arguments, not {len(args)}", span)
            check = check_for(self.type_of(node))
            if len(args) == 1:
                return _checked1(lambda a: fn(a, span), args[0], check, span)
            if len(args) == 2:
                return _checked2(lambda a, b: fn(a, b, span), args[0], args[1], check, span)

            def call_builtin(env):
                values_in = [a(env) for a in args]
                try:
                    v = fn(*values_in, span)
                except HOST_FAULTS as exc:
                    raise host_fault(exc, span) from None
                return check(v, span)
            return call_builtin
        raise _CompileError("W016", f"unknown function {name!r}", span)

    def _earlier(self, node: n.Earlier, scope: Scope):
        spec = earlier_spec(self.rs, node)
        where = node.first(n.Where)
        default = node.first(n.Default)
        test_fn = self.expr(where.cond, Scope("event", event_fields=spec.where)) if where else None
        default_fn = self.expr(default.value, Scope("default")) if default else None
        tz = self.tz
        label = earlier_label(node)

        def earlier(env):
            saved = env.fields, env.event

            def test(fields, ev):
                env.fields, env.event = fields, ev
                return test_fn(env)
            try:
                value = earlier_value(spec, env.history, env.position, test if test_fn else None,
                                      (lambda: default_fn(env)) if default_fn else None, tz)
            finally:
                env.fields, env.event = saved
            if env.seen is not None:
                env.seen.append((label, value))
            return value
        return earlier

    def _def_body(self, decl: n.DefDecl):
        if decl.name in self._defs:
            return self._defs[decl.name]
        if decl.name in self._compiling:
            raise _CompileError("W056", f"function {decl.name} calls itself", decl.span)
        self._compiling.add(decl.name)
        scope = Scope("def", params={p.name: i for i, p in enumerate(decl.params)})
        body = self.expr(decl.body, scope)
        self._compiling.discard(decl.name)
        self._defs[decl.name] = body
        return body


def _checked1(fn, operand, check, span):
    """``fn(operand)`` with Python's faults as RuntimeFaults at ``span`` and the result checked."""
    def checked(env):
        a = operand(env)
        try:
            v = fn(a)
        except HOST_FAULTS as exc:
            raise host_fault(exc, span) from None
        return check(v, span)
    return checked


def _checked2(fn, left, right, check, span):
    """``fn(left, right)`` with Python's faults as RuntimeFaults at ``span`` and the result checked."""
    def checked(env):
        a, b = left(env), right(env)
        try:
            v = fn(a, b)
        except HOST_FAULTS as exc:
            raise host_fault(exc, span) from None
        return check(v, span)
    return checked


_COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


# ---------------------------------------------------------------- the compiled program


def _window_key(window: str | None):
    """A function local datetime -> the window instance it falls in."""
    if window is None:
        return lambda local: None
    if window == "day":
        return lambda local: local.date()
    if window == "week":
        return lambda local: local.isocalendar()[:2]
    if window == "month":
        return lambda local: (local.year, local.month)
    return lambda local: local.year


@dataclass
class _Cap:
    label: str
    amount: int | float
    key: object  # local datetime -> window instance
    windowed: bool
    bucket: str = ""  # whose bucket: rule#position for a rule's own cap, the shared cap's name for a shared one


@dataclass
class _Rule:
    decl: n.RuleDecl
    name: str
    author: str | None
    because: str | None
    cites: tuple[str, ...]
    where: object
    award: object
    once: tuple[str, object] | None
    caps: list[_Cap]
    half_life: float | None  # seconds
    span: n.Span
    award_span: n.Span = n.NO_SPAN
    where_span: n.Span = n.NO_SPAN
    check_award: object = values.check_any
    reads_earlier: bool = False


@dataclass
class _Measure:
    name: str
    kind: str
    event: str
    field: str | None
    where: object
    within: float | None  # seconds
    default: object
    span: n.Span = n.NO_SPAN
    base: str | None = None  # the checked type: int, number, ... (None when unknown)
    months: int | None = None  # `within N months|years` (then within is None)


@dataclass
class Program:
    """A ruleset compiled to closures, ready to evaluate any number of subjects."""

    ruleset: Ruleset
    tz: dt.tzinfo
    rules_by_type: dict[str, list[_Rule]]
    measures_by_type: dict[str, list[_Measure]]
    measures: list[_Measure]
    scores: list[tuple[str, object, n.ScoreDecl]]
    tiers: list[tuple[str, object | None, int]]
    privileges: list[tuple[str, object]]
    bounds: tuple[object, object] | None  # (floor, ceiling), either may be None
    bound_start: int | float
    needs_local: bool
    reads_attributes: bool
    memory: list | None = None  # tiertimeline.TierRule for every tier, when some tier has memory


def compile_ruleset(ruleset: Ruleset) -> Program:
    """Compile every expression of a checked ruleset once; raise EvaluationError if one cannot be."""
    try:
        return _compile(ruleset)
    except _CompileError as exc:
        raise EvaluationError([exc.diagnostic]) from None
    except RuntimeFault as exc:  # a constant (a running floor or ceiling) out of range
        raise EvaluationError([error("W090", f"run-time fault in a constant: {exc.message}", exc.span,
                                     exc.hint)]) from None


def _compile(rs: Ruleset) -> Program:
    tz = ZoneInfo(rs.timezone)
    c = Compiler(rs, tz)
    needs_local = False
    shared = list(rs.shared_caps.values())
    rules_by_type: dict[str, list[_Rule]] = {}
    for decl in rs.rules.values():
        on = decl.first(n.On)
        if on is None:
            continue
        fields = frozenset(f.name for f in rs.events[on.event.name].fields) if on.event.name in rs.events else frozenset()
        scope = Scope("event", event_fields=fields)
        where = decl.first(n.Where)
        award = decl.first(n.Award)
        if award is None:
            raise _CompileError("W035", f"rule {decl.name} has no award", decl.span)
        once = decl.first(n.Once)
        caps = []
        for position, cap in enumerate(decl.clauses_of(n.Cap)):
            label = f"cap {_fmt_num(cap.amount)} " + (f"per {cap.window}" if cap.window else "total")
            caps.append(_Cap(label, cap.amount, _window_key(cap.window), cap.window is not None,
                             f"{decl.name}#{position}"))
        for sc in shared:
            if any(r.name == decl.name for r in sc.rules):
                label = f"shared cap {sc.name} {_fmt_num(sc.amount)} " + (f"per {sc.window}" if sc.window else "total")
                caps.append(_Cap(label, sc.amount, _window_key(sc.window), sc.window is not None, sc.name))
        decay = decl.first(n.Decay)
        once_spec = None
        if once is not None:
            once_spec = ("once" + (f" per {once.window}" if once.window else ""), _window_key(once.window))
            needs_local |= once.window is not None
        needs_local |= any(cp.windowed for cp in caps)
        rule = _Rule(
            decl, decl.name, decl.by, decl.because, decl.cites,
            c.expr(where.cond, scope) if where else None,
            c.expr(award.value, scope), once_spec, caps,
            decay.half_life.seconds() if decay else None, decl.span, award.value.span,
            where.cond.span if where else n.NO_SPAN, values.award_check(rs.types.get(id(award.value))),
            reads_earlier(decl))
        rules_by_type.setdefault(on.event.name, []).append(rule)

    measures = []
    measures_by_type: dict[str, list[_Measure]] = {}
    for decl in rs.measures.values():
        agg = decl.aggregate
        etype = agg.event.name
        fields = frozenset(f.name for f in rs.events[etype].fields) if etype in rs.events else frozenset()
        where = decl.first(n.Where)
        within = decl.first(n.Within)
        default = decl.first(n.Default)
        calendar = decl.first(n.CalendarWithin)
        m = _Measure(
            decl.name, agg.kind, etype, agg.field.name if agg.field else None,
            c.expr(where.cond, Scope("event", event_fields=fields)) if where else None,
            within.duration.seconds() if within else None,
            c.expr(default.value, Scope("default")) if default else None, decl.span,
            _base(rs.measure_types.get(decl.name)), calendar.months if calendar else None)
        needs_local |= agg.kind == "count_days"
        measures.append(m)
        measures_by_type.setdefault(etype, []).append(m)

    scores = []
    above: list[str] = []
    bounds = None
    bound_start: int | float = 0
    for decl in rs.scores.values():
        scores.append((decl.name, c.expr(decl.expr, Scope("score", scores=frozenset(above))), decl))
        above.append(decl.name)
        bound_clauses = decl.clauses_of(n.Bound)
        if bound_clauses and bounds is None:
            const = Scope("const")
            floor = ceiling = None
            for b in bound_clauses:
                value = c.expr(b.value, const)(None)
                if b.kind == "floor":
                    floor = value
                else:
                    ceiling = value
            bounds = (floor, ceiling)
            bound_start = _bound_start(decl.expr, c)
    all_scores = frozenset(above)
    tiers = []
    for decl in rs.tiers.values():
        cond = c.expr(decl.condition, Scope("tier", scores=all_scores)) if decl.condition is not None else None
        tiers.append((decl.name, cond, rs.tier_rank(decl.name)))
    privileges = []
    seen_privileges: list[str] = []
    for decl in rs.privileges.values():
        scope = Scope("privilege", scores=all_scores, privileges=frozenset(seen_privileges))
        privileges.append((decl.name, c.expr(decl.condition, scope)))
        seen_privileges.append(decl.name)
    from .tiertimeline import compile_tiers

    return Program(rs, tz, rules_by_type, measures_by_type, measures, scores, tiers, privileges,
                   bounds, bound_start, needs_local, _reads_attributes(rs), compile_tiers(c, rs, all_scores))


def _bound_start(expr: n.Expr, c: Compiler):
    """C in a bounded score ``C + points`` / ``points + C`` / ``points`` (the checker enforces the shape)."""
    if isinstance(expr, n.Name) and expr.id == "points":
        return 0
    if isinstance(expr, n.Binary) and expr.op == "+":
        for this, other in ((expr.left, expr.right), (expr.right, expr.left)):
            if isinstance(this, n.Name) and this.id == "points":
                return c.expr(other, Scope("const"))(None)
    raise _CompileError("W025", "a score with a running floor or ceiling must be points, C + points or points + C",
                        expr.span)


def _base(t) -> str | None:
    """The base name of a checked type (int, number…), None when unknown."""
    return None if t is None or t.base == "error" else t.base


def _reads_attributes(rs: Ruleset) -> bool:
    """True when a rule, measure, score, tier or privilege reads a subject attribute other than id."""
    kind = rs.subject_kind
    if kind is None:
        return False
    exprs: list = []
    for rule in rs.rules.values():
        exprs += [c.cond for c in rule.clauses_of(n.Where)] + [c.value for c in rule.clauses_of(n.Award)]
    for m in rs.measures.values():
        exprs += [c.cond for c in m.clauses_of(n.Where)]
    exprs += [s.expr for s in rs.scores.values()]
    exprs += [t.condition for t in rs.tiers.values() if t.condition is not None]
    exprs += [k.cond for t in rs.tiers.values() for k in t.clauses_of(n.Keep) if k.cond is not None]
    exprs += [p.condition for p in rs.privileges.values()]
    exprs += [d.body for d in rs.defs.values()]
    return any(isinstance(node, n.Attribute) and isinstance(node.obj, n.Name) and node.obj.id == kind.name
               and node.name != "id" for node in n.walk(*exprs))


def _fmt_num(x) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


# ---------------------------------------------------------------- evaluation


def evaluate(ruleset: Ruleset, events: list[Event], subjects: dict[str, dict] | None = None,
             as_of: dt.datetime | None = None, *, ledger: bool = True, only: str | None = None,
             program: Program | None = None) -> Results:
    """Evaluate a ruleset over events (input order) at instant ``as_of`` (default: the latest event).

    ``ledger=False`` skips keeping ledger entries (same numbers, less memory);
    ``only`` restricts the output to one subject.
    """
    from . import sitewide

    if sitewide.site_measures(ruleset):  # computed once over every event, then read as literals (sitewide.py)
        return sitewide.evaluate(lambda rs, evs, subj, at, **kw: evaluate(rs, evs, subj, at, **kw), ruleset, events,
                                 subjects, as_of, ledger=ledger, only=only)
    program = program or compile_ruleset(ruleset)
    with paused_gc():
        return _evaluate(program, events, subjects or {}, as_of, ledger, only)


def _evaluate(program: Program, events: list[Event], subjects: dict[str, dict], as_of: dt.datetime | None,
              ledger: bool, only: str | None) -> Results:
    if as_of is None:
        as_of = max((e.at for e in events), default=None)
        if as_of is None:
            as_of = dt.datetime(1970, 1, 1, tzinfo=UTC)
    as_of = as_of.astimezone(UTC)
    by_subject: dict[str, list[Event]] = {}
    after = 0
    for e in events:
        if e.at > as_of:
            after += 1
            continue
        if only is not None and e.subject != only:
            continue
        by_subject.setdefault(e.subject, []).append(e)
    scored = len(events) - after
    # ``only`` is always reported, even when all its events are after as-of
    ids = {only} if only is not None else set(by_subject) | set(subjects)
    out = []
    for sid in sorted(ids):
        evs = by_subject.get(sid, [])
        evs.sort(key=_by_time)  # stable: ties keep input order
        out.append(_evaluate_subject(program, sid, evs, subjects.get(sid, {}), as_of, ledger))
    return Results(as_of, out, scored, after)


_by_time = operator.attrgetter("at")


# Kept for the modules that import them from here; values.py is their home.
_HOST_FAULTS = HOST_FAULTS
_host = host_fault

_GUARD_HINT = "guard the expression (e.g. `if d == 0 then 0 else x / d`) or narrow the field's declared range"


def _fault(exc: RuntimeFault, what: str, author: str | None, event: Event | None, subject: str) -> EvaluationError:
    if event is None:
        where = f" for subject {subject}"
    elif event.id == event.line:  # no id in the input: the line is the id
        where = f" on the event at {event.line}"
    else:
        where = f" on event {event.id} ({event.line})"
    by = f" by {author}" if author else ""
    return EvaluationError([error(
        "W090", f"run-time fault in {what}{by}{where}: {exc.message}", exc.span,
        hint=getattr(exc, "hint", None) or _GUARD_HINT)])


def _evaluate_subject(p: Program, sid: str, events: list[Event], attrs: dict, now: dt.datetime,
                      keep_ledger: bool, timeline: bool = True) -> SubjectResult:
    env = Env(now)
    env.subject = sid
    env.attrs = attrs
    tz = p.tz
    # instants are kept in UTC: with a UTC ruleset there is nothing to convert
    needs_local = p.needs_local and p.ruleset.timezone not in ("UTC", "Etc/UTC")
    same_zone = p.needs_local and not needs_local
    once_seen: set = set()
    buckets: dict = {}
    floor, ceiling = p.bounds if p.bounds else (None, None)
    bounded = p.bounds is not None
    balance = p.bound_start
    points = 0
    by_rule: dict[str, int | float] = {}
    entries: list[LedgerEntry] = []
    acc = {m.name: _new_acc(m.kind) for m in p.measures}
    starts = {m.name: values.window_start(now, m.within) for m in p.measures if m.within is not None}
    starts.update({m.name: values.calendar_window_start(now, m.months, p.tz) for m in p.measures if m.months})
    rules_by_type = p.rules_by_type
    measures_by_type = p.measures_by_type
    env.history = events
    for position, ev in enumerate(events):
        env.position = position
        env.fields = ev.fields
        env.event = ev
        local = values.local_time(ev.at, tz) if needs_local else ev.at if same_zone else None
        for r in rules_by_type.get(ev.type, ()):
            if keep_ledger and r.reads_earlier:
                env.seen = []
            if r.where is not None:
                try:
                    if not r.where(env):
                        continue
                except RuntimeFault as exc:
                    raise _fault(exc, f"rule {r.name}", r.author, ev, sid) from None
                except HOST_FAULTS as exc:
                    raise _fault(host_fault(exc, r.where_span), f"rule {r.name}", r.author, ev, sid) from None
            try:
                raw = r.check_award(r.award(env), r.award_span)
            except RuntimeFault as exc:
                raise _fault(exc, f"rule {r.name}", r.author, ev, sid) from None
            except HOST_FAULTS as exc:
                raise _fault(host_fault(exc, r.award_span), f"rule {r.name}", r.author, ev, sid) from None
            value = raw
            cuts = None
            if r.once is not None:
                key = (r.name, r.once[1](local))
                if key in once_seen:
                    if value:
                        cuts = [Cut(r.once[0], value)]
                    value = 0
                else:
                    once_seen.add(key)
            for cap in r.caps:
                key = (cap.bucket, cap.label, cap.key(local))
                total = buckets.get(key, 0)
                if value > 0:
                    room = cap.amount - total
                    if value > room:
                        allowed = room if room > 0 else 0
                        if cuts is None:
                            cuts = []
                        cuts.append(Cut(cap.label, value - allowed))
                        value = allowed
                buckets[key] = total + value
            if bounded:
                new = balance + value
                if floor is not None and value < 0 and new < floor:
                    allowed = min(0, floor - balance)
                    if cuts is None:
                        cuts = []
                    cuts.append(Cut(f"floor {_fmt_num(floor)} per event", value - allowed))
                    value = allowed
                elif ceiling is not None and value > 0 and new > ceiling:
                    allowed = max(0, ceiling - balance)
                    if cuts is None:
                        cuts = []
                    cuts.append(Cut(f"ceiling {_fmt_num(ceiling)} per event", value - allowed))
                    value = allowed
                balance += value
            capped = value
            factor = 1.0
            if r.half_life is not None:
                factor = 0.5 ** ((now - ev.at).total_seconds() / r.half_life)
                value = value * factor
            points += value
            by_rule[r.name] = by_rule.get(r.name, 0) + value
            if keep_ledger:
                entries.append(LedgerEntry(
                    r.name, r.author, r.because, r.cites, ev.id, ev.type, ev.at, ev.line,
                    raw, capped, cuts or [], factor, value, r.span, tuple(env.seen or ())))
            env.seen = None
        for m in measures_by_type.get(ev.type, ()):
            if m.within is not None or m.months:
                start = starts[m.name]
                if start is not None and ev.at <= start:
                    continue
            if m.where is not None:
                try:
                    if not m.where(env):
                        continue
                except RuntimeFault as exc:
                    raise _fault(exc, f"measure {m.name}", None, ev, sid) from None
                except HOST_FAULTS as exc:
                    raise _fault(host_fault(exc, m.span), f"measure {m.name}", None, ev, sid) from None
            if m.kind == "count":
                acc[m.name][0] += 1
            else:
                try:
                    _accumulate(acc[m.name], m, ev, local)
                except RuntimeFault as exc:
                    raise _fault(exc, f"measure {m.name}", None, ev, sid) from None
                except HOST_FAULTS as exc:
                    raise _fault(host_fault(exc, m.span), f"measure {m.name}", None, ev, sid) from None
    env.event = None
    env.fields = {}
    try:
        first_rule = next(iter(p.ruleset.rules.values()), None)
        points = check_points(points, first_rule.span if first_rule else n.NO_SPAN)
        for name, total in by_rule.items():
            by_rule[name] = check_points(total, p.ruleset.rules[name].span)
    except RuntimeFault as exc:
        raise _fault(exc, "the points", None, None, sid) from None
    measures = {}
    for m in p.measures:
        try:
            value = _finish(acc[m.name], m)
            if value is None and m.default is not None:
                value = m.default(env)
            measures[m.name] = values.as_output(value, m.base, m.span)
        except RuntimeFault as exc:
            raise _fault(exc, f"measure {m.name}", None, None, sid) from None
        except HOST_FAULTS as exc:
            raise _fault(host_fault(exc, m.span), f"measure {m.name}", None, None, sid) from None
    env.points = points
    env.by_rule = by_rule
    env.measures = measures
    scores: dict[str, object] = {}
    env.scores = scores
    score_types = p.ruleset.score_types
    for name, fn, decl in p.scores:
        try:
            scores[name] = values.as_output(fn(env), _base(score_types.get(name)), decl.expr.span)
        except RuntimeFault as exc:
            raise _fault(exc, f"score {name}", decl.by, None, sid) from None
        except HOST_FAULTS as exc:
            raise _fault(host_fault(exc, decl.expr.span), f"score {name}", decl.by, None, sid) from None
    tier_name, tier_rank = None, 0
    tier_log: list = []
    if p.memory is not None:
        if timeline:
            from .tiertimeline import tier_over_time

            tier_name, tier_rank, tier_log = tier_over_time(p, sid, events, attrs, now, env)
    for name, cond, rank in (p.tiers if p.memory is None else ()):
        try:
            if cond is None or cond(env):
                tier_name, tier_rank = name, rank
                break
        except RuntimeFault as exc:
            raise _fault(exc, f"tier {name}", p.ruleset.tiers[name].by, None, sid) from None
        except HOST_FAULTS as exc:
            decl = p.ruleset.tiers[name]
            raise _fault(host_fault(exc, decl.span), f"tier {name}", decl.by, None, sid) from None
    env.tier = tier_rank
    privileges = privileges_of(p, env, sid)
    return SubjectResult(sid, scores, tier_name, [k for k, v in privileges.items() if v], measures,
                         points, by_rule, entries, len(events), tier_log)


def privileges_of(p: Program, env: Env, sid: str) -> dict[str, bool]:
    """Every privilege in declaration order, each seeing the ones above it (env.tier already set)."""
    privileges: dict[str, bool] = {}
    env.privileges = privileges
    for name, cond in p.privileges:
        try:
            privileges[name] = bool(cond(env))
        except RuntimeFault as exc:
            raise _fault(exc, f"privilege {name}", p.ruleset.privileges[name].by, None, sid) from None
        except HOST_FAULTS as exc:
            decl = p.ruleset.privileges[name]
            raise _fault(host_fault(exc, decl.span), f"privilege {name}", decl.by, None, sid) from None
    return privileges


def check_points(total, span: n.Span):
    """A sum of contributions, checked: ints in 64 bits, floats finite (each engine sums in ledger order)."""
    return check_number(total, span) if isinstance(total, float) else check_int(total, span)


def earlier_label(node: n.Earlier) -> str:
    """How the ledger names an `earlier(...)`: as the formatter writes it."""
    from .formatter import format_expr

    return format_expr(node)


def reads_earlier(decl: n.RuleDecl) -> bool:
    """Whether a rule's where or award reads `earlier(...)`."""
    roots = [c.cond for c in decl.clauses_of(n.Where)] + [c.value for c in decl.clauses_of(n.Award)]
    return any(isinstance(x, n.Earlier) for x in n.walk(*roots))


def earlier_spec(rs: Ruleset, node: n.Earlier) -> _Measure:
    """What ``earlier(...)`` aggregates, as a measure; ``where`` holds the event's field names."""
    agg = node.aggregate
    etype = agg.event.name
    within = node.first(n.Within)
    calendar = node.first(n.CalendarWithin)
    fields = frozenset(f.name for f in rs.events[etype].fields) if etype in rs.events else frozenset()
    return _Measure("earlier", agg.kind, etype, agg.field.name if agg.field else None, fields,
                    within.duration.seconds() if within else None, None, node.span,
                    _base(rs.types.get(id(node))), calendar.months if calendar else None)


def earlier_value(m: _Measure, events: list, position: int, test, default, tz: dt.tzinfo):
    """``earlier(...)`` at events[position]: the aggregate over the subject's events before it.

    Before means earlier in processing order (time, then input position), so an
    event at the same instant but read before counts; the window is the span
    (at − D, at] or the calendar months before this event's instant. ``test(fields,
    event)`` is the `where`, ``default()`` the default; both engines pass their own.
    """
    at = events[position].at
    if m.within is not None:
        start = values.window_start(at, m.within)
    elif m.months:
        start = values.calendar_window_start(at, m.months, tz)
    else:
        start = None
    acc = _new_acc(m.kind)
    kind, etype = m.kind, m.event
    for i in range(position):
        ev = events[i]
        if ev.type != etype or (start is not None and ev.at <= start):
            continue
        if test is not None and not test(ev.fields, ev):
            continue
        if kind == "count":
            acc[0] += 1
        else:
            _accumulate(acc, m, ev, values.local_time(ev.at, tz) if kind == "count_days" else None)
    value = _finish(acc, m)
    if value is None and default is not None:
        value = default()
    return values.as_output(value, m.base, m.span)


def _new_acc(kind: str):
    if kind in ("count_days", "count_distinct"):
        return [set()]
    if kind == "avg":
        return [None, 0]
    if kind == "first":
        return [None, False]  # the value, and whether an event was seen (its field may be none)
    # sum starts from the first value, not from 0, so that durations add up too
    return [0 if kind == "count" else None]


def _accumulate(acc: list, m: _Measure, ev: Event, local):
    kind = m.kind
    if kind == "count":
        acc[0] += 1
        return
    if kind == "count_days":
        acc[0].add(local.date())
        return
    value = ev.fields.get(m.field)
    if kind == "last":  # the latest event's value, none included: a later event without it clears it
        acc[0] = value
        return
    if kind == "first":
        if not acc[1]:
            acc[0], acc[1] = value, True
        return
    if value is None:
        return
    if kind == "count_distinct":
        acc[0].add(value)
    elif kind == "sum":
        # the running sum is a value of the measure's type: it may not leave its range
        acc[0] = value if acc[0] is None else values.CHECKS.get(m.base, values.check_any)(acc[0] + value, m.span)
    elif kind == "avg":
        acc[0] = value if acc[0] is None else acc[0] + value  # exact for ints; only the mean is a value
        acc[1] += 1
    elif kind == "min":
        if acc[0] is None or value < acc[0]:
            acc[0] = value
    elif kind == "max":
        if acc[0] is None or value > acc[0]:
            acc[0] = value


def _finish(acc: list, m: _Measure):
    kind = m.kind
    if kind in ("count_days", "count_distinct"):
        return len(acc[0])
    if kind == "avg":
        if not acc[1]:
            return None
        try:
            return acc[0] / acc[1]
        except OverflowError:  # a mean of ints beyond the float range
            raise values.number_fault(float("inf"), m.span) from None
    if kind == "sum" and acc[0] is None:
        return 0
    return acc[0]

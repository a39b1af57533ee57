"""Whuffie expressions as SQLGlot expressions, each operand written once.

Entry point: ``Translator(plan, layout, now).expr(node, scope)``; the
subexpressions it needs more than once are *bound*: computed once as a
column of a projection layer before the one that reads them
(``Translator.flush``). The generated SQL therefore grows linearly with the
rule file, whatever the nesting: an ``and`` chain is one n-ary form, a
comparison chain reads each middle operand from one column, a def called
from two places is computed once per distinct argument list.

Run-time faults are NULL: every operation that can fault in the reference
(division and ``%`` by zero, ``sqrt`` of a negative, ``log`` of a
non-positive, ``exp`` overflow, a non-finite number, a datetime or duration
outside year 1..9999) yields NULL, and NULL reaches the top of the rule's
``where`` or award only when the reference would have met the fault: ``and``
is the first operand that is not true, ``or`` the first that is not false.
An overflow of 64-bit integers is a DuckDB error; the caller hands the run
to generated Python, which names the fault.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlglot import exp

from .. import limits, values
from .. import nodes as n
from ..diagnostics import Diagnostic, warning
from ..evaluator import UTC

US = 1_000_000
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
MAX_INT = values.INT_MAX
MIN_INT = values.INT_MIN
# the supported datetime range (values.py, the shared runtime contract), as epoch microseconds
MIN_US = (values.INSTANT_MIN - EPOCH) // dt.timedelta(microseconds=1)
MAX_US = (values.INSTANT_MAX - EPOCH) // dt.timedelta(microseconds=1)
MAX_SPAN_US = values.DURATION_MAX // dt.timedelta(microseconds=1)  # longer than the datetime range: a fault
EXP_LIMIT = 709.782712893384  # math.exp overflows above this
# A SQL expression deeper than this is bound as a column: SQLGlot's generator and DuckDB's parser
# recurse over the tree, and a column resets the depth.
MAX_SQL_DEPTH = 48
# Rule-file nodes translated for one top-level expression (a def counted at each distinct call):
# beyond this the query is not built, and the run is handed to generated Python (W091).
MAX_TRANSLATED = limits.MAX_EXPANDED_NODES  # the front end's W061 stops larger expansions first


class SqlUnsupported(Exception):
    """A construct the SQL engine cannot express exactly; the caller falls back to generated Python."""

    def __init__(self, message: str, span: n.Span = n.NO_SPAN):
        super().__init__(message)
        self.message = message
        self.span = span

    def diagnostic(self) -> Diagnostic:
        """The finding as a diagnostic (W091, a warning: the run goes on with another engine)."""
        return warning("W091", f"the SQL engine cannot express {self.message}; "
                               "scoring with the generated-Python engine instead", self.span,
                       hint="nothing to fix: the result is the same, only slower on very large logs")


# ---------------------------------------------------------------- small builders


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def num(value) -> exp.Expression:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise SqlUnsupported(f"the integer {value} (beyond 64 bits)")
        return exp.Cast(this=exp.Literal.number(value), to=exp.DataType.build("BIGINT"))
    if not math.isfinite(value):
        raise SqlUnsupported(f"the number {value}")
    return exp.Cast(this=exp.Literal.number(repr(float(value))), to=exp.DataType.build("DOUBLE"))


def double(e: exp.Expression) -> exp.Expression:
    return exp.Cast(this=e, to=exp.DataType.build("DOUBLE"))


def case(*branches: tuple[exp.Expression, exp.Expression], default: exp.Expression | None = None) -> exp.Case:
    return exp.Case(ifs=[exp.If(this=c, true=v) for c, v in branches], default=default)


def null() -> exp.Null:
    return exp.Null()


def is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=paren(e), expression=exp.Null())


def not_null(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=is_null(e))


def eq(a, b) -> exp.Expression:
    return exp.EQ(this=a, expression=b)


def paren(e: exp.Expression) -> exp.Expression:
    return e if isinstance(e, (exp.Paren, exp.Column, exp.Literal)) else exp.Paren(this=e)


def add(a, b) -> exp.Expression:
    return exp.Paren(this=exp.Add(this=a, expression=b))


def sub(a, b) -> exp.Expression:
    return exp.Paren(this=exp.Sub(this=a, expression=b))


def mul(a, b) -> exp.Expression:
    return exp.Paren(this=exp.Mul(this=a, expression=b))


def greatest(*args: exp.Expression) -> exp.Expression:
    return exp.Greatest(this=args[0], expressions=list(args[1:])) if len(args) > 1 else args[0]


def coalesce0(e: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=e, expressions=[exp.Literal.number(0)])


def total(parts: list[exp.Expression]) -> exp.Expression:
    """a + b + … as a balanced tree (a left-deep chain of thousands of terms overflows recursive printers)."""
    if len(parts) == 1:
        return paren(parts[0])
    middle = len(parts) // 2
    return exp.Paren(this=exp.Add(this=total(parts[:middle]), expression=total(parts[middle:])))


def cheap(e: exp.Expression) -> bool:
    """Whether copying an expression costs nothing: a column, a literal, a constant subquery."""
    while isinstance(e, (exp.Paren, exp.Cast)):
        e = e.this
    return isinstance(e, (exp.Column, exp.Literal, exp.Boolean, exp.Null, exp.Subquery))


def sql_depth(e: exp.Expression, limit: int) -> int:
    """The nesting depth of an expression tree, counted up to ``limit + 1``."""
    deepest = 0
    stack = [(e, 1)]
    while stack:
        x, d = stack.pop()
        if d > deepest:
            deepest = d
            if deepest > limit:
                return deepest
        stack.extend((child, d + 1) for child in x.iter_expressions())
    return deepest


def three_valued(operands: list[exp.Expression], op: str) -> exp.Expression:
    """``and`` / ``or`` of many conditions as the reference reads them, each operand written once.

    The reference stops at the first operand that is not true (``and``) or not
    false (``or``), and a fault there is the result. Each operand i becomes an
    integer code 3i + v (v: 0 false, 1 true, 2 fault), or a code larger than
    every other when it lets the walk go on; the smallest code is the first
    stop, and its v is the result (no stop: the large code, v = 1 for ``and``,
    0 for ``or``).
    """
    go_on = 1 if op == "and" else 0
    large = 3 * (len(operands) + 1) + go_on
    codes = []
    for i, o in enumerate(operands):
        v = exp.Cast(this=paren(o), to=exp.DataType.build("INT"))
        if op == "or":
            v = sub(exp.Literal.number(1), v)  # 1 exactly when false: the walk goes on
            base = 3 * i + 1
        else:
            base = 3 * i
        # v = 1 (go on): large; v = 0 (stop): base, which says true (or) / false (and); fault: 3i + 2
        code = exp.Coalesce(this=add(mul(v, exp.Literal.number(large - base)), exp.Literal.number(base)),
                            expressions=[exp.Literal.number(3 * i + 2)])
        codes.append(code)
    first = exp.Mod(this=paren(exp.Least(this=codes[0], expressions=codes[1:])), expression=exp.Literal.number(3))
    return exp.Cast(this=exp.Nullif(this=paren(first), expression=exp.Literal.number(2)),
                    to=exp.DataType.build("BOOLEAN"))


# ---------------------------------------------------------------- bindings


class Bindings:
    """Subexpressions computed once, as columns of projection layers before the layer that reads them."""

    def __init__(self):
        self.pending: dict[str, exp.Expression] = {}
        self.count = 0
        self.layers = 0

    def bind(self, e: exp.Expression) -> exp.Column:
        name = f"bind{self.count}"
        self.count += 1
        self.pending[name] = e
        return col(name)

    def flush(self, layer, current: str) -> str:
        """Emit the pending bindings as layers over ``current`` (a binding after those it reads)."""
        if not self.pending:
            return current
        level: dict[str, int] = {}
        for name, e in self.pending.items():  # created in order: a binding reads only earlier ones
            reads = [level[c.name] for c in e.find_all(exp.Column) if c.name in level]
            level[name] = 1 + max(reads, default=-1)
        for lv in range(max(level.values()) + 1):
            columns = [e.as_(name) for name, e in self.pending.items() if level[name] == lv]
            self.layers += 1
            current = layer(f"bound{self.layers}", exp.select(exp.Star(), *columns).from_(current))
        self.pending = {}
        return current


# ---------------------------------------------------------------- expressions


@dataclass
class Scope:
    kind: str  # event | default | score | tier | privilege | def
    event: str | None = None
    scores: dict[str, str] = field(default_factory=dict)  # visible score -> column
    privileges: dict[str, str] = field(default_factory=dict)
    params: dict[str, exp.Expression] = field(default_factory=dict)
    outer: Scope | None = None  # the scope a def body was called from (for binding only)


class Translator:
    """Turns checked rule-file expressions into SQLGlot expressions over the query's layers."""

    def __init__(self, plan, layout, now: exp.Expression):
        self.plan = plan
        self.rs = plan.ruleset
        self.layout = layout
        self.now = now
        self.tz = ZoneInfo(plan.timezone)
        self.measure_columns = {m.name: f"m{i}" for i, m in enumerate(plan.measures)}
        self.rule_index = {r.name: r.index for r in plan.rules}
        self.tier_ranks = {name: self.rs.tier_rank(name) for name in self.rs.tiers}
        self.inlining: list[str] = []
        self.bindings = Bindings()
        self.finite_columns: set[str] = set()  # bound columns known to hold only finite numbers
        self.calls: dict[tuple, exp.Expression] = {}  # (def, argument SQL) -> its bound result
        self.call_sites = Counter(x.func for x in _walk_all(self.rs) if isinstance(x, n.Call))
        self.translated = 0  # nodes of the current top-level expression
        self.nesting = 0

    def flush(self, layer, current: str) -> str:
        """The pending bindings as layers over ``current``; the next expressions start afresh."""
        self.calls = {}
        return self.bindings.flush(layer, current)

    def base(self, node: n.Expr) -> str | None:
        t = self.plan.type_of(node)
        return t.base if t is not None else None

    def _earlier(self, node: n.Earlier, scope: Scope) -> exp.Expression:
        # a value of each event's past, inside the award: the query computes awards row by row
        raise SqlUnsupported("`earlier(...)` (an aggregate over each event's past)", node.span)

    def expr(self, node: n.Expr, scope: Scope) -> exp.Expression:
        method = getattr(self, "_" + type(node).__name__.lower(), None)
        if method is None:
            raise SqlUnsupported(f"a {type(node).__name__} expression", node.span)
        self.translated = self.translated + 1 if self.nesting else 1
        if self.translated > MAX_TRANSLATED:
            raise SqlUnsupported(f"an expression too large once defs are expanded (over {MAX_TRANSLATED:,} "
                                 "nodes)", node.span)
        self.nesting += 1
        try:
            result = method(node, scope)
        finally:
            self.nesting -= 1
        if sql_depth(result, MAX_SQL_DEPTH) > MAX_SQL_DEPTH:
            result = self.bindings.bind(result)
        return result

    def reuse(self, e: exp.Expression) -> exp.Expression:
        """An expression that may be copied: itself when cheap, else a bound column."""
        return e if cheap(e) else self.bindings.bind(e)

    def finite(self, e: exp.Expression, kind: str | None) -> exp.Expression:
        """A number as itself when finite, NULL (a fault) when it is NaN or infinite.

        Needed where a non-finite value would otherwise vanish: in a comparison,
        in min/max/clamp, as a divisor. Literals and input fields are finite.
        """
        if kind != "number" or _known_finite(e, self.finite_columns):
            return e
        v = self.reuse(e)
        # x - x is 0 for every finite x and NaN for inf and NaN: a portable isfinite
        guarded = self.bindings.bind(case((eq(sub(v, v.copy()), exp.Literal.number(0)), v.copy())))
        self.finite_columns.add(guarded.name)
        return guarded

    def instant(self, e: exp.Expression, low: int, high: int) -> exp.Expression:
        """A datetime (or duration) in microseconds as itself when within [low, high], NULL (a fault) beyond."""
        v = self.reuse(e)
        return case((exp.Between(this=v, low=num(low), high=num(high)), v.copy()))

    # literals: times and durations become microseconds
    def _number(self, node, scope):
        return num(node.value)

    def _string(self, node, scope):
        return exp.Literal.string(node.value)

    def _bool(self, node, scope):
        return exp.Boolean(this=node.value)

    def _duration(self, node, scope):
        return num(dt.timedelta(seconds=node.seconds()) // dt.timedelta(microseconds=1))

    def _date(self, node, scope):
        return num(self.date_us(node.value))

    def _datetime(self, node, scope):
        v = node.value if node.value.tzinfo is not None else node.value.replace(tzinfo=self.tz)
        return num((v.astimezone(UTC) - EPOCH) // dt.timedelta(microseconds=1))

    def date_us(self, d: dt.date) -> int:
        """A date as the epoch microseconds of its local midnight."""
        midnight = dt.datetime(d.year, d.month, d.day, tzinfo=self.tz).astimezone(UTC)
        return (midnight - EPOCH) // dt.timedelta(microseconds=1)

    def _name(self, node: n.Name, scope: Scope):
        name = node.id
        if name in scope.params:
            return scope.params[name].copy()
        if scope.kind == "event" and (scope.event, name) in self.layout.field_columns:
            return col(self.layout.field_columns[(scope.event, name)])
        if name == "now":
            return self.now.copy()
        if scope.kind in ("score", "tier", "privilege"):
            if name == "points":
                return col("points")
            if scope.kind == "privilege" and name == "tier":
                return col("tier_rank")
            if scope.kind == "privilege" and name in self.tier_ranks:
                return num(self.tier_ranks[name])
            if scope.kind == "privilege" and name in scope.privileges:
                return col(scope.privileges[name])
            if name in scope.scores:
                return col(scope.scores[name])
            if name in self.measure_columns:
                return col(self.measure_columns[name])
        raise SqlUnsupported(f"the name {name!r} here", node.span)

    def _attribute(self, node: n.Attribute, scope: Scope):
        obj, attr = node.obj, node.name
        if isinstance(obj, n.Name) and obj.id not in scope.params:
            if obj.id == "event" and scope.kind == "event":
                if attr == "at":
                    return col("at_us")
                if attr == "id":
                    return col("id")
                if (scope.event, attr) in self.layout.field_columns:
                    return col(self.layout.field_columns[(scope.event, attr)])
            if obj.id == self.plan.subject_kind and scope.kind != "default":
                if attr == "id":
                    return col("subject")
                if attr in self.layout.attr_columns:
                    return col(self.layout.attr_columns[attr])
        raise SqlUnsupported(f"reading {attr!r} here", node.span)

    def _unary(self, node: n.Unary, scope):
        if node.op == "-" and isinstance(node.operand, n.Number):
            return num(-node.operand.value)  # a negative literal stays a literal (cheap to copy)
        operand = self.expr(node.operand, scope)
        if node.op == "not":
            return exp.Not(this=paren(operand))
        return exp.Paren(this=exp.Neg(this=paren(operand)))

    def _binary(self, node: n.Binary, scope):
        op = node.op
        if op in ("and", "or"):
            return self.connect([(self.expr(o, scope), _faultable(o, self.rs)) for o in _chain(node, op)], op)
        a, b = self.expr(node.left, scope), self.expr(node.right, scope)
        ta, tb = self.base(node.left), self.base(node.right)
        numeric = ta in ("int", "number") and tb in ("int", "number")
        if op in ("+", "-"):
            if numeric:
                return add(a, b) if op == "+" else sub(a, b)
            if ta in ("datetime", "duration") and tb in ("duration", "datetime") \
                    and not (op == "+" and ta == tb == "datetime"):
                result = add(a, b) if op == "+" else sub(a, b)
                if "datetime" in (ta, tb) and not (op == "-" and ta == tb == "datetime"):
                    return self.instant(result, MIN_US, MAX_US)  # a datetime: within year 1..9999
                if ta == tb == "duration":
                    return self.instant(result, -MAX_SPAN_US, MAX_SPAN_US)
                return result
            if op == "-" and {ta, tb} <= {"datetime", "date"} and not (ta == tb == "date"):
                return sub(a, b)  # both are instants (a date is its local midnight)
            raise SqlUnsupported(f"`{op}` on {ta} and {tb}", node.span)
        if op == "*":
            if numeric:
                return mul(a, b)
            raise SqlUnsupported(f"`*` on {ta} and {tb}", node.span)
        if op == "/":
            if numeric or (ta == tb == "duration"):
                b = self.finite(b, tb)  # x / inf would be a finite 0
                return exp.Paren(this=exp.Div(this=double(a), expression=exp.Nullif(
                    this=double(b), expression=exp.Literal.number(0))))
            raise SqlUnsupported(f"`/` on {ta} and {tb}", node.span)
        if op == "%":
            if ta == tb == "int":
                # Python's modulo takes the sign of the divisor; SQL's that of the dividend
                d = self.reuse(exp.Nullif(this=b, expression=exp.Literal.number(0)))
                inner = exp.Mod(this=add(exp.Mod(this=paren(a), expression=d), d.copy()), expression=d.copy())
                return exp.Paren(this=inner)
            raise SqlUnsupported(f"`%` on {ta} and {tb}", node.span)
        raise SqlUnsupported(f"the operator {op}", node.span)

    _OPS = {"==": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}

    def _compare(self, node: n.Compare, scope):
        operands = []
        last = len(node.operands) - 1
        for i, o in enumerate(node.operands):
            value = self.finite(self.expr(o, scope), self.base(o))
            operands.append(value if i in (0, last) else self.reuse(value))  # a middle operand is read twice
        tests = [self._OPS[op](this=paren(a.copy()), expression=paren(b.copy()))
                 for op, a, b in zip(node.ops, operands, operands[1:])]
        if len(tests) == 1:
            return tests[0]
        faults = [_faultable(o, self.rs) for o in node.operands]
        return self.connect([(t, faults[i] or faults[i + 1]) for i, t in enumerate(tests)], "and")

    def connect(self, operands: list[tuple[exp.Expression, bool]], op: str) -> exp.Expression:
        """Conditions (each with "it may fault") joined by ``and`` / ``or`` as the reference reads them.

        SQL's own AND and OR differ from the reference only when a fault (NULL)
        comes before a deciding operand: NULL AND FALSE is FALSE in SQL, a fault
        in the reference. So each run of operands in which only the last may
        fault is SQL's plain, fast AND (OR), and the runs are joined by the
        n-ary three-valued form.
        """
        runs, run = [], []
        for e, may_fault in operands:
            run.append(e)
            if may_fault:
                runs.append(run)
                run = []
        if run:
            runs.append(run)
        joined = [_balanced(run, exp.And if op == "and" else exp.Or) for run in runs]
        return joined[0] if len(joined) == 1 else three_valued(joined, op)

    def _in(self, node: n.In, scope):
        value = self.finite(self.expr(node.value, scope), self.base(node.value))
        options = [self.finite(self.expr(o, scope), self.base(o)) for o in node.options]
        # the reference evaluates every option: a fault in any is the result (SQL's IN may skip it)
        faulty = [i for i, o in enumerate(node.options) if _faultable(o, self.rs)]
        for i in faulty:
            options[i] = self.reuse(options[i])
        test = exp.In(this=paren(value), expressions=options)
        test = exp.Not(this=paren(test)) if node.negated else paren(test)
        return self.strict(test, [options[i] for i in faulty])

    def strict(self, result: exp.Expression, args: list[exp.Expression]) -> exp.Expression:
        """``result``, or NULL when one of ``args`` (evaluated first in the reference) is NULL, a fault."""
        if not args:
            return result
        return case(*[(is_null(a.copy()), null()) for a in args], default=result)

    def _coalesce(self, node: n.Coalesce, scope):
        if _faultable(node.left, self.rs):
            raise SqlUnsupported("`??` around an expression that can fault", node.span)
        return exp.Coalesce(this=self.expr(node.left, scope), expressions=[self.expr(node.right, scope)])

    def _if(self, node: n.If, scope):
        c = self.reuse(self.expr(node.cond, scope))
        return case((c, self.expr(node.then, scope)), (exp.Not(this=paren(c.copy())), self.expr(node.orelse, scope)))

    def _call(self, node: n.Call, scope: Scope):
        name = node.func
        if name == "points" and scope.kind in ("score", "tier", "privilege") and "points" not in self.rs.defs:
            rule = node.args[0].id
            return coalesce0(col(f"rsum{self.rule_index[rule]}"))
        if name in self.rs.defs:
            return self._def_call(node, scope)
        args = [self.expr(a, scope) for a in node.args]
        kinds = [self.base(a) for a in node.args]
        if name in ("min", "max", "clamp"):
            if not all(k in ("int", "number") for k in kinds):
                raise SqlUnsupported(f"{name} of {', '.join(map(str, kinds))}", node.span)
            # SQL's LEAST and GREATEST skip NULLs: a fault in any argument is the result
            args = [self.reuse(self.finite(a, k)) for a, k in zip(args, kinds)]
            faulted = [(is_null(a.copy()), null()) for a in args]
            if name == "clamp":
                x, lo, hi = args
                return case(*faulted, (exp.LT(this=x, expression=lo), lo.copy()),
                            (exp.GT(this=x.copy(), expression=hi), hi.copy()), default=x.copy())
            cls = exp.Least if name == "min" else exp.Greatest
            return case(*faulted, default=cls(this=args[0].copy(), expressions=[a.copy() for a in args[1:]]))
        if name == "abs":
            return exp.Abs(this=args[0])
        if name in ("floor", "ceil"):
            fn = exp.Floor if name == "floor" else exp.Ceil
            return exp.Cast(this=fn(this=args[0]), to=exp.DataType.build("BIGINT"))
        if name == "round" and len(args) == 1:
            return exp.Cast(this=exp.Round(this=args[0]), to=exp.DataType.build("BIGINT"))
        if name in ("sqrt", "log", "exp"):
            x = self.reuse(args[0])
            if name == "sqrt":
                return case((exp.LT(this=x, expression=exp.Literal.number(0)), null()), default=exp.Sqrt(this=x.copy()))
            if name == "log":
                return case((exp.LTE(this=x, expression=exp.Literal.number(0)), null()),
                            default=exp.Ln(this=double(x.copy())))
            return case((exp.GT(this=x, expression=num(EXP_LIMIT)), null()), default=exp.Exp(this=double(x.copy())))
        if name in ("days", "hours"):
            per = 86400 if name == "days" else 3600
            return exp.Div(this=paren(exp.Div(this=double(args[0]), expression=num(float(US)))),
                           expression=num(float(per)))
        raise SqlUnsupported(f"the function {name}({len(args)} arguments)", node.span)

    def _def_call(self, node: n.Call, scope: Scope):
        """A def's body with its arguments; a def called from several places is computed once per argument list."""
        name = node.func
        decl = self.rs.defs[name]
        if name in self.inlining:
            raise SqlUnsupported(f"the recursive def {name}", node.span)
        shared = self.call_sites[name] > 1
        uses = Counter(x.id for x in _walk(decl.body) if isinstance(x, n.Name))
        args, faulty = [], []
        for p, a in zip(decl.params, node.args):
            value = self.expr(a, scope)
            # an argument that faults faults the call, whatever the body does with it
            must_check = _faultable(a, self.rs)
            args.append(self.reuse(value) if shared or must_check or uses[p.name] > 1 else value)
            if must_check:
                faulty.append(args[-1])
        key = (name, tuple(a.sql() for a in args)) if shared else None
        if key in self.calls:
            return self.calls[key].copy()
        self.inlining.append(name)
        body = self.expr(decl.body, Scope("def", params={p.name: a for p, a in zip(decl.params, args)}, outer=scope))
        self.inlining.pop()
        body = self.strict(paren(body), faulty)
        if shared:
            body = self.reuse(body)
            self.calls[key] = body
        return paren(body)


def _balanced(parts: list[exp.Expression], cls) -> exp.Expression:
    """An associative SQL operator over many operands as a balanced tree (shallow for any count)."""
    if len(parts) == 1:
        return paren(parts[0])
    middle = len(parts) // 2
    return exp.Paren(this=cls(this=_balanced(parts[:middle], cls), expression=_balanced(parts[middle:], cls)))


def _known_finite(e: exp.Expression, finite_columns: set[str]) -> bool:
    while isinstance(e, (exp.Paren, exp.Cast)):
        e = e.this
    if isinstance(e, exp.Column):
        return not e.name.startswith("bind") or e.name in finite_columns
    return isinstance(e, (exp.Literal, exp.Boolean, exp.Null))


def _chain(node: n.Binary, op: str) -> list[n.Expr]:
    """The operands of a chain of one operator (``a and b and c``), in order, without recursion."""
    out, stack = [], [node]
    while stack:
        x = stack.pop()
        if isinstance(x, n.Binary) and x.op == op:
            stack += [x.right, x.left]
        else:
            out.append(x)
    return out


def _walk(node):
    stack = [node]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(n.children(x))


def _walk_all(rs):
    """Every expression node of a ruleset (its items and its defs, imported ones included)."""
    yield from _walk(rs.program)
    for decl in rs.defs.values():
        yield from _walk(decl.body)


def _faultable(node, rs) -> bool:
    """Whether an expression contains an operation that can fault (and so yield NULL in SQL)."""
    for x in _walk(node):
        if isinstance(x, n.Binary) and x.op in ("/", "%", "+", "-", "*"):
            return True
        if isinstance(x, n.Call) and (x.func in ("sqrt", "log", "exp", "min", "max", "clamp") or x.func in rs.defs):
            return True
    return False

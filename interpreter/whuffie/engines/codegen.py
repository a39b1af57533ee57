"""The generated-Python engine: plans compiled to one Python module per ruleset.

Entry points: ``compile_plan(plan) -> Generated`` and
``evaluate(ruleset, events, subjects, as_of, ledger=..., only=...)``, which
returns the same ``evaluator.Results`` as the reference evaluator.

The module holds one function per subject loop (with and without the ledger)
in which every rule, measure, score, tier and privilege is written out
inline: no closure calls, no dictionary of rules per event. Literals are
rendered with ``repr``; every other name in the generated text is an index
(``_d3`` for the fourth def, ``_S[7]`` for a span), so nothing read from a
rule file or from input data ever becomes code. ``Generated.line_map`` maps
each generated line back to the construct and its rule-file span, so a fault
that escapes the per-construct handlers is still reported as W090 naming it.
"""

from __future__ import annotations

import datetime as dt
import linecache
import math
import operator
import re
import sys
from dataclasses import dataclass, field

from .. import nodes as n
from .. import values
from ..diagnostics import error
from ..evaluator import BUILTINS, UTC, Cut, EvaluationError, LedgerEntry, Results, SubjectResult, _fault, check_points
from ..evaluator import earlier_label, earlier_spec, earlier_value
from ..inputs import Event, paused_gc
from ..plan import Plan, lower
from ..symbols import Ruleset
from ..values import HOST_FAULTS, RuntimeFault, host_fault, round_half_away


class CodegenUnsupported(Exception):
    """A construct this engine does not compile (the caller falls back to the reference)."""


@dataclass
class Generated:
    """A compiled ruleset: the generated source, its namespace and the line -> construct map."""

    plan: Plan
    source: str
    namespace: dict
    filename: str
    line_map: dict[int, tuple[str, n.Span]] = field(default_factory=dict)

    def construct_at(self, line: int) -> tuple[str, n.Span] | None:
        """The construct (``rule x``…) and rule-file span that generated line ``line`` belongs to."""
        return self.line_map.get(line)


# ---------------------------------------------------------------- run-time helpers


def _make_helpers(tz) -> dict:
    """The run-time helpers of a generated module: every operation Python could fault in takes a span."""
    def as_instant(v, span):
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            try:
                return dt.datetime(v.year, v.month, v.day, tzinfo=tz).astimezone(UTC)
            except OverflowError:  # the local midnight of 0001-01-01 east of UTC is before year 1
                raise values.instant_fault(span) from None
        return v

    def host(fn):
        """``fn(a, b, span)`` with Python's faults as RuntimeFaults at the span and the result checked."""
        def run(a, b, span):
            try:
                v = fn(a, b, span)
            except HOST_FAULTS as exc:
                raise host_fault(exc, span) from None
            return values.check_any(v, span)
        return run

    def add(a, b, span):
        try:
            return a + b
        except TypeError:
            return as_instant(a, span) + b

    def sub(a, b, span):
        try:
            return a - b
        except TypeError:
            return as_instant(a, span) - as_instant(b, span)

    def div(a, b, span):
        if not b:
            raise RuntimeFault("division by zero", span)
        return a / b

    def mod(a, b, span):
        if not b:
            raise RuntimeFault("modulo by zero", span)
        return a % b

    def equal(a, b, span):
        if type(a) is not type(b) and isinstance(a, dt.date) and isinstance(b, dt.date):
            return as_instant(a, span) == as_instant(b, span)
        return a == b

    def order(op):
        def compare(a, b, span):
            try:
                return op(a, b)
            except TypeError:
                if isinstance(a, dt.date) and isinstance(b, dt.date):
                    return op(as_instant(a, span), as_instant(b, span))
                raise RuntimeFault(f"cannot compare {type(a).__name__} with {type(b).__name__}", span) from None
        return compare

    def clamp(x, lo, hi):
        return lo if x < lo else hi if x > hi else x

    def floor(x, span):
        try:
            return values.check_int(math.floor(x), span)
        except HOST_FAULTS as exc:
            raise host_fault(exc, span) from None

    def ceil(x, span):
        try:
            return values.check_int(math.ceil(x), span)
        except HOST_FAULTS as exc:
            raise host_fault(exc, span) from None

    def round_(x, *rest):
        *digits, span = rest
        try:
            return values.check_any(round_half_away(x, *digits), span)
        except HOST_FAULTS as exc:
            raise host_fault(exc, span) from None

    def average(total, count, span):
        try:
            return total / count
        except OverflowError:  # a mean of ints beyond the float range
            raise values.number_fault(float("inf"), span) from None

    def fail(fault):
        raise fault

    def local_far(at):
        return values.far_local(at, tz)

    return {
        "_add": host(add), "_sub": host(sub), "_mul": host(lambda a, b, span: a * b), "_div": host(div),
        "_mod": host(mod), "_eq": equal,
        "_lt": order(lambda a, b: a < b), "_le": order(lambda a, b: a <= b),
        "_gt": order(lambda a, b: a > b), "_ge": order(lambda a, b: a >= b),
        "_clamp": clamp, "_floor": floor, "_ceil": ceil, "_round": round_, "_avg": average, "_fail": fail,
        "_sqrt": BUILTINS["sqrt"][2], "_log": BUILTINS["log"][2], "_exp": BUILTINS["exp"][2],
        "_days": lambda d: d.total_seconds() / 86400, "_hours": lambda d: d.total_seconds() / 3600,
        "_RuntimeFault": RuntimeFault, "_HOST_FAULTS": HOST_FAULTS,
        "_int_fault": values.int_fault, "_number_fault": values.number_fault, "_check": values.check_any,
        "_check_int": values.check_int, "_check_number": values.check_number,
        "_abs_int": lambda x, span: values.check_int(abs(x), span),
        "_as_output": values.as_output, "_window_start": values.window_start,
        "_calendar_start": values.calendar_window_start, "_far_local": local_far,
        "_check_points": check_points,
        "_fault": _fault, "_host": host_fault, "_Cut": Cut, "_LedgerEntry": LedgerEntry,
        "_SubjectResult": SubjectResult, "_tz": tz, "_earlier": earlier_value,
        "_saw": lambda seen, label, value: (seen.append((label, value)), value)[1],
    }


# An expression at most this many nodes high gets its range checks inline (three levels of
# parentheses per operation, with room for what encloses it under Python's 200).
_INLINE_HEIGHT = 50


def _height(root: n.Expr) -> int:
    """The number of nodes on the longest path down from ``root`` (without recursion)."""
    best = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        best = max(best, depth)
        stack.extend((child, depth + 1) for child in n.children(node))
    return best


_TIME_HELPERS = {"+": "_add", "-": "_sub", "*": "_mul"}
_ORDER_HELPERS = {"<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge"}
_NUMERIC = ("int", "number")
_WINDOW_KEY = {
    None: "None", "total": "None", "day": "local.date()", "week": "local.isocalendar()[:2]",
    "month": "(local.year, local.month)", "year": "local.year",
}


# ---------------------------------------------------------------- expressions


@dataclass
class _Scope:
    kind: str  # event | default | score | tier | privilege | def
    fields: frozenset = frozenset()
    scores: frozenset = frozenset()
    privileges: frozenset = frozenset()
    params: dict = field(default_factory=dict)  # def parameter name -> local name


class _Writer:
    """Builds the module text; every constant that is not a plain literal goes into a table."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.rs = plan.ruleset
        self.lines: list[str] = []
        self.line_map: dict[int, tuple[str, n.Span]] = {}
        self.spans: list[n.Span] = []
        self.consts: list[object] = []
        self.construct: tuple[str, n.Span] | None = None
        self.temp = 0
        self.def_names = {name: f"_d{i}" for i, name in enumerate(self.rs.defs)}
        self.tier_ranks = {name: self.rs.tier_rank(name) for name in self.rs.tiers}
        self.inline_checks: bool | None = None  # set while one whole expression is written
        self.recording = False  # writing the ledger function's rule where `earlier(...)` is recorded

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)
        if self.construct is not None:
            self.line_map[len(self.lines)] = self.construct

    def span(self, span: n.Span) -> str:
        self.spans.append(span)
        return f"_S[{len(self.spans) - 1}]"

    def const(self, value) -> str:
        if isinstance(value, (bool, int, float, str)) and not (isinstance(value, float) and not math.isfinite(value)):
            return repr(value)
        self.consts.append(value)
        return f"_K[{len(self.consts) - 1}]"

    def fresh(self) -> str:
        self.temp += 1
        return f"_t{self.temp}"

    def numeric(self, *nodes: n.Expr) -> bool:
        for node in nodes:
            t = self.plan.type_of(node)
            if t is None or t.base not in _NUMERIC:
                return False
        return True

    def typed(self, node: n.Expr, *bases: str) -> bool:
        t = self.plan.type_of(node)
        return t is not None and t.base in bases

    def checked(self, node: n.Expr, code: str) -> str:
        """``code`` with its result checked against the range of its type.

        Inline (no call unless it faults) in a shallow expression; in a deep one the
        inline form's three levels of parentheses per operation would pass Python's
        limit of 200, so the check is a call, one level like the operation itself.
        """
        span = self.span(node.span)
        if self.typed(node, "int"):
            low, high, fault, call = values.INT_MIN, values.INT_MAX, "_int_fault", "_check_int"
        elif self.typed(node, "number"):
            low, high, fault, call = -values.NUMBER_MAX, values.NUMBER_MAX, "_number_fault", "_check_number"
        else:
            return f"_check({code}, {span})"
        if not self.inline_checks:
            return f"{call}({code}, {span})"
        temp = self.fresh()
        return f"({temp} if {low!r} <= ({temp} := {code}) <= {high!r} else _fail({fault}({temp}, {span})))"

    def failing(self, fault: RuntimeFault) -> str:
        """An expression that raises ``fault`` when it is evaluated (a literal beyond the supported range)."""
        self.consts.append(fault)
        return f"_fail(_K[{len(self.consts) - 1}])"

    # -- translation

    def expr(self, node: n.Expr, scope: _Scope) -> str:
        if self.inline_checks is None:  # a whole expression: choose how its checks are written
            self.inline_checks = _height(node) <= _INLINE_HEIGHT
            try:
                return self.expr(node, scope)
            finally:
                self.inline_checks = None
        method = getattr(self, "_" + type(node).__name__.lower(), None)
        if method is None:
            raise CodegenUnsupported(f"{type(node).__name__} cannot be compiled")
        return method(node, scope)

    def _number(self, node, scope):
        return self.const(node.value)

    def _string(self, node, scope):
        return repr(node.value)

    def _bool(self, node, scope):
        return repr(node.value)

    def _duration(self, node, scope):
        try:
            return self.const(values.duration(node.seconds(), node.span))
        except RuntimeFault as exc:
            return self.failing(exc)

    def _date(self, node, scope):
        return self.const(node.value)

    def _datetime(self, node, scope):
        v = node.value
        if v.tzinfo is None:
            v = v.replace(tzinfo=self.plan_tz)
        try:
            return self.const(v.astimezone(UTC))
        except OverflowError:  # a local time whose instant is before year 1 or after 9999
            return self.failing(values.instant_fault(node.span))

    def _name(self, node: n.Name, scope: _Scope):
        name = node.id
        if name in scope.params:
            return scope.params[name]
        if scope.kind == "event" and name in scope.fields:
            return f"f[{name!r}]"
        if name == "now" and scope.kind != "def":
            return "now"
        if scope.kind in ("score", "tier", "privilege"):
            if name == "points":
                return "points"
            if scope.kind == "privilege" and name == "tier":
                return "tier_rank"
            if scope.kind == "privilege" and name in self.tier_ranks:
                return repr(self.tier_ranks[name])
            if scope.kind == "privilege" and name in scope.privileges:
                return f"privileges[{name!r}]"
            if name in scope.scores:
                return f"scores[{name!r}]"
            if name in self.rs.measures:
                return f"measures[{name!r}]"
        raise CodegenUnsupported(f"unknown name {name!r} here")

    def _earlier(self, node: n.Earlier, scope: _Scope):
        """The shared runtime (evaluator.earlier_value) with this rule's `where` and default as lambdas."""
        if scope.kind != "event":
            raise CodegenUnsupported("earlier(...) outside a rule")
        spec = earlier_spec(self.rs, node)
        where = node.first(n.Where)
        default = node.first(n.Default)
        # the lambda's f and ev are the earlier event's, shadowing the current one's
        test = f"(lambda f, ev: {self.expr(where.cond, _Scope('event', fields=spec.where))})" if where else "None"
        fallback = f"(lambda: {self.expr(default.value, _Scope('default'))})" if default else "None"
        call = f"_earlier({self.const(spec)}, evs, _pos, {test}, {fallback}, _tz)"
        if self.recording:  # the ledger records the value each `earlier(...)` had
            return f"_saw(_earlier_seen, {earlier_label(node)!r}, {call})"
        return call

    def _attribute(self, node: n.Attribute, scope: _Scope):
        obj, attr = node.obj, node.name
        if isinstance(obj, n.Name) and obj.id not in scope.params:
            if obj.id == "event" and scope.kind == "event":
                if attr == "at":
                    return "ev.at"
                if attr == "id":
                    return "ev.id"
                if attr in scope.fields:
                    return f"f[{attr!r}]"
            if obj.id == self.plan.subject_kind and scope.kind not in ("def", "default"):
                return "sid" if attr == "id" else f"attrs[{attr!r}]"
        raise CodegenUnsupported(f"cannot read {attr!r} here")

    def _unary(self, node: n.Unary, scope):
        operand = self.expr(node.operand, scope)
        if node.op == "not":
            return f"(not {operand})"
        literal = node.operand.value if isinstance(node.operand, n.Number) else None
        if type(literal) is int and self.typed(node, "int") and 0 <= literal <= values.INT_MAX:
            return self.const(-literal)  # `award -2`: surely in range, so no test per event
        return self.checked(node, f"-{operand}") if self.typed(node, "int") else f"(-{operand})"

    def _binary(self, node: n.Binary, scope):
        a, b = self.expr(node.left, scope), self.expr(node.right, scope)
        op = node.op
        if op in ("and", "or"):
            return f"({a} {op} {b})"
        if op in ("+", "-", "*"):
            if self.numeric(node.left, node.right):
                return self.checked(node, f"{a} {op} {b}")  # checked() encloses it
            return f"{_TIME_HELPERS[op]}({a}, {b}, {self.span(node.span)})"
        if op in ("/", "%"):
            return f"{'_div' if op == '/' else '_mod'}({a}, {b}, {self.span(node.span)})"
        raise CodegenUnsupported(f"unknown operator {op}")

    def _compare(self, node: n.Compare, scope):
        operands = [self.expr(o, scope) for o in node.operands]
        fast = all(self.typed(o, "int", "number", "text", "bool", "tier", "duration") for o in node.operands)
        if len(node.ops) == 1 and node.ops[0] in ("==", "!="):
            a, b = operands
            if fast:
                return f"({a} {node.ops[0]} {b})"
            test = f"_eq({a}, {b}, {self.span(node.span)})"
            return test if node.ops[0] == "==" else f"(not {test})"
        span = self.span(node.span)
        parts = []
        left = operands[0]
        for i, (op, right) in enumerate(zip(node.ops, operands[1:])):
            if i < len(node.ops) - 1:  # a middle operand is evaluated once, as in a < b < c
                temp = self.fresh()
                right_first, right = f"({temp} := {right})", temp
            else:
                right_first = right
            if op in ("==", "!="):
                test = f"({left} {op} {right_first})" if fast else f"_eq({left}, {right_first}, {span})"
                if op == "!=" and not fast:
                    test = f"(not {test})"
            elif fast:
                test = f"({left} {op} {right_first})"
            else:
                test = f"{_ORDER_HELPERS[op]}({left}, {right_first}, {span})"
            parts.append(test)
            left = right
        return parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"

    def _in(self, node: n.In, scope):
        value = self.expr(node.value, scope)
        options = ", ".join(self.expr(o, scope) for o in node.options)
        return f"({value} {'not in' if node.negated else 'in'} [{options}])"

    def _coalesce(self, node: n.Coalesce, scope):
        temp = self.fresh()
        left, right = self.expr(node.left, scope), self.expr(node.right, scope)
        return f"({right} if ({temp} := {left}) is None else {temp})"

    def _if(self, node: n.If, scope):
        c, a, b = (self.expr(x, scope) for x in (node.cond, node.then, node.orelse))
        return f"({a} if {c} else {b})"

    def _call(self, node: n.Call, scope: _Scope):
        name = node.func
        if name == "points" and scope.kind in ("score", "tier", "privilege") and "points" not in self.rs.defs:
            arg = node.args[0] if len(node.args) == 1 else None
            if not isinstance(arg, n.Name) or arg.id not in self.rs.rules:
                raise CodegenUnsupported("points(...) takes the name of one rule")
            return f"by_rule.get({arg.id!r}, 0)"
        args = [self.expr(a, scope) for a in node.args]
        joined = ", ".join(args)
        if name in self.rs.defs:
            if len(args) != len(self.rs.defs[name].params):
                raise CodegenUnsupported(f"{name} takes {len(self.rs.defs[name].params)} arguments")
            return f"{self.def_names[name]}({joined})"
        if name in BUILTINS:
            low, high, _ = BUILTINS[name]
            if len(args) < low or (high is not None and len(args) > high):
                raise CodegenUnsupported(f"{name} with {len(args)} arguments")
            if name in ("min", "max"):
                return f"{name}({joined})"
            if name == "abs":
                # one call, one level of parentheses: abs of -2**63 is the only int abs that leaves 64 bits
                return f"_abs_int({joined}, {self.span(node.span)})" if self.typed(node, "int") else f"abs({joined})"
            if name in ("clamp", "days", "hours"):
                return f"_{name}({joined})"
            return f"_{name}({joined}, {self.span(node.span)})"
        raise CodegenUnsupported(f"unknown function {name!r}")


# ---------------------------------------------------------------- the module


def compile_plan(plan: Plan) -> Generated:
    """Generate, compile and load the Python module for one plan."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(plan.timezone)
    w = _Writer(plan)
    w.plan_tz = tz
    for i, (name, decl) in enumerate(plan.ruleset.defs.items()):
        w.construct = (f"def {name}", decl.span)
        params = {p.name: f"a{j}" for j, p in enumerate(decl.params)}
        body = w.expr(decl.body, _Scope("def", params=params))
        w.emit(0, f"def {w.def_names[name]}({', '.join(params.values())}):")
        w.emit(1, f"return {body}")
        w.emit(0, "")
    _finish_function(w, plan)
    for keep in (True, False):
        _subject_function(w, plan, keep)
    source = "\n".join(w.lines) + "\n"
    filename = f"<whuffie-generated {plan.ruleset.program.items[0].span.file if plan.ruleset.program.items else ''}>"
    namespace = _make_helpers(tz)
    namespace["_S"] = w.spans
    namespace["_K"] = w.consts
    namespace["_R"] = [(r.name, r.author, r.because, r.cites, r.span) for r in plan.rules]
    code = compile(source, filename, "exec")
    exec(code, namespace)  # noqa: S102 - the text is generated from the checked AST only
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return Generated(plan, source, namespace, filename, w.line_map)


def _subject_function(w: _Writer, plan: Plan, keep: bool) -> None:
    rs = plan.ruleset
    w.construct = None
    w.emit(0, f"def subject_{'ledger' if keep else 'fast'}(sid, evs, attrs, now):")
    body = 1
    # every bucket and every `once` keeps its own local: a number for `total`, a dict or set per window
    w.buckets = {}
    for r in plan.rules:
        for cap in r.caps:
            if cap.bucket not in w.buckets:
                k = w.buckets[cap.bucket] = len(w.buckets)
                w.emit(body, f"bk{k} = 0" if cap.window in (None, "total") else f"bk{k} = {{}}")
        if r.once is not None:
            w.emit(body, f"once{r.index} = False" if r.once == "total" else f"once{r.index} = set()")
    w.emit(body, f"balance = {w.const(plan.bound.start) if plan.bound else 0}")
    w.emit(body, "points = 0")
    for r in plan.rules:  # each rule's sum in a local; the dict is built once, at the end
        w.emit(body, f"r{r.index} = None")
    w.emit(body, "entries = []")
    measure_var = {}
    for i, m in enumerate(plan.measures):
        var = measure_var[m.name] = f"m{i}"
        if m.kind in ("count_days", "count_distinct"):
            w.emit(body, f"{var} = set()")
        elif m.kind == "count":
            w.emit(body, f"{var} = 0")
        else:
            w.emit(body, f"{var} = None")
        if m.kind == "avg":
            w.emit(body, f"{var}n = 0")
        if m.kind == "first":
            w.emit(body, f"{var}s = False")
        if m.within is not None:
            w.emit(body, f"{var}w = _window_start(now, {m.within!r})")
        elif m.within_months:
            w.emit(body, f"{var}w = _calendar_start(now, {m.within_months!r}, _tz)")
    utc_zone = plan.timezone in ("UTC", "Etc/UTC")
    w.emit(body, "for _pos, ev in enumerate(evs):" if _reads_earlier(plan) else "for ev in evs:")
    w.emit(body + 1, "f = ev.fields")
    w.emit(body + 1, "t = ev.type")
    first = True
    for etype in plan.event_types():
        rules = plan.rules_on(etype)
        measures = plan.measures_on(etype)
        w.construct = None
        w.emit(body + 1, f"{'if' if first else 'elif'} t == {etype!r}:")
        first = False
        inner = body + 2
        if plan.needs_local:
            if utc_zone:
                w.emit(inner, "local = ev.at")
            else:
                w.emit(inner, "try:")
                w.emit(inner + 1, "local = ev.at.astimezone(_tz)")
                w.emit(inner, "except OverflowError:  # local time in year 0 or 10000")
                w.emit(inner + 1, "local = _far_local(ev.at)")
        fields = frozenset(f.name for f in rs.events[etype].fields) if etype in rs.events else frozenset()
        scope = _Scope("event", fields=fields)
        for r in rules:
            _rule_block(w, plan, r, scope, inner, keep)
        for m in measures:
            _measure_block(w, m, measure_var[m.name], scope, inner)
        w.emit(inner, "pass")
    w.construct = None
    # the totals, checked once; then measures, scores in order, tiers top-down, privileges
    w.emit(body, "try:")
    first_rule = w.span(plan.rules[0].span if plan.rules else n.NO_SPAN)
    w.emit(body + 1, f"points = _check_points(points, {first_rule})")
    for r in plan.rules:
        w.emit(body + 1, f"if r{r.index} is not None: r{r.index} = _check_points(r{r.index}, {w.span(r.span)})")
    w.emit(body, "except _RuntimeFault as exc:")
    w.emit(body + 1, "raise _fault(exc, 'the points', None, None, sid) from None")
    w.emit(body, "measures = {}")
    for m in plan.measures:
        var = measure_var[m.name]
        span = w.span(m.span)
        if m.kind in ("count_days", "count_distinct"):
            value = f"len({var})"
        elif m.kind == "avg":
            value = f"(_avg({var}, {var}n, {span}) if {var}n else None)"
        elif m.kind == "sum":
            value = f"(0 if {var} is None else {var})"
        else:
            value = var
        w.construct = (f"measure {m.name}", m.span)
        what = repr(f"measure {m.name}")
        w.emit(body, "try:")
        w.emit(body + 1, f"value = {value}")
        if m.default is not None:
            w.emit(body + 1, f"if value is None: value = {w.expr(m.default, _Scope('default'))}")
        w.emit(body + 1, f"measures[{m.name!r}] = value")
        w.emit(body, "except _RuntimeFault as exc:")
        w.emit(body + 1, f"raise _fault(exc, {what}, None, None, sid) from None")
        w.emit(body, "except _HOST_FAULTS as exc:")
        w.emit(body + 1, f"raise _fault(_host(exc, {span}), {what}, None, None, sid) from None")
        w.construct = None
    pairs = ", ".join(f"({r.name!r}, r{r.index})" for r in plan.rules)
    w.emit(body, f"by_rule = {{name: total for name, total in ({pairs}{',' if len(plan.rules) == 1 else ''}) "
                 "if total is not None}")
    w.emit(body, "scores, tier_name, granted = finish(sid, attrs, now, points, by_rule, measures)")
    w.emit(body, "return _SubjectResult(sid, scores, tier_name, granted, measures, points, by_rule, entries, len(evs))")
    w.emit(0, "")


def _finish_function(w: _Writer, plan: Plan) -> None:
    """Scores, the tier and privileges from a subject's totals: shared by every subject loop and by DuckDB."""
    w.construct = None
    w.emit(0, "def finish(sid, attrs, now, points, by_rule, measures):")
    body = 1
    # each measure in its checked type, in place, so that every engine's record holds the same values
    for m in plan.measures:
        w.construct = (f"measure {m.name}", m.span)
        span = w.span(m.span)
        what = repr(f"measure {m.name}")
        base = _base(w.rs.measure_types.get(m.name))
        w.emit(body, "try:")
        w.emit(body + 1, f"measures[{m.name!r}] = _as_output(measures[{m.name!r}], {base!r}, {span})")
        w.emit(body, "except _RuntimeFault as exc:")
        w.emit(body + 1, f"raise _fault(exc, {what}, None, None, sid) from None")
    w.construct = None
    w.emit(body, "scores = {}")
    above: list[str] = []
    for s in plan.scores:
        w.construct = (f"score {s.name}", s.span)
        code = w.expr(s.expr, _Scope("score", scores=frozenset(above)))
        span = w.span(s.expr.span)
        what = repr(f"score {s.name}")
        w.emit(body, "try:")
        base = _base(w.rs.score_types.get(s.name))
        w.emit(body + 1, f"scores[{s.name!r}] = _as_output({code}, {base!r}, {span})")
        w.emit(body, "except _RuntimeFault as exc:")
        w.emit(body + 1, f"raise _fault(exc, {what}, {s.author!r}, None, sid) from None")
        w.emit(body, "except _HOST_FAULTS as exc:")
        w.emit(body + 1, f"raise _fault(_host(exc, {span}), {what}, {s.author!r}, None, sid) from None")
        above.append(s.name)
    all_scores = frozenset(above)
    w.construct = None
    w.emit(body, "tier_name, tier_rank = None, 0")
    w.emit(body, "while True:")
    for t in plan.tiers:
        w.construct = (f"tier {t.name}", t.span)
        if t.condition is None:
            w.emit(body + 1, f"tier_name, tier_rank = {t.name!r}, {t.rank!r}")
            w.emit(body + 1, "break")
            break
        code = w.expr(t.condition, _Scope("tier", scores=all_scores))
        what = repr(f"tier {t.name}")
        w.emit(body + 1, "try:")
        w.emit(body + 2, f"hit = {code}")
        w.emit(body + 1, "except _RuntimeFault as exc:")
        w.emit(body + 2, f"raise _fault(exc, {what}, {t.author!r}, None, sid) from None")
        w.emit(body + 1, "except _HOST_FAULTS as exc:")
        w.emit(body + 2, f"raise _fault(_host(exc, {w.span(t.span)}), {what}, {t.author!r}, None, sid) from None")
        w.emit(body + 1, "if hit:")
        w.emit(body + 2, f"tier_name, tier_rank = {t.name!r}, {t.rank!r}")
        w.emit(body + 2, "break")
    w.construct = None
    w.emit(body + 1, "break")
    w.emit(body, "privileges = {}")
    seen: list[str] = []
    for p in plan.privileges:
        w.construct = (f"privilege {p.name}", p.span)
        code = w.expr(p.condition, _Scope("privilege", scores=all_scores, privileges=frozenset(seen)))
        what = repr(f"privilege {p.name}")
        w.emit(body, "try:")
        w.emit(body + 1, f"privileges[{p.name!r}] = bool({code})")
        w.emit(body, "except _RuntimeFault as exc:")
        w.emit(body + 1, f"raise _fault(exc, {what}, {p.author!r}, None, sid) from None")
        w.emit(body, "except _HOST_FAULTS as exc:")
        w.emit(body + 1, f"raise _fault(_host(exc, {w.span(p.span)}), {what}, {p.author!r}, None, sid) from None")
        seen.append(p.name)
    w.construct = None
    w.emit(body, "return scores, tier_name, [k for k, v in privileges.items() if v]")
    w.emit(0, "")


def _emit_fault_handlers(w, at: int, what: str, author: str, span: str) -> None:
    """The except clauses closing a `try:` at ``at``: a fault names the rule, its author and the clause's span."""
    w.emit(at, "except _RuntimeFault as exc:")
    w.emit(at + 1, f"raise _fault(exc, {what}, {author!r}, ev, sid) from None")
    w.emit(at, "except _HOST_FAULTS as exc:")
    w.emit(at + 1, f"raise _fault(_host(exc, {span}), {what}, {author!r}, ev, sid) from None")


def _rule_block(w: _Writer, plan: Plan, r, scope: _Scope, ind: int, keep: bool) -> None:
    w.construct = (f"rule {r.name}", r.span)
    what = repr(f"rule {r.name}")
    award_span = w.span(r.award_span)
    w.recording = keep and _rule_reads_earlier(r)
    where = w.expr(r.where, scope) if r.where is not None else None
    award = w.expr(r.award, scope)
    recording, w.recording = w.recording, False
    if recording:
        w.emit(ind, "_earlier_seen = []")
    literal = _SMALL_LITERAL.fullmatch(award) is not None  # a small literal award: in range, never none
    if not literal:
        w.emit(ind, "raw = None")
    award_at = ind
    if where is not None:
        # the where and the award each have their handler, so a fault points at its own clause
        w.emit(ind, "try:")
        w.emit(ind + 1, f"hit = {where}")
        _emit_fault_handlers(w, ind, what, r.author, w.span(r.where.span))
        w.emit(ind, "if hit:")
        award_at = ind + 1
    if literal:  # no test per event: the award is added wherever the where holds
        i = award_at
        w.emit(i, f"value = {award}")
        if keep:
            w.emit(i, "raw = value")
    else:
        w.emit(award_at, "try:")
        w.emit(award_at + 1, f"raw = {award}")
        if w.typed(r.award, "int"):
            w.emit(award_at + 1, f"if not {values.INT_MIN} <= raw <= {values.INT_MAX}: "
                                 f"raise _int_fault(raw, {award_span})")
        elif w.typed(r.award, "number"):
            w.emit(award_at + 1, f"if not {-values.NUMBER_MAX!r} <= raw <= {values.NUMBER_MAX!r}: "
                                 f"raise _number_fault(raw, {award_span})")
            w.emit(award_at + 1, "if type(raw) is not float: raw = float(raw)  # however the data spelled it")
        else:
            w.emit(award_at + 1, f"raw = _check(raw, {award_span})")
        _emit_fault_handlers(w, award_at, what, r.author, award_span)
        w.emit(ind, "if raw is not None:")
        i = ind + 1
        w.emit(i, "value = raw")
    # the sign of a literal award survives `once` and the caps (they only bring a gain down to 0),
    # so a gain can never meet the floor, nor a loss the ceiling
    sign = (float(award.strip("()")) > 0) - (float(award.strip("()")) < 0) if literal else None
    if keep:
        w.emit(i, "cuts = []")
    if r.once is not None:
        seen = f"once{r.index}"
        if r.once == "total":
            w.emit(i, f"if {seen}:")
        else:
            w.emit(i, f"key = {_WINDOW_KEY[r.once]}")
            w.emit(i, f"if key in {seen}:")
        if keep:
            w.emit(i + 1, f"if value: cuts.append(_Cut({r.once_label!r}, value))")
        w.emit(i + 1, "value = 0")
        w.emit(i, "else:")
        w.emit(i + 1, f"{seen} = True" if r.once == "total" else f"{seen}.add(key)")
    for cap in r.caps:
        amount = w.const(cap.amount)
        bucket = f"bk{w.buckets[cap.bucket]}"
        windowed = cap.window not in (None, "total")
        if windowed:
            w.emit(i, f"key = {_WINDOW_KEY[cap.window]}")
            w.emit(i, f"total = {bucket}.get(key, 0)")
        else:
            w.emit(i, f"total = {bucket}")
        w.emit(i, "if value > 0:")
        w.emit(i + 1, f"room = {amount} - total")
        w.emit(i + 1, "if value > room:")
        w.emit(i + 2, "allowed = room if room > 0 else 0")
        if keep:
            w.emit(i + 2, f"cuts.append(_Cut({cap.label!r}, value - allowed))")
        w.emit(i + 2, "value = allowed")
        w.emit(i, f"{bucket}[key] = total + value" if windowed else f"{bucket} = total + value")
    if plan.bound is not None:
        b = plan.bound
        floor_live = b.floor is not None and not (sign is not None and sign >= 0)
        ceiling_live = b.ceiling is not None and not (sign is not None and sign <= 0)
        if floor_live or ceiling_live:
            w.emit(i, "new = balance + value")
        branch = "if"
        if floor_live:
            floor = w.const(b.floor)
            w.emit(i, f"if value < 0 and new < {floor}:")
            w.emit(i + 1, f"allowed = min(0, {floor} - balance)")
            if keep:
                w.emit(i + 1, f"cuts.append(_Cut({'floor ' + _fmt(b.floor) + ' per event'!r}, value - allowed))")
            w.emit(i + 1, "value = allowed")
            branch = "elif"
        if ceiling_live:
            ceiling = w.const(b.ceiling)
            w.emit(i, f"{branch} value > 0 and new > {ceiling}:")
            w.emit(i + 1, f"allowed = max(0, {ceiling} - balance)")
            if keep:
                w.emit(i + 1, f"cuts.append(_Cut({'ceiling ' + _fmt(b.ceiling) + ' per event'!r}, value - allowed))")
            w.emit(i + 1, "value = allowed")
        w.emit(i, "balance += value")
    if keep:
        w.emit(i, "capped = value")
        w.emit(i, "factor = 1.0")
    if r.half_life is not None:
        w.emit(i, f"factor = 0.5 ** ((now - ev.at).total_seconds() / {r.half_life!r})")
        w.emit(i, "value = value * factor")
    w.emit(i, "points += value")
    w.emit(i, f"r{r.index} = (0 if r{r.index} is None else r{r.index}) + value")
    if keep:
        w.emit(i, f"name, author, because, cites, span = _R[{r.index}]")
        seen = ", tuple(_earlier_seen)" if recording else ""
        w.emit(i, "entries.append(_LedgerEntry(name, author, because, cites, ev.id, ev.type, ev.at, ev.line, "
                  f"raw, capped, cuts, factor, value, span{seen}))")


_SMALL_LITERAL = re.compile(r"\(?-?([0-9]{1,15}|[0-9]{1,15}\.[0-9]+)\)?")  # a literal that is surely in range


def _measure_block(w: _Writer, m, var: str, scope: _Scope, ind: int) -> None:
    w.construct = (f"measure {m.name}", m.span)
    what = repr(f"measure {m.name}")
    if m.within is not None or m.within_months:  # None: the window reaches before year 1 and covers every event
        w.emit(ind, f"if {var}w is None or ev.at > {var}w:")
        ind += 1
    if m.where is not None:
        w.emit(ind, "try:")
        w.emit(ind + 1, f"hit = {w.expr(m.where, scope)}")
        w.emit(ind, "except _RuntimeFault as exc:")
        w.emit(ind + 1, f"raise _fault(exc, {what}, None, ev, sid) from None")
        w.emit(ind, "except _HOST_FAULTS as exc:")
        w.emit(ind + 1, f"raise _fault(_host(exc, {w.span(m.span)}), {what}, None, ev, sid) from None")
        w.emit(ind, "if hit:")
        ind += 1
    if m.kind == "count":
        w.emit(ind, f"{var} += 1")
    elif m.kind == "count_days":
        w.emit(ind, f"{var}.add(local.date())")
    elif m.kind == "last":  # the latest event's value, none included
        w.emit(ind, f"{var} = f.get({m.field!r})")
    elif m.kind == "first":
        w.emit(ind, f"if not {var}s: {var}, {var}s = f.get({m.field!r}), True")
    else:
        w.emit(ind, f"v = f.get({m.field!r})")
        w.emit(ind, "if v is not None:")
        if m.kind == "count_distinct":
            w.emit(ind + 1, f"{var}.add(v)")
        elif m.kind == "sum":  # the running sum is a value of the field's type: it may not leave its range
            span = w.span(m.span)
            base = _base(w.rs.measure_types.get(m.name))
            if base in ("int", "number"):
                low, high, fault = ((values.INT_MIN, values.INT_MAX, "_int_fault") if base == "int"
                                    else (-values.NUMBER_MAX, values.NUMBER_MAX, "_number_fault"))
                w.emit(ind + 1, f"{var} = v if {var} is None else {var} + v")
                w.emit(ind + 1, f"if not {low!r} <= {var} <= {high!r}:")
                w.emit(ind + 2, f"raise _fault({fault}({var}, {span}), {what}, None, ev, sid)")
            else:
                w.emit(ind + 1, "try:")
                w.emit(ind + 2, f"{var} = v if {var} is None else _add({var}, v, {span})")
                w.emit(ind + 1, "except _RuntimeFault as exc:")
                w.emit(ind + 2, f"raise _fault(exc, {what}, None, ev, sid) from None")
        elif m.kind == "avg":  # exact for ints; only the mean is a value
            w.emit(ind + 1, f"{var} = v if {var} is None else {var} + v")
            w.emit(ind + 1, f"{var}n += 1")
        elif m.kind == "min":
            w.emit(ind + 1, f"if {var} is None or v < {var}: {var} = v")
        elif m.kind == "max":
            w.emit(ind + 1, f"if {var} is None or v > {var}: {var} = v")
    w.emit(ind, "pass")


def _rule_reads_earlier(r) -> bool:
    return any(isinstance(x, n.Earlier) for x in n.walk(*([r.award] + ([r.where] if r.where is not None else []))))


def _reads_earlier(plan: Plan) -> bool:
    """Whether some rule reads `earlier(...)`: then the event loop counts positions."""
    return any(_rule_reads_earlier(r) for r in plan.rules)


def _base(t) -> str | None:
    return None if t is None or t.base == "error" else t.base


def _fmt(x) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


# ---------------------------------------------------------------- evaluation


_CACHE: dict[int, tuple[Ruleset, Generated]] = {}


def generated_for(ruleset: Ruleset) -> Generated:
    """The generated module of a ruleset, compiled once per ruleset object."""
    hit = _CACHE.get(id(ruleset))
    if hit is not None and hit[0] is ruleset:
        return hit[1]
    generated = compile_plan(lower(ruleset))
    if len(_CACHE) > 64:
        _CACHE.clear()
    _CACHE[id(ruleset)] = (ruleset, generated)
    return generated


def evaluate(ruleset: Ruleset, events: list[Event], subjects: dict[str, dict] | None = None,
             as_of: dt.datetime | None = None, *, ledger: bool = True, only: str | None = None,
             generated: Generated | None = None, progress=None) -> Results:
    """Evaluate with generated code: the same Results as evaluator.evaluate, faults included.

    ``progress(done, total)``, when given, is called every 1,000 subjects and at the end.
    """
    from .. import sitewide

    if sitewide.site_measures(ruleset):  # computed once over every event, then read as literals (sitewide.py)
        return sitewide.evaluate(lambda rs, evs, subj, at, **kw: evaluate(rs, evs, subj, at, **kw), ruleset, events,
                                 subjects, as_of, ledger=ledger, only=only, progress=progress)
    generated = generated or generated_for(ruleset)
    subjects = subjects or {}
    # the reader keeps the latest time as it reads (inputs.Events): no pass over a million events here
    latest = events.latest_at() if hasattr(events, "latest_at") else max(map(_by_time, events), default=None)
    if as_of is None:
        as_of = latest or dt.datetime(1970, 1, 1, tzinfo=UTC)
    as_of = as_of.astimezone(UTC)
    # the reader's grouping by subject (inputs.Events), when no event is after the as-of instant
    grouped = events.grouped() if only is None and hasattr(events, "grouped") else None
    by_subject: dict[str, list[Event]] = {}
    after = 0
    with paused_gc():
        if grouped is not None and (latest is None or latest <= as_of):
            by_subject = grouped
        else:
            for e in events:
                if e.at > as_of:
                    after += 1
                    continue
                if only is not None and e.subject != only:
                    continue
                group = by_subject.get(e.subject)
                if group is None:
                    by_subject[e.subject] = [e]
                else:
                    group.append(e)
        ids = {only} if only is not None else set(by_subject) | set(subjects)
        run = generated.namespace["subject_ledger" if ledger else "subject_fast"]
        memory = _memory_program(ruleset)
        if memory is not None:
            run = _with_timeline(run, generated.namespace["subject_fast"], memory)
        out = []
        at_of = _by_time
        try:
            total = len(ids)
            for done, sid in enumerate(sorted(ids), 1):
                evs = sorted(by_subject.get(sid, ()), key=at_of)  # a copy: the reader's groups stay as they were
                out.append(run(sid, evs, subjects.get(sid, {}), as_of))
                if progress is not None and (done % 1000 == 0 or done == total):
                    progress(done, total)
        except EvaluationError:
            raise
        except Exception as exc:  # noqa: BLE001 - a fault no handler foresaw still names its construct
            raise _escaped(generated, exc) from None
    return Results(as_of, out, len(events) - after, after)


_by_time = operator.attrgetter("at")


def _memory_program(ruleset: Ruleset):
    """The reference's compiled tiers and privileges, when some tier has memory (else None)."""
    if not any(n.has_memory(t) for t in ruleset.tiers.values()):
        return None
    from ..evaluator import compile_ruleset

    return compile_ruleset(ruleset)


def _with_timeline(run, fast, memory):
    """A subject function whose tier is decided along the timeline (tiertimeline), each point by generated code."""
    from ..tiertimeline import with_memory

    def subject(sid, evs, attrs, now):
        result = run(sid, evs, attrs, now)
        return with_memory(memory, result, sid, evs, attrs, now, lambda prefix, t: fast(sid, prefix, attrs, t))
    return subject


def _escaped(generated: Generated, exc: Exception) -> EvaluationError:
    construct = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == generated.filename:
            construct = generated.construct_at(tb.tb_lineno) or construct
        tb = tb.tb_next
    what, span = construct or ("the generated program", n.NO_SPAN)
    return EvaluationError([error("W090", f"run-time fault in {what}: {type(exc).__name__}: {exc}", span,
                                  hint="report this: the reference engine (--engine reference) may run it")])


def source_of(ruleset: Ruleset) -> str:
    """The generated Python text for a ruleset (for `whuffie sql --dialect python` and debugging)."""
    return generated_for(ruleset).source


if __name__ == "__main__":  # pragma: no cover - a debugging aid: print the module for a rule file
    from ..frontend import load_file

    loaded = load_file(sys.argv[1])
    print(source_of(loaded.ruleset))

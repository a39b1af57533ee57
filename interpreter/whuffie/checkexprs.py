"""Expression typing: the type of every expression, and the checks that need it."""

from __future__ import annotations

from . import nodes as n
from . import types as ty
from .checkbase import CheckerBase, Scope, suggest
from .limits import MAX_DURATION_SECONDS
from .types import BOOL, DATE, DATETIME, DURATION, ERROR, INT, NUMBER, TEXT, TIER, Type


class ExprChecks(CheckerBase):
    """Typing expressions: literals, operators, calls, builtins."""

    def __init__(self, program: n.Program) -> None:
        super().__init__(program)
        # node class -> its typing function, looked up once per composed checker class: a getattr per node
        # (a bound method made for every one of the ~100,000 nodes of a large file) was a tenth of the check
        cls = type(self)
        table = _INFER_TABLES.get(cls)
        if table is None:
            table = _INFER_TABLES[cls] = {node: getattr(cls, name) for node, name in _INFER.items()}
        self.typing = table

    def value(self, e: n.Expr, scope: Scope) -> Type:
        """The type of an expression whose value is used: a `T?` here is W024."""
        t = self.typing[type(e)](self, e, scope)  # infer(e, scope), inlined: this is called for most nodes
        self.types[id(e)] = t
        if t.optional:
            return self.resolved(e, t)
        return t

    def resolved(self, e: n.Expr, t: Type) -> Type:
        """W024 for a `T?` used as a value (the hint names the fallback to write), and the required type."""
        fallback = {"text": '""', "bool": "false", "int": "0", "number": "0", "tier": "<lowest tier>"}.get(
            t.base, "<fallback>")
        if isinstance(e, n.Name) and e.id in self.rs.measures:
            hint = f"write {e.id} ?? {fallback}, or give measure {e.id} a `default {fallback}`"
        elif isinstance(e, (n.Name, n.Attribute)):
            label = e.id if isinstance(e, n.Name) else f"{getattr(e.obj, 'id', '…')}.{e.name}"
            hint = f"write {label} ?? {fallback}"
        else:
            hint = f"add a fallback: (…) ?? {fallback}"
        self.err("W024", f"this value may be none ({t}); resolve it with `??` before using it", e.span, hint)
        return t.required

    def infer(self, e: n.Expr, scope: Scope) -> Type:
        t = self.typing[type(e)](self, e, scope)
        self.types[id(e)] = t
        return t

    def _number(self, e: n.Number, scope: Scope) -> Type:
        return INT if isinstance(e.value, int) else NUMBER

    def _duration(self, e: n.Duration, scope: Scope) -> Type:
        self.duration_fits(e)
        return DURATION

    def duration_fits(self, e: n.Duration) -> bool:
        """W060 for a duration longer than the span of supported dates: no date plus it exists."""
        if e.seconds() <= MAX_DURATION_SECONDS:
            return True
        days = MAX_DURATION_SECONDS / 86400
        self.err("W060", f"the duration {_amount(e.amount)} {e.unit} is longer than any span of supported dates "
                 f"(at most {days:,.0f} days, from year 1 to 9999)", e.span,
                 "durations measure spans between dates; use a length within that range, e.g. 3650 days")
        return False

    def _literal(self, e, scope: Scope) -> Type:
        return _LITERAL_TYPES[type(e)]

    def _call(self, e: n.Call, scope: Scope) -> Type:
        f = e.func
        if f == "points" and scope.params is None:
            if not scope.points and scope.test_subjects is None:
                return self._not_here(e, scope, "points", "a rule sees one event and its subject, not totals")
            if len(e.args) != 1:
                return self.err("W023", f"points(...) takes one rule name, not {len(e.args)} arguments", e.span)
            arg = e.args[0]
            if not isinstance(arg, n.Name) or arg.id not in self.rs.rules:
                label = arg.id if isinstance(arg, n.Name) else "this"
                return self.err("W014", f"points({label}): {label} is not a rule", arg.span,
                                suggest(label, self.rs.rules) if isinstance(arg, n.Name) else None)
            self.types[id(arg)] = ERROR
            return NUMBER
        if f in self.rs.defs:
            return self.def_call(e, scope)
        if f in _BUILTINS:
            return _BUILTINS[f](self, e, scope)
        names = list(_BUILTINS) + list(self.rs.defs)
        what = next((w for w, t in (("score", self.rs.scores), ("measure", self.rs.measures),
                                     ("rule", self.rs.rules)) if f in t), None)
        for a in e.args:
            self.infer(a, scope)
        msg = f"{f} is a {what}, not a function" if what else f"unknown function {f}"
        return self.err("W016", msg, e.span, suggest(f, names) or "functions: " + ", ".join(sorted(names)))

    def def_call(self, e: n.Call, scope: Scope) -> Type:
        # Every def was checked before any caller (checkdecls.defs); only a recursive def has no
        # signature yet, and it is already reported.
        info = self.def_infos.get(e.func)
        arg_types = [self.value(a, scope) for a in e.args]
        if info is None:
            return ERROR
        if len(e.args) != len(info.params):
            return self.err("W023", f"def {e.func} takes {len(info.params)} argument"
                            f"{'s' * (len(info.params) != 1)}, but {len(e.args)} are given", e.span,
                            f"{e.func}({', '.join(f'{p}: {t}' for p, t in info.params)})")
        for i, (arg, t, (pname, ptype)) in enumerate(zip(e.args, arg_types, info.params)):
            if not ty.assignable(t, ptype):
                self.err("W020", f"argument {pname} of {e.func} must be {ptype}, but this is {t}", arg.span)
            if i in info.singled:
                if scope.no_singling_out and scope.params is None and self.is_subject_id(arg):
                    self.err("W041", f"{scope.who()} singles out one subject: {e.func} compares its parameter "
                             f"{pname} with a text literal, and it is given {self.kind.name}.id", e.span,
                             "rules apply to everyone the same; use an attribute or event field instead")
                elif scope.params is not None and isinstance(arg, n.Name) and arg.id in scope.params:
                    scope.singled_params.add(scope.params[arg.id][0])
        return info.returns

    def _unary(self, e: n.Unary, scope: Scope) -> Type:
        t = self.value(e.operand, scope)
        if e.op == "not":
            if not t.has("bool"):
                return self.err("W020", f"`not` needs a bool, but this is {t}", e.operand.span)
            return BOOL
        if not t.has("int", "number", "duration"):
            return self.err("W020", f"cannot negate a {t}", e.operand.span)
        return t

    def _binary(self, e: n.Binary, scope: Scope) -> Type:
        lt = self.value(e.left, scope)
        rt = self.value(e.right, scope)
        op = e.op
        if op in ("and", "or"):
            if lt.base not in _BOOL_OR_ERROR or rt.base not in _BOOL_OR_ERROR:
                for side, t in ((e.left, lt), (e.right, rt)):
                    if not t.has("bool"):
                        self.err("W020", f"`{op}` needs bool operands, but this is {t}", side.span)
            return BOOL
        if lt.is_error or rt.is_error:
            return ERROR
        result = _arithmetic(op, lt.base, rt.base)
        if op in ("/", "%") and rt.numeric:
            self.divisor(e.right, scope)
        if result is not None:
            return _OF_BASE[result]
        left_ok = any(a == lt.base for a, _ in _ARITH[op])
        culprit = e.right if left_ok else e.left
        wanted = sorted({b for a, b in _ARITH[op] if a == lt.base}) if left_ok else \
            sorted({a for a, _ in _ARITH[op]})
        hint = None
        if lt.base in ("date", "datetime") and rt.numeric and op in "+-":
            hint = "add a duration, e.g. 30 days"
        elif op == "%":
            hint = "`%` is defined for ints"
        return self.err("W020", f"cannot use `{op}` with {lt} and {rt}: "
                        f"{'the right' if left_ok else 'the left'} operand must be {' or '.join(wanted)}",
                        culprit.span, hint)

    def _compare(self, e: n.Compare, scope: Scope) -> Type:
        types = [self.value(x, scope) for x in e.operands]
        for i, op in enumerate(e.ops):
            a, b = types[i], types[i + 1]
            if op in ("==", "!="):
                ok = ty.comparable_equal(a, b)
            else:
                ok = ty.comparable_order(a, b)
                if not ok and not any(a.base in g for g in ty.ORDERED_GROUPS):
                    self.err("W020", f"values of type {a} have no order; `{op}` needs numbers, dates, "
                             "durations, text or tiers", e.operands[i].span)
                    continue
            if not ok:
                self.err("W020", f"cannot compare {a} with {b} using `{op}`", e.operands[i + 1].span,
                         self.compare_hint(a, b))
        if scope.no_singling_out and any(type(x) is n.String for x in e.operands):  # else nothing to single out
            self.singling_out(e, list(e.operands), scope)
        return BOOL

    @staticmethod
    def compare_hint(a: Type, b: Type) -> str | None:
        if a.base == "text" or b.base == "text":
            return "text compares only with text; quote numbers only when the field is text"
        if {a.base, b.base} & {"duration"}:
            return "compare a duration with a duration, e.g. now - member.joined >= 30 days"
        return None

    def singling_out(self, e: n.Expr, operands: list[n.Expr], scope: Scope) -> None:
        literals = [x for x in operands if isinstance(x, n.String)]
        if not literals:
            return
        for x in operands:
            if scope.params is None and self.is_subject_id(x):
                self.err("W041", f"{scope.who()} singles out one subject: it compares {self.kind.name}.id "
                         f'with "{literals[0].value}"', e.span,
                         "rules apply to everyone the same; use an attribute or event field instead")
                return
            if scope.params is not None and isinstance(x, n.Name) and x.id in scope.params:
                scope.singled_params.add(scope.params[x.id][0])

    def _in(self, e: n.In, scope: Scope) -> Type:
        t = self.value(e.value, scope)
        for option in e.options:
            ot = self.value(option, scope)
            if not ty.comparable_equal(t, ot):
                self.err("W020", f"this option is {ot}, but the value tested is {t}", option.span)
        if scope.no_singling_out:
            self.singling_out(e, [e.value, *e.options], scope)
        return BOOL

    def _coalesce(self, e: n.Coalesce, scope: Scope) -> Type:
        lt = self.infer(e.left, scope).required
        rt = self.value(e.right, scope)
        result = ty.unify(lt, rt)
        if result is None:
            return self.err("W020", f"the fallback of `??` must be {lt}, but it is {rt}", e.right.span)
        return result

    def _if(self, e: n.If, scope: Scope) -> Type:
        ct = self.value(e.cond, scope)
        if not ct.has("bool"):
            self.err("W021", f"the condition of `if` must be a bool, but it is {ct}", e.cond.span)
        a = self.value(e.then, scope)
        b = self.value(e.orelse, scope)
        result = ty.unify(a, b)
        if result is None:
            return self.err("W020", f"both branches of `if` must have one type: `then` is {a}, `else` is {b}",
                            e.orelse.span)
        return result

    def _of(self, e: n.Of, scope: Scope) -> Type:
        if scope.test_subjects is None:
            return self._not_here(e, scope, "`X of subject`", "it is only allowed in tests and the REPL")
        if e.subject not in scope.test_subjects:
            self.err("W010", f"unknown subject {e.subject} in {scope.construct}", e.span,
                     suggest(e.subject, scope.test_subjects) or "declare it in the test, e.g. member m { ... }")
        target = e.target
        if isinstance(target, n.Call) and target.func == "points":
            return self.infer(target, scope)
        if isinstance(target, n.Name):
            name = target.id
            rs = self.rs
            self.types[id(target)] = ERROR
            if name == "points":
                return NUMBER
            if name == "tier":
                return TIER
            if name in rs.scores:
                return self.score_types.get(name, NUMBER)
            if name in rs.measures:
                return self.measure_types.get(name, ERROR).required
            if name in rs.privileges or name in rs.conditions:
                return BOOL
            names = ["points", "tier", *rs.scores, *rs.measures, *rs.privileges, *rs.conditions]
            return self.err("W010", f"unknown score, measure or privilege {name} in {scope.construct}",
                            target.span, suggest(name, names))
        return self.err("W025", "`of` reads a score, measure, tier, privilege or points of one subject",
                        target.span)

    def _numbers(self, e: n.Call, scope: Scope, count: int | tuple[int, ...],
                 durations: bool = False) -> list[Type] | None:
        counts = (count,) if isinstance(count, int) else count
        types = [self.value(a, scope) for a in e.args]
        if len(e.args) not in counts and not (counts == (2,) and e.func in ("min", "max") and len(e.args) > 2):
            wanted = " or ".join(map(str, counts)) + (" or more" if e.func in ("min", "max") else "")
            self.err("W023", f"{e.func} takes {wanted} argument{'s' * (counts != (1,))}, "
                     f"but {len(e.args)} {'is' if len(e.args) == 1 else 'are'} given", e.span)
            return None
        allowed = ("int", "number", "duration") if durations else ("int", "number")
        ok = True
        for arg, t in zip(e.args, types):
            if not t.has(*allowed):
                self.err("W020", f"{e.func} needs {' or '.join(allowed[1:] if durations else ('numbers',))}"
                         f", but this is {t}", arg.span)
                ok = False
        if durations and ok:
            kinds = {t.base == "duration" for t in types if not t.is_error}
            if len(kinds) > 1:
                self.err("W020", f"{e.func} mixes durations and numbers", e.span)
                ok = False
        return types if ok else None

    def _min_max(self, e: n.Call, scope: Scope) -> Type:
        types = self._numbers(e, scope, 2, durations=True)
        if types is None:
            return ERROR
        if any(t.base == "duration" for t in types):
            return DURATION
        return ty.numeric_result(*types)

    def _clamp(self, e: n.Call, scope: Scope) -> Type:
        types = self._numbers(e, scope, 3)
        return ERROR if types is None else ty.numeric_result(*types)

    def _abs(self, e: n.Call, scope: Scope) -> Type:
        types = self._numbers(e, scope, 1, durations=True)
        return ERROR if types is None else types[0]

    def _to_int(self, e: n.Call, scope: Scope) -> Type:
        return ERROR if self._numbers(e, scope, 1) is None else INT

    def _round(self, e: n.Call, scope: Scope) -> Type:
        types = self._numbers(e, scope, (1, 2))
        if types is None:
            return ERROR
        if len(types) == 2:
            if not types[1].has("int"):
                self.err("W020", f"the digits of round must be an int, but this is {types[1]}", e.args[1].span)
            return NUMBER
        return INT

    def _real(self, e: n.Call, scope: Scope) -> Type:
        return ERROR if self._numbers(e, scope, 1) is None else NUMBER

    def _duration_to_number(self, e: n.Call, scope: Scope) -> Type:
        types = [self.value(a, scope) for a in e.args]
        if len(types) != 1:
            return self.err("W023", f"{e.func} takes 1 argument (a duration), but {len(types)} are given", e.span)
        if not types[0].has("duration"):
            return self.err("W020", f"{e.func} needs a duration, but this is {types[0]}", e.args[0].span,
                            "e.g. days(now - member.joined)")
        return NUMBER


def _arith_table() -> dict[str, set[tuple[str, str]]]:
    num = ("int", "number")
    table: dict[str, set[tuple[str, str]]] = {op: set() for op in "+-*/%"}
    for op in "+-*/":
        table[op] |= {(a, b) for a in num for b in num}
    table["%"].add(("int", "int"))
    for op in "+-":
        table[op] |= {("datetime", "duration"), ("date", "duration"), ("duration", "duration")}
    table["-"] |= {("datetime", "datetime"), ("date", "date"), ("datetime", "date"), ("date", "datetime")}
    table["*"] |= {("duration", "int"), ("duration", "number"), ("int", "duration"), ("number", "duration")}
    table["/"] |= {("duration", "int"), ("duration", "number"), ("duration", "duration")}
    return table


_ARITH = _arith_table()


def _arithmetic(op: str, a: str, b: str) -> str | None:
    """The result type of ``a op b`` per decisions.md, or None when not allowed."""
    if (a, b) not in _ARITH[op]:
        return None
    if a in ("int", "number") and b in ("int", "number"):
        if op == "/":
            return "number"
        return "int" if a == b == "int" else "number"
    if op == "-" and a in ("date", "datetime") and b in ("date", "datetime"):
        return "duration"
    if a in ("date", "datetime"):
        return a
    if op == "/" and b == "duration":
        return "number"
    return "duration"


def _amount(x: int | float) -> str:
    return f"{x:,}" if isinstance(x, int) and abs(x) < 10**30 else f"{x:g}"


_BOOL_OR_ERROR = ("bool", "error")  # the bases Type.has("bool") accepts
_OF_BASE = {t.base: t for t in (INT, NUMBER, DATE, DATETIME, DURATION)}  # the results of `_arithmetic`

_LITERAL_TYPES = {n.String: TEXT, n.Bool: BOOL, n.Date: DATE, n.DateTime: DATETIME}

# Method names, looked up on the composed checker: _name and _attribute live in checkscope.
_INFER = {
    n.Number: "_number",
    n.Duration: "_duration",
    n.String: "_literal",
    n.Bool: "_literal",
    n.Date: "_literal",
    n.DateTime: "_literal",
    n.Name: "_name",
    n.Attribute: "_attribute",
    n.Call: "_call",
    n.Unary: "_unary",
    n.Binary: "_binary",
    n.Compare: "_compare",
    n.In: "_in",
    n.Coalesce: "_coalesce",
    n.If: "_if",
    n.Of: "_of",
    n.Earlier: "_earlier",
}

# per composed checker class: node class -> its typing function (filled on first use by ExprChecks.infer)
_INFER_TABLES: dict[type, dict[type, object]] = {}

_BUILTINS = {
    "min": ExprChecks._min_max,
    "max": ExprChecks._min_max,
    "clamp": ExprChecks._clamp,
    "abs": ExprChecks._abs,
    "floor": ExprChecks._to_int,
    "ceil": ExprChecks._to_int,
    "round": ExprChecks._round,
    "sqrt": ExprChecks._real,
    "log": ExprChecks._real,
    "exp": ExprChecks._real,
    "days": ExprChecks._duration_to_number,
    "hours": ExprChecks._duration_to_number,
}

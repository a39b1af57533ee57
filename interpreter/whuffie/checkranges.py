"""Interval reasoning over numeric expressions: division by zero, conditions that never hold, tiers never reached."""

from __future__ import annotations

from . import nodes as n
from . import types as ty
from .checkbase import CheckerBase, Scope, conjuncts, constant


class RangeChecks(CheckerBase):
    """What the declared field ranges and constant comparisons say about values."""

    def divisor(self, e: n.Expr, scope: Scope) -> None:
        rng = self.interval(e, scope)
        if rng is not None and rng.contains(0):
            self.warn("W026", f"possible division by zero in {scope.construct}: the divisor can be 0 "
                      f"(its declared range is {rng})", e.span,
                      "exclude 0 in a `where`, or use a def with a fallback such as std/math's ratio_or")

    def interval(self, e: n.Expr, scope: Scope) -> ty.Interval | None:
        """The range of values of a numeric expression, when the declared ranges pin it down."""
        c = constant(e)
        if c is not None:
            return ty.point(c)
        f = self.field_ref(e, scope)
        if f is not None:
            return ty.closed(f.range.low, f.range.high) if f.range else None
        if isinstance(e, n.Binary) and e.op in ("+", "-", "*"):
            a, b = self.interval(e.left, scope), self.interval(e.right, scope)
            if a is None or b is None:
                return None
            return ty.arithmetic(e.op, a, b)
        if isinstance(e, n.Unary) and e.op == "-":
            inner = self.interval(e.operand, scope)
            return None if inner is None else ty.closed(-inner.high, -inner.low)
        if isinstance(e, n.Call) and e.func in ("min", "max", "clamp") and e.func not in self.rs.defs:
            parts = [self.interval(a, scope) for a in e.args]
            if not parts or any(p is None for p in parts) or (e.func == "clamp" and len(parts) != 3):
                return None
            if e.func == "clamp":  # clamp(x, lo, hi) is min(max(x, lo), hi)
                x, lo, hi = parts
                parts = [ty.closed(max(x.low, lo.low), max(x.high, lo.high)), hi]
                kind = "min"
            else:
                kind = e.func
            pick = min if kind == "min" else max
            return ty.closed(pick(p.low for p in parts), pick(p.high for p in parts))
        if isinstance(e, n.If):
            a, b = self.interval(e.then, scope), self.interval(e.orelse, scope)
            if a is None or b is None:
                return None
            return ty.closed(min(a.low, b.low), max(a.high, b.high))
        return None

    def cap_can_cut(self, rule: n.RuleDecl, award: n.Expr, scope: Scope) -> None:
        """W062: caps limit the points a rule gives, so on a rule that only takes points away they never cut."""
        caps = rule.clauses_of(n.Cap)
        rng = self.interval(award, scope) if caps else None
        if rng is None or rng.high > 0:
            return
        most = "0" if rng.high == 0 else f"{rng.high:g}"
        self.warn("W062", f"rule {rule.name} can only take points away (its award is at most {most}), "
                  "so its cap never cuts: a cap limits the points a rule gives", caps[0].span,
                  "remove the cap; to limit a loss, bound the award (e.g. -min(days_late, 10)) "
                  "or give the score a running floor")

    def atoms(self, cond: n.Expr, scope: Scope, ranged_only: bool = False) -> list[tuple[object, object]]:
        """A condition as conjunct atoms: (key, Interval) for comparisons with a constant, else (expr, None).

        ``ranged_only``: leave out the atoms without an interval (satisfiable reads no other).
        """
        out: list[tuple[object, object]] = []
        for c in conjuncts(cond):
            if ranged_only and type(c) is not n.Compare:
                continue
            if isinstance(c, n.Compare):
                for i, op in enumerate(c.ops):
                    a, b = c.operands[i], c.operands[i + 1]
                    ca, cb = constant(a), constant(b)
                    if cb is not None and ca is None:
                        rng = ty.from_comparison(op, cb)
                        key = a
                    elif ca is not None and cb is None:
                        rng = ty.from_comparison(ty.FLIPPED[op], ca)
                        key = b
                    else:
                        rng = None
                    if rng is not None:
                        out.append((self.atom_key(key, scope), rng))
                    elif not ranged_only:
                        out.append((n.Compare((a, b), (op,)), None))
            else:
                out.append((c, None))
        return out

    def atom_key(self, e: n.Expr, scope: Scope) -> object:
        f = self.field_ref(e, scope)
        if f is not None and scope.event is not None and f in scope.event.fields:
            return ("event", f.name)
        return e

    def satisfiable(self, cond: n.Expr, scope: Scope, what: str) -> None:
        ranges: dict[object, ty.Interval] = {}
        declared: dict[object, n.Field] = {}
        for key, rng in self.atoms(cond, scope, ranged_only=True):
            f = self.event_field(scope.event, key[1]) if isinstance(key, tuple) else self.field_ref(key, scope)
            if key not in ranges:
                base = ty.closed(f.range.low, f.range.high) if f is not None and f.range else ty.EVERYTHING
                ranges[key] = base
                if f is not None:
                    declared[key] = f
            ranges[key] = ranges[key].intersect(rng)
            current = ranges[key]
            f = declared.get(key)
            if f is not None and self.field_type(f).base == "int":
                current = current.integral()
            if current.empty:
                label = key[1] if isinstance(key, tuple) else (
                    f"{self.kind.name}.{f.name}" if f is not None and self.kind is not None else "a value")
                detail = (f"{label} is declared in {f.range.low}..{f.range.high}"
                          if f is not None and f.range else f"the conditions on {label} contradict each other")
                self.warn("W054", f"the `where` of {what} can never hold: {detail}", cond.span,
                          "check the bounds against the declared range")
                return

    def implies(self, cond: n.Expr, other: n.Expr) -> bool:
        """Whether ``cond`` holding means ``other`` holds too (conservative: False when unsure)."""
        scope = Scope("tier")
        mine = self.atoms(cond, scope)
        ranges: dict[object, ty.Interval] = {}
        plain: set = set()
        for key, rng in mine:
            if rng is None:
                plain.add(key)
            else:
                ranges[key] = ranges.get(key, ty.EVERYTHING).intersect(rng)
        for key, rng in self.atoms(other, scope):
            if rng is None:
                if key not in plain:
                    return False
            elif key not in ranges or not ranges[key].within(rng):
                return False
        return True

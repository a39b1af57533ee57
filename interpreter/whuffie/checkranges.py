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
        return None

    def atoms(self, cond: n.Expr, scope: Scope) -> list[tuple[object, object]]:
        """A condition as conjunct atoms: (key, Interval) for comparisons with a constant, else (expr, None)."""
        out: list[tuple[object, object]] = []
        for c in conjuncts(cond):
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
                    else:
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
        for key, rng in self.atoms(cond, scope):
            if rng is None:
                continue
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

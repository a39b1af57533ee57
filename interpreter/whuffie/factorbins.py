"""Are a factor's bins exclusive and exhaustive? Interval reasoning over the bins' `where` conditions.

Entry point: ``analyse(fields, bins) -> Finding``. Each bin's condition is read
as a union of boxes: an ``or`` of ``and``s of atoms, each atom a field compared
with a constant (``months < 12``, ``purpose in ["car", "education"]``, a bool
field or its ``not``). Between the constants of one field nothing changes, so
checking one value on each side of every constant (and inside each declared
range) decides the question for every event: every combination of those
values is tried, and the first matched by no bin, or by two, is the witness.
A condition beyond atoms like these is not guessed at: the finding says which.
"""

from __future__ import annotations

import itertools
import math
import operator
from dataclasses import dataclass

from . import nodes as n

MAX_COMBINATIONS = 50_000  # values tried; past it the bins are reported as too many to prove


class _Another:
    """A text value none of the bins lists (a text field not enumerated can hold one)."""

    def __repr__(self) -> str:
        return "another value"


ANOTHER = _Another()

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


@dataclass(frozen=True)
class Atom:
    field: str
    op: str  # a comparison, or "in" / "not in"
    value: object  # a constant, or a tuple of constants for in / not in

    def holds(self, x) -> bool:
        if x is ANOTHER:
            return {"==": False, "!=": True, "in": False, "not in": True}[self.op]
        if self.op == "in":
            return x in self.value
        if self.op == "not in":
            return x not in self.value
        return _OPS[self.op](x, self.value)


@dataclass(frozen=True)
class Finding:
    """The outcome: a value matched by no bin, one matched by two (with the bins), or why it cannot tell."""

    gap: dict | None = None  # field -> value
    overlap: tuple[dict, str, str] | None = None
    unprovable: str | None = None


def analyse(fields: dict[str, n.Field], bins: list[tuple[str, n.Expr | None]],
            enumerated: dict[str, tuple] | None = None) -> Finding:
    """Whether every event matches exactly one of ``bins`` (rule name, its `where` or None).

    ``fields`` are the event's declared fields; ``enumerated`` gives the
    values of text fields declared with a list (none may hold another value).
    """
    enumerated = enumerated or {}
    boxes: list[tuple[str, list[list[Atom]]]] = []
    for rule, where in bins:
        if where is None:
            boxes.append((rule, [[]]))
            continue
        read = _disjuncts(where, fields)
        if isinstance(read, str):
            return Finding(unprovable=f"the `where` of rule {rule} {read}")
        boxes.append((rule, read))
    atoms = [a for _, box in boxes for conj in box for a in conj]
    names = sorted({a.field for a in atoms}, key=list(fields).index)
    axes = []
    for name in names:
        values = _candidates(fields[name], [a for a in atoms if a.field == name], enumerated.get(name))
        if isinstance(values, str):
            return Finding(unprovable=values)
        axes.append(values)
    if math.prod(len(a) for a in axes) > MAX_COMBINATIONS:
        return Finding(unprovable=f"its bins need more than {MAX_COMBINATIONS:,} combinations of values to check")
    gap = overlap = None
    for point in itertools.product(*axes):
        at = dict(zip(names, point))
        matched = [rule for rule, box in boxes if any(all(a.holds(at[a.field]) for a in conj) for conj in box)]
        if not matched and gap is None:
            gap = at
        if len(matched) > 1 and overlap is None:
            overlap = (at, matched[0], matched[1])
        if gap is not None and overlap is not None:
            break
    return Finding(gap, overlap)


def _disjuncts(e: n.Expr, fields: dict) -> list[list[Atom]] | str:
    if isinstance(e, n.Binary) and e.op == "or":
        left, right = _disjuncts(e.left, fields), _disjuncts(e.right, fields)
        if isinstance(left, str):
            return left
        return right if isinstance(right, str) else left + right
    conj = _conjunction(e, fields)
    return conj if isinstance(conj, str) else [conj]


def _conjunction(e: n.Expr, fields: dict) -> list[Atom] | str:
    if isinstance(e, n.Binary) and e.op == "and":
        left, right = _conjunction(e.left, fields), _conjunction(e.right, fields)
        if isinstance(left, str):
            return left
        return right if isinstance(right, str) else left + right
    return _atoms(e, fields)


def _field_of(e: n.Expr, fields: dict) -> str | None:
    if isinstance(e, n.Name) and e.id in fields:
        return e.id
    if isinstance(e, n.Attribute) and isinstance(e.obj, n.Name) and e.obj.id == "event" and e.name in fields:
        return e.name
    return None


def _literal(e: n.Expr):
    """A constant's value (numbers, text, bools; a negated number), or None."""
    if isinstance(e, (n.Number, n.String, n.Bool)):
        return e.value
    if isinstance(e, n.Unary) and e.op == "-" and isinstance(e.operand, n.Number):
        return -e.operand.value
    return None


def _atoms(e: n.Expr, fields: dict) -> list[Atom] | str:
    beyond = "is beyond the comparisons of fields with constants that a factor's bins are checked by"
    if isinstance(e, n.Compare):
        out = []
        for a, op, b in zip(e.operands, e.ops, e.operands[1:]):
            fa, fb = _field_of(a, fields), _field_of(b, fields)
            ca, cb = _literal(a), _literal(b)
            if fa is not None and cb is not None:
                out.append(Atom(fa, op, cb))
            elif fb is not None and ca is not None:
                out.append(Atom(fb, _FLIPPED[op], ca))
            else:
                return beyond
        return out
    if isinstance(e, n.In):
        f = _field_of(e.value, fields)
        options = tuple(_literal(o) for o in e.options)
        if f is None or any(o is None for o in options):
            return beyond
        return [Atom(f, "not in" if e.negated else "in", options)]
    f = _field_of(e, fields)
    if f is not None and fields[f].type.name == "bool":
        return [Atom(f, "==", True)]
    if isinstance(e, n.Unary) and e.op == "not":
        f = _field_of(e.operand, fields)
        if f is not None and fields[f].type.name == "bool":
            return [Atom(f, "==", False)]
    return beyond


def _candidates(field: n.Field, atoms: list[Atom], enumerated: tuple | None) -> list | str:
    """Values of one field that stand for every value: each constant, its neighbours, and the range's ends."""
    kind = field.type.name
    constants = []
    for a in atoms:
        constants.extend(a.value if a.op in ("in", "not in") else (a.value,))
    if kind == "bool":
        return [False, True]
    if kind == "text":
        if any(a.op not in ("==", "!=", "in", "not in") for a in atoms):
            return f"field {field.name} is text compared by order"
        listed = list(dict.fromkeys(c for c in constants if isinstance(c, str)))
        if enumerated is not None:
            return list(enumerated)
        return [*listed, ANOTHER]
    if kind not in ("int", "number"):
        return f"field {field.name} is a {kind}, which factor bins are not checked over"
    numbers = sorted({c for c in constants if isinstance(c, (int, float)) and not isinstance(c, bool)})
    low = field.range.low if field.range else None
    high = field.range.high if field.range else None
    values: set = set()
    if kind == "int":
        for c in numbers:
            values |= {math.floor(c) - 1, math.floor(c), math.ceil(c), math.ceil(c) + 1}
    else:
        values |= set(numbers)
        for a, b in zip(numbers, numbers[1:]):
            values.add((a + b) / 2)
    outer_low = low if low is not None else (numbers[0] - 1 if numbers else 0)
    outer_high = high if high is not None else (numbers[-1] + 1 if numbers else 0)
    values |= {outer_low, outer_high}
    if kind == "number" and numbers:  # strictly between a range end and the nearest constant
        if outer_low < numbers[0]:
            values.add((outer_low + numbers[0]) / 2)
        if outer_high > numbers[-1]:
            values.add((outer_high + numbers[-1]) / 2)
    return sorted(v for v in values if outer_low <= v <= outer_high)


def describe(at: dict) -> str:
    """A witness in words: ``months 12``, ``purpose "car", months 3``."""
    parts = []
    for name, value in at.items():
        if value is ANOTHER:
            parts.append(f"{name} with a value no bin lists")
        elif isinstance(value, str):
            parts.append(f'{name} "{value}"')
        elif isinstance(value, bool):
            parts.append(f"{name} {'true' if value else 'false'}")
        else:
            parts.append(f"{name} {int(value) if isinstance(value, float) and value.is_integer() else value}")
    return ", ".join(parts) if parts else "every event"

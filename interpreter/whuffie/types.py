"""The type model of the checker, and the interval arithmetic behind its range warnings.

Types follow docs/design/decisions.md: int, number, bool, text, date,
datetime, duration, tier, and the optional form ``T?`` of each. ``ERROR``
stands for "already reported": it is compatible with everything, so one
mistake produces one diagnostic, not a cascade.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BASE_TYPES = ("int", "number", "bool", "text", "date", "datetime", "duration", "tier")


@dataclass(frozen=True, slots=True)
class Type:
    """A checked type: a base name and whether the value may be none."""

    base: str
    optional: bool = False

    def __str__(self) -> str:
        return self.base + ("?" if self.optional else "")

    @property
    def required(self) -> "Type":
        """The same type without the optional mark."""
        return Type(self.base) if self.optional else self

    @property
    def maybe(self) -> "Type":
        """The optional form of this type."""
        return self if self.optional or self.base == "error" else Type(self.base, True)

    @property
    def is_error(self) -> bool:
        """True for the type of an expression whose mistake was already reported."""
        return self.base == "error"

    @property
    def numeric(self) -> bool:
        """True for int and number (and for an already-reported error)."""
        return self.base in ("int", "number", "error")

    def has(self, *bases: str) -> bool:
        """True when the base is one of ``bases`` (an error type matches anything)."""
        return self.base == "error" or self.base in bases


INT = Type("int")
NUMBER = Type("number")
BOOL = Type("bool")
TEXT = Type("text")
DATE = Type("date")
DATETIME = Type("datetime")
DURATION = Type("duration")
TIER = Type("tier")
ERROR = Type("error")


def type_named(name: str) -> Type | None:
    """The type a declaration names (``int``, ``text``…), or None if unknown."""
    return Type(name) if name in BASE_TYPES else None


def numeric_result(*types: Type) -> Type:
    """int when every operand is int, else number."""
    if any(t.is_error for t in types):
        return ERROR
    return INT if all(t.base == "int" for t in types) else NUMBER


def assignable(value: Type, target: Type) -> bool:
    """Whether a value of type ``value`` may stand where ``target`` is wanted (int widens to number)."""
    if value.is_error or target.is_error:
        return True
    if value.optional and not target.optional:
        return False
    if value.base == target.base:
        return True
    return value.base == "int" and target.base == "number"


def comparable_equal(a: Type, b: Type) -> bool:
    """Whether ``a == b`` is well typed."""
    if a.is_error or b.is_error:
        return True
    return a.base == b.base or (a.numeric and b.numeric)


ORDERED_GROUPS = ({"int", "number"}, {"date", "datetime"}, {"duration"}, {"text"}, {"tier"})


def comparable_order(a: Type, b: Type) -> bool:
    """Whether ``a < b`` is well typed."""
    if a.is_error or b.is_error:
        return True
    return any(a.base in g and b.base in g for g in ORDERED_GROUPS)


def unify(a: Type, b: Type) -> Type | None:
    """The common type of two branches (``if``/``??``), or None when they differ."""
    if a.is_error or b.is_error:
        return ERROR
    if a.base == b.base:
        return a
    if a.numeric and b.numeric:
        return NUMBER
    return None


# ---------------------------------------------------------------- intervals


@dataclass(frozen=True, slots=True)
class Interval:
    """A set of numbers between two bounds; each bound is open or closed."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = True
    high_open: bool = True

    @property
    def empty(self) -> bool:
        """True when no number lies in the interval."""
        if self.low > self.high:
            return True
        return self.low == self.high and (self.low_open or self.high_open)

    @property
    def bounded(self) -> bool:
        """True when both ends are finite."""
        return math.isfinite(self.low) and math.isfinite(self.high)

    def contains(self, x: float) -> bool:
        """Whether x lies in the interval."""
        above = x > self.low or (x == self.low and not self.low_open)
        below = x < self.high or (x == self.high and not self.high_open)
        return above and below

    def intersect(self, other: "Interval") -> "Interval":
        """The numbers in both intervals."""
        if (self.low, not self.low_open) >= (other.low, not other.low_open):
            low, low_open = self.low, self.low_open
        else:
            low, low_open = other.low, other.low_open
        if (self.high, self.high_open) <= (other.high, other.high_open):
            high, high_open = self.high, self.high_open
        else:
            high, high_open = other.high, other.high_open
        return Interval(low, high, low_open, high_open)

    def within(self, other: "Interval") -> bool:
        """Whether every number of self is also in other."""
        if self.empty:
            return True
        low_ok = self.low > other.low or (self.low == other.low and (self.low_open or not other.low_open))
        high_ok = self.high < other.high or (self.high == other.high and (self.high_open or not other.high_open))
        return low_ok and high_ok

    def integral(self) -> "Interval":
        """The tightest closed interval holding the same integers."""
        low, high = self.low, self.high
        if math.isfinite(low):
            low = math.floor(low) + 1 if (self.low_open and low == math.floor(low)) else math.ceil(low)
        if math.isfinite(high):
            high = math.ceil(high) - 1 if (self.high_open and high == math.ceil(high)) else math.floor(high)
        return Interval(low, high, not math.isfinite(low), not math.isfinite(high))

    def __str__(self) -> str:
        lo = "-inf" if self.low == -math.inf else _num(self.low)
        hi = "inf" if self.high == math.inf else _num(self.high)
        return f"{'(' if self.low_open else '['}{lo}, {hi}{')' if self.high_open else ']'}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


EVERYTHING = Interval()


def point(x: float) -> Interval:
    """The interval holding only x."""
    return Interval(x, x, False, False)


def closed(low: float, high: float) -> Interval:
    """The closed interval [low, high]."""
    return Interval(low, high, False, False)


def from_comparison(op: str, value: float) -> Interval | None:
    """The numbers x for which ``x op value`` holds (None for ``!=``)."""
    if op == "==":
        return point(value)
    if op == "<":
        return Interval(high=value, high_open=True)
    if op == "<=":
        return Interval(high=value, high_open=False)
    if op == ">":
        return Interval(low=value, low_open=True)
    if op == ">=":
        return Interval(low=value, low_open=False)
    return None


FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _mul_bounds(a: Interval, b: Interval) -> Interval:
    products = []
    for x in (a.low, a.high):
        for y in (b.low, b.high):
            if (math.isinf(x) and y == 0) or (math.isinf(y) and x == 0):
                products.append(0.0)
            else:
                products.append(x * y)
    return closed(min(products), max(products))


def arithmetic(op: str, a: Interval, b: Interval) -> Interval:
    """A conservative interval for ``a op b`` (bounds treated as closed)."""
    if op == "+":
        result = closed(a.low + b.low, a.high + b.high)
    elif op == "-":
        result = closed(a.low - b.high, a.high - b.low)
    elif op == "*":
        result = _mul_bounds(a, b)
    else:
        return EVERYTHING
    if math.isnan(result.low) or math.isnan(result.high):
        return EVERYTHING
    return result

"""Run-time values: the supported ranges of the shared contract and the checked operations.

Every engine promises the same outcome for the same input, and a value that
leaves its range is a run-time fault (W090), never a number:

* an ``int`` lies in [-2**63, 2**63 - 1] (64 bits, as in DuckDB's BIGINT);
* a ``number`` is a finite 64-bit float (NaN and ±inf are faults);
* an instant lies in 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z;
* a ``duration`` is no longer than the span between those two instants.

The reference evaluator and the generated-Python engine both take these
bounds, messages and edge rules from here, so that they fault identically.
Python itself would let ints grow without bound and floats overflow to inf,
and raises OverflowError for dates out of its range; the helpers below turn
each of those into a ``RuntimeFault`` at the expression that produced it.
"""

from __future__ import annotations

import datetime as dt
import sys
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from . import nodes as n

UTC = dt.timezone.utc

INT_MIN = -(2 ** 63)
INT_MAX = 2 ** 63 - 1
NUMBER_MAX = sys.float_info.max
INSTANT_MIN = dt.datetime.min.replace(tzinfo=UTC)
INSTANT_MAX = dt.datetime.max.replace(tzinfo=UTC)
DURATION_MAX = INSTANT_MAX - INSTANT_MIN
DURATION_MAX_SECONDS = DURATION_MAX.total_seconds()
DURATION_MAX_DAYS = DURATION_MAX.days

# Faults of the host arithmetic: Python raises these where a result leaves its
# own ranges (a date before year 1, a timedelta past 999,999,999 days, a float
# that an int cannot hold). TypeError can only come from a program the checker
# should have refused; it is still a fault of the construct, not a traceback.
HOST_FAULTS = (ArithmeticError, ValueError, TypeError)


class RuntimeFault(Exception):
    """A fault inside one expression (division by zero, an overflow…), with the span of that expression."""

    def __init__(self, message: str, span: n.Span, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint


_RANGE_HINT = "keep the value in range: bound it with min, max or clamp, or narrow the fields' declared ranges"


# ---------------------------------------------------------------- messages


def _short(v) -> str:
    text = str(v)
    return text if len(text) <= 24 else f"{text[:10]}…{text[-6:]} ({len(text.lstrip('-'))} digits)"


def int_fault(v, span: n.Span) -> RuntimeFault:
    """The fault of an int result outside 64 bits."""
    return RuntimeFault(f"the int {_short(v)} is outside the supported range "
                        f"-9223372036854775808..9223372036854775807 (64 bits)", span, _RANGE_HINT)


def number_fault(v, span: n.Span) -> RuntimeFault:
    """The fault of a number result that is NaN, infinite or beyond the largest float."""
    if isinstance(v, float) and v != v:
        what = "not a number (NaN: an infinity minus an infinity, or zero times an infinity)"
    else:
        what = "too large for a number (beyond ±1.8e308)"
    return RuntimeFault(f"the result is {what}", span, _RANGE_HINT)


def duration_fault(span: n.Span) -> RuntimeFault:
    """The fault of a duration longer than the supported span of time."""
    return RuntimeFault(f"the duration is longer than the supported range of time "
                        f"(±{DURATION_MAX_DAYS} days, from year 1 to year 9999)", span, _RANGE_HINT)


def instant_fault(span: n.Span) -> RuntimeFault:
    """The fault of a date or datetime outside years 1..9999 (UTC)."""
    return RuntimeFault("the result is a date or time outside the supported range "
                        "0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999Z", span, _RANGE_HINT)


def host_fault(exc: Exception, span: n.Span) -> RuntimeFault:
    """A RuntimeFault with a human message for an exception raised by Python's arithmetic."""
    text = str(exc)
    if isinstance(exc, OverflowError) and "date" in text:
        return instant_fault(span)
    if isinstance(exc, OverflowError) and ("timedelta" in text or "days" in text or "C int" in text):
        return duration_fault(span)
    if isinstance(exc, OverflowError) and ("float" in text or "too large" in text):
        return number_fault(float("inf"), span)
    if isinstance(exc, ArithmeticError) and type(exc).__module__ == "decimal":
        return RuntimeFault("the number cannot be rounded to that many digits", span, _RANGE_HINT)
    return RuntimeFault(f"arithmetic fault ({text or type(exc).__name__})", span)


# ---------------------------------------------------------------- checks


def check_int(v, span: n.Span):
    """``v`` when it is an int of 64 bits (or none); else the fault."""
    if v is None or INT_MIN <= v <= INT_MAX:
        return v
    raise int_fault(v, span)


def check_number(v, span: n.Span):
    """``v`` when it is a finite number (or none): NaN fails both comparisons, inf the range."""
    if v is None or -NUMBER_MAX <= v <= NUMBER_MAX:
        return v
    raise number_fault(v, span)


def check_duration(v, span: n.Span):
    """``v`` when it is no longer than the supported span of time (or none)."""
    if v is None or -DURATION_MAX <= v <= DURATION_MAX:
        return v
    raise duration_fault(span)


def check_any(v, span: n.Span):
    """Check a value whose checked type is not known, by its Python type."""
    t = type(v)
    if t is float:
        return check_number(v, span)
    if t is int:
        return check_int(v, span)
    if t is dt.timedelta:
        return check_duration(v, span)
    return v


def _unchecked(v, span):
    return v


CHECKS = {"int": check_int, "number": check_number, "duration": check_duration}


def check_for(t) -> object:
    """The check of a value of checked type ``t`` (types.Type or None when unknown)."""
    if t is None or t.base == "error":
        return check_any
    return CHECKS.get(t.base, _unchecked)


def as_number(v, span: n.Span):
    """A ``number`` value as a float (a number field may be spelled ``2`` in the data)."""
    if v is None or type(v) is float:
        return v
    try:
        return check_number(float(v), span)
    except OverflowError:
        raise number_fault(float("inf"), span) from None


def award_check(t) -> object:
    """The check of an award of checked type ``t``: a number award is a float whatever the data spelled."""
    return as_number if t is not None and t.base == "number" else check_for(t)


def as_output(v, base: str | None, span: n.Span):
    """A score or measure value in its checked type: int stays int, number becomes a float."""
    if base == "int":
        return check_int(v, span)
    if base == "number":
        return as_number(v, span)
    return check_any(v, span)


def duration(seconds: float, span: n.Span) -> dt.timedelta:
    """A duration of ``seconds``, or the fault when it is longer than the supported span."""
    if not -DURATION_MAX_SECONDS <= seconds <= DURATION_MAX_SECONDS:
        raise duration_fault(span)
    return dt.timedelta(seconds=seconds)


def window_start(now: dt.datetime, seconds: float) -> dt.datetime | None:
    """Where ``within SECONDS`` starts before ``now``; None when it reaches before year 1.

    A window (T − D, T] that starts before the first supported instant covers
    every event, so it is clamped rather than a fault (docs/language.md, "Evaluation").
    """
    if seconds >= (now - INSTANT_MIN).total_seconds():
        return None
    return now - dt.timedelta(seconds=seconds)


def calendar_window_start(now: dt.datetime, months: int, tz: dt.tzinfo) -> dt.datetime | None:
    """Where ``within N months`` (or years, 12 months each) starts before ``now``; None before year 1.

    The start is the same local wall time N calendar months earlier, the day clamped to
    the end of a shorter month (31 March less one month is 28 or 29 February), as Rails'
    ``N.months.ago``. A wall time that a clock change skips or repeats is read with the
    offset in force before the change (zoneinfo's fold=0), so every engine finds one instant.
    """
    shift = dt.timedelta(0)
    if now.year >= 9999:  # the local year may be 10000: work 400 years earlier (same calendar, same rules)
        shift = _CYCLE
    local = (now - shift).astimezone(tz)
    total = local.year * 12 + (local.month - 1) - months
    year, month0 = divmod(total, 12)
    if year < 1:
        return None  # reaches before the first supported instant: covers every event
    day = min(local.day, _month_length(year, month0 + 1))
    wall = local.replace(tzinfo=None, year=year, month=month0 + 1, day=day, fold=0)
    try:
        return wall.replace(tzinfo=tz).astimezone(UTC) + shift
    except OverflowError:  # local midnight of 1 January of year 1, east of UTC: before every instant
        return None


def _month_length(year: int, month: int) -> int:
    import calendar

    return calendar.monthrange(year, month)[1]


# ---------------------------------------------------------------- local time at the edges


# The Gregorian calendar repeats every 400 years to the weekday (146,097 days), and a time
# zone's rules are the same 400 years on at both ends of the range (local mean time before
# the first transition, the zone's recurring rule after the last): an instant whose local time
# falls in year 0 or year 10000 is read 400 years later or earlier and shifted back.
_CYCLE = dt.timedelta(days=146097)


class FarLocal:
    """The local time of an instant near the edge of the range whose local year is 0 or 10000.

    It answers what calendar windows ask of a local datetime (``year``, ``month``,
    ``date()``, ``isocalendar()``); its dates are tuples, which never equal a real date,
    as a day of year 0 or 10000 is no day of years 1..9999.
    """

    __slots__ = ("_local", "_years")

    def __init__(self, local: dt.datetime, years: int):
        self._local = local
        self._years = years

    @property
    def year(self) -> int:
        return self._local.year + self._years

    @property
    def month(self) -> int:
        return self._local.month

    def date(self) -> tuple[int, int, int]:
        return (self.year, self._local.month, self._local.day)

    def isocalendar(self) -> tuple[int, int, int]:
        year, week, day = self._local.isocalendar()
        return (year + self._years, week, day)


def local_time(at: dt.datetime, tz: dt.tzinfo):
    """``at`` in the local time of ``tz``, also where that falls outside years 1..9999."""
    try:
        return at.astimezone(tz)
    except OverflowError:
        return far_local(at, tz)


def far_local(at: dt.datetime, tz: dt.tzinfo) -> FarLocal:
    """The local time of an instant whose local year Python cannot represent."""
    if at.year < 5000:
        return FarLocal((at + _CYCLE).astimezone(tz), -400)
    return FarLocal((at - _CYCLE).astimezone(tz), 400)


# ---------------------------------------------------------------- rounding


def round_half_away(x, digits: int | None = None):
    """Round half away from zero (as spreadsheets do); without digits the result is an int.

    The decimal value as written (the shortest repr) is rounded, so ``round(1.005, 2)``
    is 1.01. Any number of digits is accepted: rounding to more digits than the
    repr has changes nothing, and to fewer whole digits than the value has gives 0.
    """
    if isinstance(x, int) and not isinstance(x, bool) and (digits is None or digits >= 0):
        return x if digits is None else float(x)
    if isinstance(x, float) and x.is_integer() and (digits or 0) >= 0:
        # a whole number (every float from 2**52 on is one) has nothing to round away: no Decimal,
        # which was most of the CSV's time for a score such as `1 + points`
        return int(x) if digits is None else x
    value = Decimal(repr(float(x)) if isinstance(x, float) else x)
    places = digits or 0
    if places >= -value.as_tuple().exponent:
        return int(value) if digits is None else float(x)  # nothing to round away
    if -places > value.adjusted() + 1:
        return 0 if digits is None else 0.0  # every digit is rounded away
    with localcontext() as ctx:
        ctx.prec = max(value.adjusted() + places + 2, 1)
        ctx.traps[InvalidOperation] = True
        rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return int(rounded) if digits is None else float(rounded)

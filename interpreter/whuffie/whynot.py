"""Why not? The parts of a tier's or privilege's condition a subject meets or misses, and the ways up.

Entry point: ``why_not(ruleset, result, target, ...) -> WhyNot``. It reads a
subject's scored result (with its ledger) and the checked ruleset, and never
scores anything itself: each part of the target's condition is compiled by the
reference compiler and evaluated on the values the engine already computed;
the room a cap still leaves is read from the ledger; and the instant a part
changes with no new events is found by scoring the same history again at later
instants (``evaluator.evaluate``), so a `within` window or a decay is seen
exactly as ``score`` would see it.

A condition is split at ``and``/``or`` (a chained comparison into its pairs),
and followed through ``tier >= X`` (the tier's own condition, marked ``via``)
and through named privileges. The ways are the rules whose firing can raise a
short score or measure: a rule whose award can be positive, reached through
``points``, ``points(rule)`` or a score whose value grows with it, plus, for a
measure, the events it counts or sums. A rule that only takes points away is
never a way up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from . import nodes as n
from . import types as ty
from .evaluator import Compiler, Env, EvaluationError, LedgerEntry, RuntimeFault, Scope, SubjectResult, _CompileError
from .symbols import Ruleset

_GROWS = (">", ">=")  # the left side must go up for these to start holding
_SHRINKS = ("<", "<=")


@dataclass(frozen=True)
class Condition:
    """One part of a target's condition, evaluated for the subject."""

    text: str
    holds: bool
    value: object  # the subject's value of the left side (a tier's name for `tier >= X`)
    bound: object  # what it is compared with
    gap: object  # 0 when it holds; how far off (a number), tiers short for `tier >= X`, or None
    via: str | None = None  # the tier or privilege whose condition this part belongs to
    changes: str | None = None  # when it flips with no new events, in words
    changes_at: dt.datetime | None = None


@dataclass(frozen=True)
class Way:
    """A rule (or, for a measure, an event type) whose firing could raise a short score or measure."""

    rule: str | None
    by: str | None  # the rule's author
    raises: tuple[str, ...]  # the short scores and measures it raises
    award: str  # per event, in words: "+2 each", "+0 to +72 each (3 * hours)"
    room: str | None  # what its caps and `once` still allow now, in words
    event: str
    available: bool = True  # False when a cap or `once` leaves no room in the current window
    because: str | None = None  # the rule's reason (for a scorecard's bin: what the bin is)
    # the same in numbers, for renderers that word it themselves (the notice, in its language):
    low: int | float | None = None  # the award per event, or its range; None when not pinned down
    high: int | float | None = None
    instead_of: str | None = None  # a scorecard's bin: the bin the subject is in (low = high = the gain)
    left: int | float | None = None  # what the tightest cap still allows in its window
    window: str | None = None  # that cap's (or `once`'s) window: day | week | month | year | None
    again: dt.date | None = None  # when a cap or `once` with no room opens again


@dataclass(frozen=True)
class WhyNot:
    """Whether a subject reaches a tier or holds a privilege, why not, and how it could."""

    subject: str
    target: str
    kind: str  # tier | privilege
    holds: bool
    tier: str | None  # the subject's tier now
    conditions: tuple[Condition, ...]
    ways: tuple[Way, ...]


class UnknownTarget(Exception):
    """The target names no tier or privilege; ``close`` holds names it may have meant."""

    def __init__(self, target: str, close: list[str]):
        super().__init__(target)
        self.target, self.close = target, close


def target_names(ruleset: Ruleset) -> list[str]:
    """Every name ``--why-not`` accepts: tiers, then privileges."""
    return [*ruleset.tiers, *ruleset.privileges]


def why_not(ruleset: Ruleset, result: SubjectResult, target: str, *, source=None,
            history=None, attrs: dict | None = None, as_of: dt.datetime | None = None) -> WhyNot:
    """Explain what ``result``'s subject lacks for tier or privilege ``target``, and how it could get there.

    ``history`` (the subject's events) and ``as_of`` let it say when a part
    changes with no new events; ``attrs`` are the subject's attributes, for
    conditions that read them; ``source`` gives the text of each part.
    """
    import difflib

    if target not in ruleset.tiers and target not in ruleset.privileges:
        raise UnknownTarget(target, difflib.get_close_matches(target, target_names(ruleset), n=3))
    reader = _Reader(ruleset, result, source, attrs)
    if target in ruleset.tiers:
        kind = "tier"
        holds = reader.tier_rank_now >= ruleset.tier_rank(target)
    else:
        kind = "privilege"
        holds = target in result.privileges
    if as_of is not None:
        reader.set_now(as_of)
    found = reader.target_conditions(target)
    ways = () if holds else _ways(ruleset, result, found, as_of)
    if history is not None and as_of is not None:
        conditions = [_with_change(ruleset, c, node, c.via or target, history, attrs, as_of) for c, node in found]
    else:
        conditions = [c for c, _ in found]
    return WhyNot(result.subject, target, kind, holds, result.tier, tuple(conditions), tuple(ways))


def next_tier_up(ruleset: Ruleset, result: SubjectResult, source=None, attrs: dict | None = None,
                 as_of: dt.datetime | None = None) -> WhyNot | None:
    """The why-not of the tier just above the subject's (None at the top, or without tiers)."""
    names = list(ruleset.tiers)
    if result.tier not in names:
        return None
    above = names.index(result.tier) - 1
    if above < 0:
        return None
    return why_not(ruleset, result, names[above], source=source, attrs=attrs, as_of=as_of)


# ---------------------------------------------------------------- reading conditions


class _Reader:
    """Evaluates parts of conditions on the values a subject's result already holds."""

    def __init__(self, ruleset: Ruleset, result: SubjectResult, source, attrs: dict | None):
        self.rs = ruleset
        self.result = result
        self.source = source
        self.compiler = Compiler(ruleset, ZoneInfo(ruleset.timezone))
        self.tier_rank_now = ruleset.tier_rank(result.tier) if result.tier in ruleset.tiers else 0
        env = Env(dt.datetime.now(dt.timezone.utc))
        env.points = result.points
        env.by_rule = result.points_by_rule
        from .report import typed_measures, typed_scores

        env.measures = typed_measures(result, ruleset)  # in their checked types: an int score shows as 10
        env.scores = typed_scores(result, ruleset)
        env.tier = self.tier_rank_now
        env.privileges = {p: p in result.privileges for p in ruleset.privileges}
        env.subject = result.subject
        env.attrs = attrs or {}
        self.env = env
        self.ranks = {name: ruleset.tier_rank(name) for name in ruleset.tiers}

    def set_now(self, now: dt.datetime) -> None:
        self.env.now = now

    def scope(self, owner: str) -> Scope:
        scores = frozenset(self.rs.scores)
        if owner in self.rs.privileges:
            return Scope("privilege", scores=scores, privileges=frozenset(self.rs.privileges))
        return Scope("tier", scores=scores)

    def value(self, expr: n.Expr, owner: str):
        try:
            return self.compiler.expr(expr, self.scope(owner))(self.env)
        except (RuntimeFault, _CompileError):  # a fault, or a part that reads what its place cannot: no value
            return None

    def text(self, expr: n.Expr) -> str:
        """A part as written in the rule file (a pair cut from a chained comparison: in the canonical layout)."""
        from .formatter import format_expr
        from .report import source_of

        written = source_of(expr.span, self.source) if self.source is not None and expr.span.line else None
        if written is not None and (not isinstance(expr, n.Compare) or len(expr.ops) == 1) \
                and id(expr) in self.rs.types:  # a node of the file itself, not one cut from a chain
            return written
        return format_expr(expr)

    def target_conditions(self, target: str) -> list[tuple[Condition, n.Expr]]:
        decl = self.rs.tiers.get(target) or self.rs.privileges.get(target)
        if decl.condition is None:  # `otherwise`: nothing to meet
            return []
        out: list[tuple[Condition, n.Expr]] = []
        self._parts(decl.condition, target, None, out, {target})
        return out

    def _parts(self, cond: n.Expr, owner: str, via: str | None, out: list, seen: set) -> None:
        if isinstance(cond, n.Binary) and cond.op in ("and", "or"):
            self._parts(cond.left, owner, via, out, seen)
            self._parts(cond.right, owner, via, out, seen)
            return
        if isinstance(cond, n.Compare):
            for i, op in enumerate(cond.ops):
                pair = cond if len(cond.ops) == 1 else n.Compare((cond.operands[i], cond.operands[i + 1]), (op,),
                                                                span=cond.span)
                out.append((self._comparison(pair, owner, via), pair))
                self._through_tier(pair, owner, out, seen)
            return
        if isinstance(cond, n.Name) and cond.id in self.rs.privileges and owner in self.rs.privileges \
                and cond.id not in seen:
            held = cond.id in self.result.privileges
            out.append((Condition(cond.id, held, held, True, 0 if held else None, via), cond))
            decl = self.rs.privileges[cond.id]
            self._parts(decl.condition, cond.id, cond.id, out, seen | {cond.id})
            return
        held = bool(self.value(cond, owner))
        out.append((Condition(self.text(cond), held, held, True, 0 if held else None, via), cond))

    def _comparison(self, pair: n.Compare, owner: str, via: str | None) -> Condition:
        left, right = pair.operands
        op = pair.ops[0]
        holds = bool(self.value(pair, owner))
        tier_side = self._tier_comparison(pair)
        if tier_side is not None:
            wanted, flipped = tier_side
            now = self.result.tier
            gap = 0 if holds else self._tier_gap(op if not flipped else ty.FLIPPED[op], wanted)
            return Condition(self.text(pair), holds, now, wanted, gap, via)
        if _constant(left) is not None and _constant(right) is None:  # `50 <= standing`: the value is on the right
            left, right, op = right, left, ty.FLIPPED[op]
        value, bound = self.value(left, owner), self.value(right, owner)
        return Condition(self.text(pair), holds, value, bound, 0 if holds else _gap(op, value, bound), via)

    def _tier_comparison(self, pair: n.Compare):
        """(the tier compared with, whether `tier` is on the right) for `tier OP X` in a privilege, else None."""
        left, right = pair.operands
        if isinstance(left, n.Name) and left.id == "tier" and isinstance(right, n.Name) and right.id in self.ranks:
            return right.id, False
        if isinstance(right, n.Name) and right.id == "tier" and isinstance(left, n.Name) and left.id in self.ranks:
            return left.id, True
        return None

    def _tier_gap(self, op: str, wanted: str):
        need = self.ranks[wanted] + (1 if op == ">" else 0)
        if op in _GROWS:
            return max(need - self.tier_rank_now, 0)
        return None

    def _through_tier(self, pair: n.Compare, owner: str, out: list, seen: set) -> None:
        found = self._tier_comparison(pair)
        if found is None:
            return
        wanted = found[0]
        decl = self.rs.tiers[wanted]
        if decl.condition is not None and wanted not in seen:
            self._parts(decl.condition, wanted, wanted, out, seen | {wanted})


def _constant(e: n.Expr):
    from .checkbase import constant

    return constant(e)


def _gap(op: str, value, bound):
    """How far ``value`` is from making ``value op bound`` hold (numbers only; None otherwise)."""
    if not _is_number(value) or not _is_number(bound):
        return None
    if op in _GROWS:
        return max(bound - value, 0)
    if op in _SHRINKS:
        return max(value - bound, 0)
    if op == "==":
        return abs(value - bound)
    return None


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


# ---------------------------------------------------------------- the ways up


def _ways(ruleset: Ruleset, result: SubjectResult, found: list, as_of: dt.datetime | None) -> list[Way]:
    """The rules and events that could raise what the failing parts need raised, in declaration order."""
    need = _Needs(ruleset)
    for cond, node in found:
        if cond.holds or not isinstance(node, n.Compare):
            continue
        left, right = node.operands
        op = node.ops[0]
        if _constant(left) is not None and _constant(right) is None:
            left, right, op = right, left, ty.FLIPPED[op]
        if op in _GROWS or (op == "==" and _is_number(cond.value) and _is_number(cond.bound)
                            and cond.value < cond.bound):
            need.up(left, +1, None)
    from .plan import lower

    plan = lower(ruleset)
    from .reasons import factor_bins

    bins = factor_bins(ruleset)
    current = {bins[e.rule][0]: e.rule for e in result.ledger if e.rule in bins}  # factor -> the bin it is in
    ways = []
    for rule in plan.rules:
        names = need.rules.get(rule.name)
        if names is None:
            continue
        if rule.name in bins and bins[rule.name][0] in current:
            # a scorecard's bin: the way up is moving to a better bin of the same factor, by the difference
            factor, awards = bins[rule.name]
            now = current[factor]
            gain = awards[rule.name] - awards[now]
            if gain > 0:
                ways.append(Way(rule.name, rule.author, tuple(names),
                                f"{_num(gain)} instead of {now} ({_num(awards[now])}) in factor {factor}",
                                None, rule.event, True, rule.because, gain, gain, now))
            continue
        interval = _award_interval(ruleset, rule)
        if interval is not None and interval.high <= 0:
            continue  # only takes points away: never a way up
        room, available, tight = _room(ruleset, rule, result, as_of)
        bounded = interval is not None and interval.bounded
        ways.append(Way(rule.name, rule.author, tuple(names), _award_text(rule, interval),
                        room, rule.event, available, rule.because,
                        interval.low if bounded else None, interval.high if bounded else None, None, *tight))
    for m in plan.measures:
        names = need.measures.get(m.name)
        if names is None or m.kind in ("min", "avg"):
            continue
        ways.append(Way(None, None, tuple(names), _measure_award(ruleset, m), _measure_room(m), m.event))
    return ways


class _Needs:
    """Which rules and measures would raise a short value, found by following names with their direction."""

    def __init__(self, ruleset: Ruleset):
        self.rs = ruleset
        self.rules: dict[str, list[str]] = {}
        self.measures: dict[str, list[str]] = {}

    def _mark(self, table: dict, key: str, label: str) -> None:
        labels = table.setdefault(key, [])
        if label not in labels:
            labels.append(label)

    def up(self, e: n.Expr, sign: int, label: str | None, seen: frozenset = frozenset()) -> None:
        """Record what raises ``e`` (``sign`` +1) or lowers it (-1); 0 when the direction is unknown."""
        if sign < 0:
            return  # lowering a value is never offered: only rules that give points are ways
        if isinstance(e, n.Name):
            if e.id == "points":
                for rule in self.rs.rules:
                    self._mark(self.rules, rule, label or "points")
            elif e.id in self.rs.measures:
                self._mark(self.measures, e.id, label or e.id)
            elif e.id in self.rs.scores and e.id not in seen:
                self.up(self.rs.scores[e.id].expr, sign, label or e.id, seen | {e.id})
            return
        if isinstance(e, n.Call) and e.func == "points" and e.func not in self.rs.defs and len(e.args) == 1 \
                and isinstance(e.args[0], n.Name) and e.args[0].id in self.rs.rules:
            self._mark(self.rules, e.args[0].id, label or f"points({e.args[0].id})")
            return
        for child, child_sign in _signed_children(e, sign):
            self.up(child, child_sign, label, seen)


def _signed_children(e: n.Expr, sign: int) -> list[tuple[n.Expr, int]]:
    """The operands of ``e`` with the direction each moves ``e`` in (0: unknown, so not followed as a way)."""
    if isinstance(e, n.Binary) and e.op == "+":
        return [(e.left, sign), (e.right, sign)]
    if isinstance(e, n.Binary) and e.op == "-":
        return [(e.left, sign), (e.right, -sign)]
    if isinstance(e, n.Binary) and e.op in ("*", "/"):
        factor = _constant(e.right) if e.op == "/" or _constant(e.right) is not None else _constant(e.left)
        other = e.left if _constant(e.right) is not None else e.right
        if _is_number(factor) and factor != 0 and (e.op == "*" or other is e.left):
            return [(other, sign if factor > 0 else -sign)]
        return []
    if isinstance(e, n.Unary) and e.op == "-":
        return [(e.operand, -sign)]
    if isinstance(e, n.Call) and e.func in ("min", "max", "clamp", "round", "floor", "ceil", "sqrt", "log", "exp"):
        return [(a, sign) for a in e.args[:1]] + ([(a, sign) for a in e.args[1:]] if e.func in ("min", "max") else [])
    if isinstance(e, n.Coalesce):
        return [(e.left, sign), (e.right, sign)]
    if isinstance(e, n.If):
        return [(e.then, sign), (e.orelse, sign)]
    return []


def _award_interval(ruleset: Ruleset, rule) -> ty.Interval | None:
    """The award's range from the event's declared field ranges (None when they do not pin it down)."""
    fields = {f.name: f for f in ruleset.events[rule.event].fields} if rule.event in ruleset.events else {}
    return _interval(rule.award, fields, ruleset)


def _interval(e: n.Expr, fields: dict, ruleset: Ruleset) -> ty.Interval | None:
    c = _constant(e)
    if _is_number(c):
        return ty.point(c)
    if isinstance(e, n.Name) and e.id in fields and fields[e.id].range is not None:
        return ty.closed(fields[e.id].range.low, fields[e.id].range.high)
    if isinstance(e, n.Attribute) and isinstance(e.obj, n.Name) and e.obj.id == "event" and e.name in fields \
            and fields[e.name].range is not None:
        return ty.closed(fields[e.name].range.low, fields[e.name].range.high)
    if isinstance(e, n.Binary) and e.op in ("+", "-", "*"):
        a, b = _interval(e.left, fields, ruleset), _interval(e.right, fields, ruleset)
        return None if a is None or b is None else ty.arithmetic(e.op, a, b)
    if isinstance(e, n.Unary) and e.op == "-":
        inner = _interval(e.operand, fields, ruleset)
        return None if inner is None else ty.closed(-inner.high, -inner.low)
    if isinstance(e, n.Call) and e.func in ("min", "max") and e.func not in ruleset.defs and e.args:
        parts = [_interval(a, fields, ruleset) for a in e.args]
        if any(p is None for p in parts):
            return None
        pick = min if e.func == "min" else max
        return ty.closed(pick(p.low for p in parts), pick(p.high for p in parts))
    return None


def _num(x) -> str:
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return f"+{x}" if x > 0 else str(x)



def _award_text(rule, interval: ty.Interval | None) -> str:
    from .formatter import format_expr

    text = format_expr(rule.award)
    if interval is not None and interval.low == interval.high:
        shown = f"{_num(interval.low)} each"
    elif interval is not None and interval.bounded:
        shown = f"{_num(interval.low)} to {_num(interval.high)} each ({text})"
    else:
        shown = f"{text} each"
    if rule.half_life is not None:
        shown += f", halving every {_duration_words(rule.half_life)}"
    return shown


def _duration_words(seconds: float) -> str:
    days = seconds / 86400
    if days.is_integer():
        return f"{int(days)} day{'s' * (days != 1)}"
    return f"{seconds:g} seconds"


def _measure_award(ruleset: Ruleset, m) -> str:
    what = {"count": "+1 each", "count_days": "+1 for each new day",
            "count_distinct": "+1 for each new day", "max": "a larger value"}.get(m.kind)
    if m.kind == "sum":
        field = next((f for f in ruleset.events[m.event].fields if f.name == m.field), None)
        rng = f" (declared {ty.closed(field.range.low, field.range.high)})" if field and field.range else ""
        what = f"+{m.field} each{rng}"
    elif m.kind == "max":
        what = f"a larger {m.field}"
    return f"{m.event} events: {what}"


def _measure_room(m) -> str | None:
    if m.within is None:
        return None
    return f"counts only the last {_duration_words(m.within)}"


# ---------------------------------------------------------------- room left in caps and `once`


def window_start(local: dt.datetime, window: str) -> dt.datetime:
    """The first instant (local) of the calendar window ``local`` falls in."""
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if window == "day":
        return day
    if window == "week":
        return day - dt.timedelta(days=local.weekday())
    if window == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def next_window(local: dt.datetime, window: str) -> dt.date:
    """The first day of the calendar window after the one ``local`` falls in."""
    start = window_start(local, window).date()
    if window == "day":
        return start + dt.timedelta(days=1)
    if window == "week":
        return start + dt.timedelta(days=7)
    if window == "month":
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start.replace(year=start.year + 1)


_WINDOW_WORDS = {"day": "today", "week": "this week", "month": "this month", "year": "this year", None: "in all"}


def _room(ruleset: Ruleset, rule, result: SubjectResult, as_of: dt.datetime | None):
    """What the rule's `once` and caps still let through in the current window, read from the ledger.

    Returns (the room in words or None, whether any is left, (left, window, again) of the tightest step).
    """
    if as_of is None:
        return None, True, (None, None, None)
    local_now = as_of.astimezone(ZoneInfo(ruleset.timezone))
    parts: list[str] = []
    available = True
    tight: tuple = (None, None, None)
    if rule.once is not None:
        window = None if rule.once == "total" else rule.once
        fired = [e for e in result.ledger if e.rule == rule.name and _same_window(e, local_now, window, ruleset)]
        if fired:
            available = False
            tight = (0, window, next_window(local_now, window) if window else None)
            again = f"; again from {next_window(local_now, window).isoformat()}" if window else ""
            parts.append(f"already awarded {_WINDOW_WORDS[window]} ({rule.once_label}){again}")
    members = {step.bucket: _bucket_rules(ruleset, step, rule.name) for step in rule.caps}
    passed: list[str] = [rule.once_label] if rule.once_label else []
    for step in rule.caps:
        passed.append(step.label)
        used = sum(_after(e, passed) for e in result.ledger
                   if e.rule in members[step.bucket] and _same_window(e, local_now, step.window, ruleset))
        left = step.amount - used
        if tight[0] is None or max(left, 0) < tight[0]:
            tight = (max(left, 0), step.window,
                     next_window(local_now, step.window) if step.window and left <= 0 else None)
        if left > 0:
            parts.append(f"{_plain(left)} left {_WINDOW_WORDS[step.window]} ({step.label})")
        else:
            available = False
            again = f"; room again from {next_window(local_now, step.window).isoformat()}" if step.window else ""
            parts.append(f"no room left {_WINDOW_WORDS[step.window]} ({step.label}){again}")
    return ("; ".join(parts) if parts else None), available, tight


def _bucket_rules(ruleset: Ruleset, step, rule_name: str) -> set[str]:
    if step.shared is None:
        return {rule_name}
    return {r.name for r in ruleset.shared_caps[step.shared].rules}


def _after(entry: LedgerEntry, passed: list[str]) -> float:
    """An entry's award after the steps in ``passed`` (the running sum a cap keeps counts this)."""
    return entry.raw - sum(c.amount for c in entry.cuts if c.by in passed)


def _same_window(entry: LedgerEntry, local_now: dt.datetime, window: str | None, ruleset: Ruleset) -> bool:
    if window is None:
        return True
    local = entry.at.astimezone(local_now.tzinfo)
    return window_start(local, window) == window_start(local_now, window)


def _plain(x) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return f"{x:g}" if isinstance(x, float) else str(x)


# ---------------------------------------------------------------- when a part changes with no new events


HORIZON_HALF_LIVES = 20  # a decayed award is below 1e-6 of itself by then


def _with_change(ruleset: Ruleset, cond: Condition, node: n.Expr, owner: str, history, attrs,
                 as_of: dt.datetime) -> Condition:
    """``cond`` with the instant it flips if no new event comes (a `within` window or a decay moves it)."""
    windows, half_lives = _time_dependence(ruleset, node)
    if not windows and not half_lives:
        return cond
    events = [e for e in history if e.at <= as_of]
    subject = events[0].subject if events else None
    if subject is None:
        return cond

    def holds_at(t: dt.datetime) -> bool:
        from .evaluator import evaluate

        scored = evaluate(ruleset, events, {subject: attrs} if attrs else None, t, only=subject)
        reader = _Reader(ruleset, scored.subjects[0], None, attrs)
        reader.set_now(t)
        return bool(reader.value(node, owner))

    # the instants a `within` window lets an event go: only then can such a value change
    candidates = sorted({e.at + dt.timedelta(seconds=w, microseconds=1) for e in events for w in windows
                         if e.at + dt.timedelta(seconds=w) >= as_of})
    try:
        flip = _first_flip(candidates, holds_at, cond.holds)
        if flip is None and half_lives:
            flip = _decay_flip(as_of, half_lives, holds_at, cond.holds)
    except EvaluationError:  # a fault at a later instant: say nothing about when
        return cond
    if flip is None:
        return cond
    from .report import iso

    flip = (flip + dt.timedelta(seconds=1)).replace(microsecond=0) if flip.microsecond else flip
    words = f"stops holding at {iso(flip)} with no new events" if cond.holds \
        else f"holds from {iso(flip)} with no new events"
    return Condition(cond.text, cond.holds, cond.value, cond.bound, cond.gap, cond.via, words, flip)


LINEAR_SEARCH = 32  # candidate instants tried one by one; past this, by bisection


def _first_flip(candidates: list[dt.datetime], holds_at, now: bool) -> dt.datetime | None:
    """The first candidate instant at which the part no longer holds as it does now.

    With no new events a count or sum over a window only loses events, so the
    part flips at most once; many candidates are searched by bisection on that.
    """
    if len(candidates) <= LINEAR_SEARCH:
        return next((t for t in candidates if holds_at(t) != now), None)
    if holds_at(candidates[-1]) == now:
        return None
    low, high = 0, len(candidates) - 1  # candidates[high] flips
    while low < high:
        mid = (low + high) // 2
        if holds_at(candidates[mid]) != now:
            high = mid
        else:
            low = mid + 1
    return candidates[high]


def _decay_flip(as_of: dt.datetime, half_lives: set[float], holds_at, now: bool) -> dt.datetime | None:
    """When decaying points carry the part across its bound, to the minute (None within the horizon)."""
    end = as_of + dt.timedelta(seconds=HORIZON_HALF_LIVES * max(half_lives))
    if end.year >= 9999 or holds_at(end) == now:
        return None
    low, high = as_of, end
    while high - low > dt.timedelta(minutes=1):
        mid = low + (high - low) / 2
        if holds_at(mid) != now:
            high = mid
        else:
            low = mid
    return high


def _time_dependence(ruleset: Ruleset, node: n.Expr) -> tuple[set[float], set[float]]:
    """The `within` windows (seconds) and decay half-lives that the value of ``node`` depends on."""
    windows: set[float] = set()
    half_lives: set[float] = set()
    stack, seen = [node], set()
    while stack:
        e = stack.pop()
        if isinstance(e, n.Name):
            if e.id in ruleset.measures:
                within = ruleset.measures[e.id].first(n.Within)
                if within is not None:
                    windows.add(within.duration.seconds())
            elif e.id in ruleset.scores and e.id not in seen:
                seen.add(e.id)
                stack.append(ruleset.scores[e.id].expr)
            elif e.id == "points":
                half_lives |= {d.half_life.seconds() for r in ruleset.rules.values() for d in r.clauses_of(n.Decay)}
        elif isinstance(e, n.Call) and e.func == "points" and e.args and isinstance(e.args[0], n.Name) \
                and e.args[0].id in ruleset.rules:
            half_lives |= {d.half_life.seconds() for d in ruleset.rules[e.args[0].id].clauses_of(n.Decay)}
            continue
        stack.extend(n.children(e))
    return windows, half_lives

"""Tiers with memory: a subject's tier as a state along its timeline, and the history of its changes.

Entry points: ``compile_tiers(compiler, ruleset, scores)`` (once per run) and
``tier_over_time(program, sid, events, attrs, now, final_env)`` (once per
subject), both called by the reference evaluator when some tier has `keep` or
`hold`. The semantics (docs/language.md, "Tiers with memory"):

* The tier is re-decided at every evaluation point of the subject, in time
  order: every distinct instant of its events (all events of one instant
  first), every local midnight in the ruleset's time zone after its first
  event, and the as-of instant T. At a point t everything a tier reads
  (points, measures, scores, conditions, `now`) is what it is as of t.
* A tier *qualifies* at t when its `when` holds; or, when it qualified at the
  point before (it is *held*): with `keep`, always; with `keep while C`, when
  C holds; with `hold D`, when t is less than D after the point where its
  current run of qualifying began. `otherwise` always qualifies.
* The tier at t is the first tier in declaration order that qualifies. Every
  tier's held state is updated at every point, whichever tier is chosen, so a
  tier kept below a higher one (`tier member … keep`) is there when the higher
  one is lost.

Everything is computed by the reference evaluator itself (one memoryless
evaluation of the subject per point), so the meaning of every other construct
is the same as at T.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass

from . import nodes as n
from .symbols import Ruleset
from .values import HOST_FAULTS, RuntimeFault, host_fault


@dataclass(frozen=True)
class TierRule:
    """One tier, compiled: its closures and its memory."""

    name: str
    rank: int
    when: object | None  # None for `otherwise`
    keep: bool  # `keep` or `keep while`
    keep_while: object | None
    hold: float | None  # seconds
    hold_text: str | None  # "hold 14 days", as written
    decl: n.TierDecl


@dataclass(frozen=True)
class TierChange:
    """One entry of a tier history: the tier changed, or was held by `hold` where it would have been lost."""

    at: dt.datetime
    from_tier: str | None
    to_tier: str | None
    reason: str  # when | keep | keep while | hold 14 days | otherwise | no tier
    held: bool = False  # True: not a change; ``to_tier`` would have been lost at ``at`` but `hold` kept it


def compile_tiers(compiler, rs: Ruleset, scores: frozenset) -> list[TierRule] | None:
    """The tiers as TierRules when some tier has memory, else None (the memoryless path stays as it is)."""
    from .evaluator import Scope

    if not any(n.has_memory(t) for t in rs.tiers.values()):
        return None
    out = []
    for decl in rs.tiers.values():
        scope = Scope("tier", scores=scores)
        keep = decl.first(n.Keep)
        hold = decl.first(n.Hold)
        out.append(TierRule(
            decl.name, rs.tier_rank(decl.name),
            compiler.expr(decl.condition, scope) if decl.condition is not None else None,
            keep is not None,
            compiler.expr(keep.cond, scope) if keep is not None and keep.cond is not None else None,
            hold.duration.seconds() if hold else None,
            f"hold {_duration_text(hold.duration)}" if hold else None, decl))
    return out


def _duration_text(d: n.Duration) -> str:
    from .formatter import format_duration

    return format_duration(d)


def evaluation_points(events: list, now: dt.datetime, tz: dt.tzinfo) -> list[tuple[dt.datetime, int]]:
    """Each point in time order with the number of events at or before it (events sorted by time)."""
    instants = {e.at for e in events}
    if events:
        try:
            day = events[0].at.astimezone(tz).date() + dt.timedelta(days=1)
            last = now.astimezone(tz).date()
        except OverflowError:  # a local date in year 0 or 10000: no midnight of it is an instant we keep
            day, last = dt.date.max, dt.date.min
        while day <= last:
            try:
                midnight = dt.datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(dt.timezone.utc)
            except OverflowError:
                break
            if midnight <= now:
                instants.add(midnight)
            if day == dt.date.max:
                break
            day += dt.timedelta(days=1)
    instants.add(now)
    ats = [e.at for e in events]
    return [(t, bisect.bisect_right(ats, t)) for t in sorted(i for i in instants if i <= now)]


def tier_over_time(p, sid: str, events: list, attrs: dict, now: dt.datetime, final_env):
    """The tier at ``now`` (name, rank) and the history of changes, each point evaluated by the reference."""
    from .evaluator import _evaluate_subject

    def result_at(prefix: list, t: dt.datetime):
        return _evaluate_subject(p, sid, prefix, attrs, t, False, timeline=False)
    return decide(p.memory, p.tz, sid, events, attrs, now, result_at, final_env)


def with_memory(p, result, sid: str, events: list, attrs: dict, now: dt.datetime, result_at):
    """A memoryless SubjectResult (another engine's) with the tier, privileges and history of the timeline.

    ``result_at(events_prefix, t)`` is that engine's memoryless result as of t; the tiers'
    and privileges' conditions are the reference's closures of ``p``.
    """
    import dataclasses

    from .evaluator import privileges_of

    env = env_of(result, sid, attrs, now)
    name, rank, log = decide(p.memory, p.tz, sid, events, attrs, now, result_at, env)
    env.tier = rank
    privileges = privileges_of(p, env, sid)
    return dataclasses.replace(result, tier=name, privileges=[k for k, v in privileges.items() if v], tier_log=log)


def env_of(result, sid: str, attrs: dict, t: dt.datetime):
    """What a tier condition reads, from a memoryless result as of t."""
    from .evaluator import Env

    env = Env(t)
    env.subject, env.attrs, env.points, env.by_rule = sid, attrs, result.points, result.points_by_rule
    env.measures, env.scores = result.measures, result.scores
    return env


def decide(rules: list[TierRule], tz, sid: str, events: list, attrs: dict, now: dt.datetime, result_at,
           final_env) -> tuple[str | None, int, list[TierChange]]:
    """Walk the evaluation points in time order; the tier at ``now``, its rank, and the history."""
    held_since: dict[str, dt.datetime | None] = {t.name: None for t in rules}
    log: list[TierChange] = []
    current: str | None = None
    current_rank = 0
    holding = False
    for t, count in evaluation_points(events, now, tz):
        if t == now and count == len(events):
            env = final_env
        else:
            env = env_of(result_at(events[:count], t), sid, attrs, t)
        chosen: TierRule | None = None
        reason = "no tier"
        for rule in rules:
            ok, why = _qualifies(rule, env, t, held_since[rule.name], sid)
            if ok and held_since[rule.name] is None:
                held_since[rule.name] = t
            elif not ok:
                held_since[rule.name] = None
            if ok and chosen is None:
                chosen, reason = rule, why
        name = chosen.name if chosen else None
        by_hold = chosen is not None and reason == chosen.hold_text
        if name != current:
            log.append(TierChange(t, current, name, reason))
            current, current_rank = name, (chosen.rank if chosen else 0)
        elif by_hold and not holding:  # the first point of a hold: it would have been lost here
            log.append(TierChange(t, name, name, reason, held=True))
        holding = by_hold
    return current, current_rank, log


def _qualifies(rule: TierRule, env, t: dt.datetime, since: dt.datetime | None, sid: str) -> tuple[bool, str]:
    if rule.when is None:
        return True, "otherwise"
    try:
        if rule.when(env):
            return True, "when"
        if since is None:
            return False, ""
        if rule.keep and rule.keep_while is None:
            return True, "keep"
        if rule.keep_while is not None and rule.keep_while(env):
            return True, "keep while"
    except RuntimeFault as exc:
        raise _tier_fault(exc, rule, sid) from None
    except HOST_FAULTS as exc:
        raise _tier_fault(host_fault(exc, rule.decl.span), rule, sid) from None
    if rule.hold is not None and (t - since).total_seconds() < rule.hold:
        return True, rule.hold_text
    return False, ""


def _tier_fault(exc: RuntimeFault, rule: TierRule, sid: str):
    from .evaluator import _fault

    return _fault(exc, f"tier {rule.name}", rule.decl.by, None, sid)

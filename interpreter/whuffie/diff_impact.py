"""The impact of a rule change: both versions scored on the same events at the same instant.

Entry point: ``impact_of(old_ruleset, new_ruleset, changes, old_events, new_events, subjects, as_of)``.
Both sides go through ``engines.evaluate``, the path `score` takes, so the
old and new records here are exactly what `score` prints for each version.

Points moved are attributed through the ledger totals of each rule
(``points(rule)``): a rule's move is the sum over subjects of its new total
minus its old one. Every point of ``points`` belongs to one rule, so the
moves add up to the change in ``points`` over all subjects; a rule that did
not change can still move (a shared cap it shares with a changed rule, a
removed event type), and is listed as unchanged rather than hidden.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .evaluator import Results, SubjectResult
from .inputs import Event
from .symbols import Ruleset

LARGEST_MOVERS = 5  # subjects listed among the largest movers up, and again down


@dataclass(frozen=True)
class SubjectMove:
    """One subject whose scores, tier or privileges differ; None on a side that has no such subject."""

    subject: str
    old: SubjectResult | None
    new: SubjectResult | None


@dataclass(frozen=True)
class RulePoints:
    """A rule's points moved over all subjects, with its author on the deciding side and its change."""

    rule: str
    by: str | None
    points: int | float
    change: str  # added | removed | changed | unchanged


@dataclass(frozen=True)
class PrivilegeMove:
    privilege: str
    gained: int
    lost: int


@dataclass(frozen=True)
class Impact:
    """What the change does to the subjects of one history at one instant."""

    as_of: dt.datetime
    old_ruleset: Ruleset
    new_ruleset: Ruleset
    old_results: Results
    new_results: Results
    movers: tuple[SubjectMove, ...]
    subjects: int
    tier_changes: tuple[tuple[str | None, str | None, int], ...]  # (from, to, subjects), most frequent first
    privileges: tuple[PrivilegeMove, ...]
    lead_score: str | None  # the score the largest movers are ranked by (the first one both versions have)
    largest_up: tuple[tuple[str, int | float], ...]
    largest_down: tuple[tuple[str, int | float], ...]
    by_rule: tuple[RulePoints, ...]
    by_author: tuple[tuple[str | None, int | float], ...]
    old_points: int | float
    new_points: int | float

    @property
    def points_moved(self) -> int | float:
        """The change in ``points`` summed over every subject."""
        return self.new_points - self.old_points


def _moved(old: SubjectResult | None, new: SubjectResult | None, common_scores: list[str]) -> bool:
    """Whether a subject moves: a score both versions have, its tier or its privileges differ."""
    if old is None or new is None:
        return True
    return (old.tier != new.tier or sorted(old.privileges) != sorted(new.privileges)
            or any(old.scores.get(s) != new.scores.get(s) for s in common_scores))


def _rule_status(name: str, old_rs: Ruleset, new_rs: Ruleset, changed: set[str]) -> str:
    if name not in old_rs.rules:
        return "added"
    if name not in new_rs.rules:
        return "removed"
    return "changed" if name in changed else "unchanged"


def impact_of(old_rs: Ruleset, new_rs: Ruleset, changes, old_events: list[Event], new_events: list[Event],
              subjects: tuple, as_of: dt.datetime, engine: str = "auto", notes=None) -> Impact:
    """Score both versions at ``as_of`` and compare them subject by subject and rule by rule."""
    from . import engines

    old_results = engines.evaluate(engine, old_rs, old_events, subjects[0], as_of, ledger=False, notes=notes)
    new_results = engines.evaluate(engine, new_rs, new_events, subjects[1], as_of, ledger=False, notes=notes)
    before = {r.subject: r for r in old_results.subjects}
    after = {r.subject: r for r in new_results.subjects}
    ids = sorted(set(before) | set(after))
    common_scores = [s for s in new_rs.scores if s in old_rs.scores]
    movers = tuple(SubjectMove(s, before.get(s), after.get(s)) for s in ids
                   if _moved(before.get(s), after.get(s), common_scores))

    tiers: dict[tuple, int] = {}
    privileges = {p: [0, 0] for p in [*new_rs.privileges, *(p for p in old_rs.privileges if p not in new_rs.privileges)]}
    for m in movers:
        old_tier = m.old.tier if m.old else None
        new_tier = m.new.tier if m.new else None
        if old_tier != new_tier:
            tiers[(old_tier, new_tier)] = tiers.get((old_tier, new_tier), 0) + 1
        had = set(m.old.privileges) if m.old else set()
        has = set(m.new.privileges) if m.new else set()
        for p in has - had:
            privileges[p][0] += 1
        for p in had - has:
            privileges[p][1] += 1

    lead = common_scores[0] if common_scores else None
    deltas = []
    if lead is not None:
        for m in movers:
            if m.old is not None and m.new is not None:
                a, b = m.old.scores.get(lead), m.new.scores.get(lead)
                if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a != b:
                    deltas.append((m.subject, b - a))
    up = sorted((d for d in deltas if d[1] > 0), key=lambda d: (-d[1], d[0]))[:LARGEST_MOVERS]
    down = sorted((d for d in deltas if d[1] < 0), key=lambda d: (d[1], d[0]))[:LARGEST_MOVERS]

    changed_rules = {c.name for c in changes if c.kind == "rule" and c.change == "changed"}
    rule_names = [*new_rs.rules, *(r for r in old_rs.rules if r not in new_rs.rules)]
    by_rule = []
    for name in rule_names:
        moved = sum(after[s].points_by_rule.get(name, 0) for s in after) - \
            sum(before[s].points_by_rule.get(name, 0) for s in before)
        status = _rule_status(name, old_rs, new_rs, changed_rules)
        if moved != 0 or status != "unchanged":
            decl = new_rs.rules.get(name) or old_rs.rules[name]
            by_rule.append(RulePoints(name, decl.by, moved, status))
    by_author: dict[str | None, int | float] = {}
    for r in by_rule:
        by_author[r.by] = by_author.get(r.by, 0) + r.points

    return Impact(
        as_of=as_of, old_ruleset=old_rs, new_ruleset=new_rs, old_results=old_results, new_results=new_results, movers=movers, subjects=len(ids),
        tier_changes=tuple((a, b, k) for (a, b), k in sorted(tiers.items(), key=lambda t: (-t[1], str(t[0])))),
        privileges=tuple(PrivilegeMove(p, g, lost) for p, (g, lost) in privileges.items()),
        lead_score=lead, largest_up=tuple(up), largest_down=tuple(down), by_rule=tuple(by_rule),
        by_author=tuple(sorted(by_author.items(), key=lambda a: (-abs(a[1]), str(a[0])))),
        old_points=sum(r.points for r in old_results.subjects),
        new_points=sum(r.points for r in new_results.subjects))

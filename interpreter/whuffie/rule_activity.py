"""How much each rule does on a history: its firings, the subjects it reached, the points it moved.

Entry point: ``rule_activity(ruleset, results)`` over results scored with
their ledger. A firing is one ledger entry (one rule on one event), whatever
caps later cut from it; a rule's points are its ledger total
(``points_by_rule``), so the points of all rules add up to the points of all
subjects. A rule with no firing at all is *dead* on these events: either the
events it waits for never came, or its condition never held.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import nodes as n
from .evaluator import Results
from .symbols import Ruleset


@dataclass(frozen=True)
class RuleActivity:
    """One rule over every subject of a run."""

    rule: str
    by: str | None
    because: str | None
    event: str  # the event type it listens to
    firings: int
    subjects: int  # subjects it fired for at least once
    points: int | float  # its ledger total over every subject (after caps and decay)

    @property
    def dead(self) -> bool:
        return self.firings == 0


def rule_activity(ruleset: Ruleset, results: Results) -> list[RuleActivity]:
    """Every declared rule, the largest mover of points first (by size), then by name; dead rules last."""
    firings = {name: 0 for name in ruleset.rules}
    reached: dict[str, set[str]] = {name: set() for name in ruleset.rules}
    points = {name: 0 for name in ruleset.rules}
    for subject in results.subjects:
        for entry in subject.ledger:
            if entry.rule in firings:
                firings[entry.rule] += 1
                reached[entry.rule].add(subject.subject)
        for rule, total in subject.points_by_rule.items():
            if rule in points:
                points[rule] += total
    out = [RuleActivity(name, decl.by, decl.because, _event_of(decl), firings[name], len(reached[name]), points[name])
           for name, decl in ruleset.rules.items()]
    out.sort(key=lambda a: (a.dead, -abs(a.points), -a.firings, a.rule))
    return out


def _event_of(decl) -> str:
    on = decl.first(n.On)
    return on.event.name if on is not None else ""

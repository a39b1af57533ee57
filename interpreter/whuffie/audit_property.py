"""The ``four fifths over KIND.ATTR for NAME`` property, checked on given events with the group audit.

Entry points: ``check_four_fifths(ruleset, decl, results, subjects)`` -> ``FourFifthsOutcome``
and ``render_four_fifths(outcome)``. Unlike the other properties this one is
not a law over generated histories (a generator decides who is in which
group, so any rate could be produced): it is a statement about the
community's own members and events, given to ``whuffie test --events F
--subjects F``. It fails when any group's impact ratio for the privilege (or
for reaching the tier) is below four fifths, small groups included: their
flag is reported as uncertain, but a fairness property does not pass on the
benefit of that doubt.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import nodes as n
from .audit import DEFAULT_MIN_GROUP, Audit, Dimension, Selection, audit
from .evaluator import Results
from .symbols import Ruleset

NEEDS_EVENTS = ("checked on the community's own events, not generated ones: "
                "run whuffie test FILE --events F --subjects F")


@dataclass(frozen=True)
class GroupRate:
    """One group's selection for the property's privilege or tier."""

    label: str
    count: int
    selection: Selection


@dataclass(frozen=True)
class FourFifthsOutcome:
    """The property's groups, and whether any is flagged."""

    decl: n.PropertyDecl
    selection: str  # "privilege NAME" or "tier >= NAME"
    groups: tuple[GroupRate, ...]
    highest: str | None

    @property
    def passed(self) -> bool:
        return not any(g.selection.flagged for g in self.groups)


def check_four_fifths(ruleset: Ruleset, decl: n.PropertyDecl, results: Results, subjects: dict[str, dict] | None,
                      min_group: int = DEFAULT_MIN_GROUP) -> FourFifthsOutcome:
    """Audit the scored results by the property's attribute and read its privilege or tier."""
    body = decl.body
    attr, name = body.attr.name, body.selection.name
    field = next(f for f in ruleset.subject_kind.fields if f.name == attr)
    found: Audit = audit(ruleset, results, subjects, [Dimension(attr, field.type.name)], min_group)
    is_privilege = name in ruleset.privileges
    key = f"privilege {name}" if is_privilege else f"tier {name}"
    groups = []
    for g in found.groups:
        selection = g.privileges[name] if is_privilege else g.tiers[name].at_or_above
        groups.append(GroupRate(g.labels[0][1], g.count, selection))
    highest = found.highest.get(key)
    shown = f"privilege {name}" if is_privilege else f"tier >= {name}"
    return FourFifthsOutcome(decl, shown, tuple(groups), highest[0][1] if highest else None)


def render_four_fifths(outcome: FourFifthsOutcome) -> str:
    """PASS, or FAIL with every group's rate and ratio (the flagged ones marked)."""
    decl = outcome.decl
    head = f'property "{decl.name}" by {decl.by or "?"}  [{decl.span}]'
    body = decl.body
    lines = [f"{'PASS' if outcome.passed else 'FAIL'} {head}",
             f"  {outcome.selection} by {body.kind.name}.{body.attr.name}, against {outcome.highest or '-'} "
             "(the highest rate):"]
    for g in outcome.groups:
        s = g.selection
        rate = "-" if s.rate is None else f"{float(s.rate):.2f}"
        ratio = "-" if s.impact_ratio is None else f"{s.impact_ratio} ({float(s.impact_ratio):.2f})"
        flag = "  below four fifths" + (" (uncertain: a small group)" if s.uncertain else "") if s.flagged else ""
        lines.append(f"    {g.label}: {s.count} of {g.count}, rate {rate}, impact ratio {ratio}{flag}")
    return "\n".join(lines) + "\n"

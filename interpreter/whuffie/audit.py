"""Group audits: how scores, tiers and privileges fall across groups of members (the four-fifths rule).

Entry points: ``parse_bands(texts)`` and ``dimensions(ruleset, by, bands)``
turn the command line's ``--bands`` and ``--by`` into the attributes to group
by (or an ``AuditError``), and ``audit(ruleset, results, subjects, dims)``
groups scored results by them into an ``Audit``: plain frozen data that
``audit_render`` prints and a report can draw.

An audit reads protected attributes: finding out whether a rule set treats
groups differently is what they are protected for. It never scores anything
itself; it groups what an engine computed. Rates and impact ratios are exact
fractions, so a ratio of exactly four fifths is never flagged by a rounding
error (29 CFR 1607.4(D) flags a ratio *less than* four fifths).
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

from .evaluator import Results, SubjectResult
from .symbols import Ruleset

FOUR_FIFTHS = Fraction(4, 5)
# Groups with fewer members than this are `small`: a rate over so few people says little,
# so their flags are shown as uncertain. 30 is the usual rule of thumb for a sample.
DEFAULT_MIN_GROUP = 30
# How many rules each score difference names (those whose points differ most between the groups).
TOP_RULES = 3
# The label of a member whose attribute is missing (no line in the subjects file, or an optional none).
MISSING = "(none)"


@dataclass(frozen=True)
class AuditError:
    """A usage mistake in --by or --bands, worded for the user (exit 2)."""

    message: str


@dataclass(frozen=True)
class Dimension:
    """One attribute to group by: its values (text, bool) or numeric bands with their lower edges."""

    attribute: str
    kind: str  # "text" | "bool" | "bands"
    edges: tuple[int | float, ...] = ()
    whole: bool = False  # an int attribute: bands are labelled by their first and last whole value

    def labels(self) -> list[str]:
        """Every label this dimension always has, in order (text values come from the data)."""
        if self.kind == "bool":
            return ["false", "true"]
        if self.kind == "bands":
            return [self._band_label(i) for i in range(len(self.edges) + 1)]
        return []

    def label(self, value) -> str:
        """The group label of one member's value."""
        if value is None:
            return MISSING
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "bands":
            return self._band_label(sum(1 for edge in self.edges if value >= edge))
        return str(value)

    def _band_label(self, index: int) -> str:
        edges = self.edges
        if index == 0:
            return f"<{_num(edges[0])}"
        if index == len(edges):
            return f">={_num(edges[-1])}"
        low, high = edges[index - 1], edges[index]
        if self.whole:
            return _num(low) if high - low == 1 else f"{_num(low)}–{_num(high - 1)}"
        return f"{_num(low)}–<{_num(high)}"


@dataclass(frozen=True)
class Selection:
    """How many of a group reach a tier (at or above it) or hold a privilege, against the best-off group."""

    count: int
    rate: Fraction | None  # None for an empty group
    impact_ratio: Fraction | None  # rate / the highest group's rate; None when that is 0 or the group is empty
    flagged: bool  # impact_ratio < 4/5
    uncertain: bool  # flagged, but this group or the highest one is small


@dataclass(frozen=True)
class TierShare:
    """One tier in one group: the members exactly in it, and the selection of those at or above it."""

    count: int
    rate: Fraction | None
    at_or_above: Selection


@dataclass(frozen=True)
class RuleGap:
    """A rule's mean points per member in a group, and how far that is from the group it is compared with."""

    rule: str
    mean_points: Fraction
    difference: Fraction


@dataclass(frozen=True)
class ScoreSummary:
    """One score over one group's members, and its mean's distance from the group with the highest mean."""

    mean: Fraction | None
    median: Fraction | None
    min: int | float | None
    max: int | float | None
    difference: Fraction | None  # mean - the highest group's mean
    versus: tuple[tuple[str, str], ...] | None  # the group with the highest mean
    rules: tuple[RuleGap, ...]  # the rules whose points differ most from that group's, largest first


@dataclass(frozen=True)
class Group:
    """One group: members sharing a label on every audited attribute."""

    labels: tuple[tuple[str, str], ...]  # (attribute, label) in --by order
    count: int
    small: bool
    scores: dict[str, ScoreSummary]
    tiers: dict[str, TierShare]
    privileges: dict[str, Selection]


@dataclass(frozen=True)
class Audit:
    """The whole audit: the groups in label order, and for each selection the group it is measured against."""

    by: tuple[str, ...]
    bands: dict[str, tuple[int | float, ...]]
    as_of: dt.datetime
    min_group: int
    subjects: int
    groups: tuple[Group, ...]
    highest: dict[str, tuple[tuple[str, str], ...] | None]  # "tier NAME" / "privilege NAME" -> its reference group


# ---------------------------------------------------------------- the command line's options


def parse_bands(texts: list[str]) -> dict[str, tuple[int | float, ...]] | AuditError:
    """``["age=25,40,65"]`` -> ``{"age": (25, 40, 65)}``: strictly increasing finite edges."""
    bands: dict[str, tuple[int | float, ...]] = {}
    for text in texts:
        name, sep, rest = text.partition("=")
        name = _bare(name.strip())
        if not sep or not name or not rest.strip():
            return AuditError(f"--bands takes ATTR=EDGE,EDGE,… (such as age=25,40,65), not {text!r}")
        edges = []
        for part in rest.split(","):
            edge = _number(part.strip())
            if edge is None:
                return AuditError(f"--bands {name}: {part.strip()!r} is not a number")
            edges.append(edge)
        if any(b <= a for a, b in zip(edges, edges[1:])):
            return AuditError(f"--bands {name}: the edges must increase ({rest.strip()})")
        if name in bands:
            return AuditError(f"--bands {name} is given twice")
        bands[name] = tuple(edges)
    return bands


def dimensions(ruleset: Ruleset, by: list[str], bands: dict[str, tuple[int | float, ...]]) \
        -> list[Dimension] | AuditError:
    """The attributes to group by, checked against the subject kind; a mistake is an AuditError.

    Without ``by`` the banded attributes are the ones grouped by.
    """
    kind = ruleset.subject_kind
    fields = {f.name: f for f in kind.fields} if kind else {}
    kind_name = kind.name if kind else "subject"
    names = [_bare(part.strip()) for text in by for part in text.split(",")]
    if not by:  # `--bands age=40,65` alone groups by age
        names = list(bands)
    if not names or any(not name for name in names):
        return AuditError("--by needs one or more attribute names, such as --by age or --by age,postcode")
    dims = []
    for name in names:
        field = fields.get(name)
        if field is None:
            return AuditError(_unknown(name, list(fields), kind_name))
        if name in (d.attribute for d in dims):
            return AuditError(f"--by names {name} twice")
        type_name = field.type.name
        if type_name in ("int", "number"):
            edges = bands.get(name)
            if edges is None:
                return AuditError(f"{kind_name}.{name} is a{'n' * (type_name == 'int')} {type_name}: give its bands, "
                                  f"such as --bands {name}=25,40,65")
            if type_name == "int" and not all(isinstance(e, int) for e in edges):
                return AuditError(f"--bands {name}: {kind_name}.{name} is an int, so its edges must be whole numbers")
            dims.append(Dimension(name, "bands", edges, whole=type_name == "int"))
        elif type_name in ("text", "bool"):
            if name in bands:
                return AuditError(f"--bands {name}: {kind_name}.{name} is {type_name}, not a number; "
                                  "its groups are its values")
            dims.append(Dimension(name, type_name))
        else:
            return AuditError(f"{kind_name}.{name} is a {type_name}: an audit groups by text or bool attributes, "
                              "or by bands of an int or number one")
    for name in bands:
        if name not in names:
            return AuditError(f"--bands {name} is given but {name} is not in --by")
    return dims


def _bare(name: str) -> str:
    """``member.age`` and ``age`` both name the attribute."""
    return name.rpartition(".")[2]


def _number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _unknown(name: str, known: list[str], kind_name: str) -> str:
    close = difflib.get_close_matches(name, known, n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    listed = ", ".join(known) if known else "none"
    return f"{kind_name} has no attribute {name!r}{hint}; its attributes are: {listed}"


def _num(x: int | float) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


# ---------------------------------------------------------------- the audit


def audit(ruleset: Ruleset, results: Results, subjects: dict[str, dict] | None, dims: list[Dimension],
          min_group: int = DEFAULT_MIN_GROUP) -> Audit:
    """Group every scored subject by ``dims`` and summarise each group against the others."""
    subjects = subjects or {}
    members: dict[tuple, list[SubjectResult]] = {}
    for result in results.subjects:
        attrs = subjects.get(result.subject, {})
        key = tuple(d.label(attrs.get(d.attribute)) for d in dims)
        members.setdefault(key, []).append(result)
    keys = list(itertools.product(*(_ordered_labels(d, i, members) for i, d in enumerate(dims))))
    groups = [_Counted(tuple(zip((d.attribute for d in dims), key)), members.get(key, []), min_group)
              for key in keys]
    highest: dict[str, tuple[tuple[str, str], ...] | None] = {}
    tier_names = list(ruleset.tiers)
    tier_selections = {}
    for i, tier in enumerate(tier_names):
        reached = set(tier_names[:i + 1])  # tiers are declared top first
        tier_selections[tier] = _selections(groups, lambda r: r.tier in reached)
        highest[f"tier {tier}"] = tier_selections[tier][1]
    privilege_selections = {}
    for privilege in ruleset.privileges:
        privilege_selections[privilege] = _selections(groups, lambda r: privilege in r.privileges)
        highest[f"privilege {privilege}"] = privilege_selections[privilege][1]
    score_summaries = {name: _score_summaries(groups, name, list(ruleset.rules)) for name in ruleset.scores}
    built = []
    for g, group in enumerate(groups):
        tiers = {}
        for tier in tier_names:
            exact = sum(1 for r in group.members if r.tier == tier)
            tiers[tier] = TierShare(exact, _rate(exact, group.count), tier_selections[tier][0][g])
        built.append(Group(group.labels, group.count, group.small,
                           {name: per_group[g] for name, per_group in score_summaries.items()}, tiers,
                           {p: privilege_selections[p][0][g] for p in ruleset.privileges}))
    bands = {d.attribute: d.edges for d in dims if d.kind == "bands"}
    return Audit(tuple(d.attribute for d in dims), bands, results.as_of, min_group, len(results.subjects),
                 tuple(built), highest)


class _Counted:
    """A group while it is being audited: its labels, members and size."""

    def __init__(self, labels: tuple[tuple[str, str], ...], members: list[SubjectResult], min_group: int):
        self.labels, self.members = labels, members
        self.count = len(members)
        self.small = self.count < min_group


def _ordered_labels(dim: Dimension, index: int, members: dict[tuple, list]) -> list[str]:
    """A dimension's labels: every band or truth value (empty ones too), then the text values seen, then (none)."""
    seen = {key[index] for key in members}
    fixed = dim.labels()
    extra = sorted(label for label in seen if label not in fixed and label != MISSING)
    return fixed + extra + ([MISSING] if MISSING in seen else [])


def _rate(count: int, total: int) -> Fraction | None:
    return Fraction(count, total) if total else None


def _reference(groups: list[_Counted], value) -> _Counted | None:
    """The group with the highest ``value`` (ties: the largest, then the first), among non-empty groups."""
    best = None
    for group in groups:
        v = value(group)
        if v is None:
            continue
        if best is None or (v, group.count) > (value(best), best.count):
            best = group
    return best


def _selections(groups: list[_Counted], selected) -> tuple[list[Selection], tuple | None]:
    """Each group's selection for one tier or privilege, and the labels of the group with the highest rate."""
    counts = [sum(1 for r in g.members if selected(r)) for g in groups]
    rates = {id(g): _rate(c, g.count) for g, c in zip(groups, counts)}
    top = _reference(groups, lambda g: rates[id(g)])
    out = []
    for group, count in zip(groups, counts):
        rate = rates[id(group)]
        ratio = rate / rates[id(top)] if rate is not None and top is not None and rates[id(top)] else None
        flagged = ratio is not None and ratio < FOUR_FIFTHS
        out.append(Selection(count, rate, ratio, flagged, flagged and (group.small or top.small)))
    return out, (top.labels if top is not None else None)


def _exact(value) -> Fraction:
    return Fraction(value)  # a float converts exactly, so sums and means do not depend on order


def _median(values: list) -> Fraction:
    ordered = sorted(_exact(v) for v in values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _score_summaries(groups: list[_Counted], score: str, rules: list[str]) -> list[ScoreSummary]:
    """One score's summary in every group, each compared with the group whose mean is highest."""
    values = [[r.scores[score] for r in g.members if r.scores.get(score) is not None] for g in groups]
    means = {id(g): (sum(map(_exact, v), Fraction(0)) / len(v) if v else None) for g, v in zip(groups, values)}
    top = _reference(groups, lambda g: means[id(g)])
    top_points = _rule_means(top, rules) if top is not None else {}
    out = []
    for group, vals in zip(groups, values):
        mean = means[id(group)]
        if mean is None:
            out.append(ScoreSummary(None, None, None, None, None, None, ()))
            continue
        points = _rule_means(group, rules)
        gaps = [RuleGap(rule, points[rule], points[rule] - top_points[rule]) for rule in rules
                if points[rule] != top_points[rule]]
        gaps.sort(key=lambda gap: (-abs(gap.difference), gap.rule))
        out.append(ScoreSummary(mean, _median(vals), min(vals), max(vals), mean - means[id(top)], top.labels,
                                tuple(gaps[:TOP_RULES])))
    return out


def _rule_means(group: _Counted, rules: list[str]) -> dict[str, Fraction]:
    """Each rule's points per member of a group (the ledger's totals by rule, which every engine gives)."""
    if not group.count:
        return {rule: Fraction(0) for rule in rules}
    return {rule: sum((_exact(r.points_by_rule.get(rule, 0)) for r in group.members), Fraction(0)) / group.count
            for rule in rules}

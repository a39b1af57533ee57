"""Reasons: what cost a subject the most points, the reason codes of an adverse-action notice.

Entry point: ``reasons(result, ruleset, limit) -> list[Reason]``, computed from
the subject's ledger and nothing else, so `explain` and `score --reasons N`
give the same reasons on every engine.

Two kinds of reason, ordered together by ``loss``, largest first:

* a **factor** (a `factor` declaration: the mutually exclusive bins of one
  characteristic of a scorecard) costs the points below its best bin:
  ``loss`` = the best bin's award minus the points the bin that fired gave,
  summed over its firings; a subject in the best bin has no reason there.
  This is the "points below the maximum" definition of credit scorecards.
* any **other rule** costs its negative points: ``loss`` = minus the sum of
  its negative ledger values (its positive firings do not offset them).

Ties go by declaration order of the rule named; a rule set without factors
keeps the order it always had, ties by rule name.
"""

from __future__ import annotations

from dataclasses import dataclass

from .evaluator import SubjectResult

DEFAULT_REASONS = 4


@dataclass
class Reason:
    """One reason: the rule (for a factor, the bin that cost most), its factor, its points and its loss."""

    rule: str
    author: str | None
    because: str | None
    points: int | float  # the points it gave (negative for a rule that took points away)
    events: int
    factor: str | None = None
    loss: int | float = 0  # points below the best: best bin's award - points, or minus the negative points


def factor_bins(ruleset) -> dict[str, tuple[str, dict[str, int | float]]]:
    """rule -> (its factor, {bin rule: constant award}) for every rule in a factor with constant awards."""
    from .checkbase import constant
    from . import nodes as n

    out: dict[str, tuple[str, dict]] = {}
    for name, decl in getattr(ruleset, "factors", {}).items():
        awards = {}
        for ref in decl.rules:
            rule = ruleset.rules.get(ref.name)
            award = rule.first(n.Award) if rule is not None else None
            value = constant(award.value) if award is not None else None
            if value is None:
                awards = None
                break
            awards[ref.name] = value
        if awards:
            for rule in awards:
                out[rule] = (name, awards)
    return out


def reasons(result: SubjectResult, ruleset=None, limit: int = DEFAULT_REASONS) -> list[Reason]:
    """The subject's reasons, largest loss first, at most ``limit``."""
    bins = factor_bins(ruleset) if ruleset is not None else {}
    order = {name: i for i, name in enumerate(ruleset.rules)} if ruleset is not None else {}
    plain: dict[str, Reason] = {}
    factors: dict[str, Reason] = {}
    factor_loss_by_rule: dict[str, dict[str, float]] = {}
    for e in result.ledger:
        if e.rule in bins:
            factor, awards = bins[e.rule]
            r = factors.get(factor)
            if r is None:
                r = factors[factor] = Reason(e.rule, e.author, e.because, 0, 0, factor, 0)
            loss = max(awards.values()) - e.value
            r.points += e.value
            r.events += 1
            r.loss += loss
            per_rule = factor_loss_by_rule.setdefault(factor, {})
            per_rule[e.rule] = per_rule.get(e.rule, 0) + loss
        elif e.value < 0:
            r = plain.get(e.rule)
            if r is None:
                r = plain[e.rule] = Reason(e.rule, e.author, e.because, 0, 0)
            r.points += e.value
            r.loss -= e.value
            r.events += 1
    for factor, r in factors.items():  # name the bin that cost most (the one bin, for one event)
        per_rule = factor_loss_by_rule[factor]
        worst = max(per_rule, key=lambda rule: (per_rule[rule], -order.get(rule, 0)))
        if worst != r.rule:
            decl = ruleset.rules[worst]
            r.rule, r.author, r.because = worst, decl.by, decl.because
    found = [r for r in [*plain.values(), *factors.values()] if r.loss > 0]
    if bins:
        found.sort(key=lambda r: (-r.loss, order.get(r.rule, len(order))))
    else:
        found.sort(key=lambda r: (r.points, r.rule))
    return found[:max(limit, 0)]


def reason_data(r: Reason, precision: int = 2) -> dict:
    """One reason as the JSON of `explain` and `score --reasons N`."""
    from .report import number

    return {"rule": r.rule, "factor": r.factor, "author": r.author, "because": r.because,
            "points": number(r.points, precision), "loss": number(r.loss, precision), "events": r.events}

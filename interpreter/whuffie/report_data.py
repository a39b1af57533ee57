"""The outcome report's contents: one plain document drawn from the existing passes, never recomputed here.

Entry point: ``report_data(ruleset, results, audited=None, diffed=None, precision)``
returns the document `whuffie report --format json` prints and
``report_html`` draws, so every number on the page is one the command line
prints. Its parts come from the modules that own them: authors' shares from
``report.authors_data`` (as `whuffie authors --format json`), the audit from
``audit_render.audit_data`` (as `whuffie audit --format json`), rules by
points moved and firings from ``rule_activity``, the impact of a rule change
from ``diff_render.diff_data`` (as `whuffie diff … --format json`). What is
new here is only counting: each score's histogram and the members per tier
and privilege. ``old_version_diff`` scores the old version of the rules on
the same events through ``diff.diff_rulesets``.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

from . import report
from .evaluator import Results
from .rule_activity import rule_activity
from .symbols import Ruleset

# A histogram has at most this many bins: enough to see a shape, few enough to read each count.
MAX_BINS = 10


def report_data(ruleset: Ruleset, results: Results, audited=None, diffed=None, precision: int = 2) -> dict:
    """The report as plain data, keys in the documented order (docs/language.md, "whuffie report")."""
    from .audit_render import audit_data
    from .diff_render import diff_data

    activity = rule_activity(ruleset, results)
    return {
        "rule_set": ruleset.name,
        "title": ruleset.title,
        "as_of": report.iso(results.as_of),
        "subjects": len(results.subjects),
        "events": results.scored,
        "authors": report.authors_data(ruleset, results, precision),
        "scores": [_distribution(ruleset, results, name, precision) for name in ruleset.scores],
        "tiers": _tier_counts(ruleset, results),
        "privileges": [{"privilege": p, "holders": sum(1 for r in results.subjects if p in r.privileges)}
                       for p in ruleset.privileges],
        "rules": [{"rule": a.rule, "by": a.by, "because": a.because, "event": a.event, "firings": a.firings, "subjects": a.subjects,
                   "points": report.number(a.points, precision)} for a in activity],
        "dead_rules": [a.rule for a in activity if a.dead],
        "audit": None if audited is None else audit_data(audited, ruleset, precision),
        "diff": None if diffed is None else diff_data(diffed, precision),
    }


def _tier_counts(ruleset: Ruleset, results: Results) -> list[dict]:
    """Members exactly in each tier, top tier first; members in no tier last (only when there are some)."""
    counts = [{"tier": t, "count": sum(1 for r in results.subjects if r.tier == t)} for t in ruleset.tiers]
    untiered = sum(1 for r in results.subjects if r.tier is None)
    if ruleset.tiers and untiered:
        counts.append({"tier": None, "count": untiered})
    return counts


def _distribution(ruleset: Ruleset, results: Results, score: str, precision: int) -> dict:
    """One score over every subject: its range, mean and histogram."""
    t = ruleset.score_types.get(score)
    values = [r.scores[score] for r in results.subjects
              if isinstance(r.scores.get(score), (int, float)) and not isinstance(r.scores.get(score), bool)]
    if not values:
        return {"score": score, "count": 0, "min": None, "max": None, "mean": None, "bins": []}
    mean = sum((Fraction(v) for v in values), Fraction(0)) / len(values)  # exact, so order does not matter
    return {"score": score, "count": len(values),
            "min": report.number(report.typed(min(values), t), precision),
            "max": report.number(report.typed(max(values), t), precision),
            "mean": report.number(float(mean), precision),
            "bins": histogram(values, precision, t)}


def histogram(values: list[int | float], precision: int = 2, t=None) -> list[dict]:
    """Equal bins over the values' range, at most MAX_BINS; ``t`` is the score's checked type.

    When every value is whole, bins are whole too, with both ends included
    (`low`..`high`), so every bin is a set of values one can name; otherwise
    bins include `low` and exclude `high`, except the last, which includes
    the maximum. Every value falls in exactly one bin.
    """
    low, high = min(values), max(values)
    if all(float(v).is_integer() for v in values):
        whole = [int(v) for v in values]
        low, high = min(whole), max(whole)
        width = max(1, math.ceil((high - low + 1) / MAX_BINS))
        count = (high - low) // width + 1
        bins = [{"low": low + k * width, "high": min(high, low + (k + 1) * width - 1), "count": 0}
                for k in range(count)]
        for v in whole:
            bins[(v - low) // width]["count"] += 1
        return [{**b, "low": report.typed(b["low"], t), "high": report.typed(b["high"], t)} for b in bins]
    low_x, high_x = Fraction(low), Fraction(high)
    count = 1 if low_x == high_x else MAX_BINS
    width = (high_x - low_x) / count
    edges = [low_x + k * width for k in range(count + 1)]
    counts = [0] * count
    for v in values:
        index = count - 1 if width == 0 else min(count - 1, int((Fraction(v) - low_x) / width))
        counts[index] += 1
    return [{"low": report.number(float(edges[k]), precision), "high": report.number(float(edges[k + 1]), precision),
             "count": counts[k]} for k in range(count)]


def old_version_diff(old_loaded, new_loaded, events: Path, subjects: Path | None, as_of, engine: str = "auto",
                     notes=None, columns=None):
    """The old rules against the new on the same events at ``as_of``: a diff.RuleDiff with its impact.

    Raises inputs.DataError for an unreadable input and evaluator.EvaluationError
    for a run-time fault, as `whuffie diff` does.
    """
    from .diff import diff_rulesets
    from .diff_inputs import read_both
    from .evaluator import compile_ruleset

    reads = (compile_ruleset(old_loaded.ruleset).reads_attributes, compile_ruleset(new_loaded.ruleset).reads_attributes)
    both = read_both(events, subjects, old_loaded.ruleset, new_loaded.ruleset, *reads,
                     **({"columns": columns} if columns is not None else {}))
    return diff_rulesets(old_loaded, new_loaded, (both.old_events.events, both.new_events.events),
                         (both.old_subjects and both.old_subjects.subjects,
                          both.new_subjects and both.new_subjects.subjects),
                         as_of, engine, notes, both.schema_effect())

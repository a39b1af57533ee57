"""Rendering a subject's tier history (tiertimeline.TierChange): explain's lines, `tier_since`, `--tier-log`.

Only rule sets with a tier that has memory (`keep`, `hold`) have a history;
the evaluator records it, this module only words it.
"""

from __future__ import annotations

import datetime as dt
import json

from . import nodes as n
from .evaluator import Results, SubjectResult
from .symbols import Ruleset


def has_history(ruleset: Ruleset | None) -> bool:
    """Whether the rule set's subjects have a tier history (some tier has memory)."""
    return ruleset is not None and any(n.has_memory(t) for t in ruleset.tiers.values())


def tier_since(result: SubjectResult) -> dt.datetime | None:
    """The instant the subject reached its present tier (None without a tier or a history)."""
    for change in reversed(result.tier_log):
        if not change.held:
            return change.at if change.to_tier is not None else None
    return None


def _iso(at: dt.datetime) -> str:
    from .report import iso

    return iso(at)


def _why(reason: str) -> str:
    return {"when": "its `when` holds", "keep": "`keep`: never taken away", "keep while": "its `keep while` holds",
            "otherwise": "no tier above it holds", "no tier": "no tier holds"}.get(reason, f"`{reason}`")


def explain_lines(result: SubjectResult) -> list[str]:
    """The history as explain prints it: the present tier and since when, then every change in time order."""
    if not result.tier_log:
        return []
    since = tier_since(result)
    lines = [f"  {result.tier} since {_iso(since)}" if result.tier and since else "  no tier"]
    lines.append("  tier history:")
    for c in result.tier_log:
        if c.held:
            lines.append(f"    {_iso(c.at)}  {c.to_tier} would have been lost, but held by `{c.reason}`")
        else:
            lines.append(f"    {_iso(c.at)}  {c.from_tier or '-'} -> {c.to_tier or '-'}  ({_why(c.reason)})")
    return lines


def change_record(subject: str, change) -> dict:
    """One line of `--tier-log`."""
    return {"subject": subject, "at": _iso(change.at), "from": change.from_tier, "to": change.to_tier,
            "by": change.reason, "held": change.held}


def tier_log_jsonl(results: Results) -> str:
    """`score --tier-log FILE`: every subject's changes, subjects sorted, each in time order."""
    return "".join(json.dumps(change_record(r.subject, c), ensure_ascii=False) + "\n"
                   for r in results.subjects for c in r.tier_log)

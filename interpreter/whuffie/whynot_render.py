"""Rendering a why-not (whynot.WhyNot): the text of `explain --why-not`, its JSON, and the next-tier line."""

from __future__ import annotations

from .report import escape_controls, number, text_value
from .whynot import Condition, UnknownTarget, WhyNot, next_tier_up, why_not

__all__ = ["UnknownTarget", "for_explain", "next_tier_for_notice", "repl_why_not", "why_not_text",
           "why_not_data", "next_tier_line"]


def for_explain(loaded, load, results, target: str | None, subjects_path=None, precision: int = 2):
    """What `explain` shows: (the why-not of ``target`` or None, the next-tier-up line or None).

    ``load`` is the events as read (a list, or a columnar reader's ``events()``);
    the subject's attributes come from ``subjects_path`` when a condition reads them.
    """
    ruleset = loaded.ruleset
    result = results.subjects[0]
    if target is not None and target not in ruleset.tiers and target not in ruleset.privileges:
        why_not(ruleset, result, target)  # raises UnknownTarget with the close names
    attrs = _attributes(ruleset, result.subject, subjects_path)
    up = next_tier_line(next_tier_up(ruleset, result, loaded.source, attrs, results.as_of), precision)
    if target is None:
        return None, up
    reader = getattr(load, "events", None)
    events = reader(result.subject) if callable(reader) else reader or []  # a columnar reader reads one subject
    history = [e for e in events if e.subject == result.subject]
    return why_not(ruleset, result, target, source=loaded.source, history=history, attrs=attrs,
                   as_of=results.as_of), up


def next_tier_for_notice(loaded, load, results, subjects_path=None):
    """The why-not of the tier just above the subject's, with ways and room (None at the top or without tiers)."""
    ruleset = loaded.ruleset
    result = results.subjects[0]
    names = list(ruleset.tiers)
    if result.tier not in names or names.index(result.tier) == 0:
        return None
    target = names[names.index(result.tier) - 1]
    return for_explain(loaded, load, results, target, subjects_path)[0]


def repl_why_not(ruleset, results, events, subjects: dict | None, target: str, source=None,
                 precision: int = 2) -> str:
    """The reply of the REPL's `:why-not SUBJECT TARGET`: the why-not text of ``results``' one subject.

    ``results`` is an evaluation with the ledger restricted to the subject
    (``only=``); ``events`` the session's events; raises UnknownTarget (with
    close names) for a name that is no tier or privilege.
    """
    result = results.subjects[0]
    history = [e for e in events if e.subject == result.subject]
    attrs = (subjects or {}).get(result.subject)
    found = why_not(ruleset, result, target, source=source, history=history, attrs=attrs, as_of=results.as_of)
    return why_not_text(found, precision)


def _attributes(ruleset, subject: str, subjects_path) -> dict | None:
    if subjects_path is None:
        return None
    from .inputs import load_subjects

    return load_subjects(subjects_path, ruleset).subjects.get(subject)


def _value(x, precision: int, bound=None) -> str:
    from .report import near_bound_text

    if isinstance(x, str):
        return x
    return near_bound_text(x, [bound], precision)


def condition_words(c: Condition, precision: int) -> str:
    """One part as a line: what it says, whether it holds, the value, the bound and the gap."""
    mark = "yes" if c.holds else "no "
    text = f"{mark}  {c.text}"
    if isinstance(c.value, str) and isinstance(c.bound, str):  # tier >= X
        text += f": the tier is {c.value}" + ("" if c.holds else f", needs {c.bound}"
                                              + (f" ({c.gap} tier{'s' * (c.gap != 1)} up)" if c.gap else ""))
    elif c.bound is True:
        pass
    else:
        text += f": {_value(c.value, precision, c.bound)} now"
        if c.bound is not None:
            text += f", bound {_value(c.bound, precision)}"
        if not c.holds and c.gap is not None:
            text += f", {_value(c.gap, precision, 0)} short"
    if c.via:
        text += f"   (the condition of {c.via})"
    if c.changes:
        text += f"; {c.changes}"
    return text


def why_not_text(w: WhyNot, precision: int = 2) -> str:
    """``explain --why-not TARGET`` as text."""
    who = escape_controls(w.subject)
    now = f"{who} is {w.tier}" if w.tier else who
    if w.kind == "tier":
        head = f"Why not {w.target}? {now}; " + (
            f"that reaches tier {w.target}" if w.holds else f"tier {w.target} is not reached")
    else:
        head = f"Why not {w.target}? {now}; " + (
            f"{who} holds privilege {w.target}" if w.holds else f"{who} does not hold privilege {w.target}")
    out = [head]
    if not w.conditions:
        out.append("  (no condition: `otherwise`)")
    for c in w.conditions:
        out.append("  " + condition_words(c, precision))
    if not w.holds:
        out.append("Ways up")
        if not w.ways:
            out.append("  none: no rule can raise what is short")
        for way in w.ways:
            name = f"{way.rule} by {way.by or '?'}" if way.rule else "more"
            line = f"  {name}: {way.award}"
            if way.room:
                line += f", {way.room}"
            if way.because and " in factor " in way.award:  # a bin: say what it is
                line += f" - {way.because}"
            line += f"   [raises {', '.join(way.raises)}; on {way.event}]"
            out.append(line)
    return "\n".join(out) + "\n"


def next_tier_line(w: WhyNot | None, precision: int = 2) -> str | None:
    """The one line under the tier in `explain`: what the next tier up needs that is not met."""
    if w is None:
        return None
    short = [c for c in w.conditions if not c.holds]
    if not short:
        return f"  next tier up: {w.target} (every part of its condition holds)"
    parts = []
    for c in short:
        if c.gap is not None and not isinstance(c.gap, bool) and not isinstance(c.value, str):
            parts.append(f"{c.text} ({_value(c.value, precision, c.bound)} now, {_value(c.gap, precision, 0)} short)")
        else:
            parts.append(c.text)
    return f"  next tier up: {w.target} needs {'; '.join(parts)}"


def why_not_data(w: WhyNot, precision: int = 2) -> dict:
    """The documented ``why_not`` object of ``explain --format json``."""
    def plain(x):
        return number(x, precision)

    return {
        "target": w.target,
        "kind": w.kind,
        "holds": w.holds,
        "conditions": [
            {"text": c.text, "holds": c.holds, "value": plain(c.value), "bound": plain(c.bound),
             "gap": plain(c.gap), "via": c.via, "changes": c.changes,
             "changes_at": plain(c.changes_at)}
            for c in w.conditions
        ],
        "ways": [
            {"rule": way.rule, "by": way.by, "award": way.award, "room": way.room, "raises": list(way.raises),
             "event": way.event, "available": way.available, "because": way.because}
            for way in w.ways
        ],
    }

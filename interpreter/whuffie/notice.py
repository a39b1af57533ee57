"""The notice: a plain-language letter to a scored member, from their result, reasons and why-not.

Entry point: ``notice(ruleset, result, as_of, why, lang) -> str``. It says the
member's scores and tier, the principal reasons in words (each rule's
`because`), what would change the outcome (the ways of a why-not), who wrote
the rules that decided it and the rule set's version: the "statement of
specific reasons" that credit law asks for, written for any community. Every
sentence comes from the message catalogs (catalogs.py, gettext): the English
text here is the message id, and each shipped language translates all of it.
What a rule file says in its own words (a `because`, an author's description)
is quoted as written.
"""

from __future__ import annotations

import datetime as dt

from . import catalogs
from .evaluator import SubjectResult
from .reasons import DEFAULT_REASONS, reasons
from .report import bounds_of, iso, near_bound_precision, typed_scores
from .symbols import Ruleset
from .whynot import WhyNot

# A language's decimal separator, where it is not the point.
DECIMAL_COMMA = frozenset({"de"})


def notice(ruleset: Ruleset, result: SubjectResult, as_of: dt.datetime, why: WhyNot | None = None,
           lang: str = "en", precision: int = 2, limit: int = DEFAULT_REASONS) -> str:
    """The letter to ``result``'s subject in language ``lang`` (LookupError for a language without a catalog)."""
    _ = catalogs.translation(lang).gettext
    num = _Numbers(lang, precision)
    out: list[str] = []
    out.append(_("Notice of the decision about {subject}").format(subject=result.subject))
    title = ruleset.title or ruleset.name
    if ruleset.version:
        out.append(_("{title}: rule set {name}, version {version}, as of {date}").format(
            title=title, name=ruleset.name, version=ruleset.version, date=iso(as_of)))
    else:
        out.append(_("{title}: rule set {name}, as of {date}").format(title=title, name=ruleset.name, date=iso(as_of)))
    out.append("")
    bounds = bounds_of(ruleset)
    for name, value in typed_scores(result, ruleset).items():  # with the digits a tier's bound needs
        out.append(_("Your {score} is {value}.").format(score=name, value=num(value, bounds.get(name, ()))))
    if result.tier:
        out.append(_("Your tier is {tier}.").format(tier=result.tier))
    elif ruleset.tiers:
        out.append(_("You are in no tier."))
    if ruleset.privileges:
        out.append(_("Your privileges: {privileges}.").format(privileges=", ".join(result.privileges))
                   if result.privileges else _("You hold none of the privileges."))
    out.append("")
    found = reasons(result, ruleset, limit)
    deciders: list[str] = []
    if found:
        out.append(_("The principal reasons for this outcome:"))
        for i, r in enumerate(found, 1):
            if r.author and r.author not in deciders:
                deciders.append(r.author)
            text = r.because or r.rule
            if r.factor is not None:
                line = _("{number}. {because}: {loss} points below the best in {factor} (rule {rule})")
                out.append("  " + line.format(number=i, because=text, loss=num(r.loss), factor=r.factor,
                                              rule=r.rule))
            else:
                line = _("{number}. {because}: {loss} points taken away (rule {rule})")
                out.append("  " + line.format(number=i, because=text, loss=num(r.loss), rule=r.rule))
    else:
        out.append(_("No rule lowered your score."))
    if why is not None:
        out.append("")
        _what_would_change(out, why, _, num)
        for way in why.ways:
            if way.by and way.by not in deciders:
                deciders.append(way.by)
    decl = ruleset.tiers.get(result.tier) if result.tier else None
    if decl is not None and decl.by and decl.by not in deciders:
        deciders.append(decl.by)
    out.append("")
    if deciders:
        names = [_author(ruleset, a) for a in deciders]
        out.append(_("Who decided: the rules behind this notice were written by {authors}.").format(
            authors="; ".join(names)))
    out.append(_("Every point traces back to one rule, its author, one event and one line of the rule file; "
                 "you may ask for that ledger."))
    return "\n".join(out) + "\n"


def _what_would_change(out: list[str], why: WhyNot, _, num) -> None:
    if why.holds:
        out.append((_("You have reached the tier {target}.") if why.kind == "tier"
                    else _("You hold the privilege {target}.")).format(target=why.target))
        return
    out.append((_("What would change the outcome, to reach the tier {target}:") if why.kind == "tier"
                else _("What would change the outcome, to hold the privilege {target}:")).format(target=why.target))
    for c in why.conditions:
        if c.holds:
            continue
        if isinstance(c.value, str) and isinstance(c.bound, str):
            line = _("{condition}: your tier is {value}; {bound} is needed.")
            out.append("  " + line.format(condition=c.text, value=c.value, bound=c.bound))
        elif c.gap is not None and not isinstance(c.value, bool):
            line = _("{condition}: {value} now; {gap} more is needed.")
            out.append("  " + line.format(condition=c.text, value=num(c.value, [c.bound]), gap=num(c.gap, [0])))
        else:
            out.append("  " + _("{condition}: it does not hold now.").format(condition=c.text))
    if not why.ways:
        out.append("  " + _("No rule of this rule set can change it by new events."))
        return
    out.append("  " + _("Ways there:"))
    for way in why.ways:
        out.append("  - " + _way(way, _, num))


def _way(way, _, num) -> str:
    what = way.because or way.rule or way.event
    if way.instead_of is not None:
        text = _("{what}: {gain} points more than the bin you are in ({current})").format(
            what=what, gain=num(way.low), current=way.instead_of)
    elif way.rule is None:
        text = _("more {event} events").format(event=way.event)
    elif way.low is not None and way.low == way.high:
        text = _("{what}: {points} points for each {event} event").format(what=what, points=num(way.low),
                                                                         event=way.event)
    elif way.low is not None:
        text = _("{what}: {low} to {high} points for each {event} event").format(
            what=what, low=num(way.low), high=num(way.high), event=way.event)
    else:
        text = _("{what}: points for each {event} event").format(what=what, event=way.event)
    if way.left is not None and way.left > 0:
        text += " " + _("(at most {left} more {window})").format(left=num(way.left), window=_window(way.window, _))
    elif way.left is not None:
        text += " " + (_("(no more {window}; again from {date})").format(window=_window(way.window, _),
                                                                          date=way.again.isoformat())
                       if way.again else _("(no more: its limit is reached)"))
    return text


def _window(window: str | None, _) -> str:
    return {"day": _("today"), "week": _("this week"), "month": _("this month"), "year": _("this year"),
            None: _("in all")}[window]


def _author(ruleset: Ruleset, name: str) -> str:
    decl = ruleset.authors.get(name)
    return decl.description if decl is not None and decl.description else name


class _Numbers:
    """Numbers as the notice's language writes them: ints as ints, floats with ``precision`` decimals."""

    def __init__(self, lang: str, precision: int):
        self.comma = lang in DECIMAL_COMMA
        self.precision = precision

    def __call__(self, value, bounds=()) -> str:
        from .report import text_value

        text = text_value(value, near_bound_precision(value, bounds, self.precision))
        return text.replace(".", ",") if self.comma and isinstance(value, float) else text

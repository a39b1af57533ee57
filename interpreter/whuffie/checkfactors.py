"""Checks of `factor` declarations: its rules are the bins of one characteristic, exclusive and exhaustive."""

from __future__ import annotations

from . import nodes as n
from .checkbase import CheckerBase, constant, suggest
from .factorbins import analyse, describe


class FactorChecks(CheckerBase):
    """W065 for rules that cannot be a factor's bins; W063, W064 and W066 for bins that overlap, leave gaps or elude proof."""

    def factors(self) -> None:
        owner: dict[str, str] = {}  # rule -> the factor it is a bin of
        for item in self.program.items:
            if isinstance(item, n.FactorDecl):
                self.factor(item, owner)

    def factor(self, f: n.FactorDecl, owner: dict[str, str]) -> None:
        what = f"factor {f.name}"
        self.provenance(f, what)
        bins: list[n.RuleDecl] = []
        seen: set[str] = set()
        for ident in f.rules:
            rule = self.rs.rules.get(ident.name)
            if ident.name in seen:
                self.err("W065", f"{what} names rule {ident.name} twice", ident.span, "name each bin once")
                continue
            seen.add(ident.name)
            if rule is None:
                self.err("W014", f"{what} is over an unknown rule {ident.name}", ident.span,
                         suggest(ident.name, self.rs.rules) or "`over` lists the rules that are its bins")
                continue
            if ident.name in owner:
                self.err("W065", f"rule {ident.name} is a bin of factor {owner[ident.name]} already, so it "
                         f"cannot be one of {what}", ident.span, "a rule scores one characteristic: keep it in one factor")
                continue
            owner[ident.name] = f.name
            bins.append(rule)
        if not self._bins_fit(f, bins):
            return
        event = self.rs.events.get(bins[0].first(n.On).event.name)
        if event is None:
            return
        fields = {fd.name: fd for fd in event.fields}
        wheres = [(b.name, w.cond if (w := b.first(n.Where)) else None) for b in bins]
        found = analyse(fields, wheres, self.enumerations(event))
        if found.unprovable:
            self.warn("W066", f"cannot prove the bins of {what} exclusive and exhaustive: {found.unprovable}",
                      f.name_span, "write each bin's `where` as comparisons of the event's fields with constants")
            return
        if found.overlap is not None:
            at, a, b = found.overlap
            self.warn("W063", f"{describe(at)} is matched by two bins of {what}, {a} and {b}: "
                      "a factor's bins must exclude each other", f.name_span,
                      "make the bins' `where` conditions disjoint (e.g. `< 12` and `>= 12`)")
        if found.gap is not None:
            self.warn("W064", f"{describe(found.gap)} is matched by no bin of {what}", f.name_span,
                      "add a bin for it, or widen a neighbouring bin's `where`")

    def _bins_fit(self, f: n.FactorDecl, bins: list[n.RuleDecl]) -> bool:
        """W065 unless every bin is on one event type with a constant award."""
        if not bins:
            return False
        fits = True
        first_event = None
        for rule in bins:
            on = rule.first(n.On)
            award = rule.first(n.Award)
            if on is None or award is None:
                return False  # reported on the rule itself
            if first_event is None:
                first_event = on.event.name
            elif on.event.name != first_event:
                self.err("W065", f"rule {rule.name} is on {on.event.name} but factor {f.name}'s first bin is on "
                         f"{first_event}: a factor's bins score one event type", on.span,
                         "a factor groups the bins of one characteristic of one event")
                fits = False
            if constant(award.value) is None:
                self.err("W065", f"rule {rule.name}'s award is not a constant, so it cannot be a bin of factor "
                         f"{f.name}: a bin gives the same points to every event it matches", award.value.span,
                         "give each bin a constant award, and split the range of values into more bins")
                fits = False
        return fits

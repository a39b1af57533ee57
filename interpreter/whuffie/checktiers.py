"""Checking tiers with memory: `keep`, `keep while COND` and `hold DURATION`.

The condition of `keep while` is read where the tier's `when` is (measures,
scores, points, conditions); `hold` is a positive length. An `otherwise`
tier is reached whenever no tier above it is, so memory would change
nothing there and is refused.
"""

from __future__ import annotations

from . import nodes as n
from .checkbase import CheckerBase, Scope


class TierMemoryChecks(CheckerBase):
    """The clauses that give a tier memory."""

    def tier_memory(self, tier: n.TierDecl, scope: Scope, what: str) -> None:
        self.twice(tier, what, (n.Keep, n.Hold))
        memory = [c for c in tier.clauses if isinstance(c, (n.Keep, n.Hold))]
        if tier.condition is None and memory:
            self.err("W025", f"{what} is `otherwise`, so `{'keep' if isinstance(memory[0], n.Keep) else 'hold'}` "
                     "changes nothing: it is the tier whenever no tier above it is", memory[0].span,
                     "give memory to a tier with a `when`")
            return
        for keep in tier.clauses_of(n.Keep):
            if keep.cond is None:
                continue
            t = self.value(keep.cond, scope)
            if not t.has("bool"):
                self.err("W021", f"the `keep while` of {what} must be a bool, but it is {t}", keep.cond.span)
        for hold in tier.clauses_of(n.Hold):
            if self.duration_fits(hold.duration) and hold.duration.seconds() <= 0:
                self.err("W055", f"{what} is held for a span of zero length", hold.duration.span,
                         "use a positive span, e.g. hold 14 days")

"""Checking `earlier(AGGREGATE ...)`: a measure over the subject's earlier events, inside a rule.

It is typed and checked exactly as a measure with the same aggregate and
clauses would be (measure_type and measure in checkitems), so the two can
never differ; only its place is its own: a rule's `where` and `award`, and
not inside another `earlier` (its `where` reads the earlier event, in a
measure's scope), which keeps evaluation one pass that always ends.
"""

from __future__ import annotations

from . import nodes as n
from .checkbase import CheckerBase, Scope
from .types import ERROR, Type


class EarlierChecks(CheckerBase):
    """The type and the checks of `earlier(...)`."""

    def _earlier(self, e: n.Earlier, scope: Scope) -> Type:
        if not scope.earlier:
            return self.err("W025", f"`earlier(...)` cannot be read in {scope.construct}: it is a value of one "
                            "event's past, read in a rule's where and award", e.span,
                            "in a score, tier or privilege use a measure")
        label = f"`earlier` in {scope.construct}"
        as_measure = n.MeasureDecl(label, e.aggregate, e.clauses, span=e.span, name_span=e.aggregate.span)
        t = self.measure_type(as_measure)
        saved = self.measure_types.get(label)
        self.measure_types[label] = t  # the default is checked against it, as a measure's is
        try:
            self.measure(as_measure)
        finally:
            if saved is None:
                del self.measure_types[label]
            else:
                self.measure_types[label] = saved
        return ERROR if t.is_error else t

"""The checker's part for site-wide measures (``across everyone``): see sitewide.check_site_measure."""

from __future__ import annotations

from . import nodes as n
from .sitewide import check_site_measure


class SiteChecks:
    """Mixin of the checker: each site-wide measure's own restrictions."""

    def site_measures(self) -> None:
        kind = self.rs.subject_kind.name if self.rs.subject_kind else None
        for item in self.program.items:
            if isinstance(item, n.MeasureDecl) and item.first(n.Across) is not None:
                self.twice(item, f"measure {item.name}", (n.Across,))
                self.diags.extend(check_site_measure(item, kind))

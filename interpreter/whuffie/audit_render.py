"""Rendering an audit: the documented JSON shape, a CSV with one row per group and measure, a text table.

``audit_data`` is the one translation of an ``audit.Audit`` into plain data;
the JSON, CSV and text forms are all printed from it, so they agree. Rates and
ratios are printed rounded (``--precision``), and the exact fraction behind
each impact ratio is printed next to it, because the flag is decided on the
fraction (a ratio shown as 0.80 may be 0.7999 and flagged).
"""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction

from .audit import Audit, Group, Selection
from .report import escape_controls, iso, number, plain_table, text_value, typed
from .symbols import Ruleset


def _fraction(value: Fraction | None, precision: int):
    return None if value is None else number(float(value), precision)


def _exact(value: Fraction | None) -> str | None:
    return None if value is None else str(value)


def _labels(labels) -> dict[str, str] | None:
    return None if labels is None else dict(labels)


def _selection(s: Selection, precision: int) -> dict:
    return {"count": s.count, "rate": _fraction(s.rate, precision),
            "impact_ratio": _fraction(s.impact_ratio, precision), "impact_ratio_exact": _exact(s.impact_ratio),
            "flagged": s.flagged, "uncertain": s.uncertain}


def _group(group: Group, ruleset: Ruleset, precision: int) -> dict:
    scores = {}
    for name, s in group.scores.items():
        t = ruleset.score_types.get(name)
        scores[name] = {
            "mean": _fraction(s.mean, precision),
            "median": None if s.median is None else number(typed(_plain(s.median), t), precision),
            "min": None if s.min is None else number(typed(s.min, t), precision),
            "max": None if s.max is None else number(typed(s.max, t), precision),
            "difference": _fraction(s.difference, precision),
            "versus": _labels(s.versus),
            "rules": [{"rule": g.rule, "mean_points": _fraction(g.mean_points, precision),
                       "difference": _fraction(g.difference, precision)} for g in s.rules],
        }
    tiers = {}
    for name, t in group.tiers.items():
        reached = _selection(t.at_or_above, precision)
        tiers[name] = {"count": t.count, "rate": _fraction(t.rate, precision),
                       "at_or_above": reached.pop("count"), "at_or_above_rate": reached.pop("rate"), **reached}
    return {"group": dict(group.labels), "count": group.count, "small": group.small, "scores": scores,
            "tiers": tiers, "privileges": {name: _selection(p, precision) for name, p in group.privileges.items()}}


def _plain(value: Fraction):
    """A median as an int when it is whole, else a float."""
    return int(value) if value.denominator == 1 else float(value)


def audit_data(result: Audit, ruleset: Ruleset, precision: int = 2) -> dict:
    """The documented JSON shape of an audit (docs/language.md, "Output formats")."""
    return {
        "by": list(result.by),
        "bands": {name: list(edges) for name, edges in result.bands.items()},
        "as_of": iso(result.as_of),
        "subjects": result.subjects,
        "min_group": result.min_group,
        "groups": [_group(g, ruleset, precision) for g in result.groups],
        "highest": {key: _labels(labels) for key, labels in result.highest.items()},
    }


def audit_json(result: Audit, ruleset: Ruleset, precision: int = 2) -> str:
    return json.dumps(audit_data(result, ruleset, precision), indent=2, ensure_ascii=False) + "\n"


CSV_COLUMNS = ("count", "small", "measure", "name", "mean", "median", "min", "max", "difference", "selected",
               "rate", "impact_ratio", "impact_ratio_exact", "flagged", "uncertain")


def audit_csv(result: Audit, ruleset: Ruleset, precision: int = 2) -> str:
    """One row per group and score, tier (at or above) or privilege; the group's attributes lead each row."""
    data = audit_data(result, ruleset, precision)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*data["by"], *CSV_COLUMNS])
    for group in data["groups"]:
        lead = [*(group["group"][a] for a in data["by"]), group["count"], _cell(group["small"])]
        for name, s in group["scores"].items():
            writer.writerow([*lead, "score", name, *(_cell(s[k]) for k in ("mean", "median", "min", "max",
                                                                         "difference")), "", "", "", "", "", ""])
        for kind, name, sel in _selections(group):
            writer.writerow([*lead, kind, name, "", "", "", "", "",
                             *(_cell(sel[k]) for k in ("count", "rate", "impact_ratio", "impact_ratio_exact",
                                                       "flagged", "uncertain"))])
    return out.getvalue()


def _selections(group: dict):
    for name, t in group["tiers"].items():
        yield "tier", name, {**t, "count": t["at_or_above"], "rate": t["at_or_above_rate"]}
    for name, p in group["privileges"].items():
        yield "privilege", name, p


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def audit_text(result: Audit, ruleset: Ruleset, precision: int = 2) -> str:
    """The audit as text: group sizes and scores, then each selection's rates and impact ratios, then the gaps."""
    data = audit_data(result, ruleset, precision)
    groups = data["groups"]
    names = [_name(g) for g in groups]
    bands = "".join(f"; {a} banded at {', '.join(str(e) for e in edges)}" for a, edges in data["bands"].items())
    lines = [f"audit of {ruleset.title or ruleset.name} by {', '.join(data['by'])} as of {data['as_of']}: "
             f"{data['subjects']} subjects in {len(groups)} groups{bands}",
             f"groups under {data['min_group']} members are small: their flags are uncertain (?)", ""]
    header = ["group", "count"]
    for score in ruleset.scores:
        header += [f"{score} mean", "median", "min", "max", "vs highest"]
    rows = []
    for name, g in zip(names, groups):
        row = [name, f"{g['count']}{' small' if g['small'] else ''}"]
        for score in ruleset.scores:
            s = g["scores"][score]
            row += [text_value(s[k], precision) for k in ("mean", "median", "min", "max", "difference")]
        rows.append(row)
    lines.append(plain_table(header, rows))
    sel_rows = []
    for kind, key in [("tier", t) for t in ruleset.tiers] + [("privilege", p) for p in ruleset.privileges]:
        title = f"tier >= {key}" if kind == "tier" else f"privilege {key}"
        for i, (name, g) in enumerate(zip(names, groups)):
            sel = next(s for k, n, s in _selections(g) if (k, n) == (kind, key))
            flag = ("flagged?" if sel["uncertain"] else "flagged") if sel["flagged"] else ""
            sel_rows.append([title if i == 0 else "", name, f"{sel['count']}/{g['count']}",
                             text_value(sel["rate"], precision), text_value(sel["impact_ratio"], precision),
                             sel["impact_ratio_exact"] or "-", flag])
    if sel_rows:
        lines.append("selection rates; impact ratio = rate / the highest group's rate, flagged below 4/5")
        lines.append(plain_table(["selection", "group", "selected", "rate", "impact", "exact", "flag"], sel_rows))
    gap_lines = []
    for score in ruleset.scores:
        for name, g in zip(names, groups):
            s = g["scores"][score]
            if not s["rules"]:
                continue
            rules = ", ".join(f"{r['rule']} {_signed(r['difference'], precision)}" for r in s["rules"])
            gap_lines.append(f"  {score}: {name} {_signed(s['difference'], precision)} vs {_name({'group': s['versus']})}"
                             f" — per member, {rules}")
    if gap_lines:
        lines.append("mean differences from the highest group, and the rules whose points differ most")
        lines.extend(gap_lines)
    return "\n".join(lines) + "\n"


def _name(group: dict) -> str:
    return escape_controls(", ".join(f"{a} {label}" for a, label in group["group"].items()))


def _signed(value, precision: int) -> str:
    text = text_value(value, precision)
    return text if text.startswith("-") else f"+{text}"

"""Rendering a RuleDiff: text a council can read in a meeting, and the documented JSON.

Pure functions: a ``diff.RuleDiff`` in, text out. Records of subjects are the
records `score --format json` prints (report.record), so a consumer reads
both with one parser.
"""

from __future__ import annotations

import json

from . import report
from .diff import RuleDiff

_MARKS = {"added": "+", "removed": "-", "changed": "~"}
_COLOURS = {"added": "\x1b[32m", "removed": "\x1b[31m", "changed": "\x1b[33m"}
_RESET = "\x1b[0m"


# ---------------------------------------------------------------- JSON


def diff_data(result: RuleDiff, precision: int = 2) -> dict:
    """The JSON document as plain data, keys in the documented order."""
    impact = result.impact
    data = {
        "old": result.old_label,
        "new": result.new_label,
        "changes": [{"kind": c.kind, "name": c.name, "change": c.change, "by": c.by, "old_by": c.old_by,
                     "clauses": [{"clause": k.clause, "old": k.old, "new": k.new} for k in c.clauses],
                     "old_line": c.old_line, "new_line": c.new_line} for c in result.changes],
        "params": [{"name": name, "old": old, "new": new} for name, old, new in result.params],
        "schema": None,
        "as_of": None,
        "subjects": [],
        "summary": None,
        "by_rule": [],
        "by_author": [],
    }
    if result.schema is not None:
        data["schema"] = {"read": result.schema.read,
                          "rejected_by_old_only": len(result.schema.rejected_by_old_only),
                          "rejected_by_new_only": len(result.schema.rejected_by_new_only)}
    if impact is None:
        return data
    old_rs, new_rs = _rulesets(result)
    data["as_of"] = report.iso(impact.as_of)
    data["subjects"] = [{"subject": m.subject,
                         "old": report.record(m.old, precision, old_rs) if m.old else None,
                         "new": report.record(m.new, precision, new_rs) if m.new else None}
                        for m in impact.movers]
    data["summary"] = {
        "subjects": impact.subjects,
        "movers": len(impact.movers),
        "points": {"old": report.number(impact.old_points, precision),
                   "new": report.number(impact.new_points, precision),
                   "moved": report.number(impact.points_moved, precision)},
        "tier_changes": [{"from": a, "to": b, "subjects": k} for a, b, k in impact.tier_changes],
        "privileges": [{"privilege": p.privilege, "gained": p.gained, "lost": p.lost} for p in impact.privileges],
        "lead_score": impact.lead_score,
        "largest_up": [{"subject": s, "change": report.number(d, precision)} for s, d in impact.largest_up],
        "largest_down": [{"subject": s, "change": report.number(d, precision)} for s, d in impact.largest_down],
    }
    data["by_rule"] = [{"rule": r.rule, "by": r.by, "change": r.change, "points": report.number(r.points, precision)}
                       for r in impact.by_rule]
    data["by_author"] = [{"author": a, "points": report.number(p, precision)} for a, p in impact.by_author]
    return data


def diff_json(result: RuleDiff, precision: int = 2) -> str:
    return json.dumps(diff_data(result, precision), indent=2, ensure_ascii=False) + "\n"


def _rulesets(result: RuleDiff):
    return result.impact.old_ruleset, result.impact.new_ruleset


# ---------------------------------------------------------------- text


def diff_text(result: RuleDiff, precision: int = 2, color: bool = False) -> str:
    """The declaration diff, then (with events) the impact tables."""
    out: list[str] = []
    counts = {kind: sum(c.change == kind for c in result.changes) for kind in _MARKS}
    if not result.changes:
        out.append(f"{result.old_label} -> {result.new_label}: no declaration changed")
    else:
        summary = ", ".join(f"{k} {kind}" for kind, k in counts.items() if k)
        out.append(f"{result.old_label} -> {result.new_label}: {len(result.changes)} declaration"
                   f"{'s' * (len(result.changes) != 1)} ({summary})")
    for c in result.changes:
        out.append("")
        out.extend(_change_lines(c, color, result.old_label, result.new_label))
    if result.params:
        out.append("")
        out.extend(f"param {name}: {old or '(none)'} -> {new or '(none)'} (--set-old/--set-new)"
                   for name, old, new in result.params)
    if result.schema is not None and result.schema.any:
        out.append("")
        out.extend(_schema_lines(result))
    if result.impact is not None:
        out.append("")
        out.extend(_impact_lines(result, precision))
    return "\n".join(report.escape_controls(line) if not color else line for line in out) + "\n"


def _paint(text: str, change: str, color: bool) -> str:
    return f"{_COLOURS[change]}{text}{_RESET}" if color else text


def _at(file: str | None, line: int | None, label: str) -> str:
    """A declaration's place: `line N` in the side's own file, else `FILE:N` (a REPL input, an import)."""
    return f"line {line}" if file in (None, label) else f"{file}:{line}"


def _change_lines(c, color: bool, old_label: str, new_label: str) -> list[str]:
    who = f", by {c.by}" if c.by else ""
    if c.change == "changed" and c.old_by != c.by:
        who = f", by {c.by or 'nobody'} (was {c.old_by or 'nobody'})"
    old_at, new_at = _at(c.old_file, c.old_line, old_label), _at(c.new_file, c.new_line, new_label)
    if c.change == "changed" and old_at.startswith("line ") and new_at.startswith("line "):
        new_at = new_at.removeprefix("line ")
    place = {"added": new_at, "removed": f"was {old_at}", "changed": f"{old_at} -> {new_at}"}[c.change]
    name = f'"{c.name}"' if c.kind in ("test", "property", "import") else c.name
    head = f"{_MARKS[c.change]} {c.kind} {name} {c.change}{who}  [{place}]"
    lines = [_paint(head, c.change, color)]
    if c.change == "changed":
        for k in c.clauses:
            lines.append(f"    {k.clause}:")
            if k.old is not None:
                lines.append(_paint(f"      - {k.old}", "removed", color))
            if k.new is not None:
                lines.append(_paint(f"      + {k.new}", "added", color))
    else:
        mark = _MARKS[c.change]
        lines.extend(_paint(f"    {mark} {line}", c.change, color) for line in c.text.splitlines())
    return lines


def _schema_lines(result: RuleDiff) -> list[str]:
    s = result.schema
    lines = [f"Events: of {s.read} lines, {len(s.rejected_by_old_only)} only the new version accepts and "
             f"{len(s.rejected_by_new_only)} only the old version accepts"]
    for label, rejects in (("old", s.rejected_by_old_only), ("new", s.rejected_by_new_only)):
        for r in rejects[:3]:
            lines.append(f"  rejected by the {label} version: {r.where}: {r.message}")
        if len(rejects) > 3:
            lines.append(f"  … and {len(rejects) - 3} more rejected by the {label} version")
    return lines


def _impact_lines(result: RuleDiff, precision: int) -> list[str]:
    impact = result.impact
    old_rs, new_rs = _rulesets(result)
    p = precision
    lines = [f"Impact as of {report.iso(impact.as_of)}: {impact.subjects} subject"
             f"{'s' * (impact.subjects != 1)}, {len(impact.movers)} move; points "
             f"{report.text_value(impact.old_points, p)} -> {report.text_value(impact.new_points, p)} "
             f"({_signed(impact.points_moved, p)})"]
    if impact.movers:
        scores = [*new_rs.scores, *(s for s in old_rs.scores if s not in new_rs.scores)]
        header = ["subject", *scores, "tier", "privileges"]
        rows = []
        for m in impact.movers:
            before = report.typed_scores(m.old, old_rs) if m.old else {}
            after = report.typed_scores(m.new, new_rs) if m.new else {}
            row = [m.subject]
            for s in scores:
                row.append(_arrow(report.text_value(before.get(s), p) if m.old and s in old_rs.scores else "·",
                                  report.text_value(after.get(s), p) if m.new and s in new_rs.scores else "·"))
            row.append(_arrow((m.old.tier or "-") if m.old else "·", (m.new.tier or "-") if m.new else "·"))
            had = set(m.old.privileges) if m.old else set()
            has = set(m.new.privileges) if m.new else set()
            row.append(" ".join([*(f"+{x}" for x in sorted(has - had)), *(f"-{x}" for x in sorted(had - has))])
                       or "-")
            rows.append(row)
        lines.append("")
        lines.extend(report.plain_table(header, rows).rstrip("\n").splitlines())
    if impact.tier_changes:
        lines += ["", "Tier changes (from -> to: subjects):"]
        lines += [f"  {a or '·'} -> {b or '·'}: {k}" for a, b, k in impact.tier_changes]
    moved = [x for x in impact.privileges if x.gained or x.lost]
    if moved:
        lines += ["", "Privileges (gained, lost):"]
        lines += [f"  {x.privilege}: +{x.gained} -{x.lost}" for x in moved]
    if impact.largest_up or impact.largest_down:
        lines += ["", f"Largest movers by {impact.lead_score}:"]
        if impact.largest_up:
            lines.append("  up:   " + ", ".join(f"{s} {_signed(d, p)}" for s, d in impact.largest_up))
        if impact.largest_down:
            lines.append("  down: " + ", ".join(f"{s} {_signed(d, p)}" for s, d in impact.largest_down))
    if impact.by_rule:
        lines += ["", "Points moved by rule:"]
        rows = [[r.rule, r.by or "-", r.change, _signed(r.points, p)] for r in impact.by_rule]
        lines += ["  " + ln for ln in report.plain_table(["rule", "by", "change", "points"], rows).splitlines()]
        lines += ["", "Points moved by author (deciding side):"]
        rows = [[a or "-", _signed(x, p)] for a, x in impact.by_author]
        lines += ["  " + ln for ln in report.plain_table(["author", "points"], rows).splitlines()]
    return lines


def _arrow(old: str, new: str) -> str:
    return old if old == new else f"{old} -> {new}"


def _signed(value, precision: int) -> str:
    text = report.text_value(value, precision)
    return text if text.startswith("-") or text.strip("0.") == "" else f"+{text}"

"""Rendering results: score tables and records, explanations with reasons, the authors report.

Every function here is pure: results in, text or plain data out. Numbers are
rounded half away from zero to ``precision`` decimals; ints stay ints. A
score's or measure's value is printed in the checker's type of that score or
measure (``int`` as ``10``, ``number`` as ``10.0`` / ``10.00``), whatever the
engine or the spelling of the data. Keys of every record come in the
documented order, so the same results always render to the same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import replace

from . import nodes as n
from . import sourcelines
from .sourcelines import display_width
from .evaluator import LedgerEntry, Results, SubjectResult, round_half_away
from .inputs import paused_gc
from .symbols import Ruleset

from .reasons import DEFAULT_REASONS, Reason, reason_data, reasons  # noqa: F401 - reasons live there


# ---------------------------------------------------------------- values


def number(value, precision: int = 2):
    """A value as it appears in output: rounded floats, ints as ints, times as ISO text."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        rounded = round_half_away(value, precision)
        return rounded + 0.0 if rounded != 0 else 0.0  # no "-0.0" in output
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
        if seconds % 86400 == 0:
            return f"{int(seconds // 86400)} days"
        return f"{number(seconds, precision)} seconds"
    return str(value)


def typed(value, t):
    """A value in its checked type ``t`` (types.Type or None): a number is a float, a whole int-typed value an int."""
    base = getattr(t, "base", None)
    if value is None or isinstance(value, bool):
        return value
    if base == "number" and isinstance(value, int):
        return float(value)
    if base == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def typed_scores(result: SubjectResult, ruleset: Ruleset | None) -> dict:
    """A subject's scores in their checked types (as they are when no ruleset is given)."""
    if ruleset is None:
        return result.scores
    return {k: typed(v, ruleset.score_types.get(k)) for k, v in result.scores.items()}


def typed_measures(result: SubjectResult, ruleset: Ruleset | None) -> dict:
    """A subject's measures in their checked types (an optional measure keeps its none)."""
    if ruleset is None:
        return result.measures
    return {k: typed(v, ruleset.measure_types.get(k)) for k, v in result.measures.items()}


def iso(at: dt.datetime) -> str:
    """An instant as ISO 8601 in UTC with a Z."""
    at = at.astimezone(dt.timezone.utc)
    # isoformat, not strftime: glibc's %Y drops the leading zeros of years before 1000.
    text = at.replace(tzinfo=None, microsecond=0).isoformat()
    if at.microsecond:
        text += f".{at.microsecond:06d}".rstrip("0")
    return text + "Z"


def text_value(value, precision: int = 2) -> str:
    """A value as table text: none is "-", floats keep exactly ``precision`` decimals."""
    value = number(value, precision)
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.{precision}f}"
    return str(value)


def near_bound_text(value, bounds, precision: int = 2) -> str:
    """``value`` as table text, with more decimals where ``precision`` would misplace it against a bound.

    79.9999 rounds to 80.00, which reads as meeting `>= 80`; so a value that is
    not a bound but would print on a bound, or on its other side, gets the
    fewest extra decimals that keep it on its own side (at most 17).
    """
    wanted = near_bound_precision(value, bounds, precision)
    return text_value(value, wanted)


def near_bound_precision(value, bounds, precision: int = 2) -> int:
    """The decimals ``value`` needs to be shown on its true side of every bound in ``bounds``."""
    if not isinstance(value, float) or (value.is_integer() and precision >= 0):
        return precision  # a whole number prints as itself: on its own side of every bound
    limits = [b for b in bounds if isinstance(b, (int, float)) and not isinstance(b, bool) and b != value]
    wanted = precision
    while wanted < 17 and not all(_same_side(round_half_away(value, wanted), value, b) for b in limits):
        wanted += 1
    return wanted


def _same_side(shown, value, bound) -> bool:
    return (shown > bound) == (value > bound) and (shown < bound) == (value < bound)


def comparison_bounds(ruleset: Ruleset) -> dict[str, list]:
    """For each score and measure, the constants tiers and privileges compare it with (`standing >= 150`)."""
    from .checkbase import constant

    found: dict[str, list] = {}
    conditions = [d.condition for d in ruleset.tiers.values() if d.condition is not None]
    conditions += [d.condition for d in ruleset.privileges.values()]
    stack = list(conditions)
    while stack:
        e = stack.pop()
        if isinstance(e, n.Compare):
            for a, b in zip(e.operands, e.operands[1:]):
                for name_side, other in ((a, b), (b, a)):
                    c = constant(other)
                    if isinstance(name_side, n.Name) and isinstance(c, (int, float)) and not isinstance(c, bool):
                        found.setdefault(name_side.id, []).append(c)
        stack.extend(n.children(e))
    return found


_LAST_BOUNDS: list = [None, {}]  # the ruleset last asked about and its bounds: one run, one ruleset


def bounds_of(ruleset: Ruleset | None) -> dict[str, list]:
    """``comparison_bounds`` computed once per ruleset (records are rendered one per subject)."""
    if ruleset is None:
        return {}
    if _LAST_BOUNDS[0] is not ruleset:
        _LAST_BOUNDS[:] = [ruleset, comparison_bounds(ruleset)]
    return _LAST_BOUNDS[1]


def honest_number(value, bounds, precision: int = 2):
    """``number`` with the decimals ``near_bound_precision`` asks for (JSON output)."""
    return number(value, near_bound_precision(value, bounds, precision))


# ---------------------------------------------------------------- score records


def record(result: SubjectResult, precision: int = 2, ruleset: Ruleset | None = None,
           with_reasons: int | None = None) -> dict:
    """The documented score record of one subject (values in their checked types, given the ruleset).

    ``with_reasons`` N adds the subject's top N reasons (``score --reasons N``; needs the ledger).
    """
    bounds = bounds_of(ruleset)
    from .tier_history import has_history, tier_since

    data = {
        "subject": result.subject,
        "scores": {k: honest_number(v, bounds.get(k, ()), precision)
                   for k, v in typed_scores(result, ruleset).items()},
        "tier": result.tier,
        "privileges": list(result.privileges),
        "measures": {k: honest_number(v, bounds.get(k, ()), precision)
                     for k, v in typed_measures(result, ruleset).items()},
    }
    if with_reasons is not None:
        data["reasons"] = [reason_data(r, precision) for r in reasons(result, ruleset, with_reasons)]
    if has_history(ruleset):  # a tier with memory: when the present tier was reached
        since = tier_since(result)
        data["tier_since"] = iso(since) if since else None
    return data


def score_json(results: Results, precision: int = 2, ruleset: Ruleset | None = None,
               with_reasons: int | None = None) -> str:
    """``score --format json``: a list of records sorted by subject."""
    with paused_gc():
        return json.dumps([record(r, precision, ruleset, with_reasons) for r in results.subjects], indent=2,
                          ensure_ascii=False) + "\n"


def score_jsonl(results: Results, precision: int = 2, ruleset: Ruleset | None = None,
                with_reasons: int | None = None) -> str:
    """``score --format jsonl``: one record per line."""
    with paused_gc():
        return "".join(json.dumps(record(r, precision, ruleset, with_reasons), ensure_ascii=False) + "\n"
                       for r in results.subjects)


def score_columns(ruleset: Ruleset, with_reasons: int | None = None) -> list[str]:
    """Column names of the score table and CSV (a last `reasons` column with ``score --reasons N``)."""
    extra = ["reasons"] if with_reasons is not None else []
    return ["subject", *ruleset.scores, "tier", "privileges", *ruleset.measures, *extra]


def reasons_cell(result: SubjectResult, ruleset: Ruleset, limit: int) -> str:
    """The `reasons` cell of the table and CSV: each reason's rule (``factor:rule`` for a bin), largest loss first."""
    found = reasons(result, ruleset, limit)
    return " ".join(f"{r.factor}:{r.rule}" if r.factor else r.rule for r in found) or "-"


def score_rows(results: Results, ruleset: Ruleset, precision: int = 2,
               with_reasons: int | None = None) -> list[list[str]]:
    """One text row per subject, in ``score_columns`` order."""
    rows = []
    bounds = bounds_of(ruleset)
    score_cells = [(s, cell_text(ruleset.score_types.get(s), bounds.get(s, ()), precision)) for s in ruleset.scores]
    measure_cells = [(m, cell_text(ruleset.measure_types.get(m), bounds.get(m, ()), precision))
                     for m in ruleset.measures]
    with paused_gc():
        for r in results.subjects:
            scores, measures = r.scores, r.measures
            rows.append([
                r.subject,
                *[cell(scores.get(s)) for s, cell in score_cells],
                r.tier or "-",
                " ".join(r.privileges) or "-",
                *[cell(measures.get(m)) for m, cell in measure_cells],
                *([reasons_cell(r, ruleset, with_reasons)] if with_reasons is not None else []),
            ])
    return rows


def cell_text(t, bounds, precision: int = 2):
    """value -> ``near_bound_text(typed(value, t), bounds, precision)``: a column's cells, one call each.

    A table of 200,000 subjects has 600,000 cells; the two kinds nearly all of
    them are — an int, and a whole float (``1 + points``) — are written here
    as those functions would write them (an int as itself, a whole float with
    ``precision`` zeros and no minus zero), everything else by them.
    """
    base = getattr(t, "base", None)

    def careful(value) -> str:
        return near_bound_text(typed(value, t), bounds, precision)
    if precision < 0:
        return careful
    whole = f"{{:.{precision}f}}".format

    def cell(value) -> str:
        kind = type(value)
        if kind is int and base != "number":
            return str(value)
        if kind is float and base != "int" and value.is_integer():
            return whole(value + 0.0 if value != 0 else 0.0)
        return careful(value)
    return cell


def score_csv(results: Results, ruleset: Ruleset, precision: int = 2, with_reasons: int | None = None) -> str:
    """``score --format csv``: a header, then one row per subject (privileges space-separated)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(score_columns(ruleset, with_reasons))
    for row in score_rows(results, ruleset, precision, with_reasons):
        writer.writerow(["" if cell == "-" else cell for cell in row])
    return out.getvalue()


def plain_table(header: list[str], rows: list[list[str]]) -> str:
    """An aligned text table (for pipes: no colour, no box drawing).

    Cells are aligned by their width on a terminal (a CJK character or an
    emoji takes two columns), and control characters in them are escaped, so
    an id holding a newline or an escape sequence cannot break the table.
    """
    header = [escape_controls(h) for h in header]
    rows = [[escape_controls(cell) for cell in row] for row in rows]
    widths = [max(display_width(h), *(display_width(r[i]) for r in rows)) if rows else display_width(h)
              for i, h in enumerate(header)]

    def line(cells):
        parts = []
        for i, cell in enumerate(cells):
            numeric = i > 0 and _looks_numeric(cell)
            pad = " " * (widths[i] - display_width(cell))
            parts.append(pad + cell if numeric else cell + pad)
        return "  ".join(parts).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]) + "\n"




_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str) -> str:
    """``text`` with control, line-separator and bidi-override characters written as escapes (\\n, \\x1b, \\u202e).

    Such characters in an id would start a new line, recolour the terminal or
    reorder what follows; escaped, the id shows what it really holds.
    """
    if text.isprintable():  # no control, format or separator character at all
        return text
    return _CONTROL.sub(_escape_one, text)


def _escape_one(found) -> str:
    char = found.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in named:
        return named[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _looks_numeric(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


# ---------------------------------------------------------------- explanations


def ledger_entry(entry: LedgerEntry, precision: int = 2) -> dict:
    """One ledger entry as a plain dict (``explain --format json``)."""
    return {
        "rule": entry.rule,
        "author": entry.author,
        "because": entry.because,
        "cites": list(entry.cites),
        "event": entry.event_id,
        "event_type": entry.event_type,
        "at": iso(entry.at),
        "line": entry.line,
        "raw": number(entry.raw, precision),
        "capped": number(entry.capped, precision),
        "cut_by": [{"by": c.by, "amount": number(c.amount, precision)} for c in entry.cuts],
        "decay": number(entry.decay, 6),
        "value": number(entry.value, precision),
        "span": str(entry.span),
    } | ({"earlier": [{"expr": text, "value": number(v, precision)} for text, v in entry.earlier]}
         if entry.earlier else {})


def reason_text(r: Reason, precision: int = 2) -> str:
    """One reason as a line: a factor's bin with the points below its best bin, or a rule's lost points."""
    p = precision
    events = f"{r.events} event{'s' * (r.events != 1)}"
    why = f" - {r.because}" if r.because else ""
    if r.factor is not None:
        return (f"{r.factor}: {r.rule} by {r.author or '?'} gave {text_value(r.points, p)}, "
                f"{text_value(r.loss, p)} below the best bin ({events}){why}")
    return f"{r.rule} by {r.author or '?'}: {text_value(r.points, p)} ({events}){why}"


def explain_json(result: SubjectResult, precision: int = 2, limit: int = DEFAULT_REASONS,
                 ruleset: Ruleset | None = None, why_not: dict | None = None) -> str:
    """``explain --format json``: the score record plus its ledger and reasons."""
    data = record(result, precision, ruleset)
    data["points"] = number(result.points, precision)
    if "tier_since" in data:  # a tier with memory: the history behind the tier
        from .tier_history import change_record

        data["tier_history"] = [{k: v for k, v in change_record(result.subject, c).items() if k != "subject"}
                                for c in result.tier_log]
    data["ledger"] = [ledger_entry(e, precision) for e in result.ledger]
    data["reasons"] = [reason_data(r, precision) for r in reasons(result, ruleset, limit)]
    if why_not is not None:
        data["why_not"] = why_not
    if ruleset is not None and ruleset.params:  # the values this run used (`--set` ones marked)
        data["params"] = [{"name": p.name, "value": p.shown(), "set": p.overridden} for p in ruleset.params]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def source_of(span: n.Span, source: str | None) -> str | None:
    """The source text a span covers, on one line (``source`` may map file names to texts)."""
    if isinstance(source, dict):  # the REPL's rule set mixes the file and typed declarations
        source = source.get(span.file)
    if source is None or not span.line:
        return None
    lines = sourcelines.split(source)
    if span.end_line > len(lines):
        return None
    if span.line == span.end_line:
        text = lines[span.line - 1][span.col - 1:span.end_col - 1]
    else:
        parts = [lines[span.line - 1][span.col - 1:]]
        parts += lines[span.line:span.end_line - 1]
        parts.append(lines[span.end_line - 1][:span.end_col - 1])
        text = " ".join(p.strip() for p in parts)
    return " ".join(text.split())


def _names_in(expr) -> list[str]:
    found: list[str] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, n.Name) and node.id not in found:
            found.append(node.id)
        if isinstance(node, n.Call) and node.func == "points" and len(node.args) == 1 \
                and isinstance(node.args[0], n.Name):
            label = f"points({node.args[0].id})"
            if label not in found:
                found.append(label)
            continue
        stack.extend(reversed(n.children(node)))
    return found


def explain_text(result: SubjectResult, ruleset: Ruleset, source: str | None, as_of: dt.datetime,
                 precision: int = 2, limit: int = DEFAULT_REASONS, next_tier: str | None = None) -> str:
    """``explain``: ledger by rule, cuts, measures, how each score was computed, and the reasons."""
    p = precision
    result = replace(result, scores=typed_scores(result, ruleset), measures=typed_measures(result, ruleset))
    bounds = bounds_of(ruleset)

    def shown(name: str, value) -> str:  # a score or measure, with the digits its tier bounds need
        return near_bound_text(value, bounds.get(name, ()), p)

    out: list[str] = []
    out.append(f"{escape_controls(result.subject)} as of {iso(as_of)} ({result.events} event{'' if result.events == 1 else 's'})")
    out.append("")
    scores = ", ".join(f"{k} {shown(k, v)}" for k, v in result.scores.items())
    out.append(f"  {scores}" if scores else "  (no scores)")
    out.append(f"  tier: {result.tier or '-'}")
    if next_tier:
        out.append(next_tier)
    from .tier_history import explain_lines

    out.extend(explain_lines(result))
    out.append(f"  privileges: {', '.join(result.privileges) or '-'}")
    out.append("")
    out.append("Ledger")
    by_rule: dict[str, list[LedgerEntry]] = {}
    for e in result.ledger:
        by_rule.setdefault(e.rule, []).append(e)
    if not by_rule:
        out.append("  (no rule fired)")
    for rule_name in ruleset.rules:
        entries = by_rule.get(rule_name)
        if not entries:
            continue
        first = entries[0]
        total = sum(e.value for e in entries)
        out.append(f"  {rule_name} by {first.author or '?'}: {text_value(total, p)} points "
                   f"from {len(entries)} event{'s' * (len(entries) != 1)}   [{first.span}]")
        if first.because:
            out.append(f"    because \"{first.because}\"")
        for c in first.cites:
            out.append(f"    cites \"{c}\"")
        cut_totals: dict[str, list] = {}
        for e in entries:
            for c in e.cuts:
                slot = cut_totals.setdefault(c.by, [0, 0])
                slot[0] += c.amount
                slot[1] += 1
        for by, (amount, count) in cut_totals.items():
            out.append(f"    cut by {by}: {text_value(amount, p)} of the raw awards "
                       f"({count} event{'s' * (count != 1)})")
        for e in entries:
            detail = f"raw {text_value(e.raw, p)}"
            for c in e.cuts:
                detail += f", cut by {c.by} -> {text_value(e.capped, p)}" if c is e.cuts[-1] else f", cut by {c.by}"
            if e.decay != 1.0:
                detail += f", decay x{e.decay:.4f}"
            origin = "" if e.event_id == e.line else f"; {e.line}"
            if " as " in e.event_type:  # an event of several subjects: the role it scored this one in
                origin += f"; {e.event_type}"
            out.append(f"    {iso(e.at)}  {e.event_id:<20} {text_value(e.value, p):>9}  ({detail}{origin})")
            for text, seen in e.earlier:  # what the rule saw of the subject's past
                out.append(f"      saw {text} = {text_value(seen, p)}")
    out.append(f"  points = {text_value(result.points, p)}")
    if ruleset.params:
        out.append("")
        out.append("Params")
        out.extend(f"  {q.name} = {q.shown()}" + ("   (--set)" if q.overridden else "") for q in ruleset.params)
    if result.measures:
        out.append("")
        out.append("Measures")
        for k, v in result.measures.items():
            decl = ruleset.measures.get(k)
            text = source_of(decl.span, source) if decl else None
            out.append(f"  {k} = {shown(k, v)}" + (f"   ({text})" if text else ""))
    if result.scores:
        out.append("")
        out.append("Scores")
        for k, v in result.scores.items():
            decl = ruleset.scores[k]
            expr_text = source_of(decl.expr.span, source) or "?"
            inputs = []
            for name in _names_in(decl.expr):
                if name == "points":
                    inputs.append(f"points = {text_value(result.points, p)}")
                elif name.startswith("points("):
                    rule = name[7:-1]
                    inputs.append(f"{name} = {text_value(result.points_by_rule.get(rule, 0), p)}")
                elif name in result.measures:
                    inputs.append(f"{name} = {shown(name, result.measures[name])}")
                elif name in result.scores and name != k:
                    inputs.append(f"{name} = {shown(name, result.scores[name])}")
            where = f" with {', '.join(inputs)}" if inputs else ""
            out.append(f"  {k} = {expr_text}{where} -> {shown(k, v)}")
            for b in decl.clauses_of(n.Bound):
                out.append(f"    {b.kind} {source_of(b.value.span, source) or '?'} per event "
                           "(applied to the running balance, see cuts above)")
    out.append("")
    out.append("Reasons (points below each factor's best bin, and points taken away; largest first)"
               if ruleset.factors else "Reasons (what lowered the score most)")
    found = reasons(result, ruleset, limit)
    if not found:
        out.append("  none asked for (--reasons 0)" if limit <= 0 and reasons(result, ruleset, 1)
                   else "  none: no rule took points away")
    for i, r in enumerate(found, 1):
        out.append(f"  {i}. {reason_text(r, p)}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- authors


_OWNED = ("rules", "caps", "shared_caps", "factors", "params", "measures", "conditions", "scores", "tiers",
          "privileges", "properties")


def _num(x) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


def authors_data(ruleset: Ruleset, results: Results | None = None, precision: int = 2) -> list[dict]:
    """Every author with what they own and, given results, their share of points awarded and taken."""
    owned = {name: {k: [] for k in _OWNED} for name in ruleset.authors}

    def add(author, table, name):
        if author is not None:
            owned.setdefault(author, {k: [] for k in _OWNED})[table].append(name)

    for d in ruleset.rules.values():
        add(d.by, "rules", d.name)
        for cap in d.clauses_of(n.Cap):
            add(d.by, "caps", f"{d.name}: cap {_num(cap.amount)} " + (f"per {cap.window}" if cap.window else "total"))
    for d in ruleset.shared_caps.values():
        add(d.by, "shared_caps", d.name)
    for d in ruleset.factors.values():
        add(d.by, "factors", d.name)
    for p in ruleset.params:
        add(p.by, "params", p.name)
    for d in ruleset.measures.values():
        add(d.by, "measures", d.name)
    for d in ruleset.conditions.values():
        add(d.by, "conditions", d.name)
    for d in ruleset.scores.values():
        add(d.by, "scores", d.name)
    for d in ruleset.tiers.values():
        add(d.by, "tiers", d.name)
    for d in ruleset.privileges.values():
        add(d.by, "privileges", d.name)
    for d in ruleset.properties:
        add(d.by, "properties", d.name)
    awarded: dict[str, float] = {}
    taken: dict[str, float] = {}
    if results is not None:
        for s in results.subjects:
            for e in s.ledger:
                bucket = awarded if e.value > 0 else taken
                key = e.author or "?"
                bucket[key] = bucket.get(key, 0) + e.value
    total_awarded = sum(awarded.values())
    total_taken = sum(taken.values())
    out = []
    for name, things in owned.items():
        decl = ruleset.authors.get(name)
        item = {"author": name, "description": decl.description if decl else None, **things}
        if results is not None:
            a, t = awarded.get(name, 0), taken.get(name, 0)
            item["awarded"] = number(a, precision)
            item["awarded_share"] = number(100 * a / total_awarded if total_awarded else 0.0, precision)
            item["taken"] = number(t, precision)
            item["taken_share"] = number(100 * t / total_taken if total_taken else 0.0, precision)
        out.append(item)
    return out


def authors_text(data: list[dict], with_shares: bool, precision: int = 2) -> str:
    """The authors report as text."""
    out = []
    labels = (("rules", "rules"), ("caps", "caps"), ("shared_caps", "shared caps"), ("factors", "factors"),
              ("params", "params"), ("measures", "measures"), ("conditions", "conditions"),
              ("scores", "scores"), ("tiers", "tiers"), ("privileges", "privileges"),
              ("properties", "properties"))
    for item in data:
        head = item["author"] + (f"  {item['description']}" if item["description"] else "")
        out.append(head)
        for key, label in labels:
            if item[key]:
                out.append(f"  {label}: {('; ' if key == 'caps' else ', ').join(item[key])}")
        if not any(item[k] for k, _ in labels):
            out.append("  (owns nothing)")
        if with_shares:
            out.append(f"  awarded {text_value(item['awarded'], precision)} points "
                       f"({text_value(item['awarded_share'], precision)}% of all awarded), "
                       f"took {text_value(item['taken'], precision)} "
                       f"({text_value(item['taken_share'], precision)}% of all taken)")
        out.append("")
    return "\n".join(out)

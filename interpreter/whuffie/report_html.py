"""The outcome report as one self-contained HTML page.

Entry point: ``report_html(data, precision)`` with the document of
``report_data.report_data``. The page is one file that sends no request: the
style is inline, the charts are inline SVG (``report_charts``), there is no
script, no font and no image to load, and a Content-Security-Policy of
``default-src 'none'`` makes the browser refuse any request a future change
might add. Every string that comes from a rule file or the data (names,
descriptions, because texts, subject ids, group labels) is HTML-escaped.

Every number on the page is printed from the document, and its cell says
where in it (``data-field``, a JSON Pointer into `whuffie report --format
json`), so a test can check each one against what the command line prints.
"""

from __future__ import annotations

import html

from . import __version__
from . import report_charts as charts
from .report import text_value

_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1a1a1a; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .9rem; }
th, td { padding: .2rem .6rem; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.flagged { color: #a33a00; font-weight: bold; } .uncertain { color: #8a6d00; font-weight: bold; }
.small { color: #666; font-style: italic; } .note { color: #555; font-size: .9rem; }
svg.chart { max-width: 100%; height: auto; display: block; margin: .5rem 0; }
nav a { margin-right: .8rem; } code { background: #f3f3f3; padding: 0 .2rem; }
"""


def _e(value) -> str:
    """Any user-controlled text, escaped for element content and quoted attributes alike."""
    return html.escape("" if value is None else str(value), quote=True)


def _pointer(*parts) -> str:
    """A JSON Pointer (RFC 6901) to one value of the report document."""
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class _Page:
    """The page under construction: its parts, and the precision every number is printed with."""

    def __init__(self, data: dict, precision: int):
        self.data, self.precision, self.parts = data, precision, []

    def add(self, *chunks: str) -> None:
        self.parts.extend(chunks)

    def num(self, value, *where, text: str | None = None) -> str:
        """A numeric cell printed exactly as the command line prints ``value``, tagged with where it comes from."""
        shown = text_value(value, self.precision) if text is None else text
        return f'<td class="num" data-field="{_e(_pointer(*where))}">{_e(shown)}</td>'

    def signed(self, value, *where) -> str:
        """A difference in running text, with its sign, tagged like ``num``."""
        return f'<span data-field="{_e(_pointer(*where))}">{_e(_signed(value, self.precision))}</span>'

    def table(self, header: list[str], rows: list[list[str]], caption: str | None = None) -> None:
        """Rows whose cells are already markup (``num`` cells or escaped ``<td>``s)."""
        head = "".join(f"<th>{_e(h)}</th>" for h in header)
        cap = f"<caption>{_e(caption)}</caption>" if caption else ""
        body = "".join(f"<tr>{''.join(row)}</tr>" for row in rows)
        self.add(f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _td(value, css: str | None = None) -> str:
    return f'<td class="{css}">{_e(value)}</td>' if css else f"<td>{_e(value)}</td>"


def report_html(data: dict, precision: int = 2) -> str:
    """The whole page (raises report_charts.ChartsUnavailable when matplotlib is missing)."""
    page = _Page(data, precision)
    title = data["title"] or data["rule_set"]
    sections = [("authors", "Authors"), ("scores", "Scores"), ("tiers", "Tiers and privileges"),
                ("rules", "Rules"), ("audit", "Group audit"), ("diff", "Change impact")]
    shown = [(key, name) for key, name in sections if key not in ("audit", "diff") or data[key] is not None]
    page.add("<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{_e(title)}: outcomes report</title><style>{_CSS}</style></head><body>",
             f"<header><h1>{_e(title)}</h1>",
             f'<p>Rule set <code>{_e(data["rule_set"])}</code> as of <span data-field="/as_of">{_e(data["as_of"])}'
             f'</span>: <span data-field="/subjects">{data["subjects"]}</span> subjects, '
             f'<span data-field="/events">{data["events"]}</span> events scored.</p>',
             "<nav>" + "".join(f'<a href="#{k}">{_e(n)}</a>' for k, n in shown) + "</nav></header>")
    _authors(page)
    _scores(page)
    _tiers(page)
    _rules(page)
    if data["audit"] is not None:
        _audit(page)
    if data["diff"] is not None:
        _diff(page)
    page.add(f'<footer><p class="note">Written by whuffie {_e(__version__)}. Every number on this page is one '
             "that <code>whuffie report … --format json</code> prints (and <code>whuffie audit</code>, "
             "<code>whuffie authors</code>, <code>whuffie diff</code> print the same for their parts).</p>"
             "</footer></body></html>")
    return "\n".join(page.parts) + "\n"


def _authors(page: _Page) -> None:
    authors = page.data["authors"]
    page.add('<section id="authors"><h2>Authors</h2>',
             '<p class="note">Who wrote the rules, and each author\'s share of the points awarded and taken.</p>')
    if authors:
        page.add(charts.shares_chart("authors", [a["author"] for a in authors],
                                     [a["awarded_share"] for a in authors], [a["taken_share"] for a in authors]))
    rows = []
    for i, a in enumerate(authors):
        rows.append([_td(a["author"]), _td(a["description"] or ""), _td(", ".join(a["rules"]) or "-"),
                     page.num(a["awarded"], "authors", i, "awarded"),
                     page.num(a["awarded_share"], "authors", i, "awarded_share"),
                     page.num(a["taken"], "authors", i, "taken"), page.num(a["taken_share"], "authors", i, "taken_share")])
    page.table(["author", "", "rules", "awarded", "% of awarded", "taken", "% of taken"], rows)
    page.add("</section>")


def _scores(page: _Page) -> None:
    page.add('<section id="scores"><h2>Scores</h2>')
    for s_index, s in enumerate(page.data["scores"]):
        where = ("scores", s_index)
        page.add(f"<h3>{_e(s['score'])}</h3>")
        page.table(["members", "min", "max", "mean"],
                   [[page.num(s["count"], *where, "count"), page.num(s["min"], *where, "min"),
                     page.num(s["max"], *where, "max"), page.num(s["mean"], *where, "mean")]])
        if not s["bins"]:
            page.add('<p class="note">No member has a value of this score.</p>')
            continue
        page.add(charts.histogram_chart(f"score-{s_index}", s))
        rows = [[page.num(b["low"], *where, "bins", i, "low"), page.num(b["high"], *where, "bins", i, "high"),
                 page.num(b["count"], *where, "bins", i, "count")] for i, b in enumerate(s["bins"])]
        page.table(["from", "to", "members"], rows, caption=f"histogram of {s['score']}")
    page.add("</section>")


def _tiers(page: _Page) -> None:
    tiers, privileges = page.data["tiers"], page.data["privileges"]
    page.add('<section id="tiers"><h2>Tiers and privileges</h2>')
    if tiers:
        labels = [t["tier"] if t["tier"] is not None else "(no tier)" for t in tiers]
        page.add(charts.count_chart("tiers", labels, [t["count"] for t in tiers], "members"))
        page.table(["tier", "members"], [[_td(label), page.num(t["count"], "tiers", i, "count")]
                                         for i, (label, t) in enumerate(zip(labels, tiers))])
    if privileges:
        page.table(["privilege", "holders"], [[_td(p["privilege"]), page.num(p["holders"], "privileges", i, "holders")]
                                              for i, p in enumerate(privileges)])
    if not tiers and not privileges:
        page.add('<p class="note">The rule set declares no tier and no privilege.</p>')
    page.add("</section>")


def _rules(page: _Page) -> None:
    rules, dead = page.data["rules"], page.data["dead_rules"]
    page.add('<section id="rules"><h2>Rules</h2>',
             '<p class="note">Rules by the points they moved (after caps and decay), with how often each fired.</p>')
    fired = [r for r in rules if r["firings"]]
    if fired:
        page.add(charts.signed_chart("rules", [r["rule"] for r in fired], [r["points"] for r in fired], "points"))
    rows = [[_td(r["rule"]), _td(r["by"] or "-"), _td(r["event"]), page.num(r["points"], "rules", i, "points"),
             page.num(r["firings"], "rules", i, "firings"), page.num(r["subjects"], "rules", i, "subjects"),
             _td(r["because"] or "")] for i, r in enumerate(rules)]
    page.table(["rule", "by", "on", "points", "firings", "subjects", "because"], rows)
    if dead:
        page.add('<p id="dead-rules"><strong>Dead rules</strong> (never fired on these events): '
                 + ", ".join(f"<code>{_e(r)}</code>" for r in dead) + ".</p>")
    else:
        page.add('<p id="dead-rules">Every rule fired at least once on these events.</p>')
    page.add("</section>")


def _group_name(labels: dict | None) -> str:
    return ", ".join(f"{a} {v}" for a, v in (labels or {}).items())


def _audit(page: _Page) -> None:
    audit = page.data["audit"]
    groups = audit["groups"]
    names = [_group_name(g["group"]) for g in groups]
    bands = "".join(f"; {_e(a)} banded at {_e(', '.join(map(str, edges)))}" for a, edges in audit["bands"].items())
    page.add('<section id="audit"><h2>Group audit</h2>',
             f'<p class="note">By {_e(", ".join(audit["by"]))}{bands}. A group\'s impact ratio is its rate over the '
             "highest group's rate, decided on the exact fraction; below 4/5 it is <span class=\"flagged\">flagged"
             f'</span>. Groups under <span data-field="/audit/min_group">{audit["min_group"]}</span> members are '
             '<span class="small">small</span>: their flags are uncertain (<span class="uncertain">flagged?</span>).'
             "</p>")
    header = ["group", "members"]
    for score in (groups[0]["scores"] if groups else {}):
        header += [f"{score} mean", "median", "min", "max", "vs highest"]
    rows = []
    for g_index, (name, g) in enumerate(zip(names, groups)):
        row = [_td(name), page.num(g["count"], "audit", "groups", g_index, "count",
                                   text=f"{g['count']}{' small' if g['small'] else ''}")]
        for score, s in g["scores"].items():
            row += [page.num(s[k], "audit", "groups", g_index, "scores", score, k)
                    for k in ("mean", "median", "min", "max", "difference")]
        rows.append(row)
    page.table(header, rows, caption="members and scores by group")
    rows = []
    for kind, key, title in _selections(groups):
        for g_index, (name, g) in enumerate(zip(names, groups)):
            sel = g[kind][key]
            where = ("audit", "groups", g_index, kind, key)
            count_key, rate_key = ("at_or_above", "at_or_above_rate") if kind == "tiers" else ("count", "rate")
            flag = ("flagged?" if sel["uncertain"] else "flagged") if sel["flagged"] else ""
            rows.append([_td(title if g_index == 0 else ""), _td(name),
                         page.num(sel[count_key], *where, count_key), page.num(sel[rate_key], *where, rate_key),
                         page.num(sel["impact_ratio"], *where, "impact_ratio"),
                         page.num(sel["impact_ratio_exact"], *where, "impact_ratio_exact"),
                         _td(flag, ("uncertain" if sel["uncertain"] else "flagged") if flag else None)])
    if rows:
        page.table(["selection", "group", "selected", "rate", "impact ratio", "exact", "flag"], rows,
                   caption="selection rates and four-fifths impact ratios")
    gaps = []
    for g_index, (name, g) in enumerate(zip(names, groups)):
        for score, s in g["scores"].items():
            if s["rules"]:
                where = ("audit", "groups", g_index, "scores", score)
                rules = ", ".join(f"<code>{_e(r['rule'])}</code> "
                                  + page.signed(r["difference"], *where, "rules", i, "difference")
                                  for i, r in enumerate(s["rules"]))
                gaps.append(f"<li>{_e(score)}: {_e(name)} {page.signed(s['difference'], *where, 'difference')} vs "
                            f"{_e(_group_name(s['versus']))}; per member, {rules}</li>")
    if gaps:
        page.add("<p>Mean differences from the highest group, and the rules whose points differ most:</p>",
                 "<ul>" + "".join(gaps) + "</ul>")
    page.add("</section>")


def _selections(groups: list[dict]):
    if not groups:
        return
    for tier in groups[0]["tiers"]:
        yield "tiers", tier, f"tier >= {tier}"
    for privilege in groups[0]["privileges"]:
        yield "privileges", privilege, f"privilege {privilege}"


def _signed(value, precision: int) -> str:
    text = text_value(value, precision)
    return text if text.startswith("-") or text == "-" else f"+{text}"


def _diff(page: _Page) -> None:
    diff = page.data["diff"]
    summary = diff["summary"]
    page.add('<section id="diff"><h2>Change impact</h2>',
             f"<p>From <code>{_e(diff['old'])}</code> to <code>{_e(diff['new'])}</code>: "
             f'<span data-field="/diff/summary/movers">{summary["movers"]}</span> of '
             f'<span data-field="/diff/summary/subjects">{summary["subjects"]}</span> subjects move; points '
             f'<span data-field="/diff/summary/points/old">{_e(text_value(summary["points"]["old"], page.precision))}'
             f'</span> → <span data-field="/diff/summary/points/new">'
             f'{_e(text_value(summary["points"]["new"], page.precision))}</span>.</p>')
    page.table(["declaration", "change", "by"],
               [[_td(f"{c['kind']} {c['name']}"), _td(c["change"]), _td(c["by"] or "-")] for c in diff["changes"]],
               caption="declarations changed")
    moved = [r for r in diff["by_rule"] if r["points"]]
    if moved:
        page.add(charts.signed_chart("diff-rules", [r["rule"] for r in moved], [r["points"] for r in moved],
                                     "points moved by the change"))
    page.table(["rule", "by", "change", "points moved"],
               [[_td(r["rule"]), _td(r["by"] or "-"), _td(r["change"]), page.num(r["points"], "diff", "by_rule", i, "points")]
                for i, r in enumerate(diff["by_rule"])], caption="points moved by rule")
    page.table(["author", "points moved"],
               [[_td(a["author"] or "-"), page.num(a["points"], "diff", "by_author", i, "points")]
                for i, a in enumerate(diff["by_author"])], caption="points moved by author (deciding side)")
    if summary["tier_changes"]:
        page.table(["from", "to", "subjects"],
                   [[_td(t["from"] or "·"), _td(t["to"] or "·"), page.num(t["subjects"], "diff", "summary", "tier_changes", i, "subjects")]
                    for i, t in enumerate(summary["tier_changes"])], caption="tier changes")
    for direction in ("largest_up", "largest_down"):
        if summary[direction]:
            page.table(["subject", f"change in {summary['lead_score']}"],
                       [[_td(m["subject"]), page.num(m["change"], "diff", "summary", direction, i, "change")]
                        for i, m in enumerate(summary[direction])],
                       caption="largest movers " + ("up" if direction == "largest_up" else "down"))
    page.add("</section>")

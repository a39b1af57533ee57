"""The HTML report: every number is the command line's, hostile strings stay text, nothing leaves the page."""

from __future__ import annotations

import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from whuffie.report import text_value
from clirun import whuffie

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "examples" / "library"
LIBRARY = [LIB / "rules.whuf", LIB / "events.jsonl", "--subjects", LIB / "subjects.jsonl"]


class Page(HTMLParser):
    """The parts of a page the tests look at: tags, attributes, numeric cells with their pointers, text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.fields: list[tuple[str, str]] = []
        self.text: list[str] = []
        self._open: list[list] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if "data-field" in attrs:
            self._open.append([attrs["data-field"], ""])

    def handle_endtag(self, tag):  # numbers sit in leaf cells and spans, so the innermost open one ends
        if tag in ("td", "span") and self._open:
            self.fields.append(tuple(self._open.pop()))

    def handle_data(self, data):
        self.text.append(data)
        if self._open:
            self._open[-1][1] += data


def pointer(document, path: str):
    """Resolve a JSON Pointer (RFC 6901)."""
    for part in path.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


@pytest.fixture(scope="module")
def old_rules(tmp_path_factory):
    old = tmp_path_factory.mktemp("old") / "old.whuf"
    old.write_text((LIB / "rules.whuf").read_text(encoding="utf-8").replace("award 2\n", "award 1\n", 1),
                   encoding="utf-8")
    return old


def write_report(tmp_path, *args) -> tuple[str, dict]:
    page = tmp_path / "report.html"
    out = whuffie("report", *args, "-o", page)
    assert out.exit_code == 0, out.stderr
    data = whuffie("report", *args, "--format", "json")
    assert data.exit_code == 0, data.stderr
    return page.read_text(encoding="utf-8"), json.loads(data.stdout)


def test_every_number_on_the_page_is_the_json_one(tmp_path, old_rules):
    text, data = write_report(tmp_path, *LIBRARY, "--bands", "age=40,65", "--old", old_rules)
    page = Page(text)
    assert len(page.fields) > 100
    for where, shown in page.fields:
        value = pointer(data, where)
        if where.endswith("/count") and "/audit/groups/" in where:
            assert shown.split()[0] == str(value)  # "2 small"
        elif where.endswith("difference") and shown.startswith("+"):
            assert shown[1:] == text_value(value, 2)  # a difference in running text keeps its sign
        elif isinstance(value, str):
            assert shown == value
        else:
            assert shown == text_value(value, 2), where
    # the audit table's flags are the audit's
    flags = re.findall(r'<td class="(?:flagged|uncertain)">(flagged\??)</td>', text)
    expected = sum(1 for g in data["audit"]["groups"] for sel in [*g["tiers"].values(), *g["privileges"].values()]
                   if sel["flagged"])
    assert len(flags) == expected == 3  # the >=65 band (carol alone) is below the others on three selections
    assert flags == ["flagged?"] * 3  # and is small, so the flags are uncertain


def test_the_page_names_dead_rules(tmp_path):
    rules = tmp_path / "r.whuf"
    rules.write_text((LIB / "rules.whuf").read_text(encoding="utf-8") + """
rule never_fires by ada
  because "Nobody is ever this late"
  on returned where days_late > 3000
  award -1
""", encoding="utf-8")
    text, data = write_report(tmp_path, rules, *LIBRARY[1:])
    assert data["dead_rules"] == ["never_fires"]
    assert re.search(r'<p id="dead-rules"><strong>Dead rules</strong>[^<]*<code>never_fires</code>', text)


HOSTILE_RULES = """\
ruleset hostile "Title </title><script>alert('t')</script>"
author ada "Ada \\"<img src=x onerror=alert(1)>\\""
subject member { team: text protected }
event did { n: int in 0..10 }
rule act by ada because "Because </td><script>alert('b')</script>" on did award n
score s = points
tier hi when s >= 5 by ada because "High"
tier lo otherwise by ada because "Low"
"""
HOSTILE_IDS = ["<script>alert(1)</script>", "\"><img src=x onerror=alert(2)>", "a'b&amp;c", "$x^2$"]


def test_hostile_names_ids_and_labels_are_text(tmp_path):
    rules, old, events, subjects = (tmp_path / n for n in ("r.whuf", "old.whuf", "e.jsonl", "s.jsonl"))
    rules.write_text(HOSTILE_RULES, encoding="utf-8")
    old.write_text(HOSTILE_RULES.replace("award n", "award 2 * n"), encoding="utf-8")
    events.write_text("".join(json.dumps({"subject": s, "type": "did", "at": f"2026-01-0{i + 1}T10:00:00Z",
                                          "id": f"e{i}", "n": i + 1}) + "\n" for i, s in enumerate(HOSTILE_IDS)),
                      encoding="utf-8")
    subjects.write_text("".join(json.dumps({"id": s, "team": s}) + "\n" for s in HOSTILE_IDS), encoding="utf-8")
    text, _ = write_report(tmp_path, rules, events, "--subjects", subjects, "--by", "team", "--old", old)
    page = Page(text)
    assert not [t for t, _ in page.tags if t in ("script", "img", "iframe", "object", "link")]
    assert not [a for _, attrs in page.tags for a in attrs if a.startswith("on")]  # no event handler attribute
    words = "".join(page.text)
    for hostile in HOSTILE_IDS:
        assert f"team {hostile}" in words  # each group label, as text
    assert "Because </td><script>alert('b')</script>" in words
    assert "<img src=x onerror=alert(1)>" in words
    assert "Title </title><script>alert('t')</script>" in words
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # a mover's subject id, escaped


def test_nothing_on_the_page_can_leave_it(tmp_path, old_rules):
    text, _ = write_report(tmp_path, *LIBRARY, "--bands", "age=40,65", "--old", old_rules)
    page = Page(text)
    policy = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert policy == ["default-src 'none'; style-src 'unsafe-inline'; img-src data:"]
    for tag, attrs in page.tags:
        assert tag not in ("script", "link", "img", "iframe", "object", "embed", "base")
        for name in ("src", "href", "xlink:href", "action", "srcset"):
            assert attrs.get(name) is None or attrs[name].startswith("#"), (tag, attrs)
    assert re.findall(r"url\((?!#)", text) == [] and "@import" not in text and "@font-face" not in text


def test_each_chart_is_an_svg_with_marks(tmp_path, old_rules):
    text, data = write_report(tmp_path, *LIBRARY, "--old", old_rules)
    charts = re.findall(r'<svg role="img" aria-label="([^"]+)" class="chart".*?</svg>', text, flags=re.S)
    assert charts == ["authors", "score-0", "tiers", "rules", "diff-rules"]
    for chart in charts:
        marks = set(re.findall(rf'id="mark-{re.escape(chart)}-(\d+)"', text))
        assert marks, chart
    assert len(set(re.findall(r'id="mark-score-0-\d+"', text))) == len(data["scores"][0]["bins"])
    ids = re.findall(r'\sid="([^"]+)"', text)
    assert len(ids) == len(set(ids))  # ids stay unique across the charts of one page


def test_the_same_inputs_give_the_same_bytes(tmp_path):
    first, _ = write_report(tmp_path, *LIBRARY)
    second, _ = write_report(tmp_path, *LIBRARY)
    assert first == second


@pytest.mark.parametrize("args, message", [
    ([], "-o report.html"),
    (["-o", "x.html", "--format", "pdf"], "--format must be html or json"),
    (["-o", "x.html", "--by", "agee"], "did you mean"),
    (["-o", "x.html", "--old", "no-such.whuf"], "no such file"),
    (["-o", "/no/such/folder/x.html"], "cannot write"),
])
def test_usage_errors_exit_2_with_a_message(args, message):
    out = whuffie("report", *LIBRARY, *args)
    assert out.exit_code == 2, out.output
    assert message in out.stderr.lower() if message.islower() else message in out.stderr
    assert "Traceback" not in out.output


def test_grouping_needs_the_subjects():
    out = whuffie("report", LIB / "rules.whuf", LIB / "events.jsonl", "--by", "age", "-o", "x.html")
    assert out.exit_code == 2 and "--subjects" in out.stderr


def test_an_old_version_with_errors_exits_1(tmp_path):
    old = tmp_path / "old.whuf"
    old.write_text("ruleset broken\nrule r by nobody\n", encoding="utf-8")
    out = whuffie("report", *LIBRARY, "--old", old, "--format", "json")
    assert out.exit_code == 1 and "nothing compared" in out.stderr


def test_without_matplotlib_the_page_is_refused_with_the_extra_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import fails as if it were not installed
    out = whuffie("report", *LIBRARY, "-o", tmp_path / "x.html")
    assert out.exit_code == 2 and "pip install 'whuffie[report]'" in out.stderr
    assert not (tmp_path / "x.html").exists()


@pytest.mark.parametrize("events, message", [("-", "not standard input"), ("events.PARQUET", "JSONL or CSV"),
                                             ("duckdb:x.db#events", "JSONL or CSV")])
def test_old_refuses_events_it_cannot_read_once_per_version(events, message):
    out = whuffie("report", LIB / "rules.whuf", events, "--old", LIB / "rules.whuf", "--format", "json")
    assert out.exit_code == 2 and "report --old reads" in out.stderr and message in out.stderr, out.output

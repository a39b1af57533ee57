"""The report's charts: inline SVG with one mark per bar, text kept as text, the same bytes every time."""

from __future__ import annotations

import re

import matplotlib

from whuffie import report_charts as charts


def test_one_mark_per_bar_and_no_xml_prologue():
    svg = charts.count_chart("tiers", ["gold", "silver", "(no tier)"], [3, 0, 1], "members")
    assert svg.startswith('<svg role="img" aria-label="tiers" class="chart" ')
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg
    assert sorted(set(re.findall(r'id="(mark-tiers-\d+)"', svg))) == ["mark-tiers-0", "mark-tiers-1", "mark-tiers-2"]


def test_labels_are_text_not_formulas_and_are_escaped():
    svg = charts.count_chart("c", ["$x^2$", "<b>&"], [1, 2], "members")
    assert "$x^2$" in svg  # mathtext is off: the dollars are drawn as they are
    assert "&lt;b&gt;&amp;" in svg and "<b>" not in svg


def test_the_same_data_gives_the_same_bytes():
    score = {"score": "standing", "bins": [{"low": 0, "high": 4, "count": 2}, {"low": 5, "high": 9, "count": 1}]}
    assert charts.histogram_chart("s", score) == charts.histogram_chart("s", score)


def test_signed_bars_have_two_colours_and_the_shares_chart_a_mark_per_share():
    svg = charts.signed_chart("r", ["gain", "loss"], [5, -3], "points")
    assert charts.GAIN.lower() in svg.lower() and charts.LOSS.lower() in svg.lower()
    shares = charts.shares_chart("a", ["ada", "ben"], [100.0, 0.0], [40.0, 60.0])
    assert len(set(re.findall(r'id="mark-a-\d+"', shares))) == 4


def test_drawing_leaves_matplotlibs_settings_alone():
    before = dict(matplotlib.rcParams)
    charts.count_chart("t", ["a"], [1], "members")
    assert dict(matplotlib.rcParams) == before

"""Charts of the outcome report as inline SVG, drawn by matplotlib's SVG backend.

Why matplotlib: it is the most used and best kept plotting library of
Python, it installs from wheels with no browser and no JavaScript, and its
SVG backend writes plain vector markup that needs nothing at view time, so
the page stays one file that sends no request. Text is kept as SVG text in
the page's own fonts (``svg.fonttype: none``), never as a web font, and every
chart is byte-for-byte the same for the same data (no date in the metadata, a
fixed hash salt per chart), so reports can be compared and committed.

Each function takes the plain data of ``report_data`` and returns one
``<svg>`` element. Every bar is a mark with an id ``mark-CHART-N``, so a test
can tell a drawn chart from an empty frame. Labels are set with mathtext
off: a rule or group named ``$x$`` is text, not a formula.
"""

from __future__ import annotations

import functools
import io
import re

# Colours that stay apart for the common colour blindnesses (Okabe and Ito's palette).
GAIN, LOSS, NEUTRAL = "#0072B2", "#D55E00", "#009E73"
_STYLE = {"svg.fonttype": "none", "text.parse_math": False, "font.size": 9,
          "axes.spines.top": False, "axes.spines.right": False}


class ChartsUnavailable(Exception):
    """matplotlib is not installed (it comes with the `report` extra)."""


def _figure(height: float):
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the installation
        raise ChartsUnavailable("whuffie report draws its charts with matplotlib, which is not installed: "
                                "pip install 'whuffie[report]'") from None
    return Figure(figsize=(6.4, height), layout="constrained")


def _svg(fig, chart: str, marks) -> str:
    import matplotlib

    for i, mark in enumerate(marks):
        mark.set_gid(f"mark-{chart}-{i}")
    out = io.StringIO()
    with matplotlib.rc_context({**_STYLE, "svg.hashsalt": chart}):
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    text = out.getvalue()
    text = text[text.index("<svg"):]  # the XML declaration and DOCTYPE have no place inside HTML
    # matplotlib names its groups figure_1, patch_1, ... in every chart: prefix them so ids stay unique on the page
    text = re.sub(r'id="(figure|axes|patch|matplotlib\.axis|xtick|ytick|text|line2d|legend)_',
                  lambda m: f'id="{chart}-{m.group(1)}_', text)
    return f'<svg role="img" aria-label="{chart}" class="chart" ' + text[len("<svg"):].lstrip()


def _with_style(draw):
    """Draw under the report's style only: matplotlib's global settings stay as the caller had them."""
    @functools.wraps(draw)
    def wrapped(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(_STYLE):
            return draw(*args, **kwargs)
    return wrapped


@_with_style
def histogram_chart(chart: str, score: dict) -> str:
    """One score's histogram: a bar per bin, labelled by its range."""
    fig = _figure(2.6)
    ax = fig.subplots()
    labels = [_bin_label(b) for b in score["bins"]]
    bars = ax.bar(range(len(labels)), [b["count"] for b in score["bins"]], color=GAIN)
    ax.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 5 else 0, ha="right" if len(labels) > 5 else "center")
    ax.set_xlabel(score["score"])
    ax.set_ylabel("members")
    _whole_ticks(ax.yaxis)
    ax.bar_label(bars, fontsize=8)
    return _svg(fig, chart, bars)


def _whole_ticks(axis) -> None:
    """Counts are whole: no tick at 0.25 members."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _bin_label(b: dict) -> str:
    return str(b["low"]) if b["low"] == b["high"] else f"{b['low']}–{b['high']}"


@_with_style
def count_chart(chart: str, labels: list[str], counts: list[int], axis: str) -> str:
    """Horizontal bars of counts (members per tier, firings per rule), first label on top."""
    fig = _figure(0.5 + 0.28 * max(1, len(labels)))
    ax = fig.subplots()
    bars = ax.barh(range(len(labels)), counts, color=NEUTRAL)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel(axis)
    _whole_ticks(ax.xaxis)
    ax.bar_label(bars, fontsize=8, padding=2)
    return _svg(fig, chart, bars)


@_with_style
def signed_chart(chart: str, labels: list[str], values: list[float], axis: str) -> str:
    """Horizontal bars of signed amounts (points a rule moved): gains one colour, losses another."""
    fig = _figure(0.5 + 0.28 * max(1, len(labels)))
    ax = fig.subplots()
    bars = ax.barh(range(len(labels)), values, color=[GAIN if v >= 0 else LOSS for v in values])
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.axvline(0, color="#444444", linewidth=0.8)
    ax.set_xlabel(axis)
    return _svg(fig, chart, bars)


@_with_style
def shares_chart(chart: str, authors: list[str], awarded: list[float], taken: list[float]) -> str:
    """Each author's share of the points awarded and of the points taken, in per cent, side by side."""
    fig = _figure(0.7 + 0.4 * max(1, len(authors)))
    ax = fig.subplots()
    rows = range(len(authors))
    gave = ax.barh([r - 0.2 for r in rows], awarded, height=0.4, color=GAIN, label="% of points awarded")
    took = ax.barh([r + 0.2 for r in rows], taken, height=0.4, color=LOSS, label="% of points taken")
    ax.set_yticks(list(rows), authors)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("share (%)")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return _svg(fig, chart, [*gave, *took])

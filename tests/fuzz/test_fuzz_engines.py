"""Extreme programs on every engine and every input format: the same result or the same error code.

A generator writes well-formed rule files whose expressions reach the edges
(int64's bounds, 1e308, NaN made from infinities, year 1 and year 9999, huge
durations, long and/or chains, deep nesting, doubling def chains) and events
for them, written as JSONL, CSV and Parquet. Each (engine, format) pair runs
through the CLI; the laws:

- no run prints a traceback or "report this";
- every run ends alike: the same exit code, the same error codes, and with
  exit 0 the same JSON output (numbers to 12 decimals).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from whuffie.cli import app

from .budget import fuzz_settings

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

RUNNER = CliRunner()
ENGINES = ["reference", "codegen", "duckdb"]
FORMATS = ["jsonl", "csv", "parquet"]
CODE = re.compile(r"error\[(W\d+)\]")

HEADER = """ruleset fuzz "Extreme values"
author ada "Ada"
subject member { joined: date }
event post { n: int, x: number, flag: bool }
"""

NUMBER_TERMS = [
    "n", "x", "1", "2.5", "0", "9223372036854775807", "-9223372036854775807", "1.0e308", "-1.0e308", "1.0e-308",
    "n + 1", "n - 1", "n * n", "x * 10", "x - x", "abs(n)", "floor(x)", "ceil(x)", "round(x * 1.0e10)",
    "min(x, n)", "max(n, x)", "clamp(x, 0, 2)", "(if flag then n else x)", "days(event.at - 0001-01-01)",
    "days(now - event.at)", "(1.0e308 * 10 - 1.0e308 * 10)", "(n ?? 0)",
]
BOOL_TERMS = [
    "flag", "not flag", "n > 0", "x > 0", "n == 9223372036854775807", "(1.0e308 * 10 - 1.0e308 * 10) > 0",
    "event.at + 9999999 days > now", "event.at < 0001-01-02", "event.at > 9999-12-30",
    "x * x > 1.0e300", "n < -9223372036854775000",
]


@st.composite
def number_expr(draw, depth: int = 2) -> str:
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return draw(st.sampled_from(NUMBER_TERMS))
    kind = draw(st.sampled_from(["+", "-", "*", "min", "clamp", "if", "abs"]))
    a, b = draw(number_expr(depth - 1)), draw(number_expr(depth - 1))
    if kind in "+-*":
        return f"({a} {kind} {b})"
    if kind == "min":
        return f"min({a}, {b})"
    if kind == "clamp":
        return f"clamp({a}, -100, 100)"
    if kind == "if":
        return f"(if {draw(bool_expr(0))} then {a} else {b})"
    return f"abs({a})"


@st.composite
def bool_expr(draw, depth: int = 1) -> str:
    if depth == 0 or draw(st.booleans()):
        if draw(st.booleans()):
            return draw(st.sampled_from(BOOL_TERMS))
        return f"{draw(number_expr(1))} {draw(st.sampled_from(['<', '>=', '==', '!=']))} {draw(st.sampled_from(NUMBER_TERMS))}"
    # Long chains: the shape that grew exponentially in SQL.
    joiner = draw(st.sampled_from([" and ", " or "]))
    parts = draw(st.lists(bool_expr(depth - 1), min_size=2, max_size=18))
    return "(" + joiner.join(parts) + ")"


@st.composite
def programs(draw) -> str:
    lines = [HEADER]
    chain = draw(st.integers(0, 12))
    if chain:  # f0 doubles f1 ... : 2^chain nodes once expanded
        for i in range(chain):
            lines.append(f"def f{i}(v: number): number = f{i + 1}(v) + f{i + 1}(v)")
        lines.append(f"def f{chain}(v: number): number = v")
    award = draw(number_expr()) if not chain else f"f0({draw(number_expr(1))})"
    where = f" where {draw(bool_expr())}" if draw(st.booleans()) else ""
    cap = draw(st.sampled_from(["", " cap 30 per day", " cap 1.0e300 total", " once per week"]))
    decay = draw(st.sampled_from(["", "", " decay half_life 30 days"]))
    lines.append(f'rule r by ada because "r" on post{where} award {award}{cap}{decay}')
    lines.append(f'rule plain by ada because "p" on post award {draw(st.sampled_from(["1", "x", "n"]))}')
    within = draw(st.sampled_from(["", " within 30 days", " within 800000 days", " within 3000000 days"]))
    lines.append(f"measure total = sum post.x{within}")
    lines.append(f"measure seen = count distinct days of post{within}")
    lines.append(f"measure mean = avg post.n default 0")
    lines.append(f"score s = points + total + {draw(number_expr(1))}")
    lines.append(f"tier high when s >= {draw(st.sampled_from(['10', '1.0e300', 'mean']))} by ada")
    lines.append("tier low otherwise by ada")
    return "\n".join(lines) + "\n"


INSTANTS = [
    dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc), dt.datetime(2026, 3, 2, 0, 30, tzinfo=dt.timezone.utc),
    dt.datetime(2026, 3, 9, 23, 59, tzinfo=dt.timezone.utc), dt.datetime(1, 1, 1, 0, 0, tzinfo=dt.timezone.utc),
    dt.datetime(1, 1, 1, 12, tzinfo=dt.timezone.utc), dt.datetime(9999, 12, 31, 0, 0, tzinfo=dt.timezone.utc),
]
INTS = [0, 1, -1, 7, 2**63 - 1, -(2**63), 2**53 + 1]
FLOATS = [0.0, 2.0, 0.5, 1e308, -1e308, 1e-308, 1e16, -1e16, 3.0]


@st.composite
def events(draw) -> list[dict]:
    instants = draw(st.lists(st.sampled_from(INSTANTS[:3]), min_size=1, max_size=3))
    if draw(st.integers(0, 3)) == 0:
        instants.append(draw(st.sampled_from(INSTANTS[3:])))
    out = []
    for i in range(draw(st.integers(1, 12))):
        out.append({"subject": draw(st.sampled_from(["s1", "s2"])), "type": "post",
                    "at": draw(st.sampled_from(instants)), "id": f"e{i}",
                    "n": draw(st.sampled_from(INTS)), "x": draw(st.sampled_from(FLOATS)), "flag": draw(st.booleans())})
    return out


def _iso(at: dt.datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def write_events(records: list[dict], fmt: str, folder) -> str:
    path = folder / f"events.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps({**r, "at": _iso(r["at"])}) + "\n" for r in records), encoding="utf-8")
    elif fmt == "csv":
        rows = ["subject,type,at,id,n,x,flag"]
        rows += [f"{r['subject']},{r['type']},{_iso(r['at'])},{r['id']},{r['n']},{r['x']!r},{str(r['flag']).lower()}"
                 for r in records]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    else:
        table = pa.table({
            "subject": pa.array([r["subject"] for r in records], pa.string()),
            "type": pa.array([r["type"] for r in records], pa.string()),
            "at": pa.array([r["at"] for r in records], pa.timestamp("us", tz="UTC")),
            "id": pa.array([r["id"] for r in records], pa.string()),
            "n": pa.array([r["n"] for r in records], pa.int64()),
            "x": pa.array([r["x"] for r in records], pa.float64()),
            "flag": pa.array([r["flag"] for r in records], pa.bool_()),
        })
        pq.write_table(table, path)
    return str(path)


def no_crash(result) -> str:
    """The run's whole output, after asserting it ended without a traceback or internal error."""
    text = result.stdout + result.stderr
    assert "Traceback" not in text and "report this" not in text, text[-3000:]
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return text


def outcome(result) -> tuple:
    """What a score run ended with: exit code, error codes, and the output when it scored."""
    text = no_crash(result)
    try:
        scored = json.loads(result.stdout) if result.exit_code == 0 else None
    except json.JSONDecodeError:
        raise AssertionError(f"exit 0 without JSON output: {text[-2000:]!r}") from None
    return result.exit_code, sorted(set(CODE.findall(result.stderr))), scored


def alike(a, b) -> bool:
    """Equal outcomes: the same shape and types, floats within 1e-12 relative (an average's last bit may differ)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(alike(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(alike(x, y) for x, y in zip(a, b))
    return a == b


@fuzz_settings(quick=25)
@given(programs(), events())
def test_extreme_programs_end_alike_on_every_engine_and_format(tmp_path_factory, rules, records):
    folder = tmp_path_factory.mktemp("case")
    (folder / "rules.whuf").write_text(rules, encoding="utf-8")
    (folder / "subjects.jsonl").write_text('{"id": "s1", "joined": "2020-01-01"}\n{"id": "s2", "joined": "2020-01-01"}\n',
                                           encoding="utf-8")
    check = RUNNER.invoke(app, ["check", str(folder / "rules.whuf")])
    no_crash(check)
    if check.exit_code != 0:
        return
    seen = {}
    for fmt in FORMATS:
        path = write_events(records, fmt, folder)
        for engine in ENGINES:
            result = RUNNER.invoke(app, ["score", str(folder / "rules.whuf"), path, "--subjects",
                                         str(folder / "subjects.jsonl"), "--engine", engine, "--format", "json",
                                         "--precision", "12"])
            seen[(engine, fmt)] = outcome(result)
    first = seen[("reference", "jsonl")]
    differ = {k: v for k, v in seen.items() if not alike(v, first)}
    assert not differ, f"reference/jsonl gave {first}; these differ: {differ}\n{rules}"

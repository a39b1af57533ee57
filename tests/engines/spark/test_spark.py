"""The Spark-dialect query runs on a local PySpark session and gives DuckDB's results.

PySpark is the optional extra ``whuffie[spark]`` and needs Java; without
either, the test is skipped with the reason.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from whuffie.engines import sqlengine
from whuffie.frontend import load_file
from whuffie.inputs import load_events, load_subjects
from whuffie.plan import lower

pyspark = pytest.importorskip("pyspark", reason="PySpark is not installed (pip install 'whuffie[spark]')")
if shutil.which("java") is None:
    pytest.skip("PySpark needs Java (java is not on PATH)", allow_module_level=True)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _rows_equal(a: dict, b: dict) -> list[str]:
    out = []
    for key, x in a.items():
        y = b.get(key)
        if isinstance(x, (int, float)) and not isinstance(x, bool) and isinstance(y, (int, float)):
            if not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9):
                out.append(f"{a['subject']}.{key}: {x} != {y}")
        elif x != y:
            out.append(f"{a['subject']}.{key}: {x!r} != {y!r}")
    return out


@pytest.mark.parametrize("name", ["stackoverflow", "library"])
def test_the_spark_query_gives_duckdbs_results(spark, name: str) -> None:
    folder = EXAMPLES / name
    ruleset = load_file(folder / "rules.whuf").ruleset
    subjects = {}
    if (folder / "subjects.jsonl").exists():
        subjects = load_subjects(folder / "subjects.jsonl", ruleset).subjects
    events = load_events(folder / "events.jsonl", ruleset, subjects, bool(subjects)).events
    expected, got = _on_both(spark, ruleset, events, subjects)
    assert [r["subject"] for r in got] == [r["subject"] for r in expected]
    assert len(expected) > 2
    problems = [p for a, b in zip(expected, got) for p in _rows_equal(a, b)]
    assert problems == []


def test_a_float_measure_is_summed_in_ledger_order_on_spark(spark, tmp_path) -> None:
    # Input order -1e16, 1e16, 1, 1 sums to 2.0; ledger (time) order 1e16, 1, -1e16, 1 sums to 1.0.
    # Spark's aggregates take no ORDER BY, so the query folds over the values sorted by (time, position).
    rules = tmp_path / "r.whuf"
    rules.write_text('ruleset r "r"\nauthor ada "Ada"\nevent post { x: number }\n'
                     'rule r by ada because "r" on post award 1\nmeasure total = sum post.x\nscore s = points\n')
    ruleset = load_file(rules).ruleset
    rows = [("a", "2026-01-03", -1e16), ("a", "2026-01-01", 1e16), ("a", "2026-01-02", 1.0),
            ("a", "2026-01-04", 1.0), ("b", "2026-01-01", 2.5)]
    events_file = tmp_path / "e.jsonl"
    events_file.write_text("".join(json.dumps({"subject": who, "type": "post", "at": f"{d}T00:00:00Z", "x": x}) + "\n"
                                   for who, d, x in rows))
    events = load_events(events_file, ruleset, {}, False).events
    expected, got = _on_both(spark, ruleset, events, {})
    column = next(c for c in expected[0] if c.startswith("m"))
    assert [(r["subject"], r[column]) for r in expected] == [("a", 1.0), ("b", 2.5)]
    assert [(r["subject"], r[column]) for r in got] == [("a", 1.0), ("b", 2.5)]


def _on_both(spark, ruleset, events, subjects) -> tuple[list[dict], list[dict]]:
    """The compiled query's rows on DuckDB and on Spark, over the same Arrow tables."""
    plan = lower(ruleset)
    compiled = sqlengine.compile_query(plan)  # as-of: the latest event, computed by the query itself
    event_table = sqlengine.arrow_events(plan, events, compiled.layout)
    subject_table = sqlengine.arrow_subjects(plan, subjects, compiled.layout)

    con = sqlengine.connect()
    con.register("events", event_table)
    con.register("subjects", subject_table)
    cursor = con.execute(compiled.sql("duckdb"))
    names = [d[0] for d in cursor.description]
    expected = [dict(zip(names, row)) for row in cursor.fetchall()]

    for view, table in (("events", event_table), ("subjects", subject_table)):
        frame = spark.createDataFrame(table.to_pylist(), schema=_spark_schema(table)) if table.num_rows else \
            spark.createDataFrame([], schema=_spark_schema(table))
        frame.createOrReplaceTempView(view)
    got = [row.asDict() for row in spark.sql(compiled.sql("spark")).collect()]
    return expected, got


def _spark_schema(table):
    import pyarrow as pa
    from pyspark.sql import types as T

    kinds = {pa.string(): T.StringType(), pa.int64(): T.LongType(), pa.float64(): T.DoubleType(),
             pa.bool_(): T.BooleanType()}
    return T.StructType([T.StructField(f.name, kinds[f.type], True) for f in table.schema])

"""The Spark-dialect query runs on a local PySpark session and gives DuckDB's results.

PySpark is the optional extra ``whuffie[spark]`` and needs Java; without
either, the test is skipped with the reason.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from whuffie import sqlengine
from whuffie.frontend import load_file
from whuffie.inputs import load_events, load_subjects
from whuffie.plan import lower

pyspark = pytest.importorskip("pyspark", reason="PySpark is not installed (pip install 'whuffie[spark]')")
if shutil.which("java") is None:
    pytest.skip("PySpark needs Java (java is not on PATH)", allow_module_level=True)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[1]").appName("whuffie-test")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
               .config("spark.sql.session.timeZone", "UTC")
               # small inputs, wide plans: compiling Java for each stage costs more than it saves
               .config("spark.sql.codegen.wholeStage", "false").config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
               .config("spark.sql.adaptive.enabled", "false")
               .config("spark.sql.optimizer.excludedRules", "org.apache.spark.sql.catalyst.optimizer.CollapseProject")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


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

    assert [r["subject"] for r in got] == [r["subject"] for r in expected]
    assert len(expected) > 2
    problems = [p for a, b in zip(expected, got) for p in _rows_equal(a, b)]
    assert problems == []


def _spark_schema(table):
    import pyarrow as pa
    from pyspark.sql import types as T

    kinds = {pa.string(): T.StringType(), pa.int64(): T.LongType(), pa.float64(): T.DoubleType(),
             pa.bool_(): T.BooleanType()}
    return T.StructType([T.StructField(f.name, kinds[f.type], True) for f in table.schema])

"""Scoring on Apache Spark: the same plan -> SQLGlot query as DuckDB, run by Spark SQL.

Entry point: ``evaluate(plan, events, subjects, as_of)``. The session is
``local[*]`` unless ``configure(master, conf)`` (the CLI's --spark-master and
--spark-conf) or ``use_session(existing)`` (a library caller with its own
cluster session) said otherwise. Rows become Results with the code DuckDB's
rows go through (sqlengine.results_from_rows), so the two engines cannot
differ in typing, faults or the finishing of scores, tiers and privileges.

PySpark is the optional extra ``whuffie[spark]``; ``SparkMissing`` says how to
install it, for the CLI to show as a usage error.
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC

from ..evaluator import Results
from ..plan import Plan

INSTALL_HINT = "pip install 'whuffie[spark]' (PySpark, which also needs Java 17 or later on PATH)"

# settings that keep a small local run quick; a cluster's own --spark-conf wins over each of them
_DEFAULT_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",  # stage bars would mix with the count line on stderr
    "spark.sql.session.timeZone": "UTC",  # instants are microseconds since the epoch; no local clock reads them
    "spark.sql.shuffle.partitions": "4",
    # wide plans over small inputs: compiling Java for each stage costs more than it saves
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.adaptive.enabled": "false",
    # the query's layers are many; collapsing them makes Catalyst's plan grow quadratically
    "spark.sql.optimizer.excludedRules": "org.apache.spark.sql.catalyst.optimizer.CollapseProject",
}

_settings: dict = {"master": "local[*]", "conf": {}, "position": None}
_session = None


class SparkMissing(Exception):
    """PySpark (or Java) is not there: the message says how to install it."""


def configure(master: str | None = None, conf: dict[str, str] | None = None, position: str | None = None) -> None:
    """The master URL and extra settings of the session a run creates, and a ``spark:db.table``'s --position."""
    _settings["master"] = master or "local[*]"
    _settings["conf"] = dict(conf or {})
    _settings["position"] = position


def table_position() -> str | None:
    """The column (or expression) of input order of a ``spark:db.table`` input, as --position gave it."""
    return _settings["position"]


def use_session(session) -> None:
    """Score on an existing SparkSession (a library caller's cluster) instead of creating one."""
    global _session
    _session = session


def available() -> str | None:
    """None when PySpark and Java are there, else why not (with how to install)."""
    import importlib.util
    import shutil

    if importlib.util.find_spec("pyspark") is None:
        return f"--engine spark needs PySpark, which is not installed: {INSTALL_HINT}"
    if shutil.which("java") is None and not _java_home():
        return "--engine spark needs Java 17 or later (java is not on PATH and JAVA_HOME is not set)"
    return None


def _java_home() -> bool:
    import os

    return bool(os.environ.get("JAVA_HOME"))


def session():
    """The session runs use: the one given, or one created from the configured master and settings."""
    global _session
    if _session is not None:
        return _session
    problem = available()
    if problem is not None:
        raise SparkMissing(problem)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(_settings["master"]).appName("whuffie")
    for key, value in {**_DEFAULT_CONF, **_settings["conf"]}.items():
        builder = builder.config(key, value)
    _session = builder.getOrCreate()
    _session.sparkContext.setLogLevel("ERROR")
    return _session


def evaluate(plan: Plan, events, subjects: dict[str, dict] | None = None,
             as_of: dt.datetime | None = None) -> Results:
    """Score validated events on Spark; raises sqlengine.SqlUnsupported or SqlFault as the DuckDB engine does."""
    from . import sqlengine

    subjects = subjects or {}
    if as_of is None:
        as_of = max((e.at for e in events), default=None) or dt.datetime(1970, 1, 1, tzinfo=UTC)
    as_of = as_of.astimezone(UTC)
    after = sum(1 for e in events if e.at > as_of)
    layout = sqlengine.layout_for(plan)
    event_table = sqlengine.arrow_events(plan, events, layout)  # the layout learns which number columns hold ints
    subject_table = sqlengine.arrow_subjects(plan, subjects, layout)
    compiled = sqlengine.compile_query(plan, sqlengine._us(as_of), layout, dialect="spark")
    spark = session()
    for view, table in (("events", event_table), ("subjects", subject_table)):
        spark.createDataFrame(table, schema=spark_schema(table)).createOrReplaceTempView(view)

    def fetch(query: str) -> tuple[list[str], list[tuple]]:
        frame = spark.sql(query)
        return list(frame.columns), [tuple(row) for row in frame.collect()]

    return sqlengine.results_from_rows(compiled, fetch, "spark", as_of, len(events) - after, after, subjects)


def spark_schema(table):
    """The Spark schema of one of sqlengine's Arrow tables (text, 64-bit ints, doubles, booleans)."""
    import pyarrow as pa
    from pyspark.sql import types as T

    kinds = {pa.string(): T.StringType(), pa.large_string(): T.StringType(), pa.int64(): T.LongType(),
             pa.float64(): T.DoubleType(), pa.bool_(): T.BooleanType(), pa.null(): T.StringType(),
             pa.timestamp("us", tz="UTC"): T.TimestampType()}
    return T.StructType([T.StructField(f.name, kinds.get(f.type, T.StringType()), True) for f in table.schema])

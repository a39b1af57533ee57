"""Scoring on Apache Spark: the same plan -> SQLGlot query as DuckDB, run by Spark SQL.

Entry point: ``evaluate(plan, events, subjects, as_of)``. The session is
``local[*]`` unless ``configure(master, conf)`` (the CLI's --spark-master and
--spark-conf) or ``use_session(existing)`` (a library caller with its own
cluster session) said otherwise. Rows become Results with the code DuckDB's
rows go through (sqlengine.results_from_rows), so the two engines cannot
differ in typing, faults or the finishing of scores, tiers and privileges.

PySpark is the optional extra ``whuffie[spark]``; ``SparkMissing`` says how to
install it, for the CLI to show as a usage error.

The subpackage, one concern a module: this one (the session, ``evaluate`` of
events validated elsewhere, ``Layered``), ``columnar.py`` (Parquet files and
catalog tables read and validated by Spark, ``SparkLoad``, the streamed
rejects) and ``text.py`` (JSONL and CSV logs read by Spark, parsed by
inputs.py on the executors).
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC

from ...evaluator import Results
from ...plan import Plan

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

    from pathlib import Path

    builder = SparkSession.builder.master(_settings["master"]).appName("whuffie")
    # the driver's JVM starts with these (PySpark passes them to spark-submit): its log says errors only
    quiet = f"-Dlog4j2.configurationFile={(Path(__file__).parent / 'log4j2.properties').as_uri()}"
    import sys

    # a local master's Python workers run this Python (its packages, whuffie among them); a cluster's
    # workers have their own (docs/engines.md: whuffie must be installed there)
    import os

    if _settings["master"].startswith("local"):  # PySpark's workers run $PYSPARK_PYTHON (python3 by default)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for key, value in {**_DEFAULT_CONF, "spark.driver.extraJavaOptions": quiet, **_settings["conf"]}.items():
        builder = builder.config(key, value)
    _session = builder.getOrCreate()
    _session.sparkContext.setLogLevel("ERROR")
    return _session


def evaluate(plan: Plan, events, subjects: dict[str, dict] | None = None,
             as_of: dt.datetime | None = None) -> Results:
    """Score validated events on Spark; raises sqlengine.SqlUnsupported or SqlFault as the DuckDB engine does."""
    from .. import sqlengine

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
    with Layered(spark) as layered:
        return sqlengine.results_from_rows(compiled, layered.fetch, "spark", as_of, len(events) - after, after,
                                           subjects)


class Layered:
    """Runs a query's WITH layers as Spark views, cutting the plan every few layers: ``fetch(sql) -> (names, rows)``.

    Spark's analyzer resolves a chain of nested layers about one layer per
    pass over the whole plan, so planning grows with the square of the depth,
    and beyond 100 passes (``spark.sql.analyzer.maxIterations``) it gives up:
    a rule set with ten caps has ~80 layers. Each layer becomes a view; once
    a chain of views is ``PLAN_CUT`` layers deep, the last one is materialised
    (``localCheckpoint``: its rows stay on the executors) and later layers plan
    from its rows alone. Layers whose text is the same are run once, so the
    ledger-order query reuses the score query's. The views are dropped on exit.
    """

    PLAN_CUT = 12

    def __init__(self, spark) -> None:
        self.spark = spark
        self.views: dict[tuple[str, str], str] = {}  # (layer name, its text) -> view
        self.depth: dict[str, int] = {}  # view -> layers above its last materialised ancestor

    def __enter__(self) -> Layered:
        return self

    def __exit__(self, *exc) -> None:
        for view in self.views.values():
            self.spark.catalog.dropTempView(view)

    def fetch(self, query: str) -> tuple[list[str], list[tuple]]:
        import sqlglot
        from sqlglot import exp

        from ..staging import renamed_relations

        tree = sqlglot.parse_one(query, read="spark")
        renamed: dict[str, str] = {}
        layers = tree.args.get("with_")
        tree.set("with_", None)
        for cte in layers.expressions if layers else []:
            body = renamed_relations(cte.this, renamed)
            text = body.sql(dialect="spark")
            key = (cte.alias, text)
            if key not in self.views:
                depth = 1 + max((self.depth.get(t.name, 0) for t in body.find_all(exp.Table)), default=0)
                frame = self.spark.sql(text)
                if depth >= self.PLAN_CUT:
                    frame, depth = frame.localCheckpoint(), 0
                view = f"__whuffie_layer{len(self.views)}_{cte.alias}"
                frame.createOrReplaceTempView(view)
                self.views[key], self.depth[view] = view, depth
            renamed[cte.alias] = self.views[key]
        frame = self.spark.sql(renamed_relations(tree, renamed).sql(dialect="spark"))
        return list(frame.columns), [tuple(row) for row in frame.collect()]


def spark_schema(table):
    """The Spark schema of one of sqlengine's Arrow tables (text, 64-bit ints, doubles, booleans)."""
    import pyarrow as pa
    from pyspark.sql import types as T

    kinds = {pa.string(): T.StringType(), pa.large_string(): T.StringType(), pa.int64(): T.LongType(),
             pa.float64(): T.DoubleType(), pa.bool_(): T.BooleanType(), pa.null(): T.StringType(),
             pa.timestamp("us", tz="UTC"): T.TimestampType()}
    return T.StructType([T.StructField(f.name, kinds.get(f.type, T.StringType()), True) for f in table.schema])

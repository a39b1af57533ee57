"""Parquet read, validated and scored by Spark itself: staging.py's queries in Spark SQL.

Entry point: ``load(spec, plan, subjects, attributes_needed, columns) -> SparkLoad``.
Spark reads the file (`spark.read.parquet`), the row within the file is the
input position (`_metadata.row_index + 1`, the row DuckDB numbers), and the
validation is staging.py's one set of rules rendered in the Spark dialect,
so the reject messages are those of every other engine. Nothing of the
events comes to the driver: ``SparkLoad.score`` runs the score query on the
staged rows, and only the rejects and the per-subject rows are collected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ...columns import PLAIN, ColumnMap, ColumnsError
from ...evaluator import Results
from ...inputs import Reject
from ...plan import Plan


class SparkColumnarError(Exception):
    """The input cannot be read at all (a missing file, a column the mapping cannot read)."""


@dataclass
class SparkLoad:
    """What ``load`` staged: counts and rejects now, the scores on ``score``."""

    spark: object
    plan: Plan
    layout: object
    name: str
    read: int
    rejects: list[Reject]
    accepted: int
    subjects: dict = field(default_factory=dict)
    expanded: int = 0

    def latest(self) -> dt.datetime | None:
        """The latest accepted event's instant (the default as-of)."""
        from ...evaluator import UTC

        us = self.spark.sql("SELECT max(at_us) AS m FROM events").collect()[0][0]
        return None if us is None else dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=us)

    def first_lines(self) -> dict[str, str]:
        """Each distinct subject with its first row (`file:row`), in input order: for the W082 look-alike check."""
        rows = self.spark.sql("SELECT subject, min_by(line, pos) AS line FROM events GROUP BY subject "
                              "ORDER BY min(pos)").collect()
        return {subject: line for subject, line in rows}

    def latest_line(self) -> str | None:
        """Where the latest accepted event is, the first such in input order (as inputs.py finds it)."""
        rows = self.spark.sql("SELECT line FROM events ORDER BY at_us DESC, pos LIMIT 1").collect()
        return rows[0][0] if rows else None

    def line_counts(self, as_of: dt.datetime) -> tuple[int, int] | None:
        """(scored, after as-of) in rows when a row of a role event became several events, else None."""
        from .. import sqlengine

        if not self.expanded:
            return None
        us = sqlengine._us(as_of)
        scored, after = self.spark.sql(
            f"SELECT count(DISTINCT CASE WHEN at_us <= {us} THEN line END), "
            f"count(DISTINCT CASE WHEN at_us > {us} THEN line END) FROM events").collect()[0]
        return scored, after

    def score(self, as_of: dt.datetime | None) -> Results:
        """The compiled query on the staged rows; raises SqlUnsupported or SqlFault as the DuckDB engine does."""
        from ...evaluator import UTC
        from .. import spark, sqlengine

        as_of = (as_of or self.latest() or dt.datetime(1970, 1, 1, tzinfo=UTC)).astimezone(UTC)
        us = sqlengine._us(as_of)
        after = self.spark.sql(f"SELECT count(*) FROM events WHERE at_us > {us}").collect()[0][0]
        subject_table = sqlengine.arrow_subjects(self.plan, self.subjects, self.layout)
        self.spark.createDataFrame(subject_table, schema=spark.spark_schema(subject_table)) \
            .createOrReplaceTempView("subjects")
        compiled = sqlengine.compile_query(self.plan, us, self.layout, dialect="spark")
        with spark.Layered(self.spark) as layered:
            return sqlengine.results_from_rows(compiled, layered.fetch, "spark", as_of, self.accepted - after, after,
                                               self.subjects)


COLLECTED_REJECTS = 100_000  # rejected rows a load brings to the driver at once; beyond, they stream


class StreamedRejects:
    """The rejected rows of a large input, in input order, read from Spark as they are iterated.

    A lake may hold more bad rows than the driver holds in memory: the rows
    stay on the executors (persisted), ``len`` is their count, and each pass
    (the printed messages, the rejects file) reads them one partition at a
    time (``toLocalIterator``), so the driver never holds them all. Below
    ``COLLECTED_REJECTS`` a load keeps a plain list instead (``rejects_of``).
    """

    def __init__(self, frame, count: int, reject) -> None:
        self.frame, self.count, self.reject = frame, count, reject

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return self.count > 0

    def __iter__(self):
        return map(self.reject, self.frame.toLocalIterator())


def rejects_of(frame, reject) -> list[Reject] | StreamedRejects:
    """The rows of ``frame`` (ordered by input position) as Rejects (``reject(row)``): a list, or streamed when many."""
    frame = frame.persist()
    count = frame.count()
    if count > COLLECTED_REJECTS:
        return StreamedRejects(frame, count, reject)
    rows = frame.collect()
    frame.unpersist()
    return [reject(row) for row in rows]


FILE_RANK_SHIFT = 2 ** 40  # rows per file a position leaves room for: (file rank, row within the file) in one BIGINT


def is_parquet_set(spec: str) -> bool:
    """Whether an events argument is several Parquet files for Spark: a glob (`events/*.parquet`) or a directory."""
    import os

    from .text import is_text_set

    return not spec.startswith(("duckdb:", "spark:")) and (
        any(c in spec for c in "*?[") and spec.lower().endswith(".parquet") or os.path.isdir(spec)
        and not is_text_set(spec))


def is_spark_only(spec: str) -> bool:
    """Whether only Spark reads this events argument: several Parquet, JSONL or CSV files, or ``spark:db.table``."""
    from .text import is_text_set

    return spec.startswith("spark:") or is_parquet_set(spec) or is_text_set(spec)


def load(spec: str, plan: Plan, subjects: dict[str, dict] | None, attributes_needed: bool,
         columns: ColumnMap | None = PLAIN, position: str | None = None) -> SparkLoad:
    """Read a Parquet file, glob, directory or ``spark:db.table`` with Spark, validate every row, register ``events``.

    A table's position is ``position`` (a column or an expression of its
    columns, as ``whuffie sql --position``); without one, a table stored as
    Parquet files is numbered as several files are (file rank, row in file).
    """
    from .. import spark, staging

    columns = columns or PLAIN
    position = position or spark.table_position()
    session = spark.session()
    table = spec[len("spark:"):] if spec.startswith("spark:") else None
    several = is_parquet_set(spec) or (table is not None and position is None)
    try:
        frame = session.table(table) if table is not None else session.read.parquet(spec)
        column_types = {name: kind.upper() for name, kind in frame.dtypes}
    except Exception as exc:  # noqa: BLE001 - Spark's AnalysisException for a missing or unreadable file
        raise SparkColumnarError(f"{spec}: {str(exc).strip().splitlines()[0]}") from None
    try:
        if several:
            frame = _positions_across_files(session, frame)
        elif table is None:
            frame, position = frame.selectExpr("*", "_metadata.row_index + 1 AS __row"), "__row"
    except Exception as exc:  # noqa: BLE001 - a table that is not files (a view, a Hive table): no row numbers
        detail = str(exc).strip().splitlines()[0]
        raise SparkColumnarError(f"{spec}: the table's rows have no file and row number to order them "
                                 f"({detail}); name a column of input order with --position") from None
    frame.createOrReplaceTempView("__raw")
    known = None
    if attributes_needed and subjects is not None:
        session.createDataFrame([(s,) for s in subjects], "id string").createOrReplaceTempView("__known_subjects")
        known = "__known_subjects"
    name = table if table is not None else spec.rstrip("/").rsplit("/", 1)[-1]
    raw = staging.RawTable("__raw", column_types, name, position="__row" if several else position,
                           line="__line" if several else None)
    try:
        staged = staging.stage(plan, raw, columns, subjects_relation=known, attributes_needed=attributes_needed,
                               dialect="spark")
    except ColumnsError as exc:
        raise SparkColumnarError(f"{spec}: {exc}") from None
    checked = session.sql(staged.checked.sql("spark")).cache()  # read by the events, the rejects and the counts
    checked.createOrReplaceTempView("__checked")
    events = session.sql(staged.events.sql("spark")).cache()
    events.createOrReplaceTempView("events")
    found = session.sql(staged.rejects.sql("spark"))
    if several:  # (row, message, record, `file:row`): a lake's rejects may be many
        rejects = rejects_of(found, lambda row: Reject(row[3], row[1], row[2]))
    elif table is not None:
        rejects = rejects_of(found, lambda row: Reject(f"{name}:{row[0]}", row[1], row[2]))
    else:  # one file: DuckDB words them again below (one file is within DuckDB's reach)
        rejects = [Reject(f"{name}:{row}", problem, text) for row, problem, text in found.collect()]
    if rejects and not several and table is None:  # DuckDB reads one file; otherwise the text stays Spark's
        rejects = _as_duckdb_words_them(spec, plan, subjects, attributes_needed, columns, rejects)
    read, rows = session.sql("SELECT count(*), count_if(__problem IS NULL) FROM __checked").collect()[0]
    accepted = events.count()
    return SparkLoad(session, plan, staged.layout, name, read, rejects, accepted, subjects or {},
                     expanded=accepted - rows)


def _positions_across_files(session, frame):
    """The rows of several files with a position (the file's rank in the sorted paths, then the row in it).

    The position survives any partitioning: it is the file's place among
    the sorted paths and ``_metadata.row_index``, never the order in which
    Spark's tasks read. ``__line`` names the row in its own file (its path
    under the files' common directory), as messages and rejects show it.
    """
    import os
    from urllib.parse import unquote, urlparse

    from pyspark.sql import functions as F

    paths = sorted(row[0] for row in frame.select("_metadata.file_path").distinct().collect())
    local = [unquote(urlparse(p).path) for p in paths]
    base = os.path.commonpath([os.path.dirname(p) for p in local]) if local else ""
    files = session.createDataFrame([(p, rank, os.path.relpath(q, base) if base else q)
                                     for rank, (p, q) in enumerate(zip(paths, local))],
                                    "__file string, __rank bigint, __label string")
    rows = frame.selectExpr("*", "_metadata.file_path AS __file", "_metadata.row_index AS __row_index")
    return rows.join(F.broadcast(files), "__file").selectExpr(
        *[f"`{c}`" for c in frame.columns],
        f"__rank * {FILE_RANK_SHIFT} + __row_index + 1 AS __row",
        "concat(__label, ':', CAST(__row_index + 1 AS STRING)) AS __line")


def _as_duckdb_words_them(spec: str, plan: Plan, subjects, attributes_needed: bool, columns: ColumnMap,
                          rejects: list[Reject]) -> list[Reject]:
    """The rejected rows' text as DuckDB writes it, so that --rejects is byte-identical on every engine.

    Spark finds the same rows with the same reasons, but writes a row's JSON
    (``to_json``: ISO instants, no nulls) and an instant inside a message
    (``+11026-01-01 00:00:00``) in its own way. DuckDB validates the file
    again for this (a scan, no events in Python); if it found other rows,
    Spark's own rejects stay, so a difference shows rather than hides.
    """
    from .. import sqlengine

    by_duckdb = sqlengine.load_columnar(spec, plan, subjects, attributes_needed, columns=columns).rejects
    return by_duckdb if [r.where for r in by_duckdb] == [r.where for r in rejects] else rejects

"""`score --output PATH`: the results as a Parquet table, in the columns `whuffie sql` outputs.

Entry point: ``write(results, ruleset, path, engine)``. The columns are
``subject``, each score, ``tier`` (when the rules have tiers), each privilege
as a boolean and each measure, named after the rule file. On ``--engine spark``
Spark writes the table (a directory of part files, as Spark writes any table,
on the cluster's storage); on every other engine pyarrow writes one file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path


class OutputError(Exception):
    """The output cannot be written (a bad path, a refused directory)."""


def table(results, ruleset):
    """The results as an Arrow table, one row per subject in the output's order."""
    import pyarrow as pa

    columns: dict[str, list] = {"subject": [r.subject for r in results.subjects]}
    for name in ruleset.scores:
        columns[name] = [r.scores.get(name) for r in results.subjects]
    if ruleset.tiers:
        columns["tier"] = [r.tier for r in results.subjects]
    for name in ruleset.privileges:
        columns[name] = [name in r.privileges for r in results.subjects]
    for name in ruleset.measures:
        columns[name] = [r.measures.get(name) for r in results.subjects]
    return pa.table({name: _array(values) for name, values in columns.items()})


def _array(values: list):
    """One column: ints stay int64, a column with any float is float64, an instant a UTC timestamp."""
    import pyarrow as pa

    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.array(values, pa.bool_())
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        if all(isinstance(v, int) for v in present):
            return pa.array(values, pa.int64())
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    if present and all(isinstance(v, dt.datetime) for v in present):
        return pa.array(values, pa.timestamp("us", tz="UTC"))
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def write(results, ruleset, path: Path, engine: str) -> None:
    """Write the results at ``path``: by Spark on the spark engine, else one Parquet file by pyarrow."""
    arrow = table(results, ruleset)
    if engine == "spark":
        from .engines import spark

        session = spark.session()
        try:
            session.createDataFrame(arrow, schema=spark.spark_schema(arrow)).write.mode("overwrite").parquet(
                str(path))
        except Exception as exc:  # noqa: BLE001 - any storage error is the user's to fix, not a traceback
            raise OutputError(f"Spark could not write {path}: {str(exc).strip().splitlines()[0]}") from None
        return
    import pyarrow.parquet as pq

    try:
        pq.write_table(arrow, str(path))
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc}") from None

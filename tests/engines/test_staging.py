"""staging.py: raw event tables validated and staged in SQL, the same on DuckDB and Spark.

The calendar keys are the ruleset zone's whatever the session's; the Spark
dialect's query, printed by `whuffie sql --dialect spark --table`, runs on a
local PySpark session over a raw Parquet file and equals `whuffie score`
(skipped with the reason without PySpark or Java; one query, under a minute).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clirun import whuffie
from whuffie.engines import staging
from whuffie.frontend import load_text
from whuffie.plan import lower

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RULES = """ruleset r "r"
timezone "{zone}"
author ada "Ada"
event post {{ n: int }}
rule r by ada because "r" on post award 1
score s = points
"""


def _plan(zone: str):
    return lower(load_text(RULES.format(zone=zone), "r.whuf").ruleset)


@settings(max_examples=30, deadline=None)
@given(instants=st.lists(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1),
                                      timezones=st.just(dt.timezone.utc)), min_size=1, max_size=20),
       zone=st.sampled_from(["Europe/London", "America/St_Johns", "Asia/Kathmandu", "Pacific/Apia", "UTC"]),
       session=st.sampled_from(["UTC", "Pacific/Kiritimati", "America/Adak"]))
def test_calendar_keys_are_the_rules_zone_whatever_the_session_zone(instants, zone, session) -> None:
    plan = _plan(zone)
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{session}'").fetchall()
    con.execute('CREATE TABLE raw (subject VARCHAR, type VARCHAR, "at" TIMESTAMPTZ, n BIGINT)').fetchall()
    con.executemany("INSERT INTO raw VALUES ('a', 'post', ?, 1)", [(at,) for at in instants])
    types = {row[0]: row[1] for row in con.execute("DESCRIBE raw").fetchall()}
    staged = staging.stage(plan, staging.RawTable("raw", types, "raw"), subjects_relation=None,
                           attributes_needed=False, dialect="duckdb")
    con.execute(f"CREATE TEMP TABLE __checked AS {staged.checked.sql('duckdb')}").fetchall()
    got = con.execute(f"SELECT pos, local_day, local_week, local_month, local_year FROM ({staged.events.sql('duckdb')}) "
                      "ORDER BY pos").fetchall()
    tz = ZoneInfo(zone)
    want = []
    for position, at in enumerate(instants, 1):
        local = at.astimezone(tz).date()
        day = (local - dt.date(1970, 1, 1)).days
        want.append((position, day, math.floor((day + 3) / 7), local.year * 12 + local.month - 1, local.year))
    assert got == want


def test_a_naive_or_text_time_is_local_in_the_rules_zone_and_an_offset_is_kept() -> None:
    plan = _plan("America/New_York")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Tokyo'").fetchall()
    con.execute("""CREATE TABLE raw AS SELECT * FROM (VALUES
        ('a', 'post', '2026-07-01 09:30:00', 1), ('a', 'post', '2026-07-01T09:30:00Z', 1),
        ('a', 'post', '2026-07-01T09:30:00+02:00', 1), ('a', 'post', '2026-07-01', 1), ('a', 'post', 'soon', 1))
        AS t(subject, type, "at", n)""").fetchall()
    types = {row[0]: row[1] for row in con.execute("DESCRIBE raw").fetchall()}
    staged = staging.stage(plan, staging.RawTable("raw", types, "raw"), subjects_relation=None,
                           attributes_needed=False, dialect="duckdb")
    rows = con.execute(f"SELECT __row, __at_us, __problem FROM ({staged.checked.sql('duckdb')}) ORDER BY __row").fetchall()
    us = lambda text: int(dt.datetime.fromisoformat(text).timestamp() * 1_000_000)  # noqa: E731
    assert [r[1] for r in rows] == [us("2026-07-01T09:30:00-04:00"), us("2026-07-01T09:30:00+00:00"),
                                    us("2026-07-01T09:30:00+02:00"), us("2026-07-01T00:00:00-04:00"), None]
    assert rows[4][2] == "at: expected an ISO 8601 datetime such as 2026-01-10T09:30:00Z, got soon"


def test_only_the_columns_the_score_query_reads_are_staged() -> None:
    query = staging.raw_query(_plan("UTC"), staging.RawTable("raw", staging.default_column_types(_plan("UTC")), "raw"),
                              dialect="duckdb")
    assert "local_week" not in query and "local_month" not in query and '"line"' not in query.lower()


def test_a_dialect_without_instants_here_is_unsupported_not_a_wrong_query() -> None:
    plan = _plan("UTC")
    with pytest.raises(staging.SqlUnsupported, match="trino"):
        staging.stage(plan, staging.RawTable("raw", staging.default_column_types(plan), "raw"),
                      subjects_relation=None, attributes_needed=False, dialect="trino")


# ---------------------------------------------------------------- Spark


def _spark_session():
    pytest.importorskip("pyspark", reason="PySpark is not installed (pip install 'whuffie[spark]')")
    if shutil.which("java") is None:
        pytest.skip("PySpark needs Java (java is not on PATH)")
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master("local[1]").appName("whuffie-staging-test")
            .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.session.timeZone", "America/Los_Angeles")  # far from the rules' zones
            .config("spark.sql.codegen.wholeStage", "false").config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
            .config("spark.sql.adaptive.enabled", "false")
            .config("spark.sql.optimizer.excludedRules", "org.apache.spark.sql.catalyst.optimizer.CollapseProject")
            .getOrCreate())


@pytest.fixture(scope="module")
def spark():
    session = _spark_session()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.mark.parametrize("name", ["stackoverflow"])  # roles, caps, once per day: about 45 s of Spark planning
def test_the_spark_query_on_a_raw_parquet_file_equals_score(spark, name: str, tmp_path) -> None:
    folder = EXAMPLES / name
    parquet = tmp_path / "events.parquet"
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT *, row_number() OVER () AS seq FROM read_json('{folder / "events.jsonl"}'))
                    TO '{parquet}' (FORMAT parquet)""").fetchall()
    subjects, table = [], []
    if (folder / "subjects.jsonl").exists():
        people = tmp_path / "subjects.parquet"
        con.execute(f"COPY (SELECT * FROM read_json('{folder / 'subjects.jsonl'}')) TO '{people}' (FORMAT parquet)")
        subjects, table = ["--subjects", folder / "subjects.jsonl"], ["--subjects-table", f"parquet.`{people}`"]
    scored = whuffie("score", folder / "rules.whuf", folder / "events.jsonl", *subjects, "--format", "json")
    assert scored.exit_code == 0, scored.output
    # the latest event's instant: Spark plans the query with it far faster than with the subquery
    latest = con.execute(f"SELECT max(\"at\") FROM read_parquet('{parquet}')").fetchall()[0][0]
    printed = whuffie("sql", folder / "rules.whuf", "--dialect", "spark", "--table", f"parquet.`{parquet}`",
                      "--position", "seq", "--schema", parquet, "--as-of", latest.isoformat(), *table, "--compact")
    assert printed.exit_code == 0, printed.output
    got = [row.asDict() for row in spark.sql(printed.stdout).collect()]
    rules = load_text((folder / "rules.whuf").read_text(), "rules.whuf").ruleset
    want = []
    for record in json.loads(scored.stdout):
        row = {"subject": record["subject"], **record["scores"], "tier": record["tier"]}
        row.update({p: p in record["privileges"] for p in rules.privileges})
        want.append({**row, **record["measures"]})
    assert [list(r) for r in got] == [list(w) for w in want]
    for w, g in zip(want, got):
        for key, value in w.items():
            if isinstance(value, float):
                assert math.isclose(value, g[key], abs_tol=0.005 + 1e-9), (w["subject"], key)
            else:
                assert g[key] == value, (w["subject"], key)

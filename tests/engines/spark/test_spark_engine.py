"""`--engine spark` prints what `--engine duckdb` prints: every example, bad rows and --rejects, Parquet input.

One local SparkSession for the module (conftest.py's ``spark``); PySpark is
the optional extra ``whuffie[spark]`` and needs Java, so without either the
module is skipped with the reason.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import duckdb
import pytest

from clirun import whuffie

pytest.importorskip("pyspark", reason="PySpark is not installed (pip install 'whuffie[spark]')")
if shutil.which("java") is None:
    pytest.skip("PySpark needs Java (java is not on PATH)", allow_module_level=True)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
WITH_SUBJECTS = {"library", "coop", "citizen"}


def _subjects(name: str) -> list[str]:
    return ["--subjects", str(EXAMPLES / name / "subjects.jsonl")] if name in WITH_SUBJECTS else []


def _both(*args) -> tuple:
    """The same score command on DuckDB and on Spark: (duckdb result, spark result)."""
    duck = whuffie("score", *args, "--engine", "duckdb")
    on_spark = whuffie("score", *args, "--engine", "spark")
    assert duck.exit_code == 0, duck.output
    assert on_spark.exit_code == 0, on_spark.output
    return duck, on_spark


@pytest.mark.parametrize("name", ["stackoverflow", "library", "discourse", "coop", "citizen"])
def test_every_example_on_spark_prints_what_duckdb_prints(spark, name: str) -> None:
    duck, on_spark = _both(EXAMPLES / name / "rules.whuf", EXAMPLES / name / "events.jsonl", *_subjects(name))
    assert on_spark.stdout == duck.stdout
    assert on_spark.stderr == duck.stderr  # the count line: read = scored + rejected + after as-of
    assert "read " in on_spark.stderr


def _bad_log(tmp_path: Path) -> Path:
    """The stackoverflow log with rows every engine rejects: broken JSON, an unknown type, an id given twice."""
    lines = (EXAMPLES / "stackoverflow" / "events.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    unknown = dict(first, type="no_such_type")
    unknown.pop("id", None)
    twice = next(json.loads(line) for line in lines if "id" in json.loads(line))
    planted = [lines[0], '{"subject": "ana", "type": ', json.dumps(unknown), *lines[1:40], json.dumps(twice),
               *lines[40:]]
    log = tmp_path / "bad.jsonl"
    log.write_text("\n".join(planted) + "\n")
    return log


def _scored_with_rejects_as_on_duckdb(rules: Path, events: Path, tmp_path: Path):
    """Score with --rejects on both engines; the printed output and the count line must agree. The Spark run."""
    duck = whuffie("score", rules, events, "--engine", "duckdb", "--rejects", tmp_path / "duck.jsonl")
    on_spark = whuffie("score", rules, events, "--engine", "spark", "--rejects", tmp_path / "spark.jsonl")
    assert duck.exit_code == on_spark.exit_code == 0, on_spark.output
    assert on_spark.stdout == duck.stdout
    assert on_spark.stderr.replace("spark.jsonl", "duck.jsonl") == duck.stderr
    return on_spark


def test_bad_rows_are_rejected_as_on_duckdb_and_the_rejects_files_are_byte_identical(spark, tmp_path) -> None:
    log = _bad_log(tmp_path)
    rules = EXAMPLES / "stackoverflow" / "rules.whuf"
    on_spark = _scored_with_rejects_as_on_duckdb(rules, log, tmp_path)
    assert (tmp_path / "spark.jsonl").read_bytes() == (tmp_path / "duck.jsonl").read_bytes()
    assert len((tmp_path / "spark.jsonl").read_text().splitlines()) == 3
    assert "rejected 3" in on_spark.stderr


def _parquet(tmp_path: Path, name: str) -> Path:
    parquet = tmp_path / f"{name}.parquet"
    duckdb.connect().execute(f"COPY (SELECT * FROM read_json('{EXAMPLES / name / 'events.jsonl'}')) "
                             f"TO '{parquet}' (FORMAT parquet)").fetchall()
    return parquet


@pytest.mark.parametrize("name", ["stackoverflow", "library"])
def test_parquet_input_on_spark_prints_what_duckdb_prints(spark, tmp_path, name: str) -> None:
    duck, on_spark = _both(EXAMPLES / name / "rules.whuf", _parquet(tmp_path, name), *_subjects(name),
                           "--format", "json")
    assert on_spark.stdout == duck.stdout
    assert on_spark.stderr == duck.stderr


def test_other_partitionings_give_the_same_bytes(spark) -> None:
    args = (EXAMPLES / "library" / "rules.whuf", EXAMPLES / "library" / "events.jsonl", *_subjects("library"),
            "--engine", "spark", "--format", "json")
    outputs = set()
    try:
        for partitions in ("1", "7", "3"):
            spark.conf.set("spark.sql.shuffle.partitions", partitions)
            result = whuffie("score", *args)
            assert result.exit_code == 0, result.output
            outputs.add(result.stdout)
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", "2")
    assert len(outputs) == 1


def test_the_spark_sql_query_on_a_raw_parquet_table_equals_score(spark, tmp_path) -> None:
    rules = EXAMPLES / "stackoverflow" / "rules.whuf"
    parquet = tmp_path / "raw.parquet"
    duckdb.connect().execute(f"COPY (SELECT *, row_number() OVER () AS seq FROM read_json("
                             f"'{EXAMPLES / 'stackoverflow' / 'events.jsonl'}')) TO '{parquet}' (FORMAT parquet)"
                             ).fetchall()
    scored = whuffie("score", rules, EXAMPLES / "stackoverflow" / "events.jsonl", "--format", "json")
    assert scored.exit_code == 0, scored.output
    as_of = "2026-03-08T12:00:00Z"  # the log's latest event, score's default
    query = whuffie("sql", rules, "--dialect", "spark", "--table", "events", "--position", "seq",
                    "--as-of", as_of, "--schema", parquet, "--compact")
    assert query.exit_code == 0, query.output
    spark.read.parquet(str(parquet)).createOrReplaceTempView("events")
    got = [row.asDict() for row in spark.sql(query.stdout).collect()]
    want = json.loads(scored.stdout)
    assert [g["subject"] for g in got] == [w["subject"] for w in want]
    for w, g in zip(want, got):
        flat = {**w["scores"], "tier": w["tier"], **{p: p in w["privileges"] for p in g if p in _privileges(rules)},
                **w["measures"]}
        for key, value in flat.items():
            assert math.isclose(g[key], value, abs_tol=0.005) if isinstance(value, float) else g[key] == value, key


def _privileges(rules: Path) -> set[str]:
    from whuffie.frontend import load_file

    return set(load_file(rules).ruleset.privileges)


def test_spark_options_without_the_spark_engine_are_a_usage_error() -> None:
    result = whuffie("score", EXAMPLES / "library" / "rules.whuf", EXAMPLES / "library" / "events.jsonl",
                     "--spark-master", "local[1]")
    assert result.exit_code == 2 and "--engine spark" in result.output
    bad = whuffie("score", EXAMPLES / "library" / "rules.whuf", EXAMPLES / "library" / "events.jsonl",
                  "--engine", "spark", "--spark-conf", "novalue")
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.output


def test_output_writes_parquet_that_reads_back_as_the_printed_results(spark, tmp_path) -> None:
    import pyarrow.parquet as pq

    rules, events = EXAMPLES / "library" / "rules.whuf", EXAMPLES / "library" / "events.jsonl"
    printed = whuffie("score", rules, events, *_subjects("library"), "--format", "json", "--precision", "12")
    want = [{"subject": r["subject"], **r["scores"], "tier": r["tier"]} for r in json.loads(printed.stdout)]
    for engine in ("spark", "duckdb"):
        out = tmp_path / f"{engine}.parquet"
        result = whuffie("score", rules, events, *_subjects("library"), "--engine", engine, "--output", out)
        assert result.exit_code == 0, result.output
        assert result.stdout == ""  # the results went to the file
        got = sorted(pq.read_table(out).to_pylist(), key=lambda r: r["subject"])
        assert [{k: g[k] for k in want[0]} for g in got] == want, engine
        assert set(got[0]) >= set(_privileges(rules))
    refused = whuffie("score", rules, events, *_subjects("library"), "--output", tmp_path / "out.csv")
    assert refused.exit_code == 2 and ".parquet" in refused.output


def test_a_construct_spark_cannot_express_is_refused_above_the_hand_over_limit(monkeypatch) -> None:
    from whuffie import engines

    # discourse has a tier with memory: no query expresses it; a large run is not moved to the driver
    monkeypatch.setattr(engines, "SPARK_HANDOVER_LIMIT", 10)
    result = whuffie("score", EXAMPLES / "discourse" / "rules.whuf", EXAMPLES / "discourse" / "events.jsonl",
                     "--engine", "spark")
    assert result.exit_code == 1, result.output
    assert "W091" in result.output and "tier with memory" in result.output and "too many" in result.output
    assert result.stdout == ""  # no number at all rather than a wrong one


def test_a_parquet_file_with_bad_rows_is_validated_by_spark_as_by_duckdb(spark, tmp_path) -> None:
    parquet = tmp_path / "bad.parquet"
    con = duckdb.connect()
    con.execute(f"CREATE TABLE events AS SELECT * FROM read_json('{EXAMPLES / 'stackoverflow' / 'events.jsonl'}')")
    con.execute("INSERT INTO events BY NAME SELECT * REPLACE ('no_such_type' AS type) FROM (SELECT * FROM events "
                "LIMIT 1)").fetchall()
    con.execute("INSERT INTO events BY NAME SELECT * FROM (SELECT * FROM events WHERE id IS NOT NULL LIMIT 1)")
    con.execute("""INSERT INTO events BY NAME SELECT * REPLACE (TIMESTAMPTZ '2026-01-01 00:00:00+00' + INTERVAL 9000
                   YEAR AS "at") FROM (SELECT * FROM events LIMIT 1)""").fetchall()
    con.execute(f"COPY (SELECT * FROM events ORDER BY rowid) TO '{parquet}' (FORMAT parquet)").fetchall()
    rules = EXAMPLES / "stackoverflow" / "rules.whuf"
    on_spark = _scored_with_rejects_as_on_duckdb(rules, parquet, tmp_path)
    assert "rejected 3" in on_spark.stderr
    assert (tmp_path / "spark.jsonl").read_bytes() == (tmp_path / "duck.jsonl").read_bytes()


def _lake(tmp_path: Path) -> tuple[Path, Path]:
    """The stackoverflow log with a bad row and an id given twice, as one Parquet file and as 3 part files."""
    con = duckdb.connect()
    con.execute(f"CREATE TABLE events AS SELECT * FROM read_json('{EXAMPLES / 'stackoverflow' / 'events.jsonl'}')")
    con.execute("INSERT INTO events BY NAME SELECT * REPLACE ('no_such_type' AS type) FROM (SELECT * FROM events "
                "LIMIT 1)").fetchall()
    con.execute("INSERT INTO events BY NAME SELECT * FROM (SELECT * FROM events WHERE id IS NOT NULL LIMIT 1)")
    con.execute("CREATE TABLE ordered AS SELECT *, row_number() OVER () AS n FROM (SELECT * FROM events ORDER BY rowid)")
    whole = tmp_path / "whole.parquet"
    con.execute(f"COPY (SELECT * EXCLUDE (n) FROM ordered ORDER BY n) TO '{whole}' (FORMAT parquet)").fetchall()
    lake = tmp_path / "lake"
    lake.mkdir()
    total = con.execute("SELECT count(*) FROM ordered").fetchall()[0][0]
    bounds = [0, total // 3, 2 * total // 3, total]
    for part, (low, high) in enumerate(zip(bounds, bounds[1:])):  # the names sort in the rows' order
        con.execute(f"COPY (SELECT * EXCLUDE (n) FROM ordered WHERE n > {low} AND n <= {high} ORDER BY n) "
                    f"TO '{lake / f'part-{part}.parquet'}' (FORMAT parquet)").fetchall()
    return whole, lake


def test_a_lake_of_part_files_on_spark_scores_as_duckdb_on_one_file(spark, tmp_path, monkeypatch) -> None:
    from whuffie.engines.spark import columnar as spark_columnar

    whole, lake = _lake(tmp_path)
    rules = EXAMPLES / "stackoverflow" / "rules.whuf"
    duck = whuffie("score", rules, whole, "--engine", "duckdb", "--format", "json", "--rejects", tmp_path / "d.jsonl")
    assert duck.exit_code == 0, duck.output
    outputs, stderrs, rejects, streamed = set(), set(), set(), []
    real = spark_columnar.rejects_of
    monkeypatch.setattr(spark_columnar, "rejects_of", lambda *a: streamed.append(real(*a)) or streamed[-1])
    try:
        for spec, split in ((lake, None), (f"{lake}/*.parquet", "1k")):
            if split:  # other read splits and shuffles: the position is (file rank, row in file), not task order
                spark.conf.set("spark.sql.files.maxPartitionBytes", split)
                spark.conf.set("spark.sql.shuffle.partitions", "5")
                # and the rejects streamed from the executors, as a lake with more than the driver holds
                monkeypatch.setattr(spark_columnar, "COLLECTED_REJECTS", 1)
            on_spark = whuffie("score", rules, spec, "--engine", "spark", "--format", "json",
                               "--rejects", tmp_path / "s.jsonl")
            assert on_spark.exit_code == 0, on_spark.output
            outputs.add(on_spark.stdout)
            stderrs.add(tuple(line for line in on_spark.stderr.splitlines() if line.startswith("part-")))
            rejects.add((tmp_path / "s.jsonl").read_bytes())
            assert "rejected 2" in on_spark.stderr
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
        spark.conf.set("spark.sql.shuffle.partitions", "2")
    assert outputs == {duck.stdout}
    assert [type(r).__name__ for r in streamed] == ["list", "StreamedRejects"]
    assert len(stderrs) == len(rejects) == 1  # streamed or collected, the same messages and the same file
    # the rejects name the part file and the row within it; the id given twice names where it was first
    named = [line for line in on_spark.stderr.splitlines() if line.startswith("part-")]
    assert len(named) == 2 and all(line.startswith("part-2.parquet:") for line in named), on_spark.stderr
    assert "(first at part-0.parquet:" in on_spark.stderr
    assert (tmp_path / "s.jsonl").read_text().count("\n") == 2


def test_several_parquet_files_are_only_for_spark(tmp_path) -> None:
    _, lake = _lake(tmp_path)
    result = whuffie("score", EXAMPLES / "stackoverflow" / "rules.whuf", lake, "--engine", "duckdb")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_a_table_in_the_spark_catalog_is_scored_as_duckdb_scores_its_file(spark, tmp_path) -> None:
    rules = EXAMPLES / "stackoverflow" / "rules.whuf"
    whole = _parquet(tmp_path, "stackoverflow")
    duck = whuffie("score", rules, whole, "--engine", "duckdb", "--format", "json")
    assert duck.exit_code == 0, duck.output
    rows = spark.read.parquet(str(whole))
    # shuffled into 3 part files: the order is the --position column's
    rows.selectExpr("*", "_metadata.row_index AS seq").repartition(3).write \
        .option("path", str(tmp_path / "shuffled")).saveAsTable("shuffled_events")
    # one part file, no position column: the rows are numbered by file and row within it
    rows.coalesce(1).write.option("path", str(tmp_path / "plain")).saveAsTable("plain_events")
    try:
        by_column = whuffie("score", rules, "spark:shuffled_events", "--engine", "spark", "--position", "seq",
                            "--format", "json")
        by_file = whuffie("score", rules, "spark:default.plain_events", "--engine", "spark", "--format", "json")
        assert by_column.exit_code == by_file.exit_code == 0, by_column.output + by_file.output
        assert by_column.stdout == by_file.stdout == duck.stdout
        unknown = whuffie("score", rules, "spark:no_such_table", "--engine", "spark")
        assert unknown.exit_code == 2 and "no_such_table" in unknown.stderr and "Traceback" not in unknown.output
    finally:
        spark.sql("DROP TABLE IF EXISTS shuffled_events")
        spark.sql("DROP TABLE IF EXISTS plain_events")
    on_duckdb = whuffie("score", rules, "spark:shuffled_events", "--engine", "duckdb")
    assert on_duckdb.exit_code == 2 and "--engine spark" in on_duckdb.stderr


def test_an_audit_of_a_catalog_table_in_shuffled_parts_is_the_audit_of_its_file(spark, tmp_path) -> None:
    rules, subjects = EXAMPLES / "library" / "rules.whuf", EXAMPLES / "library" / "subjects.jsonl"
    whole = _parquet(tmp_path, "library")
    audit = ("--subjects", subjects, "--by", "postcode", "--format", "json")
    duck = whuffie("audit", rules, whole, *audit, "--engine", "duckdb")
    assert duck.exit_code == 0, duck.output
    spark.read.parquet(str(whole)).selectExpr("*", "_metadata.row_index AS seq").repartition(3).write \
        .option("path", str(tmp_path / "shuffled")).saveAsTable("shuffled_library")
    try:
        on_spark = whuffie("audit", rules, "spark:shuffled_library", *audit, "--engine", "spark", "--position", "seq")
        assert on_spark.exit_code == 0, on_spark.output
        assert on_spark.stdout == duck.stdout
    finally:
        spark.sql("DROP TABLE IF EXISTS shuffled_library")
    for command in ("audit", "explain"):
        extra = ("alice",) if command == "explain" else ()
        elsewhere = whuffie(command, rules, "spark:shuffled_library", *extra, "--subjects", subjects)
        assert elsewhere.exit_code == 2 and "--engine spark" in elsewhere.stderr, elsewhere.output

"""`whuffie sql --table NAME`: one query from a raw events table gives what `whuffie score` gives.

Each example's log becomes a raw DuckDB table (as DuckDB reads the JSONL, in its
own types), with planted bad rows; the printed query is run on it as it is, and
on a view over the raw Parquet file, with the session TimeZone far from the
rules' zone. Its rows equal `whuffie score --rejects` on the same rows, subject
for subject, and its rejects query lists the same rows with the same messages.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import pytest

from clirun import whuffie

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCORED = [p.name for p in sorted(EXAMPLES.iterdir()) if (p / "events.jsonl").exists()
          and p.name != "discourse"]  # discourse has a tier with memory: no query (test below)


def _plant_bad_rows(con) -> None:
    """Rows every engine rejects: an unknown type, an id given twice, a time out of range."""
    con.execute("""INSERT INTO events BY NAME SELECT * REPLACE ('no_such_type' AS type) FROM (SELECT * FROM events
                   LIMIT 1)""").fetchall()
    if "id" in [row[0] for row in con.execute("DESCRIBE events").fetchall()]:
        con.execute("INSERT INTO events BY NAME SELECT * FROM (SELECT * FROM events WHERE id IS NOT NULL LIMIT 1)")
    con.execute("""INSERT INTO events BY NAME SELECT * REPLACE (TIMESTAMPTZ '2026-01-01 00:00:00+00' + INTERVAL 9000 YEAR
                   AS "at") FROM (SELECT * FROM events LIMIT 1)""").fetchall()


@pytest.fixture(scope="module", params=SCORED)
def raw_example(request, tmp_path_factory):
    """(name, database, raw Parquet file, subjects arguments) for one example with planted bad rows."""
    name = request.param
    folder = EXAMPLES / name
    out = tmp_path_factory.mktemp(name)
    database = out / "raw.duckdb"
    con = duckdb.connect(str(database))
    con.execute(f"CREATE TABLE events AS SELECT * FROM read_json('{folder / 'events.jsonl'}')").fetchall()
    _plant_bad_rows(con)
    subjects = []
    if (folder / "subjects.jsonl").exists():
        con.execute(f"CREATE TABLE subjects AS SELECT * FROM read_json('{folder / 'subjects.jsonl'}')").fetchall()
        subjects = ["--subjects", str(folder / "subjects.jsonl")]
    parquet = out / "events.parquet"
    con.execute(f"COPY (SELECT * FROM events ORDER BY rowid) TO '{parquet}' (FORMAT parquet)").fetchall()
    con.close()
    return name, database, parquet, subjects


def _score(name: str, events: Path, subjects: list[str], tmp_path: Path, *options) -> tuple[list[dict], list[dict]]:
    rejects = tmp_path / "rejects.jsonl"
    result = whuffie("score", EXAMPLES / name / "rules.whuf", events, *subjects, "--rejects", rejects,
                     "--format", "json", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), [json.loads(line) for line in rejects.read_text().splitlines()]


def _query(*args) -> str:
    result = whuffie("sql", *args, "--compact")
    assert result.exit_code == 0, result.output
    return result.stdout


def _flat(record: dict, rules: Path) -> dict:
    """`score --format json`'s record as the query's columns: subject, scores, tier, privileges, measures."""
    from whuffie.frontend import load_file

    rs = load_file(rules).ruleset
    out = {"subject": record["subject"], **record["scores"]}
    if rs.tiers:
        out["tier"] = record["tier"]
    out.update({p: p in record["privileges"] for p in rs.privileges})
    out.update(record["measures"])
    return out


def _differences(want: list[dict], got: list[dict]) -> list:
    problems = [("subjects", [w["subject"] for w in want], [g["subject"] for g in got])] \
        if [w["subject"] for w in want] != [g["subject"] for g in got] else []
    for w, g in zip(want, got):
        if list(w) != list(g):
            problems.append(("columns", list(w), list(g)))
        for key, value in w.items():
            other = g.get(key)
            if isinstance(value, float) or isinstance(other, float):  # score --format json rounds to 2 places
                if value is None or other is None or not math.isclose(value, other, abs_tol=0.005 + 1e-9):
                    problems.append((w["subject"], key, value, other))
            elif value != other or type(value) is not type(other):
                problems.append((w["subject"], key, value, other))
    return problems


def _messages(name: str, parquet: Path, subjects: list[str]) -> list[str]:
    """The reject messages of the DuckDB engine on the same rows (score prints them; the file keeps the rows)."""
    from whuffie.engines import sqlengine
    from whuffie.frontend import load_file
    from whuffie.inputs import load_subjects
    from whuffie.plan import lower

    rs = load_file(EXAMPLES / name / "rules.whuf").ruleset
    known = load_subjects(Path(subjects[1]), rs).subjects if subjects else None
    plan = lower(rs)
    return [r.message for r in sqlengine.load_columnar(str(parquet), plan, known, plan.reads_attributes).rejects]


def _run(con, query: str) -> list[dict]:
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def test_the_raw_table_query_scores_a_duckdb_table_as_score_does(raw_example, tmp_path) -> None:
    name, database, parquet, subjects = raw_example
    rules = EXAMPLES / name / "rules.whuf"
    want, rejected = _score(name, parquet, subjects, tmp_path)
    assert len(rejected) == (3 if name in ("library", "stackoverflow") else 2)  # the others' logs have no ids
    table = ["--subjects-table", "subjects"] if subjects else []
    schema = ["--schema", f"duckdb:{database}#events"]  # the table's own types (as DuckDB read the JSONL)
    query = _query(rules, "--dialect", "duckdb", "--table", "events", *schema, *table)
    con = duckdb.connect(str(database), read_only=True)
    con.execute("SET TimeZone = 'Pacific/Kiritimati'").fetchall()  # +14: the query names the rules' zone itself
    got = _run(con, query)
    assert _differences([_flat(w, rules) for w in want], got) == []
    # an instant in a message is written as the session shows it: in the rules' zone, as the DuckDB engine does
    from whuffie.frontend import load_file

    con.execute(f"SET TimeZone = '{load_file(rules).ruleset.timezone}'").fetchall()
    listed = _run(con, _query(rules, "--table", "events", *schema, *table, "--rejects-query"))
    assert [r["row"] for r in listed] == [r["__row"] for r in rejected]
    # the same messages, a row named by the table's name (events:1) rather than the file's
    assert [r["message"] for r in listed] == [m.replace("events.parquet:", "events:")
                                             for m in _messages(name, parquet, subjects)]


def test_the_raw_table_query_scores_a_parquet_file_as_score_does(raw_example, tmp_path) -> None:
    name, database, parquet, subjects = raw_example
    rules = EXAMPLES / name / "rules.whuf"
    want, _ = _score(name, parquet, subjects, tmp_path)
    table = ["--subjects-table", "subjects"] if subjects else []
    # a Parquet file has no rowid: its row number within the file is the input position
    query = _query(rules, "--table", f"read_parquet('{parquet}', file_row_number = true)",
                   "--position", "file_row_number + 1", "--schema", str(parquet), *table)
    con = duckdb.connect(str(database), read_only=True)
    con.execute("SET TimeZone = 'America/Adak'").fetchall()
    assert _differences([_flat(w, rules) for w in want], _run(con, query)) == []


def test_output_columns_are_named_after_the_rule_file_and_no_protected_attribute_is_read() -> None:
    query = _query(EXAMPLES / "library" / "rules.whuf", "--table", "events", "--subjects-table", "members")
    con = duckdb.connect()
    con.execute("CREATE TABLE events (subject VARCHAR, type VARCHAR, \"at\" TIMESTAMPTZ, id VARCHAR, days_late BIGINT, "
                "damaged BOOLEAN, hours BIGINT, upheld BOOLEAN)").fetchall()
    # the protected attributes are not even columns here: a query that read them would fail to bind
    con.execute("CREATE TABLE members (id VARCHAR, joined DATE)").fetchall()
    cursor = con.execute(query)
    from whuffie.frontend import load_file

    rs = load_file(EXAMPLES / "library" / "rules.whuf").ruleset
    assert [d[0] for d in cursor.description] == ["subject", *rs.scores, "tier", *rs.privileges, *rs.measures]
    lowered = query.lower()
    for attribute in ("age", "postcode"):
        assert f'"{attribute}"' not in lowered and f" {attribute}" not in lowered


def test_a_tier_with_memory_is_w091_and_spark_without_a_position_is_a_usage_error() -> None:
    memory = whuffie("sql", EXAMPLES / "discourse" / "rules.whuf", "--table", "events")
    assert memory.exit_code == 1 and "W091" in memory.output and "tier with memory" in memory.output
    spark = whuffie("sql", EXAMPLES / "stackoverflow" / "rules.whuf", "--table", "events", "--dialect", "spark")
    assert spark.exit_code == 2 and "--position" in spark.output
    lone = whuffie("sql", EXAMPLES / "stackoverflow" / "rules.whuf", "--position", "seq")
    assert lone.exit_code == 2 and "--table" in lone.output


def test_explain_prints_duckdbs_plan_of_the_raw_table_query() -> None:
    result = whuffie("sql", EXAMPLES / "stackoverflow" / "rules.whuf", "--table", "events", "--explain")
    assert result.exit_code == 0, result.output
    assert "SEQ_SCAN" in result.stdout.upper().replace(" ", "_") or "SCAN" in result.stdout.upper()
    assert "events" in result.stdout


def test_a_table_in_its_own_names_and_type_codes_reads_as_score_reads_it(tmp_path) -> None:
    rules = EXAMPLES / "library" / "rules.whuf"
    con = duckdb.connect(str(tmp_path / "raw.duckdb"))
    con.execute(f"""CREATE TABLE log AS SELECT subject AS member_id, CASE type WHEN 'returned' THEN 1
                    WHEN 'volunteered' THEN 2 ELSE 3 END AS code, "at" AS ts, id AS event_id, * EXCLUDE
                    (subject, type, "at", id), row_number() OVER () AS seq
                    FROM read_json('{EXAMPLES / "library" / "events.jsonl"}')""").fetchall()
    codes = {row[0] for row in con.execute("SELECT DISTINCT code FROM log").fetchall()}
    assert codes == {1, 2, 3}
    parquet = tmp_path / "log.parquet"
    con.execute(f"COPY (SELECT * FROM log ORDER BY seq) TO '{parquet}' (FORMAT parquet)").fetchall()
    con.execute(f"CREATE TABLE subjects AS SELECT * FROM read_json('{EXAMPLES / 'library' / 'subjects.jsonl'}')")
    from whuffie.frontend import load_file

    rs = load_file(rules).ruleset
    third = next(t for t in rs.events if t not in ("returned", "volunteered"))
    options = ["--columns", "subject=member_id,type=code,at=ts,id=event_id", "--extra", "ignore",
               "--types", f"returned=1,volunteered=2,{third}=3"]
    want, _ = _score("library", parquet, ["--subjects", str(EXAMPLES / "library" / "subjects.jsonl")], tmp_path,
                     *options)
    query = _query(rules, "--table", "log", "--position", "seq", "--schema", parquet,
                   "--subjects-table", "subjects", *options)
    assert _differences([_flat(w, rules) for w in want], _run(con, query)) == []

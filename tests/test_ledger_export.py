"""score --ledger FILE: the whole ledger, on every engine and in every format, equals explain's ledger."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from whuffie import report
from whuffie.evaluator import evaluate
from whuffie.frontend import load_file
from whuffie.inputs import load_events, load_subjects
from clirun import whuffie

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ["library", "coop", "citizen", "discourse", "stackoverflow"]
ENGINES = ["reference", "codegen", "duckdb"]
FORMATS = ["jsonl", "csv", "parquet"]
COLUMNS = ["subject", "rule", "author", "because", "cites", "event", "event_type", "at", "line", "raw", "capped",
           "cut_by", "decay", "value", "span"]


def inputs(example: str) -> list:
    folder = ROOT / "examples" / example
    args = [folder / "rules.whuf", folder / "events.jsonl"]
    if (folder / "subjects.jsonl").exists():
        args += ["--subjects", folder / "subjects.jsonl"]
    return args


def read_ledger(path: Path) -> list[dict]:
    """The exported rows as plain dicts, whatever the format (lists decoded, times as ISO text)."""
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        for row in rows:
            assert list(row) == COLUMNS
            row["cites"], row["cut_by"] = json.loads(row["cites"]), json.loads(row["cut_by"])
            for key in ("raw", "capped", "decay", "value"):
                row[key] = json.loads(row[key])
            for c in row["cut_by"]:
                assert isinstance(c["amount"], (int, float))
            row["author"] = row["author"] or None
            row["because"] = row["because"] or None
        return rows
    import duckdb

    cursor = duckdb.connect().execute(f"SELECT * FROM read_parquet('{path}')")
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r)) for r in cursor.fetchall()]
    for row in rows:
        row["at"] = report.iso(row["at"])
    return rows


def expected_ledger(example: str) -> tuple[list[dict], dict[str, object]]:
    """The reference's ledger as explain --format json prints it (precision 12), and each subject's points."""
    folder = ROOT / "examples" / example
    ruleset = load_file(folder / "rules.whuf").ruleset
    subjects = load_subjects(folder / "subjects.jsonl", ruleset).subjects \
        if (folder / "subjects.jsonl").exists() else None
    events = load_events(folder / "events.jsonl", ruleset, subjects, subjects is not None).events
    results = evaluate(ruleset, events, subjects)
    rows = [{"subject": s.subject, **report.ledger_entry(e, 12)} for s in results.subjects for e in s.ledger]
    return rows, {s.subject: s.points for s in results.subjects}


def same_entry(mine: dict, theirs: dict) -> bool:
    for key in COLUMNS:
        a, b = mine[key], theirs[key]
        if key == "cut_by":
            if [c["by"] for c in a] != [c["by"] for c in b] or \
                    any(c["amount"] != pytest.approx(d["amount"], rel=1e-9) for c, d in zip(a, b)):
                return False
        elif key == "decay":
            if a != pytest.approx(b, abs=1e-6):
                return False
        elif isinstance(b, (int, float)) and not isinstance(b, bool):
            if a != pytest.approx(b, rel=1e-9, abs=1e-9):
                return False
        elif a != b:
            return False
    return True


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_the_exported_ledger_is_the_reference_ledger_on_every_engine(tmp_path, example, engine, fmt):
    path = tmp_path / f"ledger.{fmt}"
    out = whuffie("score", *inputs(example), "--engine", engine, "--ledger", path)
    assert out.exit_code == 0, out.stderr
    rows = read_ledger(path)
    expected, points = expected_ledger(example)
    assert rows and len(rows) == len(expected)
    assert [r["subject"] for r in rows] == [r["subject"] for r in expected]
    bad = [(a, b) for a, b in zip(rows, expected) if not same_entry(a, b)]
    assert bad == []
    totals: dict[str, float] = {}
    for row in rows:
        totals[row["subject"]] = totals.get(row["subject"], 0) + row["value"]
    assert all(totals.get(s, 0) == pytest.approx(p, rel=1e-9, abs=1e-9) for s, p in points.items())


def test_the_library_ledger_equals_explain_json_entry_for_entry(tmp_path):
    library = inputs("library")
    for engine in ENGINES:
        path = tmp_path / f"{engine}.jsonl"
        assert whuffie("score", *library, "--engine", engine, "--ledger", path).exit_code == 0
        rows = read_ledger(path)
        for subject in ("alice", "bob", "carol", "dan", "erin"):
            explained = json.loads(whuffie("explain", library[0], library[1], subject, *library[2:],
                                           "--format", "json", "--precision", "12").stdout)
            mine = [r for r in rows if r["subject"] == subject]
            assert len(mine) == len(explained["ledger"]), (engine, subject)
            assert all(same_entry(a, {"subject": subject, **b}) for a, b in zip(mine, explained["ledger"]))
            assert sum(r["value"] for r in mine) == pytest.approx(explained["points"], abs=1e-9)


INT_RULES = """\
ruleset small "Whole points"
author ada "Ada"
event did { n: int in 0..100 }
rule doing by ada because "Doing things" on did award n cap 10 per day
rule first by ada because "Once" on did award 5 once
score s = points
"""
INT_EVENTS = "".join(json.dumps({"subject": s, "type": "did", "at": f"2026-01-0{d}T10:00:00Z", "n": n}) + "\n"
                     for s, d, n in (("a", 1, 7), ("a", 1, 7), ("b", 2, 3), ("a", 3, 0)))


@pytest.mark.parametrize("engine", ENGINES)
def test_whole_points_stay_integers_and_cuts_are_listed(tmp_path, engine):
    (tmp_path / "r.whuf").write_text(INT_RULES, encoding="utf-8")
    (tmp_path / "e.jsonl").write_text(INT_EVENTS, encoding="utf-8")
    for fmt in ("jsonl", "parquet"):
        path = tmp_path / f"l.{fmt}"
        out = whuffie("score", tmp_path / "r.whuf", tmp_path / "e.jsonl", "--engine", engine, "--ledger", path)
        assert out.exit_code == 0, out.stderr
        rows = [(r["subject"], r["rule"], r["raw"], r["capped"], r["cut_by"], r["value"]) for r in read_ledger(path)]
        assert rows == [
            ("a", "doing", 7, 7, [], 7), ("a", "first", 5, 5, [], 5),
            ("a", "doing", 7, 3, [{"by": "cap 10 per day", "amount": 4}], 3),
            ("a", "first", 5, 0, [{"by": "once", "amount": 5}], 0),
            ("a", "doing", 0, 0, [], 0), ("a", "first", 5, 0, [{"by": "once", "amount": 5}], 0),
            ("b", "doing", 3, 3, [], 3), ("b", "first", 5, 5, [], 5)]
        assert all(isinstance(r[2], int) and isinstance(r[5], int) for r in rows)


def test_parquet_input_on_duckdb_writes_the_ledger_from_sql(tmp_path, monkeypatch):
    import duckdb

    from whuffie import ledger_export

    source = ROOT / "examples" / "stackoverflow" / "events.jsonl"
    events = tmp_path / "events.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_json('{source}')) TO '{events}' (FORMAT parquet)")

    def no_python_ledger(*args, **kwargs):
        raise AssertionError("the ledger went through Python objects")

    monkeypatch.setattr(ledger_export, "write_results", no_python_ledger)
    path = tmp_path / "ledger.parquet"
    out = whuffie("score", ROOT / "examples" / "stackoverflow" / "rules.whuf", events, "--ledger", path,
                  "--format", "json")
    assert out.exit_code == 0, out.stderr
    rows = read_ledger(path)
    expected, points = expected_ledger("stackoverflow")
    assert len(rows) == len(expected) == 565
    assert [(r["subject"], r["rule"], r["value"]) for r in rows] == \
        [(r["subject"], r["rule"], r["value"]) for r in expected]


def test_the_ledger_is_written_when_duckdb_hands_the_run_over(tmp_path, monkeypatch):
    from whuffie.engines import sqlengine

    def fault(*args, **kwargs):
        raise sqlengine.SqlFault("planted")

    monkeypatch.setattr(sqlengine, "run_query", fault)
    path = tmp_path / "ledger.jsonl"
    out = whuffie("score", *inputs("library"), "--engine", "duckdb", "--ledger", path)
    assert out.exit_code == 0, out.stderr
    assert len(read_ledger(path)) == len(expected_ledger("library")[0])


def test_a_rule_set_without_rules_writes_an_empty_ledger(tmp_path):
    (tmp_path / "r.whuf").write_text('ruleset n "No rules"\nevent did { n: int }\nmeasure c = count did\n'
                                     "score s = c\n", encoding="utf-8")
    (tmp_path / "e.jsonl").write_text(INT_EVENTS, encoding="utf-8")
    for engine in ENGINES:
        path = tmp_path / f"{engine}.csv"
        out = whuffie("score", tmp_path / "r.whuf", tmp_path / "e.jsonl", "--engine", engine, "--ledger", path)
        assert out.exit_code == 0, out.stderr
        assert path.read_text(encoding="utf-8").splitlines() == [",".join(COLUMNS)]


@pytest.mark.parametrize("name,words", [
    ("ledger.txt", "the suffix names the format: .parquet, .csv or .jsonl"),
    ("missing/ledger.jsonl", "does not exist"),
])
def test_bad_ledger_paths_are_usage_errors(tmp_path, name, words):
    out = whuffie("score", *inputs("library"), "--ledger", tmp_path / name)
    assert out.exit_code == 2 and words in out.stderr and "Traceback" not in out.stderr


def test_the_ledger_never_overwrites_an_input():
    library = inputs("library")
    out = whuffie("score", *library, "--ledger", library[1])
    assert out.exit_code == 2 and "W081" in out.stderr and "--ledger" in out.stderr


@pytest.mark.parametrize("engine", ["duckdb", "codegen"])
def test_a_file_that_cannot_be_written_is_a_usage_error_not_a_hand_over(tmp_path, monkeypatch, engine):
    import duckdb

    from whuffie import ledger_export

    def full_disk(*args, **kwargs):
        raise duckdb.IOException("IO Error: No space left on device")

    monkeypatch.setattr(ledger_export, "_copy", full_disk)
    out = whuffie("score", *inputs("library"), "--engine", engine, "--ledger", tmp_path / "l.parquet")
    assert out.exit_code == 2 and "cannot write the ledger" in out.stderr and "No space left" in out.stderr
    assert "W091" not in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("engine", ["auto", "duckdb"])
def test_reasons_and_the_ledger_file_together_give_both_unchanged(tmp_path, engine):
    # --reasons needs the ledger in Python, so the file then comes from generated Python: the same rows
    alone, both = tmp_path / "alone.jsonl", tmp_path / "both.jsonl"
    plain = whuffie("score", *inputs("library"), "--engine", engine, "--ledger", alone, "--format", "json")
    with_reasons = whuffie("score", *inputs("library"), "--engine", engine, "--ledger", both, "--reasons", "2",
                           "--format", "json")
    assert plain.exit_code == with_reasons.exit_code == 0, with_reasons.stderr
    assert read_ledger(both) == read_ledger(alone)
    records = json.loads(with_reasons.stdout)
    assert [{k: v for k, v in r.items() if k != "reasons"} for r in records] == json.loads(plain.stdout)
    assert any(r["reasons"] for r in records)

"""Column mapping (columns.py): --columns, --extra, --types on the Python and DuckDB readers and the CLI."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from engine_strategies import histories, rule_sets
from whuffie.engines import sqlengine
from whuffie.cli import app
from whuffie.columns import PLAIN, ColumnsError, parse_options
from whuffie.frontend import load_text
from whuffie.inputs import load_events, parse_events
from whuffie.plan import lower
from clirun import whuffie

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

RULES = """ruleset t "t"
timezone "UTC"
author a "A"
event voted { up: bool }
event posted { words: int? }
rule upvote by a because "x" on voted where up award 10
rule downvote by a because "x" on voted where not up award -2
rule post by a because "x" on posted award 1
"""
RS = load_text(RULES, "t.whuf").ruleset
MAPPED = "subject=user_id,type=event_type,at=ts,id=event_id"
runner = CliRunner()


def lines(*rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


# ---------------------------------------------------------------- the options


def test_options_parse_into_one_map():
    cm = parse_options(MAPPED, "ignore", "voted=2, posted=1")
    assert cm.sources == {"subject": "user_id", "type": "event_type", "at": "ts", "id": "event_id"}
    assert cm.ignore_extra and cm.type_codes == {"2": "voted", "1": "posted"}
    assert parse_options(None, None, None) is not None and parse_options().plain
    assert parse_options("subject=subject").plain  # naming a key as itself maps nothing


@pytest.mark.parametrize("columns,extra,types,message", [
    ("subjct=user_id", None, None, "subjct is not one of subject, type, at, id (did you mean subject?)"),
    ("subject", None, None, "--columns takes NAME=VALUE pairs"),
    ("subject=a,subject=b", None, None, "--columns names subject twice"),
    ("subject=a,id=a", None, None, "two keys from the one column a"),
    (None, "keep", None, "--extra must be one of reject, ignore, not 'keep'"),
    (None, None, "voted=2,posted=2", "the code 2 twice"),
    (None, None, "no-such-file.txt", "neither TYPE=CODE pairs nor a mapping file"),
])
def test_bad_options_are_usage_errors_with_the_reason(columns, extra, types, message):
    with pytest.raises(ColumnsError) as caught:
        parse_options(columns, extra, types)
    assert message in str(caught.value)


def test_type_codes_come_from_a_file_of_lines_or_a_json_object(tmp_path):
    listed = tmp_path / "types.txt"
    listed.write_text("# the site's codes\nvoted=2\nposted=1  # new posts\n")
    assert parse_options(types=str(listed)).type_codes == {"2": "voted", "1": "posted"}
    as_json = tmp_path / "types.json"
    as_json.write_text('{"voted": 2, "posted": "p"}')
    assert parse_options(types=str(as_json)).type_codes == {"2": "voted", "p": "posted"}


def test_a_map_that_does_not_fit_the_rules_says_why():
    assert parse_options(types="votd=2").problem(RS) == "--types votd=2: no event type votd (did you mean voted?)"
    assert "a declared event field" in parse_options("id=words").problem(RS)
    assert parse_options(MAPPED, "ignore", "voted=2").problem(RS) is None


# ---------------------------------------------------------------- the Python reader

RAW = [
    {"user_id": 17, "event_type": 2, "ts": "2026-01-01T10:00:00Z", "event_id": 901, "seq": 1, "up": True},
    {"user_id": 18, "event_type": "posted", "ts": "2026-01-01T11:00:00Z", "seq": 2},
    {"user_id": 18, "event_type": 9, "ts": "2026-01-01T12:00:00Z", "seq": 3},
]


def test_a_table_with_its_own_names_reads_as_whuffies_layout_and_rejects_keep_the_line():
    load = parse_events(lines(*RAW), Path("raw.jsonl"), RS, columns=parse_options(MAPPED, "ignore", "voted=2"))
    assert [(e.subject, e.type, e.id, e.at.hour, e.fields) for e in load.events] == [
        ("17", "voted", "901", 10, {"up": True}), ("18", "posted", "raw.jsonl:2", 11, {"words": None})]
    [reject] = load.rejects
    assert str(reject) == "raw.jsonl:3: unknown event type 9"
    assert reject.text == json.dumps(RAW[2])  # the line as it was, not the renamed row


def test_extra_columns_are_rejected_by_default_and_a_moved_key_is_one_too():
    load = parse_events(lines(RAW[0], {**RAW[1], "subject": "x"}), Path("raw.jsonl"), RS,
                        columns=parse_options(MAPPED, None, "voted=2"))
    assert [str(r) for r in load.rejects] == [
        "raw.jsonl:1: unknown field seq for event voted",
        "raw.jsonl:2: column subject: --columns reads subject from user_id; give --extra ignore to accept "
        "columns the rules do not declare; unknown field seq for event posted"]


def test_integer_ids_are_text_only_with_a_mapping():
    row = {"subject": 7, "type": "voted", "at": "2026-01-01", "up": True}
    assert [str(r) for r in parse_events(lines(row), Path("e.jsonl"), RS).rejects] == [
        "e.jsonl:1: subject: expected a text id, got 7"]
    [event] = parse_events(lines(row), Path("e.jsonl"), RS, columns=parse_options(types="voted=2")).events
    assert event.subject == "7"


def test_a_csv_header_is_read_under_the_mapped_names(tmp_path):
    path = tmp_path / "raw.csv"
    path.write_text("seq,user_id,event_type,ts,up\n1,3,2,2026-01-01,true\n2,4,voted,2026-01-02,false\n")
    load = load_events(path, RS, columns=parse_options("subject=user_id,type=event_type,at=ts", "ignore",
                                                       "voted=2"))
    assert [(e.subject, e.type, e.fields) for e in load.events] == [("3", "voted", {"up": True}),
                                                                   ("4", "voted", {"up": False})]
    from whuffie.inputs import DataError

    with pytest.raises(DataError, match="lacks the required column at"):  # `at` was not mapped to ts
        load_events(path, RS, columns=parse_options("subject=user_id,type=event_type"))


# ---------------------------------------------------------------- the DuckDB readers


def test_duckdb_reads_a_mapped_jsonl_log_in_sql_as_python_does(tmp_path):
    path = tmp_path / "raw.jsonl"
    path.write_text(lines(*RAW))
    cm = parse_options(MAPPED, "ignore", "voted=2")
    expected = load_events(path, RS, columns=cm)
    got = sqlengine.load_text_log(str(path), lower(RS), None, False, columns=cm)
    assert [(e.subject, e.type, e.id, e.at, e.fields) for e in got.events()] == \
        [(e.subject, e.type, e.id, e.at, e.fields) for e in expected.events]
    assert [(str(r), r.text) for r in got.rejects] == [(str(r), r.text) for r in expected.rejects]


def test_duckdb_maps_a_parquet_file_and_a_table_in_the_scan(tmp_path):
    import duckdb

    db = tmp_path / "site.duckdb"
    con = duckdb.connect(str(db))
    con.execute("""CREATE TABLE votes AS SELECT * FROM (VALUES
        (1, 17, 2, TIMESTAMPTZ '2026-01-01 10:00:00+00', true),
        (2, 17, 2, TIMESTAMPTZ '2026-01-01 11:00:00+00', false),
        (3, 18, 1, TIMESTAMPTZ '2026-01-01 12:00:00+00', NULL),
        (4, 18, 5, TIMESTAMPTZ '2026-01-01 13:00:00+00', NULL)) v(seq, user_id, event_type, ts, up)""")
    con.execute(f"COPY votes TO '{tmp_path / 'votes.parquet'}' (FORMAT parquet)")
    con.close()
    cm = parse_options("subject=user_id,type=event_type,at=ts", "ignore", "voted=2,posted=1")
    for spec in (f"duckdb:{db}#votes", str(tmp_path / "votes.parquet")):
        load = sqlengine.load_columnar(spec, lower(RS), None, False, columns=cm)
        assert [(e.subject, e.type, e.fields) for e in load.events()] == [
            ("17", "voted", {"up": True}), ("17", "voted", {"up": False}), ("18", "posted", {"words": None})]
        [reject] = load.rejects
        assert reject.message.startswith("unknown event type") and '"event_type":5' in reject.text
        assert '"subject"' not in reject.text  # the row with its own columns


# ---------------------------------------------------------------- the benchmark's raw table, end to end


@pytest.fixture(scope="module")
def raw_log(tmp_path_factory):
    import bench_engines

    folder = tmp_path_factory.mktemp("raw")
    converted, _ = bench_engines.generate(1500, folder)
    raw_jsonl, raw_parquet = bench_engines.raw_table(converted, folder)
    rules = folder / "rules.whuf"
    rules.write_text(bench_engines.RULES)
    return rules, converted, raw_jsonl, raw_parquet


@pytest.mark.parametrize("which", ["jsonl", "parquet"])
@pytest.mark.parametrize("engine", ["codegen", "duckdb"])
def test_the_raw_stack_overflow_table_scores_as_the_converted_file(raw_log, which, engine):
    rules, converted, raw_jsonl, raw_parquet = raw_log
    expected = whuffie("score", rules, converted, "--format", "json", "--engine", engine)
    assert expected.exit_code == 0, expected.output
    raw = raw_jsonl if which == "jsonl" else raw_parquet
    got = whuffie("score", rules, raw, "--format", "json", "--engine", engine,
                  "--columns", "subject=user_id,type=event_type,at=ts", "--extra", "ignore")
    assert got.exit_code == 0, got.output
    want = json.loads(expected.stdout)
    for s in want:
        s["subject"] = s["subject"][1:]  # u17 was user 17
    have = json.loads(got.stdout)
    assert len(have) > 20
    assert sorted(have, key=lambda s: s["subject"]) == sorted(want, key=lambda s: s["subject"])


def test_without_extra_ignore_the_seq_column_is_rejected_with_the_way_to_allow_it(raw_log):
    rules, _, raw_jsonl, _ = raw_log
    got = whuffie("score", rules, raw_jsonl, "--columns", "subject=user_id,type=event_type,at=ts")
    assert got.exit_code == 2
    assert "unknown field seq for event" in got.stderr
    assert "hint: give --extra ignore to accept columns the rules do not declare" in got.stderr


def test_explain_audit_and_diff_take_the_mapping_too(raw_log):
    rules, _, raw_jsonl, _ = raw_log
    mapping = ("--columns", "subject=user_id,type=event_type,at=ts", "--extra", "ignore")
    explained = whuffie("explain", rules, raw_jsonl, "3", *mapping)
    assert explained.exit_code == 0, explained.output
    compared = whuffie("diff", rules, rules, raw_jsonl, *mapping, "--format", "json")
    assert compared.exit_code == 0, compared.output
    bad = whuffie("score", rules, raw_jsonl, "--columns", "subjet=user_id")
    assert bad.exit_code == 2 and "did you mean subject?" in bad.stderr


def test_the_repl_reads_a_mapped_events_file(raw_log):
    rules, _, raw_jsonl, _ = raw_log
    got = runner.invoke(app, ["repl", str(rules), "--events", str(raw_jsonl), "--columns",
                              "subject=user_id,type=event_type,at=ts", "--extra", "ignore"], input=":scores 3\n")
    assert "1500 events loaded" in got.stderr, got.output


# ---------------------------------------------------------------- the law


def _renamed(events_text: str, codes: dict[str, str]) -> str:
    out = []
    for seq, line in enumerate(events_text.splitlines()):
        row = json.loads(line)
        raw = {"seq": seq, "ts": row.pop("at"), "user_id": row.pop("subject"), "kind": codes[row.pop("type")]}
        if "id" in row:
            raw["event_id"] = row.pop("id")
        raw.update(row)
        out.append(json.dumps(raw) + "\n")
    return "".join(out)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_a_renamed_log_read_with_its_mapping_gives_the_same_events_in_python_and_in_sql(data):
    generated = data.draw(rule_sets())
    events_text, _ = data.draw(histories(generated))
    rs = load_text(generated.text, "gen.whuf").ruleset
    codes = {name: str(i) for i, (name, _) in enumerate(generated.events)}
    cm = parse_options("subject=user_id,type=kind,at=ts,id=event_id", "ignore",
                       ",".join(f"{name}={code}" for name, code in codes.items()))
    plain = parse_events(events_text, Path("events.jsonl"), rs)
    mapped = parse_events(_renamed(events_text, codes), Path("events.jsonl"), rs, columns=cm)
    key = lambda e: (e.subject, e.type, e.at, e.id, e.line, e.fields)  # noqa: E731
    assert [key(e) for e in mapped.events] == [key(e) for e in plain.events]
    assert not mapped.rejects and not plain.rejects
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        path.write_text(_renamed(events_text, codes))
        in_sql = sqlengine.load_text_log(str(path), lower(rs), None, False, columns=cm)
        assert [key(e) for e in in_sql.events()] == [key(e) for e in plain.events]

"""The report's document: histograms, tier counts, and every part equal to what the other commands print."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from whuffie.report_data import MAX_BINS, histogram
from clirun import whuffie

from engine_strategies import histories, rule_sets

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "examples" / "library"
LIBRARY = [LIB / "rules.whuf", LIB / "events.jsonl", "--subjects", LIB / "subjects.jsonl"]


def report_json(*args):
    out = whuffie("report", *args, "--format", "json")
    assert out.exit_code == 0, out.stderr
    return json.loads(out.stdout)


# ---------------------------------------------------------------- histograms


def test_whole_values_get_whole_bins_with_both_ends_included():
    # 0..24 is 25 values: bins of ceil(25 / 10) = 3 values, 0-2, 3-5, ..., 24-24
    bins = histogram([0, 2, 3, 24])
    assert len(bins) == 9
    assert bins[0] == {"low": 0, "high": 2, "count": 2}
    assert bins[1] == {"low": 3, "high": 5, "count": 1}
    assert bins[-1] == {"low": 24, "high": 24, "count": 1}


def test_a_narrow_range_gets_one_bin_per_value():
    assert histogram([5, 7, 7]) == [{"low": 5, "high": 5, "count": 1}, {"low": 6, "high": 6, "count": 0},
                                    {"low": 7, "high": 7, "count": 2}]


def test_one_value_is_one_bin():
    assert histogram([3.5]) == [{"low": 3.5, "high": 3.5, "count": 1}]


def test_fractional_values_fall_in_half_open_bins_and_the_maximum_in_the_last():
    bins = histogram([0.0, 0.5, 0.99, 1.0])
    assert len(bins) == MAX_BINS
    assert bins[0] == {"low": 0.0, "high": 0.1, "count": 1}
    assert bins[5] == {"low": 0.5, "high": 0.6, "count": 1}  # 0.5 is the low edge of the sixth bin
    assert bins[-1] == {"low": 0.9, "high": 1.0, "count": 2}  # 0.99 and the maximum


@given(st.lists(st.one_of(st.integers(-10**6, 10**6),
                          st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)), min_size=1, max_size=60))
def test_every_value_falls_in_exactly_one_bin(values):
    bins = histogram(values, precision=12)
    assert 1 <= len(bins) <= MAX_BINS
    assert sum(b["count"] for b in bins) == len(values)
    assert bins[0]["low"] == pytest.approx(min(values)) and bins[-1]["high"] == pytest.approx(max(values))
    if all(float(v).is_integer() for v in values):
        for v in values:
            assert sum(1 for b in bins if b["low"] <= v <= b["high"]) == 1
        assert all(b["high"] + 1 == nxt["low"] for b, nxt in zip(bins, bins[1:]))


# ---------------------------------------------------------------- the document against the other commands


def test_the_library_report_by_hand():
    data = report_json(*LIBRARY)
    assert (data["rule_set"], data["subjects"], data["events"]) == ("riverside", 5, 28)
    assert [(t["tier"], t["count"]) for t in data["tiers"]] == [("trusted", 2), ("member", 2), ("restricted", 1)]
    assert data["privileges"] == [{"privilege": "reserve_new_books", "holders": 4}]
    standing = data["scores"][0]
    assert (standing["score"], standing["count"], standing["min"], standing["max"]) == ("standing", 5, 35.0, 200.0)
    assert standing["mean"] == 111.8  # (35 + 72 + 100 + 152 + 200) / 5
    assert [r["rule"] for r in data["rules"]] == ["volunteering", "upheld_complaint", "late_return", "on_time_return"]
    assert data["dead_rules"] == [] and data["audit"] is None and data["diff"] is None


def test_the_audit_part_is_whuffie_audit_json():
    data = report_json(*LIBRARY, "--bands", "age=40,65", "--by", "age")
    audited = whuffie("audit", *LIBRARY, "--bands", "age=40,65", "--format", "json")
    assert audited.exit_code == 0, audited.stderr
    assert data["audit"] == json.loads(audited.stdout)


def test_the_authors_part_is_whuffie_authors_json():
    authors = whuffie("authors", LIB / "rules.whuf", LIB / "events.jsonl", "--subjects", LIB / "subjects.jsonl",
                      "--format", "json")
    assert authors.exit_code == 0, authors.stderr
    assert report_json(*LIBRARY)["authors"] == json.loads(authors.stdout)


def test_the_change_part_is_whuffie_diff_json(tmp_path):
    old = tmp_path / "old.whuf"
    old.write_text((LIB / "rules.whuf").read_text(encoding="utf-8").replace("award 2\n", "award 1\n", 1),
                   encoding="utf-8")
    data = report_json(*LIBRARY, "--old", old)
    diffed = whuffie("diff", old, LIB / "rules.whuf", LIB / "events.jsonl", "--subjects", LIB / "subjects.jsonl",
                     "--format", "json")
    assert diffed.exit_code == 0, diffed.stderr
    assert data["diff"] == json.loads(diffed.stdout)
    # on_time_return fires 12 times: 12 points at award 1; at award 2, February's eleven returns give 22, capped
    # at 20, and the twelfth (31 March 23:30 UTC, April in London) 2: 22 points, so the change moves 10
    assert [r["points"] for r in data["diff"]["by_rule"] if r["rule"] == "on_time_return"] == [10]
    assert [r["points"] for r in data["rules"] if r["rule"] == "on_time_return"] == [22]


def test_every_engine_gives_the_same_report(tmp_path):
    parquet = tmp_path / "events.parquet"
    import duckdb

    duckdb.sql(f"COPY (SELECT * FROM read_json_auto('{LIB / 'events.jsonl'}')) TO '{parquet}' (FORMAT parquet)")
    args = [*LIBRARY, "--bands", "age=40,65"]
    reports = [report_json(*args, "--engine", engine) for engine in ("reference", "codegen", "duckdb", "auto")]
    reports.append(report_json(LIB / "rules.whuf", parquet, *LIBRARY[2:], "--bands", "age=40,65", "--engine", "duckdb"))
    assert all(r == reports[0] for r in reports)
    assert reports[-1]["rules"][0]["firings"] == 4  # the ledger's count, even for Parquet on DuckDB


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_the_report_is_score_and_its_ledger_counted_by_hand(data):
    generated = data.draw(rule_sets())
    events_text, subjects_text = data.draw(histories(generated))
    with tempfile.TemporaryDirectory() as folder:
        rules, events, subjects, ledger = (Path(folder) / name for name in ("r.whuf", "e.jsonl", "s.jsonl", "l.jsonl"))
        rules.write_text(generated.text, encoding="utf-8")
        events.write_text(events_text, encoding="utf-8")
        subjects.write_text(subjects_text, encoding="utf-8")
        common = [rules, events, "--subjects", subjects, "--as-of", "2026-06-01", "--precision", "12"]
        scored = whuffie("score", *common, "--format", "json", "--ledger", ledger)
        assume(scored.exit_code == 0)  # a generated rule set may fault at run time (W090)
        rows = [json.loads(line) for line in ledger.read_text(encoding="utf-8").splitlines()]
        found = report_json(*common)
    records = json.loads(scored.stdout)
    assert found["subjects"] == len(records)
    counted = Counter(r["tier"] for r in records)
    assert {t["tier"]: t["count"] for t in found["tiers"]} == {t: counted[t] for t in (x["tier"] for x in found["tiers"])}
    assert sum(t["count"] for t in found["tiers"]) == (len(records) if found["tiers"] else 0)
    for p in found["privileges"]:
        assert p["holders"] == sum(1 for r in records if p["privilege"] in r["privileges"])
    for s in found["scores"]:
        values = [r["scores"][s["score"]] for r in records if r["scores"].get(s["score"]) is not None]
        assert s["count"] == len(values) == sum(b["count"] for b in s["bins"])
        for v in values:  # each member's score lies in a bin
            assert any(b["low"] - 1e-9 <= v <= b["high"] + 1e-9 for b in s["bins"])
    for r in found["rules"]:
        mine = [row for row in rows if row["rule"] == r["rule"]]
        assert r["firings"] == len(mine)
        assert r["subjects"] == len({row["subject"] for row in mine})
        assert r["points"] == pytest.approx(sum(row["value"] for row in mine), rel=1e-9, abs=1e-9)
    assert found["dead_rules"] == [r["rule"] for r in found["rules"] if not r["firings"]]


def test_a_table_with_its_own_column_names_reaches_the_report(tmp_path):
    # the library's events with their columns renamed, as a real export names them
    renamed = tmp_path / "export.jsonl"
    with renamed.open("w", encoding="utf-8") as out:
        for line in (LIB / "events.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            row["member_id"], row["kind"], row["ts"] = row.pop("subject"), row.pop("type"), row.pop("at")
            out.write(json.dumps(row) + "\n")
    plain = report_json(*LIBRARY)
    mapped = report_json(LIB / "rules.whuf", renamed, "--subjects", LIB / "subjects.jsonl",
                         "--columns", "subject=member_id,type=kind,at=ts")
    assert mapped["rules"] == plain["rules"] and mapped["tiers"] == plain["tiers"]
    refused = whuffie("report", LIB / "rules.whuf", renamed, "--subjects", LIB / "subjects.jsonl", "--format", "json")
    assert refused.exit_code == 2  # without the mapping nothing can be read

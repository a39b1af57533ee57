"""Tiers with memory (`keep`, `keep while`, `hold`): hand-computed timelines, DST midnights, the laws."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from timehelpers import diagnostics_of, ev, run_all, subject
from typer.testing import CliRunner

from whuffie.cli import app
from whuffie.tier_history import tier_since
from whuffie.tiertimeline import evaluation_points

UTC = dt.timezone.utc

HELD = """
rule r by ada because "x" on visited award 1
measure visits_10d = count visited within 10 days
tier leader when visits_10d >= 3
  keep while visits_10d >= 2
  hold 20 days
  by ada
tier member when visits_10d >= 1 keep by ada
tier newcomer otherwise by ada
"""
THREE_VISITS = [ev("visited", f"2026-03-0{d}T10:00:00Z", minutes=5) for d in (1, 2, 3)]


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def history(result) -> list[tuple[str, str | None, str | None, str, bool]]:
    return [(c.at.isoformat().replace("+00:00", "Z"), c.from_tier, c.to_tier, c.reason, c.held)
            for c in result.tier_log]


def test_kept_while_close_then_held_then_lost_to_a_tier_never_taken_away():
    # leader reached with the third visit (03-03 10:00). At midnight 03-12 two visits are within 10 days:
    # `keep while` holds. At midnight 03-13 only one is: the requirement is lost, but 20 days have not
    # passed since 03-03 10:00, so `hold` keeps it until the midnight after 03-23 10:00; then member,
    # which `keep` never takes away although no visit is within 10 days any more.
    out = run_all(HELD, THREE_VISITS, as_of="2026-03-30T00:00:00Z")
    for results in out.values():
        assert subject(results).tier == "member"
    s = subject(out["reference"])
    assert history(s) == [
        ("2026-03-01T10:00:00Z", None, "member", "when", False),
        ("2026-03-03T10:00:00Z", "member", "leader", "when", False),
        ("2026-03-13T00:00:00Z", "leader", "leader", "hold 20 days", True),
        ("2026-03-24T00:00:00Z", "leader", "member", "keep", False),
    ]
    assert tier_since(s) == at("2026-03-24T00:00:00Z")
    assert subject(out["codegen"]).tier_log == s.tier_log  # generated Python walks the same timeline


def test_requirements_close_so_not_lost_and_promoted_recently_so_not_demoted():
    results = run_all(HELD, THREE_VISITS, as_of="2026-03-12T12:00:00Z")["reference"]
    assert subject(results).tier == "leader"  # two visits within 10 days: kept
    results = run_all(HELD, THREE_VISITS, as_of="2026-03-20T00:00:00Z")["reference"]
    assert subject(results).tier == "leader"  # one visit: lost, but held (17 days since promotion)


def test_a_memoryless_rule_set_has_no_history():
    results = run_all("measure v = count visited\ntier a when v >= 1 by ada\n", THREE_VISITS)["reference"]
    assert subject(results).tier_log == []


def test_midnights_are_local_across_the_spring_clock_change():
    berlin = ZoneInfo("Europe/Berlin")
    events = [type("E", (), {"at": at("2026-03-28T12:00:00Z")})()]
    points = [p for p, _ in evaluation_points(events, at("2026-03-31T00:00:00Z"), berlin)]
    assert points == [at("2026-03-28T12:00:00Z"), at("2026-03-28T23:00:00Z"), at("2026-03-29T22:00:00Z"),
                      at("2026-03-30T22:00:00Z"), at("2026-03-31T00:00:00Z")]


DST = """
rule r by ada because "x" on visited award 1
measure visits_1d = count visited within 1 day
tier leader when visits_1d >= 1 hold 36 hours by ada
tier newcomer otherwise by ada
"""


def test_a_hold_ends_at_the_first_local_midnight_after_it_runs_out():
    # reached 03-28 12:00Z; at midnight 03-30 Berlin (03-29 22:00Z, after the change to +02:00) the visit
    # is out of the day-long window but 34 hours < 36 have passed: held; at midnight 03-31 (03-30 22:00Z): lost
    results = run_all(DST, [ev("visited", "2026-03-28T12:00:00Z", minutes=1)], tz="Europe/Berlin",
                      as_of="2026-04-02T00:00:00Z")["reference"]
    assert history(subject(results)) == [
        ("2026-03-28T12:00:00Z", None, "leader", "when", False),
        ("2026-03-29T22:00:00Z", "leader", "leader", "hold 36 hours", True),
        ("2026-03-30T22:00:00Z", "leader", "newcomer", "otherwise", False),
    ]


def test_memory_clauses_are_checked():
    codes = [c for c, _ in diagnostics_of("measure v = count visited\ntier a when v > 1 keep while v by ada\n")]
    assert "W021" in codes
    codes = [c for c, _ in diagnostics_of("measure v = count visited\ntier a when v > 1 hold 0 days by ada\n")]
    assert "W055" in codes
    codes = [c for c, _ in diagnostics_of("tier a otherwise keep by ada\n")]
    assert "W025" in codes
    codes = [c for c, _ in diagnostics_of("measure v = count visited\ntier a when v > 1 keep keep by ada\n")]
    assert "W034" in codes


MEMORYLESS = """
rule r by ada because "x" on visited award 1
measure v = count visited within 5 days
tier leader when v >= 2 {memory} by ada
tier member when v >= 1 by ada
tier newcomer otherwise by ada
"""


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=8), st.integers(0, 40))
def test_keep_while_its_own_when_without_hold_is_the_memoryless_tier(days, as_of_day):
    events = [ev("visited", (dt.datetime(2026, 1, 1, 9, tzinfo=UTC) + dt.timedelta(days=d, hours=d % 5))
                 .isoformat(), minutes=1) for d in days]
    as_of = (dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(days=as_of_day, hours=7)).isoformat()
    plain = run_all(MEMORYLESS.format(memory=""), events, as_of=as_of, engine_names=("reference",))
    kept = run_all(MEMORYLESS.format(memory="keep while v >= 2"), events, as_of=as_of,
                   engine_names=("reference",))
    assert [r.tier for r in kept["reference"].subjects] == [r.tier for r in plain["reference"].subjects]


def test_explain_shows_the_history_and_score_writes_the_tier_log(tmp_path):
    rules = tmp_path / "t.whuf"
    from timehelpers import HEADER

    rules.write_text(HEADER.format(tz="UTC") + HELD)
    events = tmp_path / "e.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in THREE_VISITS))
    runner = CliRunner()
    result = runner.invoke(app, ["explain", str(rules), str(events), "s", "--as-of", "2026-03-30"])
    assert result.exit_code == 0, result.output
    assert "  member since 2026-03-24T00:00:00Z" in result.stdout
    assert "    2026-03-13T00:00:00Z  leader would have been lost, but held by `hold 20 days`" in result.stdout
    log = tmp_path / "tiers.jsonl"
    result = runner.invoke(app, ["score", str(rules), str(events), "--as-of", "2026-03-30", "--format", "json",
                                 "--tier-log", str(log)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["tier_since"] == "2026-03-24T00:00:00Z"
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert lines[1] == {"subject": "s", "at": "2026-03-03T10:00:00Z", "from": "member", "to": "leader",
                        "by": "when", "held": False}
    assert len(lines) == 4
    result = runner.invoke(app, ["explain", str(rules), str(events), "s", "--as-of", "2026-03-30", "--format", "json"])
    history = json.loads(result.stdout)["tier_history"]
    assert history[2] == {"at": "2026-03-13T00:00:00Z", "from": "leader", "to": "leader", "by": "hold 20 days",
                          "held": True}


def test_tier_log_without_memory_is_a_usage_error(tmp_path):
    rules = tmp_path / "t.whuf"
    from timehelpers import HEADER

    rules.write_text(HEADER.format(tz="UTC") + "measure v = count visited\ntier a when v >= 1 by ada\n")
    events = tmp_path / "e.jsonl"
    events.write_text(json.dumps(THREE_VISITS[0]) + "\n")
    result = CliRunner().invoke(app, ["score", str(rules), str(events), "--tier-log", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "--tier-log needs a tier with memory" in result.stderr


@pytest.mark.parametrize("clash", ["events", "rules", "ledger"])
def test_the_tier_log_never_overwrites_an_input_or_another_output(tmp_path, clash):
    rules = tmp_path / "t.whuf"
    from timehelpers import HEADER

    rules.write_text(HEADER.format(tz="UTC") + HELD)
    events = tmp_path / "e.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in THREE_VISITS))
    ledger = tmp_path / "ledger.jsonl"
    target = {"events": events, "rules": rules, "ledger": ledger}[clash]
    before = target.read_bytes() if target.exists() else None
    result = CliRunner().invoke(app, ["score", str(rules), str(events), "--ledger", str(ledger),
                                      "--tier-log", str(target)])
    assert result.exit_code == 2 and "W081" in result.stderr, result.output
    assert (target.read_bytes() if target.exists() else None) == before

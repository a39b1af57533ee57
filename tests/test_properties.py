"""Property checking: planted defects are found and shrunk, fixed versions pass, counterexamples replay."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from whuffie.cli import app
from whuffie.frontend import load_file, load_text
from whuffie.inputs import Event
from whuffie.properties import check_history, check_property, scores_of
from whuffie.testing import History, base_instant

ROOT = Path(__file__).resolve().parents[1]
PLANTED = ROOT / "tests" / "planted"
runner = CliRunner()


def ruleset_of(path: Path):
    loaded = load_file(path)
    assert loaded.ok, loaded.diagnostics
    return loaded


def only_property(loaded):
    (decl,) = loaded.ruleset.properties
    return decl


# (planted file, what the shrunk counterexample says)
PLANTED_DEFECTS = [
    ("farm", r"s1 gains 25 standing on 2026-03-02 \(from 0 to 25\), more than 20 per day"),
    ("penalty", r"raising helped.hours of one event from \d+(\.\d+)? to \d+(\.\d+)? for s1 lowers standing"),
    ("range", r"always 0 <= standing <= 100 is false for s1 \(it reads 0 <= -?\d+ <= 100\)"),
    ("attribute", r'changing member.region of s1 from "north" to .* changes tier from trusted to member'),
]


@pytest.mark.parametrize("name, message", PLANTED_DEFECTS, ids=[p[0] for p in PLANTED_DEFECTS])
def test_planted_defect_is_found_and_its_fix_passes(name, message):
    broken = ruleset_of(PLANTED / f"{name}.whuf")
    outcome = check_property(broken.ruleset, only_property(broken), seed=0, source=broken.source)
    assert not outcome.passed
    assert re.search(message, outcome.violation.message), outcome.violation.message
    fixed = ruleset_of(PLANTED / f"{name}_fixed.whuf")
    assert check_property(fixed.ruleset, only_property(fixed), seed=0, max_examples=50).passed


def test_shrunk_counterexamples_are_small_and_round():
    farm = ruleset_of(PLANTED / "farm.whuf")
    outcome = check_property(farm.ruleset, only_property(farm), seed=0)
    (run,) = outcome.violation.runs
    history = run.history
    # 5 points an event and a bound of 20: five check-ins on one day is the least that breaks it.
    assert len(history.events) == 5
    assert list(history.subjects) == ["s1"]
    assert {e.fields["minutes"] for e in history.events} == {0}
    assert history.events[0].at == base_instant("UTC")
    assert history.events[-1].at - history.events[0].at < dt.timedelta(hours=1)


def saved_run(tmp_path: Path, rules: Path) -> tuple[str, Path]:
    out = tmp_path / "ce"
    result = runner.invoke(app, ["test", str(rules), "--seed", "0", "--save-counterexamples", str(out)])
    assert result.exit_code == 1, result.output
    return result.output, out


def explain_json(rules: Path, events: Path, subject: str, *extra: str) -> dict:
    result = runner.invoke(app, ["explain", str(rules), str(events), subject, "--format", "json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_out_of_range_counterexample_replays_in_explain(tmp_path):
    rules = PLANTED / "range.whuf"
    output, folder = saved_run(tmp_path, rules)
    assert f"whuffie explain {rules} {folder}/standing-stays-between-0-and-100.jsonl s1" in output
    record = explain_json(rules, folder / "standing-stays-between-0-and-100.jsonl", "s1")
    assert not 0 <= record["scores"]["standing"] <= 100


def test_farming_counterexample_replays_in_explain(tmp_path):
    rules = PLANTED / "farm.whuf"
    _, folder = saved_run(tmp_path, rules)
    record = explain_json(rules, folder / "no-more-than-20-points-a-day.jsonl", "s1")
    days = {entry["at"][:10] for entry in record["ledger"]}
    assert len(days) == 1 and record["points"] > 20
    assert {entry["rule"] for entry in record["ledger"]} == {"check_in"}
    assert {entry["author"] for entry in record["ledger"]} == {"kim"}


def test_penalty_counterexample_replays_in_explain(tmp_path):
    rules = PLANTED / "penalty.whuf"
    _, folder = saved_run(tmp_path, rules)
    more = explain_json(rules, folder / "more-hours-never-hurt.jsonl", "s1")
    less = explain_json(rules, folder / "more-hours-never-hurt.lower.jsonl", "s1")
    assert more["scores"]["standing"] < less["scores"]["standing"]
    assert "burnout" in {entry["rule"] for entry in more["ledger"]}


def test_attribute_counterexample_replays_in_explain(tmp_path):
    rules = PLANTED / "attribute.whuf"
    output, folder = saved_run(tmp_path, rules)
    stem = folder / "region-never-matters"
    assert f"--subjects {stem}.subjects.jsonl" in output
    north = explain_json(rules, Path(f"{stem}.jsonl"), "s1", "--subjects", f"{stem}.subjects.jsonl")
    other = explain_json(rules, Path(f"{stem}.changed.jsonl"), "s1", "--subjects", f"{stem}.changed.subjects.jsonl")
    assert north["tier"] == "trusted" and other["tier"] == "member"


def test_same_seed_same_report_byte_for_byte():
    files = [str(PLANTED / f"{name}.whuf") for name, _ in PLANTED_DEFECTS] + [str(PLANTED / "range_fixed.whuf")]
    first = runner.invoke(app, ["test", *files, "--seed", "11", "--max-examples", "100"])
    second = runner.invoke(app, ["test", *files, "--seed", "11", "--max-examples", "100"])
    assert first.exit_code == second.exit_code == 1
    assert first.stdout.encode() == second.stdout.encode()
    assert first.stdout.splitlines()[-1] == "1 passed, 4 failed"


def test_exit_code_and_summary_when_everything_passes():
    files = [str(PLANTED / f"{name}_fixed.whuf") for name, _ in PLANTED_DEFECTS]
    result = runner.invoke(app, ["test", *files, "--seed", "1", "--max-examples", "30"])
    assert result.exit_code == 0, result.stdout
    assert result.stdout.splitlines()[-1] == "4 passed, 0 failed"


FAULTY = """ruleset faulty "A rate that divides by the minutes"
author kim "Kim"
subject member { joined: date }
event session { points: int in 0..10, minutes: int in 0..60 }
rule rate by kim because "Points per minute" on session award points / minutes
score standing = points
property "standing is finite" by kim: always standing >= -1000
"""


def test_a_run_time_fault_is_a_failure_with_a_minimal_history():
    loaded = load_text(FAULTY, "faulty.whuf")
    assert loaded.ok
    outcome = check_property(loaded.ruleset, only_property(loaded), seed=0)
    violation = outcome.violation
    assert violation.fault and "W090" in violation.message and "division by zero" in violation.message
    (run,) = violation.runs
    assert [e.fields for e in run.history.events] == [{"points": 0, "minutes": 0}]


TWO_SCORES = """ruleset two "Helpfulness and a risk count"
author kim "Kim"
subject member { joined: date }
event helped { }
event flagged { }
rule helping by kim because "Help counts" on helped award 3
rule flags by kim because "Flags count against" on flagged award -1
measure flag_count = count flagged
score helpfulness = points(helping)
score risk = 0 - flag_count
property "helping never lowers helpfulness" by kim: monotone in helped for helpfulness
property "helping never lowers any score" by kim: monotone in helped
property "flags never raise risk" by kim: monotone in flagged for risk
"""


def test_for_score_selects_the_score_and_without_it_every_score_counts():
    loaded = load_text(TWO_SCORES, "two.whuf")
    assert loaded.ok, loaded.diagnostics
    only_helpfulness, every_score, risk = loaded.ruleset.properties
    assert scores_of(loaded.ruleset, only_helpfulness.body) == ["helpfulness"]
    assert scores_of(loaded.ruleset, every_score.body) == ["helpfulness", "risk"]
    assert check_property(loaded.ruleset, only_helpfulness, seed=0).passed
    assert check_property(loaded.ruleset, every_score, seed=0).passed
    outcome = check_property(loaded.ruleset, risk, seed=0)
    assert outcome.violation.message == "adding one flagged event for s1 lowers risk from 0 to -1"


WEEKLY = """ruleset weekly "Points with a weekly bound"
timezone "Europe/London"
author kim "Kim"
subject member { joined: date }
event helped { }
rule helping by kim because "Help counts" on helped award 25
score standing = points
property "at most 30 a week" by kim: gain per week <= 30
"""


def history_at(loaded, *local_times: str) -> History:
    tz = ZoneInfo("Europe/London")
    events = [Event("s1", "helped", dt.datetime.fromisoformat(t).replace(tzinfo=tz), f"e{i}", f"h:{i}", i, {})
              for i, t in enumerate(local_times)]
    return History({"s1": {"joined": dt.date(2026, 1, 1)}}, tuple(events), max(e.at for e in events),
                   "Europe/London")


def test_gain_windows_are_calendar_windows_in_the_ruleset_timezone():
    loaded = load_text(WEEKLY, "weekly.whuf")
    (decl,) = loaded.ruleset.properties
    # Sunday 23:30 and Monday 00:30 local are in different ISO weeks: 25 points in each.
    assert check_history(loaded.ruleset, decl, history_at(loaded, "2026-06-07T23:30", "2026-06-08T00:30")) is None
    # Monday and Sunday of the same week: 50 points in one week.
    violation = check_history(loaded.ruleset, decl, history_at(loaded, "2026-06-08T10:00", "2026-06-14T23:00"))
    assert violation.message == ("s1 gains 50 standing in the week of 2026-06-08 (from 0 to 50), "
                                 "more than 30 per week")


def test_the_citizen_example_fails_as_its_readme_says():
    # As a reader of the README runs it: its own process. The in-process law below holds it to the same.
    import subprocess
    import sys

    rules = "examples/citizen/rules.whuf"
    readme = (ROOT / "examples" / "citizen" / "README.md").read_text(encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "whuffie", "test", rules, "--seed", "2026"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, result.stderr
    # The verdicts, counterexamples and minimal histories in the README are the current ones.
    key = [line for line in result.stdout.splitlines()
           if line.startswith(("PASS", "FAIL", "  counterexample", "    {", "0 ", "1 ", "2 ", "3 ", "4 ", "5 "))]
    assert key[-1] == "5 passed, 3 failed"
    missing = [line for line in key if line not in readme.splitlines()]
    assert missing == []


def test_several_files_save_their_counterexamples_in_folders_of_their_own(tmp_path):
    files = [str(PLANTED / "farm.whuf"), str(PLANTED / "range.whuf")]
    result = runner.invoke(app, ["test", *files, "--seed", "0", "--save-counterexamples", str(tmp_path)])
    assert result.exit_code == 1
    saved = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.jsonl"))
    assert saved == ["farm/no-more-than-20-points-a-day.jsonl", "range/standing-stays-between-0-and-100.jsonl"]


CAPPED = """ruleset capped "One capped rule"
author kim "Kim"
subject member {{ joined: date }}
event helped {{ }}
rule helping by kim because "Help counts" on helped award {award} cap {cap} per day
score standing = points
property "the cap holds" by kim: gain per day <= {cap}
property "one less than the cap" by kim: gain per day <= {below}
"""


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.nested_given])
@given(award=st.integers(1, 10), cap=st.integers(1, 30))
def test_a_daily_cap_is_exactly_the_daily_gain_bound(award, cap):
    loaded = load_text(CAPPED.format(award=award, cap=cap, below=cap - 1), "capped.whuf")
    holds, one_less = loaded.ruleset.properties
    assert check_property(loaded.ruleset, holds, seed=0, max_examples=30).passed
    violation = check_property(loaded.ruleset, one_less, seed=0).violation
    # The least history that breaks it: just enough events in one day to fill the cap.
    assert len(violation.runs[0].history.events) == -(-cap // award)


def test_a_seed_searches_alike_whatever_the_process_has_loaded(tmp_path):
    # Hypothesis draws some values from the literals of loaded local modules; whuffie's search must not.
    import importlib.util

    from whuffie.frontend import load_file
    from whuffie.properties import check_property

    ruleset = load_file(ROOT / "examples" / "citizen" / "rules.whuf").ruleset
    decl = next(d for d in ruleset.properties if d.name == "no farming more than 30 a day")
    before = check_property(ruleset, decl, seed=2026)
    module = tmp_path / "full_of_constants.py"
    module.write_text("VALUES = [2501, 25.01, 30.01, 'household', 950, 350, 7, 1e16]\n")
    spec = importlib.util.spec_from_file_location("full_of_constants", module)
    loaded = importlib.util.module_from_spec(spec)
    sys.modules["full_of_constants"] = loaded
    try:
        spec.loader.exec_module(loaded)
        after = check_property(ruleset, decl, seed=2026)
    finally:
        del sys.modules["full_of_constants"]
    assert not before.passed and not after.passed
    assert after.violation.message == before.violation.message

"""Group audits: four-fifths impact ratios, bands, intersections, small and empty groups, and the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import statistics
import tempfile
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from whuffie.audit import MISSING, AuditError, Dimension, audit, dimensions, parse_bands
from whuffie.evaluator import Results, SubjectResult
from whuffie.frontend import load_text
from clirun import whuffie

from engine_strategies import histories, rule_sets

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "examples" / "library"

RULES = """\
ruleset hiring "Four fifths"
author ada "Ada"
subject member { team: text protected, age: int protected, height: number? protected, remote: bool protected }
event passed { mark: int in 0..10 }
rule pass by ada because "Passed the interview" on passed award 1
rule bonus by ada because "Good marks" on passed where mark > 5 award mark
score total = points
tier selected when total >= 1 by ada because "Passed"
tier other otherwise by ada because "Not yet"
privilege hired when tier >= selected by ada because "Hired"
"""
AS_OF = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def ruleset():
    loaded = load_text(RULES, "hiring.whuf")
    assert loaded.ruleset is not None, loaded.diagnostics
    return loaded.ruleset


def member(sid: str, points: int = 0, by_rule: dict | None = None) -> SubjectResult:
    """A scored member as the rules above score them: selected and hired from one point on."""
    selected = points >= 1
    return SubjectResult(sid, {"total": points}, "selected" if selected else "other",
                         ["hired"] if selected else [], {}, points, by_rule or {"pass": points})


def cohort(team: str, size: int, selected: int) -> tuple[list[SubjectResult], dict[str, dict]]:
    results = [member(f"{team}{i:03d}", 1 if i < selected else 0) for i in range(size)]
    return results, {r.subject: {"team": team, "age": 30, "remote": False} for r in results}


def run(ruleset, results, subjects, by, bands=None, min_group=30):
    dims = dimensions(ruleset, by, bands or {})
    assert not isinstance(dims, AuditError), dims
    return audit(ruleset, Results(AS_OF, results), subjects, dims, min_group)


def by_team(found) -> dict:
    return {dict(g.labels)["team"]: g for g in found.groups}


# ---------------------------------------------------------------- the four-fifths rule


def test_four_fifths_examples_of_the_uniform_guidelines(ruleset):
    results, subjects = [], {}
    for team, size, selected in (("a", 80, 48), ("b", 50, 21), ("c", 50, 24)):
        r, s = cohort(team, size, selected)
        results += r
        subjects |= s
    groups = by_team(run(ruleset, results, subjects, ["team"]))
    hired = {team: g.privileges["hired"] for team, g in groups.items()}
    assert hired["a"].rate == Fraction(3, 5) and hired["a"].impact_ratio == 1 and not hired["a"].flagged
    assert hired["b"].rate == Fraction(21, 50) and hired["b"].impact_ratio == Fraction(7, 10)
    assert hired["b"].flagged and not hired["b"].uncertain
    assert hired["c"].impact_ratio == Fraction(4, 5) and not hired["c"].flagged  # "less than four-fifths"
    reached = groups["b"].tiers["selected"]
    assert (reached.count, reached.rate, reached.at_or_above.impact_ratio) == (21, Fraction(21, 50), Fraction(7, 10))
    assert groups["b"].tiers["other"].count == 29 and groups["b"].tiers["other"].at_or_above.rate == 1


def test_four_fifths_on_the_command_line(tmp_path):
    rules = tmp_path / "hiring.whuf"
    rules.write_text(RULES, encoding="utf-8")
    subjects, events = [], []
    for team, size, selected in (("a", 80, 48), ("b", 50, 21), ("c", 50, 24)):
        for i in range(size):
            sid = f"{team}{i:03d}"
            subjects.append({"id": sid, "team": team, "age": 20 + i, "remote": i % 2 == 0})
            if i < selected:
                events.append({"subject": sid, "type": "passed", "at": "2026-01-01T00:00:00Z", "mark": 3})
    (tmp_path / "s.jsonl").write_text("".join(json.dumps(s) + "\n" for s in subjects), encoding="utf-8")
    (tmp_path / "e.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    out = whuffie("audit", rules, tmp_path / "e.jsonl", "--subjects", tmp_path / "s.jsonl", "--by", "team",
                  "--format", "json")
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["by"] == ["team"] and data["subjects"] == 180 and data["min_group"] == 30
    hired = {g["group"]["team"]: g["privileges"]["hired"] for g in data["groups"]}
    assert hired["b"] == {"count": 21, "rate": 0.42, "impact_ratio": 0.7, "impact_ratio_exact": "7/10",
                          "flagged": True, "uncertain": False}
    assert hired["c"]["impact_ratio_exact"] == "4/5" and hired["c"]["flagged"] is False
    assert data["highest"]["privilege hired"] == {"team": "a"}
    tier = data["groups"][1]["tiers"]["selected"]
    assert list(tier) == ["count", "rate", "at_or_above", "at_or_above_rate", "impact_ratio", "impact_ratio_exact",
                          "flagged", "uncertain"]
    text = whuffie("audit", rules, tmp_path / "e.jsonl", "--subjects", tmp_path / "s.jsonl", "--by", "team")
    assert text.exit_code == 0
    line = next(x for x in text.stdout.splitlines() if "team b" in x and "21/50" in x)
    assert line.split()[-4:] == ["0.42", "0.70", "7/10", "flagged"]


def test_a_ratio_just_below_four_fifths_is_flagged_though_it_prints_as_080(ruleset):
    results, subjects = [], {}
    for team, size, selected in (("a", 1000, 1000), ("b", 1000, 799)):
        r, s = cohort(team, size, selected)
        results += r
        subjects |= s
    b = by_team(run(ruleset, results, subjects, ["team"]))["b"].privileges["hired"]
    assert b.impact_ratio == Fraction(799, 1000) and b.flagged


def test_no_group_selected_gives_no_ratio_and_no_flag(ruleset):
    results, subjects = cohort("a", 40, 0)
    r, s = cohort("b", 40, 0)
    groups = by_team(run(ruleset, results + r, subjects | s, ["team"]))
    assert all(g.privileges["hired"].rate == 0 and g.privileges["hired"].impact_ratio is None
               and not g.privileges["hired"].flagged for g in groups.values())


# ---------------------------------------------------------------- bands


def test_int_bands_at_their_edges(ruleset):
    ages = [24, 25, 39, 40, 64, 65, 90]
    results = [member(f"m{age}") for age in ages]
    subjects = {f"m{age}": {"team": "x", "age": age, "remote": True} for age in ages}
    found = run(ruleset, results, subjects, ["age"], {"age": (25, 40, 65)})
    assert [(dict(g.labels)["age"], g.count) for g in found.groups] == [
        ("<25", 1), ("25–39", 2), ("40–64", 2), (">=65", 2)]


def test_band_labels():
    assert Dimension("age", "bands", (25, 26, 40), whole=True).labels() == ["<25", "25", "26–39", ">=40"]
    assert Dimension("height", "bands", (1.5, 1.8)).labels() == ["<1.5", "1.5–<1.8", ">=1.8"]
    assert Dimension("height", "bands", (1.5, 2.0)).label(1.99) == "1.5–<2"
    assert Dimension("height", "bands", (1.5,)).label(None) == MISSING


def test_number_bands_and_a_missing_optional_value(ruleset):
    results = [member("short"), member("tall"), member("unknown")]
    subjects = {"short": {"team": "x", "age": 1, "remote": True, "height": 1.49},
                "tall": {"team": "x", "age": 1, "remote": True, "height": 1.5},
                "unknown": {"team": "x", "age": 1, "remote": True, "height": None}}
    found = run(ruleset, results, subjects, ["height"], {"height": (1.5,)})
    assert [(dict(g.labels)["height"], g.count) for g in found.groups] == [("<1.5", 1), (">=1.5", 1), (MISSING, 1)]


def test_parse_bands():
    assert parse_bands(["age=25,40,65", "member.height=1.5"]) == {"age": (25, 40, 65), "height": (1.5,)}
    for bad, words in (("age", "ATTR=EDGE"), ("age=", "ATTR=EDGE"), ("age=40,30", "must increase"),
                       ("age=30,30", "must increase"), ("age=x", "not a number"), ("age=inf", "not a number")):
        error = parse_bands([bad])
        assert isinstance(error, AuditError) and words in error.message, bad
    assert "twice" in parse_bands(["age=1", "age=2"]).message


def test_dimensions_refuse_what_cannot_be_grouped(ruleset):
    cases = {
        (("tam",), ()): "no attribute 'tam' (did you mean team?)",
        (("age",), ()): "give its bands, such as --bands age=25,40,65",
        (("team",), (("team", (1,)),)): "is text, not a number",
        (("team",), (("age", (1,)),)): "--bands age is given but age is not in --by",
        (("age",), (("age", (1.5,)),)): "edges must be whole numbers",
        (("team,team",), ()): "--by names team twice",
        ((",",), ()): "--by needs one or more attribute names",
    }
    for (by, bands), words in cases.items():
        error = dimensions(ruleset, list(by), dict(bands))
        assert isinstance(error, AuditError) and words in error.message, (by, error)
    dims = dimensions(ruleset, ["member.team,remote"], {})
    assert [(d.attribute, d.kind) for d in dims] == [("team", "text"), ("remote", "bool")]


# ---------------------------------------------------------------- intersections, empty groups, a group of one


def test_intersections_list_every_combination_with_empty_ones(ruleset):
    results = [member("a1", 1), member("a2"), member("b1", 1)]
    subjects = {"a1": {"team": "a", "age": 30, "remote": True}, "a2": {"team": "a", "age": 30, "remote": False},
                "b1": {"team": "b", "age": 30, "remote": True}}
    found = run(ruleset, results, subjects, ["team", "remote"])
    assert [(g.labels, g.count) for g in found.groups] == [
        ((("team", "a"), ("remote", "false")), 1), ((("team", "a"), ("remote", "true")), 1),
        ((("team", "b"), ("remote", "false")), 0), ((("team", "b"), ("remote", "true")), 1)]
    empty = found.groups[2]
    assert empty.small and empty.privileges["hired"].rate is None and empty.privileges["hired"].impact_ratio is None
    assert not empty.privileges["hired"].flagged
    assert empty.scores["total"].mean is None and empty.scores["total"].rules == ()
    assert empty.tiers["selected"].count == 0 and empty.tiers["selected"].rate is None


def test_a_group_of_one_is_small_and_its_flag_uncertain(ruleset):
    results, subjects = cohort("a", 40, 40)
    results.append(member("lone"))
    subjects["lone"] = {"team": "b", "age": 30, "remote": True}
    lone = by_team(run(ruleset, results, subjects, ["team"]))["b"]
    assert lone.count == 1 and lone.small
    assert lone.scores["total"].median == 0 and lone.scores["total"].min == lone.scores["total"].max == 0
    assert lone.privileges["hired"].flagged and lone.privileges["hired"].uncertain


def test_a_subject_without_attributes_is_in_the_none_group(ruleset):
    found = run(ruleset, [member("ghost"), member("known")], {"known": {"team": "a", "age": 1, "remote": True}},
                ["team"])
    assert [(dict(g.labels)["team"], g.count) for g in found.groups] == [("a", 1), (MISSING, 1)]


# ---------------------------------------------------------------- scores and the rules behind their differences


def test_score_statistics_and_the_rules_behind_a_difference(ruleset):
    results = [member("a1", 10, {"pass": 2, "bonus": 8}), member("a2", 4, {"pass": 1, "bonus": 3}),
               member("a3", 1, {"pass": 1}),
               member("b1", 1, {"pass": 1}), member("b2", 2, {"pass": 2})]
    subjects = {r.subject: {"team": r.subject[0], "age": 1, "remote": True} for r in results}
    groups = by_team(run(ruleset, results, subjects, ["team"]))
    a, b = groups["a"].scores["total"], groups["b"].scores["total"]
    assert (a.mean, a.median, a.min, a.max, a.difference) == (5, 4, 1, 10, 0)
    assert a.rules == () and a.versus == (("team", "a"),)
    assert (b.mean, b.median, b.difference, b.versus) == (Fraction(3, 2), Fraction(3, 2), Fraction(-7, 2),
                                                          (("team", "a"),))
    # per member: bonus 11/3 in a, 0 in b; pass 4/3 in a, 3/2 in b
    assert [(g.rule, g.mean_points, g.difference) for g in b.rules] == [
        ("bonus", 0, Fraction(-11, 3)), ("pass", Fraction(3, 2), Fraction(1, 6))]


def test_means_of_floats_are_exact():
    loaded = load_text(RULES.replace("award mark", "award mark / 10"), "hiring.whuf")
    results = [SubjectResult(f"s{i}", {"total": v}, "selected", ["hired"], {}, v, {"pass": v})
               for i, v in enumerate([0.1, 0.2, 0.3])]
    subjects = {r.subject: {"team": "a", "age": 1, "remote": True} for r in results}
    dims = dimensions(loaded.ruleset, ["team"], {})
    mean = audit(loaded.ruleset, Results(AS_OF, results), subjects, dims).groups[0].scores["total"].mean
    assert mean == (Fraction(0.1) + Fraction(0.2) + Fraction(0.3)) / 3


# ---------------------------------------------------------------- the command line on the library example


def library(*args):
    return whuffie("audit", LIB / "rules.whuf", LIB / "events.jsonl", "--subjects", LIB / "subjects.jsonl", *args)


def test_library_audit_by_age_bands_prints_the_table():
    out = library("--bands", "age=40,65")  # the command: the banded attribute is grouped by
    assert out.stdout == library("--bands", "age=40,65", "--by", "age").stdout
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("audit of Riverside Library member standing by age as of 2026-04-10T12:00:00Z: "
                               "5 subjects in 3 groups")
    # alice 34 (152) and dan 19 (100); bob 51 (72) and erin 45 (200); carol 67 (35)
    row = next(x.split() for x in lines if x.startswith("age <40"))
    assert row[2:5] == ["2", "small", "126.00"]
    assert next(x for x in lines if x.startswith("age >=65")).split()[-1] == "-101.00"
    reserve = [x for x in lines if "0/1" in x]
    assert reserve and all(x.split()[-1] == "flagged?" for x in reserve)


def test_library_audit_csv_has_a_row_per_group_and_measure():
    out = library("--by", "postcode", "--format", "csv")
    assert out.exit_code == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(rows) == 3 * (1 + 3 + 1)  # three postcodes x (a score, three tiers, a privilege)
    rv1 = next(r for r in rows if r["postcode"] == "RV1" and r["name"] == "reserve_new_books")
    assert (rv1["selected"], rv1["rate"], rv1["impact_ratio_exact"], rv1["flagged"]) == ("1", "0.5", "1/2", "true")
    standing = next(r for r in rows if r["postcode"] == "RV1" and r["measure"] == "score")
    assert (standing["mean"], standing["min"], standing["max"]) == ("93.5", "35.0", "152.0")


@pytest.mark.parametrize("args,words", [
    (["--by", "agee"], "no attribute 'agee' (did you mean age?)"),
    (["--by", "joined"], "member.joined is a date"),
    (["--by", "age"], "give its bands"),
    (["--by", "age", "--bands", "age=x"], "'x' is not a number"),
    (["--by", "age", "--format", "xml"], "--format must be text, json or csv"),
    (["--by", "age", "--bands", "age=40", "--min-group", "0"], "--min-group must be 1 or more"),
    ([], "--by needs one or more attribute names"),
])
def test_usage_errors_exit_2(args, words):
    out = library(*args)
    assert out.exit_code == 2 and words in out.stderr and "Traceback" not in out.stderr


def test_audit_needs_subjects():
    out = whuffie("audit", LIB / "rules.whuf", LIB / "events.jsonl", "--by", "postcode")
    assert out.exit_code == 2 and "--subjects FILE" in out.stderr


# ---------------------------------------------------------------- the law: an audit is score's output grouped


def _grouped_by_hand(records: list[dict], attrs: dict[str, dict]) -> dict[tuple[str, str], list[dict]]:
    """`score --format json` records grouped by age band (edges 30, 50) and team, every combination listed."""
    def band(age):
        return "<30" if age < 30 else "30–49" if age < 50 else ">=50"

    teams = sorted({a["team"] for a in attrs.values()})
    groups = {(b, t): [] for b in ("<30", "30–49", ">=50") for t in teams}
    for r in records:
        a = attrs[r["subject"]]
        groups[(band(a["age"]), a["team"])].append(r)
    return groups


def _rate_text(count: int, size: int) -> str | None:
    return str(Fraction(count, size)) if size else None


def _selection_by_hand(groups: dict, selected) -> dict:
    rates = {k: Fraction(sum(1 for r in v if selected(r)), len(v)) for k, v in groups.items() if v}
    top = max(rates.values(), default=None)
    out = {}
    for key, group in groups.items():
        rate = rates.get(key)
        ratio = rate / top if rate is not None and top else None
        out[key] = (sum(1 for r in group if selected(r)), None if rate is None else str(rate),
                    None if ratio is None else str(ratio), ratio is not None and ratio < Fraction(4, 5))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_the_audit_is_score_output_grouped_by_hand(data):
    generated = data.draw(rule_sets())
    text = generated.text.replace("age: int protected }", "age: int protected, team: text protected }")
    events_text, subjects_text = data.draw(histories(generated))
    attrs = {}
    for line in subjects_text.splitlines():
        subject = json.loads(line)
        subject["age"] = data.draw(st.sampled_from([18, 29, 30, 49, 50, 80]))
        subject["team"] = data.draw(st.sampled_from(["red", "blue"]))
        attrs[subject["id"]] = subject
    with tempfile.TemporaryDirectory() as folder:
        rules, events, subjects = (Path(folder) / name for name in ("r.whuf", "e.jsonl", "s.jsonl"))
        rules.write_text(text, encoding="utf-8")
        events.write_text(events_text, encoding="utf-8")
        subjects.write_text("".join(json.dumps(s) + "\n" for s in attrs.values()), encoding="utf-8")
        common = [rules, events, "--subjects", subjects, "--as-of", "2026-06-01", "--format", "json",
                  "--precision", "12"]
        scored = whuffie("score", *common)
        assume(scored.exit_code == 0)  # a generated rule set may fault at run time (W090): nothing to audit
        audited = whuffie("audit", *common, "--by", "age,team", "--bands", "age=30,50", "--min-group", "2")
    assert audited.exit_code == 0, audited.stderr
    records, found = json.loads(scored.stdout), json.loads(audited.stdout)
    loaded = load_text(text, "r.whuf")
    tiers, privileges = list(loaded.ruleset.tiers), list(loaded.ruleset.privileges)
    groups = _grouped_by_hand(records, attrs)
    assert [(g["group"]["age"], g["group"]["team"]) for g in found["groups"]] == list(groups)
    assert found["subjects"] == len(records)
    per_selection = {f"tier {t}": _selection_by_hand(groups, lambda r, i=i: r["tier"] in tiers[:i + 1])
                     for i, t in enumerate(tiers)}
    per_selection |= {f"privilege {p}": _selection_by_hand(groups, lambda r, p=p: p in r["privileges"])
                      for p in privileges}
    for g in found["groups"]:
        key = (g["group"]["age"], g["group"]["team"])
        members = groups[key]
        assert g["count"] == len(members) and g["small"] == (len(members) < 2)
        for name, s in g["scores"].items():
            values = sorted(r["scores"][name] for r in members)
            if not values:
                assert s["mean"] is None and s["median"] is None
                continue
            assert s["mean"] == pytest.approx(sum(values) / len(values), rel=1e-9, abs=1e-9)
            assert s["median"] == pytest.approx(statistics.median(values), rel=1e-9, abs=1e-9)
            assert (s["min"], s["max"]) == (values[0], values[-1])
            best = max(sum(v) / len(v) for v in ([r["scores"][name] for r in m] for m in groups.values()) if v)
            assert s["difference"] == pytest.approx(sum(values) / len(values) - best, rel=1e-9, abs=1e-9)
        for t in tiers:
            mine = g["tiers"][t]
            assert mine["count"] == sum(1 for r in members if r["tier"] == t)
            assert (mine["at_or_above"], _rate_text(mine["at_or_above"], len(members)), mine["impact_ratio_exact"],
                    mine["flagged"]) == per_selection[f"tier {t}"][key]
            assert mine["at_or_above_rate"] == (None if not members else
                                                pytest.approx(mine["at_or_above"] / len(members), abs=1e-12))
        for p in privileges:
            mine = g["privileges"][p]
            assert (mine["count"], _rate_text(mine["count"], len(members)), mine["impact_ratio_exact"],
                    mine["flagged"]) == per_selection[f"privilege {p}"][key]


def test_every_engine_gives_the_same_audit():
    outputs = {engine: library("--by", "age,postcode", "--bands", "age=40,65", "--format", "json", "--engine", engine)
               for engine in ("reference", "codegen", "duckdb")}
    assert all(out.exit_code == 0 for out in outputs.values())
    assert outputs["reference"].stdout == outputs["codegen"].stdout == outputs["duckdb"].stdout


def test_a_rule_file_with_errors_stops_the_audit(tmp_path):
    broken = tmp_path / "broken.whuf"
    broken.write_text((LIB / "rules.whuf").read_text(encoding="utf-8").replace("award 2", "award 2 +"),
                      encoding="utf-8")
    out = whuffie("audit", broken, LIB / "events.jsonl", "--subjects", LIB / "subjects.jsonl", "--by", "postcode")
    assert out.exit_code == 1 and "nothing scored" in out.stderr

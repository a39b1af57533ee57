"""The score, explain and authors commands: output formats, exit codes, bad data, rejects."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from whuffie.cli import app
from clirun import whuffie

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "examples" / "library"
SO = ROOT / "examples" / "stackoverflow"
RULES, EVENTS, SUBJECTS = str(LIB / "rules.whuf"), str(LIB / "events.jsonl"), str(LIB / "subjects.jsonl")

runner = CliRunner()


SUMMARY = re.compile(r"read (\d+), scored (\d+), rejected (\d+), after as-of (\d+)")


def counts(stderr: str) -> tuple[int, ...]:
    return tuple(int(x) for x in SUMMARY.search(stderr).groups())


# ---------------------------------------------------------------- score


def test_score_json_records():
    result = whuffie("score", RULES, EVENTS, "--subjects", SUBJECTS, "--format", "json")
    assert result.exit_code == 0, result.stderr
    records = json.loads(result.stdout)
    assert [r["subject"] for r in records] == ["alice", "bob", "carol", "dan", "erin"]
    assert list(records[0]) == ["subject", "scores", "tier", "privileges", "measures"]
    assert records[1] == {"subject": "bob", "scores": {"standing": 72}, "tier": "member",
                          "privileges": ["reserve_new_books"],
                          "measures": {"hours_volunteered": 0, "active_days": 3}}
    assert records[0]["scores"]["standing"] == 152.0 and records[0]["tier"] == "trusted"
    assert records[2]["privileges"] == [] and records[2]["tier"] == "restricted"
    assert counts(result.stderr) == (28, 28, 0, 0)


def test_score_output_is_byte_identical_across_runs():
    for fmt in ("json", "jsonl", "csv", "table"):
        first = whuffie("score", RULES, EVENTS, "--subjects", SUBJECTS, "--format", fmt)
        second = whuffie("score", RULES, EVENTS, "--subjects", SUBJECTS, "--format", fmt)
        assert first.exit_code == 0 and first.stdout == second.stdout


def test_csv_and_jsonl_inputs_score_the_same():
    a = whuffie("score", RULES, EVENTS, "--format", "json")
    b = whuffie("score", RULES, LIB / "events.csv", "--format", "json")
    assert a.exit_code == b.exit_code == 0 and a.stdout == b.stdout


def test_score_csv_jsonl_and_table():
    csv_out = whuffie("score", RULES, EVENTS, "--format", "csv").stdout.splitlines()
    assert csv_out[0] == "subject,standing,tier,privileges,hours_volunteered,active_days"
    # every value prints in its checked type: standing and hours_volunteered are numbers
    assert csv_out[2] == "bob,72.00,member,reserve_new_books,0.00,3"
    assert csv_out[3] == "carol,35.00,restricted,,0.00,1"
    lines = whuffie("score", RULES, EVENTS, "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["subject"] for line in lines] == ["alice", "bob", "carol", "erin"]
    table = whuffie("score", RULES, EVENTS).stdout.splitlines()  # not a terminal: plain text
    assert table[0].split() == ["subject", "standing", "tier", "privileges", "hours_volunteered", "active_days"]
    assert table[2].split() == ["alice", "152.00", "trusted", "reserve_new_books", "14.00", "12"]


def test_precision_rounds_half_away_from_zero():
    # erin's points: 72 * 0.5 ** (1 / 180) + 72 * 0.5 ** ((4 / 24) / 180) = 71.7233 + 71.9538 = 143.6771
    def points(precision: str):
        out = whuffie("explain", RULES, EVENTS, "erin", "--format", "json", "--precision", precision)
        return json.loads(out.stdout)["points"]

    assert points("3") == 143.677
    assert points("0") == 144.0
    assert points("2") == 143.68
    bad = whuffie("score", RULES, EVENTS, "--precision", "-1")
    assert bad.exit_code == 2


def test_as_of():
    # as of 2026-03-01 (local midnight, 00:00Z in winter): carol has complaints 2024, 2025, 2026 (-45)
    # and the Nov 2025 late return (-10) -> 45; her March return is after as-of
    result = whuffie("score", RULES, EVENTS, "--format", "json", "--as-of", "2026-03-01")
    assert result.exit_code == 0
    carol = next(r for r in json.loads(result.stdout) if r["subject"] == "carol")
    assert carol["scores"]["standing"] == 45
    read, scored, rejected, after = counts(result.stderr)
    assert read == scored + rejected + after and after > 0
    bad = whuffie("score", RULES, EVENTS, "--as-of", "March")
    assert bad.exit_code == 2 and "--as-of 'March' is not an ISO 8601" in bad.stderr


# ---------------------------------------------------------------- bad data


def write_events(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


GOOD_LINES = [json.dumps({"subject": "ann", "type": "returned", "at": f"2026-01-0{d}T10:00:00Z",
                          "days_late": d, "damaged": False}) for d in range(1, 5)]
BAD_LINES = ['{"subject": "ann", "type": "returned", "at": "2026-01-05T10:00:00Z", "days_late": "three", "damaged": false}',
             '{"subject": "ann", "type": "borrowed", "at": "2026-01-06T10:00:00Z"}',
             'not json']


def test_bad_data_stops_the_run_before_any_output(tmp_path):
    path = write_events(tmp_path, GOOD_LINES[:2] + BAD_LINES[:1] + GOOD_LINES[2:] + BAD_LINES[1:])
    result = whuffie("score", RULES, path, "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert 'events.jsonl:3: field days_late: expected int in 0..3650, got "three"' in result.stderr
    assert 'events.jsonl:6: unknown event type "borrowed"' in result.stderr
    assert "events.jsonl:7: malformed JSON" in result.stderr
    assert "3 bad lines of 7; nothing scored" in result.stderr


def test_rejects_file_keeps_every_bad_line_and_counts_add_up(tmp_path):
    lines = GOOD_LINES[:2] + BAD_LINES[:1] + GOOD_LINES[2:] + BAD_LINES[1:]
    path = write_events(tmp_path, lines)
    rejects = tmp_path / "rejects.jsonl"
    result = whuffie("score", RULES, path, "--format", "json", "--rejects", rejects, "--as-of", "2026-01-03T12:00:00Z")
    assert result.exit_code == 0, result.stderr
    assert rejects.read_text(encoding="utf-8").splitlines() == BAD_LINES
    # 7 lines: 3 rejected; of the 4 good ones, Jan 4 is after as-of -> 3 scored
    assert counts(result.stderr) == (7, 3, 3, 1)
    ann = json.loads(result.stdout)[0]
    assert ann["scores"]["standing"] == 100 - 1 - 2 - 3


def test_rejects_in_csv_keep_the_header(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("subject,type,at,days_late,damaged\nann,returned,2026-01-01,2,false\nann,returned,2026-01-02,x,false\n")
    rejects = tmp_path / "bad.csv"
    result = whuffie("score", RULES, path, "--rejects", rejects)
    assert result.exit_code == 0
    assert rejects.read_text() == "subject,type,at,days_late,damaged\nann,returned,2026-01-02,x,false\n"


def test_missing_events_file_is_a_usage_error(tmp_path):
    result = whuffie("score", RULES, tmp_path / "nope.jsonl")
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_rule_file_errors_exit_1(tmp_path):
    rules = tmp_path / "bad.whuf"
    rules.write_text('ruleset x\nauthor ada "A"\nevent e { n: int }\nrule r by ada because "x" on e award m\n')
    events = write_events(tmp_path, ['{"subject": "a", "type": "e", "at": "2026-01-01", "n": 1}'])
    result = whuffie("score", rules, events)
    assert result.exit_code == 1 and result.stdout == ""
    assert "bad.whuf:4:" in result.stderr and "W010" in result.stderr


def test_run_time_fault_exits_1_with_w090(tmp_path):
    rules = tmp_path / "club.whuf"
    rules.write_text('ruleset club\nauthor ada "A"\nsubject member { joined: date }\n'
                     'event read_book { pages: int in 0..5000 }\n'
                     'rule speed by ada because "x" on read_book award 100 / pages\n')
    events = write_events(tmp_path, ['{"subject": "a", "type": "read_book", "at": "2026-01-01", "pages": 10}',
                                     '{"subject": "a", "type": "read_book", "at": "2026-01-02", "pages": 0, "id": "e2"}'])
    result = whuffie("score", rules, events)
    assert result.exit_code == 1 and result.stdout == ""
    assert "error[W090]: run-time fault in rule speed by ada on event e2 (events.jsonl:2): division by zero" in result.stderr


def test_rules_reading_attributes_need_subjects(tmp_path):
    rules = tmp_path / "r.whuf"
    rules.write_text('ruleset x\nauthor ada "A"\nsubject member { joined: date }\nevent e { n: int }\n'
                     'rule r by ada because "x" on e where event.at - member.joined > 30 days award n\n')
    events = write_events(tmp_path, ['{"subject": "a", "type": "e", "at": "2026-01-01", "n": 1}',
                                     '{"subject": "b", "type": "e", "at": "2026-01-01", "n": 1}'])
    result = whuffie("score", rules, events)
    assert result.exit_code == 2 and "give them with --subjects FILE" in result.stderr
    subjects = tmp_path / "s.jsonl"
    subjects.write_text('{"id": "a", "joined": "2020-01-01"}\n')
    result = whuffie("score", rules, events, "--subjects", subjects)
    assert result.exit_code == 2
    assert 'events.jsonl:2: unknown member "b": not in the subjects file' in result.stderr


def test_bad_format_is_a_usage_error():
    assert whuffie("score", RULES, EVENTS, "--format", "xml").exit_code == 2


# ---------------------------------------------------------------- explain


def test_explain_text():
    result = whuffie("explain", RULES, EVENTS, "carol")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "upheld_complaint by council: -45 points from 4 events" in out
    assert 'because "Upheld complaints follow a hearing"' in out
    assert "cut by once per year -> 0" in out
    assert "cut by once per year: -15 of the raw awards (1 event)" in out
    assert "standing = clamp(100 + points, 0, 200) with points = -65 -> 35" in out
    reasons = out.split("Reasons")[1].splitlines()
    assert reasons[1].strip().startswith("1. upheld_complaint by council: -45 (3 events)")
    assert reasons[2].strip().startswith("2. late_return by ben: -20 (2 events)")


def test_explain_json_has_ledger_and_reasons():
    result = whuffie("explain", RULES, EVENTS, "alice", "--format", "json")
    data = json.loads(result.stdout)
    assert list(data)[:5] == ["subject", "scores", "tier", "privileges", "measures"]
    assert sum(e["value"] for e in data["ledger"]) == pytest.approx(data["points"], abs=0.01)
    capped = [e for e in data["ledger"] if e["cut_by"]]
    assert [(e["event"], e["cut_by"]) for e in capped] == [("a-ret-28", [{"by": "cap 20 per month", "amount": 2}])]
    entry = next(e for e in data["ledger"] if e["rule"] == "on_time_return")
    assert set(entry) == {"rule", "author", "because", "cites", "event", "event_type", "at", "line", "raw",
                          "capped", "cut_by", "decay", "value", "span"}
    assert entry["cites"] == ["Charter §3.2"] and entry["span"].endswith("rules.whuf:20:1")
    assert data["reasons"] == []


def test_explain_reasons_limit_and_stackoverflow_floor():
    result = whuffie("explain", SO / "rules.whuf", SO / "events.jsonl", "ben", "--format", "json", "--reasons", "1")
    data = json.loads(result.stdout)
    assert data["scores"]["reputation"] == 9
    assert [e["cut_by"][0]["by"] for e in data["ledger"][:3]] == ["floor 1 per event"] * 3
    assert data["reasons"] == [{"rule": "answer_downvote", "factor": None, "author": "so_team",
                                "because": "A wrong answer misleads readers", "points": -2, "loss": 2,
                                "events": 1}]


def test_explain_unknown_subject():
    result = whuffie("explain", RULES, EVENTS, "alcie")
    assert result.exit_code == 2 and "unknown subject 'alcie'" in result.stderr
    assert "(did you mean 'alice'?)" in result.stderr


def test_explain_unknown_subject_without_a_subjects_file_blames_only_the_events():
    result = whuffie("explain", RULES, EVENTS, "zed")
    assert result.exit_code == 2
    assert f"unknown subject 'zed': no event in {EVENTS} names it" in result.stderr
    assert "subjects file" not in result.stderr
    with_subjects = whuffie("explain", RULES, EVENTS, "bobb", "--subjects", SUBJECTS)
    assert f"no event in {EVENTS} and no line in {SUBJECTS} names it (did you mean 'bob'?)" in with_subjects.stderr


# ---------------------------------------------------------------- authors


def test_authors_without_events():
    result = whuffie("authors", RULES)
    assert result.exit_code == 0
    assert "ada  Ada Okafor <ada@riverside.example>\n  rules: on_time_return, volunteering" in result.stdout
    assert "  tiers: trusted, member, restricted" in result.stdout
    assert "awarded" not in result.stdout


def test_authors_shares_add_up():
    result = whuffie("authors", SO / "rules.whuf", SO / "events.jsonl", "--format", "json")
    data = {a["author"]: a for a in json.loads(result.stdout)}
    assert data["so_team"]["shared_caps"] == ["vote_reputation"]
    assert sum(a["awarded_share"] for a in data.values()) == pytest.approx(100)
    assert sum(a["taken_share"] for a in data.values()) == pytest.approx(100)
    # mods only take: the spam penalty of 100; so_team takes dee's... nothing else but ana's and ben's -2s
    assert data["mods"]["taken"] == -100 and data["mods"]["awarded"] == 0
    assert data["so_team"]["taken"] == -6  # two downvotes received (-2 each), two cast by cai (-1 each)


def test_no_events_needs_an_as_of_when_there_are_subjects(tmp_path):
    empty = write_events(tmp_path, [])
    result = whuffie("score", RULES, empty, "--subjects", SUBJECTS)
    assert result.exit_code == 2 and "give --as-of T" in result.stderr
    result = whuffie("score", RULES, empty, "--subjects", SUBJECTS, "--as-of", "2026-01-01", "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1:] == [f"{s},100.00,member,reserve_new_books,0.00,0"
                                              for s in ("alice", "bob", "carol", "dan", "erin")]


def test_bad_subjects_file_stops_the_run(tmp_path):
    subjects = tmp_path / "s.jsonl"
    subjects.write_text('{"id": "alice", "joined": "2020-01-01", "age": "old", "postcode": "RV1"}\n')
    result = whuffie("score", RULES, EVENTS, "--subjects", subjects, "--rejects", tmp_path / "r.jsonl")
    assert result.exit_code == 2 and result.stdout == ""
    assert 's.jsonl:1: attribute age: expected int, got "old"' in result.stderr


def test_unreadable_events_file(tmp_path):
    path = tmp_path / "bin.jsonl"
    path.write_bytes(b'\xff\xfe{"a": 1}\n')
    result = whuffie("score", RULES, path)
    assert result.exit_code == 2 and "error[W080]: is UTF-16 text" in result.stderr
    assert whuffie("score", RULES, tmp_path).exit_code == 2


def test_authors_lists_caps():
    data = {a["author"]: a for a in json.loads(whuffie("authors", SO / "rules.whuf", "--format", "json").stdout)}
    assert data["so_team"]["caps"] == ["suggested_edit: cap 1000 total"]
    assert data["so_team"]["shared_caps"] == ["vote_reputation"]
    assert "awarded" not in data["so_team"]


def test_authors_lists_the_conditions_and_params_they_own(tmp_path):
    rules = tmp_path / "r.whuf"
    rules.write_text('ruleset r "r"\nauthor ada "Ada"\nauthor bo "Bo"\nevent post {}\n'
                     'param bar = 3 by bo because "three posts show commitment"\n'
                     'measure posts = count post\n'
                     'condition keen = posts >= bar by bo because "keen members post"\n'
                     'rule r by ada because "r" on post award 1\nscore s = points\n'
                     'tier keener when keen by ada because "k"\ntier other otherwise by ada because "o"\n')
    result = whuffie("authors", rules, "--format", "json")
    assert result.exit_code == 0, result.output
    data = {a["author"]: a for a in json.loads(result.stdout)}
    assert data["bo"]["conditions"] == ["keen"] and data["bo"]["params"] == ["bar"]
    assert data["ada"]["conditions"] == [] and data["ada"]["tiers"] == ["keener", "other"]
    text = whuffie("authors", rules).stdout
    assert "  params: bar" in text and "  conditions: keen" in text


def test_explain_a_subject_whose_events_are_all_after_as_of():
    result = whuffie("explain", RULES, EVENTS, "erin", "--as-of", "2026-01-01", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["scores"] == {"standing": 100} and data["ledger"] == []


# Issue 10: no input is ever overwritten; an old rejects file never passes for this run's.

@pytest.mark.parametrize("which", ["events", "subjects", "rules", "other spelling"])
def test_rejects_naming_an_input_is_refused_and_the_input_kept(tmp_path, which):
    for name in ("rules.whuf", "events.jsonl", "subjects.jsonl"):
        (tmp_path / name).write_bytes((LIB / name).read_bytes())
    rules, events, subjects = tmp_path / "rules.whuf", tmp_path / "events.jsonl", tmp_path / "subjects.jsonl"
    target = {"events": events, "subjects": subjects, "rules": rules,
              "other spelling": tmp_path / "sub" / ".." / "events.jsonl"}[which]
    (tmp_path / "sub").mkdir()
    before = {p: p.read_bytes() for p in (rules, events, subjects)}
    result = whuffie("score", rules, events, "--subjects", subjects, "--rejects", target)
    assert result.exit_code == 2
    assert "names an input file" in result.stderr
    assert {p: p.read_bytes() for p in (rules, events, subjects)} == before


def test_rejects_file_is_rewritten_empty_when_nothing_is_rejected(tmp_path):
    stale = tmp_path / "rejects.jsonl"
    stale.write_text('{"old": "rejects from another run"}\n')
    result = whuffie("score", RULES, EVENTS, "--rejects", stale)
    assert result.exit_code == 0
    assert stale.read_bytes() == b""


def test_version():
    from whuffie import __version__

    result = whuffie("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"whuffie {__version__}"


@pytest.mark.parametrize("year", [1, 9, 99, 999, 2026, 9999])
def test_instants_print_as_iso_8601_with_four_digit_years(year):
    import datetime as dt

    from whuffie.report import iso

    at = dt.datetime(year, 1, 1, 4, 56, 2, tzinfo=dt.timezone.utc)
    assert iso(at) == f"{year:04d}-01-01T04:56:02Z"
    assert dt.datetime.fromisoformat(iso(at)) == at


@pytest.mark.parametrize("word", ["now", "today"])
def test_as_of_now_and_today_read_the_clock(word):
    import datetime as dt

    result = whuffie("score", RULES, EVENTS, "--as-of", word, "--format", "json")
    assert result.exit_code == 0, result.stderr
    shown = re.search(r"as of (\S+)\)", result.stderr).group(1)
    at = dt.datetime.fromisoformat(shown)
    now = dt.datetime.now(dt.timezone.utc)
    assert now - dt.timedelta(days=1, minutes=5) <= at <= now
    if word == "today":
        from zoneinfo import ZoneInfo

        from whuffie.frontend import load_file

        local = at.astimezone(ZoneInfo(load_file(RULES).ruleset.timezone))
        assert (local.hour, local.minute, local.second) == (0, 0, 0)


def test_explain_reasons_zero_does_not_claim_nothing_took_points_away():
    # ben has a negative reason (see above); --reasons 0 hides it but must not deny it.
    shown = whuffie("explain", SO / "rules.whuf", SO / "events.jsonl", "ben", "--reasons", "0")
    assert shown.exit_code == 0
    assert "no rule took points away" not in shown.stdout
    assert "none asked for (--reasons 0)" in shown.stdout


# ---------------------------------------------------------------- whole inputs that cannot be read (W080, W084)


def test_csv_lacking_a_required_column_stops_with_exit_2_naming_it(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("subject,type,days_late,damaged\nann,returned,2,false\nann,returned,1,false\n")
    rejects = tmp_path / "bad.csv"
    for extra in ((), ("--rejects", rejects)):
        result = whuffie("score", RULES, path, *extra)
        assert result.exit_code == 2 and result.stdout == ""
        assert "events.csv:1: error[W080]: the CSV header lacks the required column at" in result.stderr
        assert "as-of" not in result.stderr
    semicolons = tmp_path / "semi.csv"
    semicolons.write_text("subject;type;at;days_late;damaged\nann;returned;2026-01-01;2;false\n")
    result = whuffie("score", RULES, semicolons)
    assert result.exit_code == 2 and "looks separated by ';'" in result.stderr


def test_an_invalid_byte_is_one_bad_line_kept_as_bytes_in_the_rejects(tmp_path):
    path = tmp_path / "events.jsonl"
    bad = GOOD_LINES[1].encode().replace(b"ann", b"a\xffn")
    path.write_bytes(GOOD_LINES[0].encode() + b"\n" + bad + b"\n" + GOOD_LINES[2].encode() + b"\n")
    result = whuffie("score", RULES, path)
    assert result.exit_code == 2 and "events.jsonl:2: not valid UTF-8 (byte 0xff" in result.stderr
    rejects = tmp_path / "bad.jsonl"
    result = whuffie("score", RULES, path, "--rejects", rejects)
    assert result.exit_code == 0 and counts(result.stderr) == (3, 2, 1, 0)
    assert rejects.read_bytes() == bad + b"\n"


def test_a_quoted_newline_in_csv_is_one_record(tmp_path):
    rules = tmp_path / "notes.whuf"
    rules.write_text('ruleset n\nauthor a "A"\nevent note { text: text }\n'
                     'rule r by a because "b" on note award 1\nscore s = points\n')
    path = tmp_path / "events.csv"
    path.write_text('subject,type,at,text\nann,note,2026-01-01,"two\nlines"\nann,note,2026-01-02,one\n')
    result = whuffie("score", rules, path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["scores"] == {"s": 2} and counts(result.stderr) == (2, 2, 0, 0)


def test_a_fifo_or_a_device_is_refused_not_read(tmp_path):
    import os

    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    for args in (("score", RULES, fifo), ("score", RULES, EVENTS, "--subjects", fifo),
                 ("score", RULES, "/dev/zero"), ("score", fifo, EVENTS), ("check", "/dev/zero")):
        result = whuffie(*args)
        assert result.exit_code in (1, 2) and "error[W080]" in result.stderr
        assert "not a regular file" in result.stderr
    big = tmp_path / "big.whuf"
    with open(big, "wb") as fh:
        fh.truncate(17 * 1024 * 1024)
    result = whuffie("check", big)
    assert result.exit_code == 1 and "error[W080]" in result.stderr and "too large" in result.stderr


def test_events_from_standard_input():
    text = (LIB / "events.jsonl").read_text()
    result = runner.invoke(app, ["score", RULES, "-", "--subjects", SUBJECTS, "--format", "json"], input=text)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == whuffie("score", RULES, EVENTS, "--subjects", SUBJECTS, "--format", "json").stdout
    csv_text = (LIB / "events.csv").read_text()
    from_csv = runner.invoke(app, ["score", RULES, "-", "--subjects", SUBJECTS, "--format", "json"], input=csv_text)
    assert from_csv.exit_code == 0 and from_csv.stdout == result.stdout
    assert "<stdin>: read 28, scored 28" in from_csv.stderr
    assert runner.invoke(app, ["score", RULES, EVENTS, "--subjects", "-"], input="").exit_code == 2
    not_a_header = runner.invoke(app, ["score", RULES, "-"], input="ann,returned\n")
    assert not_a_header.exit_code == 2
    assert "<stdin>:1: malformed JSON" in not_a_header.stderr and "<stdin>: 1 bad line of 1" in not_a_header.stderr


@pytest.mark.parametrize("engine", ["codegen", "duckdb"])
def test_an_empty_events_file_is_nothing_to_score(tmp_path, engine):
    path = write_events(tmp_path, [])
    result = whuffie("score", RULES, path, "--engine", engine)
    assert result.exit_code == 2 and result.stdout == ""
    assert "error[W084]: nothing to score: it has no events and no subjects file names a subject" in result.stderr
    assert "1970" not in result.stderr
    all_bad = tmp_path / "bad.jsonl"
    all_bad.write_text('{"subject": "ann"}\n')
    result = whuffie("score", RULES, all_bad, "--rejects", tmp_path / "r.jsonl", "--engine", engine)
    path.write_text("")
    assert result.exit_code == 2 and "nothing to score: its only line was rejected" in result.stderr
    result = whuffie("score", RULES, path, "--subjects", SUBJECTS, "--engine", engine)
    assert result.exit_code == 2 and "error[W084]: no instant to score the subjects at" in result.stderr
    result = whuffie("score", RULES, path, "--subjects", SUBJECTS, "--as-of", "2026-03-01", "--format", "json",
                     "--engine", engine)
    assert result.exit_code == 0 and len(json.loads(result.stdout)) == 5


# ---------------------------------------------------------------- many bad lines, warnings


def test_thousands_of_bad_lines_print_a_few_of_each_kind_and_a_count(tmp_path):
    bad = [json.dumps({"subject": "ann", "type": "returned", "at": "2026-01-01", "days_late": "x%d" % i,
                       "damaged": False}) for i in range(2000)]
    path = write_events(tmp_path, GOOD_LINES + bad + ["{"] * 3)
    result = whuffie("score", RULES, path)
    lines = result.stderr.splitlines()
    assert result.exit_code == 2 and len(lines) < 15
    assert "  … and 1,995 more like this (field days_late: expected int in 0..3650, got …)" in result.stderr
    assert sum(": malformed JSON" in line for line in lines) == 3
    verbose = whuffie("score", RULES, path, "--verbose")
    assert len(verbose.stderr.splitlines()) == 2003 + 1
    rejects = tmp_path / "bad.jsonl"
    kept = whuffie("score", RULES, path, "--rejects", rejects)
    assert kept.exit_code == 0 and len(rejects.read_text().splitlines()) == 2003


@pytest.mark.parametrize("engine", ["codegen", "duckdb"])
def test_look_alike_subject_ids_warn_naming_both_lines(tmp_path, engine):
    line = GOOD_LINES[0]
    path = write_events(tmp_path, [line, line.replace('"ann"', '"ann "')])
    result = whuffie("score", RULES, path, "--engine", engine)
    assert result.exit_code == 0
    assert 'events.jsonl:2: warning[W082]: member id "ann " looks like "ann" (at events.jsonl:1)' in result.stderr


@pytest.mark.parametrize("engine", ["codegen", "duckdb"])
def test_a_far_future_event_warns_that_the_default_as_of_is_later_than_the_clock(tmp_path, engine):
    future = GOOD_LINES[0].replace("2026-01-01T10:00:00Z", "9999-12-31T00:00:00Z")
    path = write_events(tmp_path, [GOOD_LINES[0], future])
    result = whuffie("score", RULES, path, "--engine", engine)
    assert result.exit_code == 0
    assert "events.jsonl:2: warning[W083]: the default as-of instant, 9999-12-31T00:00:00Z" in result.stderr
    assert "W083" not in whuffie("score", RULES, path, "--as-of", "now").stderr
    assert "W083" not in whuffie("score", RULES, EVENTS).stderr


@pytest.mark.parametrize("engine", ["reference", "codegen", "duckdb"])
def test_datetimes_at_the_edge_of_the_range_are_bad_lines_not_tracebacks(tmp_path, engine):
    # 9999-12-31T23:00:00-05:00 is in year 10000 UTC: a bad line on every reader, never "after as-of"
    edge = GOOD_LINES[0].replace("2026-01-01T10:00:00Z", "9999-12-31T23:00:00-05:00")
    path = write_events(tmp_path, [GOOD_LINES[0], edge])
    result = whuffie("score", RULES, path, "--rejects", tmp_path / "r.jsonl", "--engine", engine)
    assert result.exit_code == 0 and result.exception is None or isinstance(result.exception, SystemExit)
    assert "events.jsonl:2: at: \"9999-12-31T23:00:00-05:00\" is outside the supported range" in result.stderr
    assert (tmp_path / "r.jsonl").read_text() == edge + "\n"
    result = whuffie("score", RULES, EVENTS, "--as-of", "0001-01-01T00:00:00+01:00")
    assert result.exit_code == 2 and "outside the supported range" in result.stderr


# ---------------------------------------------------------------- help, tables


def test_help_names_the_arguments_and_every_kind_of_events_input():
    result = runner.invoke(app, ["score", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "score [OPTIONS] RULES EVENTS" in result.stdout
    assert "{rules}" not in result.stdout and "<bool>" not in result.stdout
    assert "Parquet" in result.stdout and "duckdb:PATH#TABLE" in result.stdout and "standard input" in result.stdout
    listed = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).stdout
    commands = sorted(c.name for c in typer.main.get_command(app).commands.values())
    assert {"diff", "audit", "authors", "score", "explain", "repl"} <= set(commands)
    for command in ([], *([c] for c in commands)):
        shown = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"}).stdout
        assert not re.search(r"<(bool|str|int|path)>|\{[a-z]+\}", shown), (command, shown)
        assert not command or command[0] in listed


def test_table_aligns_wide_ids_and_escapes_control_characters(tmp_path):
    ids = ["李小龙", "😀x", "a\nb", "plain"]
    lines = [GOOD_LINES[0].replace('"ann"', json.dumps(i)) for i in ids]
    path = write_events(tmp_path, lines)
    result = whuffie("score", RULES, path)
    assert result.exit_code == 0, result.stderr
    from wcwidth import wcswidth

    rows = result.stdout.splitlines()
    assert len(rows) == 2 + len(ids) and "a\\nb" in result.stdout
    assert len({wcswidth(row[:row.index(" member")]) for row in rows[2:]}) == 1
    assert len({wcswidth(row) for row in rows[2:]}) == 1


def test_score_on_generated_python_imports_neither_the_sql_engine_nor_sqlglot_nor_pyarrow() -> None:
    # start-up: a small JSONL log is scored by generated Python, which needs none of them
    import os
    import subprocess
    import sys

    # read as the process ends (main ends it: an exit function is the last code that runs)
    probe = ("import atexit, sys, runpy\n"
             f"sys.argv = ['whuffie', 'score', {RULES!r}, {EVENTS!r}, '--subjects', {SUBJECTS!r}, '--format', 'csv']\n"
             "atexit.register(lambda: print(sorted(m for m in ('whuffie.engines.sqlengine', 'sqlglot', 'pyarrow',"
             " 'duckdb') if m in sys.modules), file=sys.stderr))\n"
             "runpy.run_module('whuffie', run_name='__main__')\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "interpreter"))
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert done.stdout.startswith("subject,")
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_several_files_without_spark_are_a_usage_error_that_says_how_and_an_odd_name_is_one_file(tmp_path) -> None:
    log = Path(__file__).resolve().parents[1] / "examples" / "stackoverflow" / "events.jsonl"
    rules = log.parent / "rules.whuf"
    (tmp_path / "part-0.jsonl").write_bytes(log.read_bytes())
    for spec in (tmp_path, f"{tmp_path}/*.jsonl"):
        result = whuffie("score", rules, spec)
        assert result.exit_code == 2, result.output
        assert "--engine spark" in result.stderr and "Traceback" not in result.output
        ledger = whuffie("score", rules, spec, "--engine", "spark", "--ledger", tmp_path / "ledger.csv")
        assert ledger.exit_code == 2, ledger.output
        if _spark_there():  # else the usage error says how to install PySpark
            assert "several files are read by Spark" in ledger.stderr, ledger.output
    odd = tmp_path / "events[1].jsonl"  # a file whose name looks like a glob is that file
    odd.write_bytes(log.read_bytes())
    assert whuffie("score", rules, odd).stdout == whuffie("score", rules, log).stdout


def _spark_there() -> bool:
    import importlib.util
    import shutil

    return importlib.util.find_spec("pyspark") is not None and shutil.which("java") is not None

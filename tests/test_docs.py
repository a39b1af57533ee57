"""The documentation's code is real: every whuffie block parses (and checks, once the checker does).

Fenced blocks in the docs are marked by their info string:

- ```whuffie           a complete rule file: parses without errors and, when the
                        checker reports anything at all, checks without errors;
- ```whuffie-fragment  declarations or one expression that need context from
                        elsewhere: must parse as a file or as an expression;
- ```whuffie-invalid   a deliberate mistake: must be rejected by the parser, or by
                        the checker once the checker reports anything.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest
from pygments.token import Error

from whuffie.checker import check
from whuffie.highlight import WhuffieLexer
from whuffie.parser import parse, parse_expression

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "docs" / "language.md", ROOT / "docs" / "design" / "architecture.md", ROOT / "README.md"]
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)


def blocks(kind: str) -> list[tuple[str, str]]:
    """(location, code) of every fenced block with the given info string."""
    found = []
    for doc in DOCS:
        if not doc.is_file():
            continue
        text = doc.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            if match.group(1) == kind:
                line = text.count("\n", 0, match.start()) + 1
                found.append((f"{doc.relative_to(ROOT)}:{line}", match.group(2)))
    return found


@lru_cache(maxsize=1)
def checker_is_real() -> bool:
    """True once checker.check reports problems (it started as a placeholder that reports none)."""
    program = parse('rule r by nobody because "x" on nothing award 1\n', "<probe>").program
    return program is not None and bool(check(program).diagnostics)


def errors_of(code: str, where: str, run_checker: bool) -> list[str]:
    result = parse(code, where)
    found = [f"{d.span}: {d.code} {d.message}" for d in result.diagnostics if d.is_error]
    if not found and run_checker and result.program is not None:
        found = [f"{d.span}: {d.code} {d.message}" for d in check(result.program).diagnostics if d.is_error]
    return found


def test_language_reference_has_complete_examples():
    assert len(blocks("whuffie")) >= 5
    assert len(blocks("whuffie-fragment")) >= 10


@pytest.mark.parametrize("where,code", blocks("whuffie"), ids=lambda v: v if ":" in v and "\n" not in v else None)
def test_complete_block_parses_and_checks(where, code):
    assert errors_of(code, where, run_checker=True) == []


@pytest.mark.parametrize("where,code", [b for b in blocks("whuffie") if "\ntest " in "\n" + b[1]],
                         ids=lambda v: v if ":" in v and "\n" not in v else None)
def test_complete_block_passes_its_own_tests(where, code):
    from whuffie.frontend import load_text
    from whuffie.testblocks import run_tests

    loaded = load_text(code, where)
    assert loaded.ruleset is not None
    outcomes = run_tests(loaded.ruleset, code)
    assert outcomes and [o.decl.name for o in outcomes if not o.passed] == []


@pytest.mark.parametrize("where,code", [b for b in blocks("whuffie") if "\nproperty " in "\n" + b[1]],
                         ids=lambda v: v if ":" in v and "\n" not in v else None)
def test_complete_block_keeps_its_properties(where, code):
    from whuffie.frontend import load_text
    from whuffie.properties import check_properties

    loaded = load_text(code, where)
    assert loaded.ruleset is not None
    outcomes = check_properties(loaded.ruleset, seed=0, max_examples=25, source=code)
    assert outcomes and [o.decl.name for o in outcomes if not o.passed] == []


@pytest.mark.parametrize("where,code", blocks("whuffie-fragment"), ids=lambda v: v if ":" in v and "\n" not in v else None)
def test_fragment_parses(where, code):
    as_file = parse(code, where)
    if as_file.ok:
        return
    expr, diags = parse_expression(code.strip(), where)
    assert expr is not None and not diags, [f"{d.span}: {d.message}" for d in as_file.diagnostics]


@pytest.mark.parametrize("where,code", blocks("whuffie-invalid"), ids=lambda v: v if ":" in v and "\n" not in v else None)
def test_invalid_block_is_rejected(where, code):
    if not parse(code, where).ok:
        return
    if not checker_is_real():
        pytest.skip("the checker is still a placeholder; this block is only rejected by the checker")
    assert errors_of(code, where, run_checker=True) != []


@pytest.mark.parametrize("kind", ["whuffie", "whuffie-fragment", "whuffie-invalid"])
def test_doc_blocks_highlight_without_error_tokens(kind):
    for where, code in blocks(kind):
        if kind == "whuffie-invalid":
            continue  # a deliberate mistake may well be an error token
        bad = [value for kind_, value in WhuffieLexer().get_tokens(code) if kind_ in Error]
        assert bad == [], where


def test_every_command_of_the_cli_is_documented():
    from whuffie.cli import app
    import typer.main

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    reference = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    missing = [name for name in commands if f"whuffie {name}" not in reference]
    assert missing == []


def test_readme_starts_with_the_two_make_targets():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    fence = lines.index("```")
    assert lines[fence + 1].startswith("make demo")
    assert lines[fence + 2].startswith("make test")


def documented_usage() -> dict[str, set[str]]:
    """Options of each command as the reference's command-line synopsis lists them."""
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    section = text[text.index("## Command line"):]
    synopsis = FENCE.search(section).group(2)
    usage: dict[str, set[str]] = {}
    for line in synopsis.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "whuffie":
            usage[words[1]] = set(re.findall(r"--[a-z][a-z-]*", line))
    return usage


def test_the_synopsis_lists_exactly_the_options_each_command_has():
    from whuffie.cli import app
    import typer.main

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    usage = documented_usage()
    for name, command in commands.items():
        real = {opt for param in command.params
                for opt in [*param.opts, *getattr(param, "secondary_opts", [])] if opt.startswith("--")}
        assert name in usage, f"whuffie {name} is missing from the synopsis"
        assert usage[name] == real, f"whuffie {name}: documented {sorted(usage[name])}, real {sorted(real)}"


def test_the_code_table_lists_every_diagnostic_code_with_its_page():
    from whuffie.diagnostics import CODES

    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| \[(W\d{3})\]\(errors/W\d{3}\.md\) \| (.+?) \|$", text, re.M))
    assert listed == CODES
    missing_pages = [code for code in CODES if not (ROOT / "docs" / "errors" / f"{code}.md").is_file()]
    assert missing_pages == []


def test_the_reference_names_every_repl_command():
    from whuffie.repl import COMMANDS

    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    bullet = text[text.index("* `whuffie repl`"):]
    bullet = bullet[:bullet.index("\n\n")]
    documented = re.findall(r"`:([a-z-]+)`", bullet)
    assert documented == [command.name for command in COMMANDS]

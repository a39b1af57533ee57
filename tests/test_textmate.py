"""The VS Code extension's TextMate grammar: generated from highlight.py, and tokenized by vscode-textmate in node."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from test_highlight import RULE_FILES, ROOT, keyword_offsets, name_offsets
from whuffie.highlight import TYPE_NAMES
from whuffie.lsp import textmate
from whuffie.parser import _keywords as grammar_keywords

EXTENSION = ROOT / "editors" / "vscode"
GRAMMAR_FILE = EXTENSION / "syntaxes" / "whuffie.tmLanguage.json"


def test_the_committed_grammar_is_the_generated_one() -> None:
    # regenerate with: python -m whuffie.lsp.textmate > editors/vscode/syntaxes/whuffie.tmLanguage.json
    assert GRAMMAR_FILE.read_text(encoding="utf-8") == textmate.render()


def test_the_grammar_keyword_list_is_the_parsers() -> None:
    listed = set(textmate.grammar()["keywords"])
    lark = set(grammar_keywords())
    assert listed - lark == set()
    # the grammar's other keywords are highlighted, but not as keywords: literals and types
    assert lark - listed <= {"true", "false", *TYPE_NAMES}


def test_the_extension_declares_the_language_and_its_grammar() -> None:
    manifest = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    (language,) = manifest["contributes"]["languages"]
    assert language["extensions"] == [".whuf"]
    (grammar,) = manifest["contributes"]["grammars"]
    assert (EXTENSION / grammar["path"]).resolve() == GRAMMAR_FILE
    assert grammar["scopeName"] == textmate.grammar()["scopeName"]
    assert "vscode-languageclient" in manifest["dependencies"]


def _utf16_position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return line, sum(2 if ord(ch) > 0xFFFF else 1 for ch in text[start:offset])


def expectations() -> dict:
    """Where the real parser reads keywords and names in each rule file, in the editor's coordinates."""
    files = {}
    for path in RULE_FILES:
        text = path.read_text(encoding="utf-8")
        files[str(path.relative_to(ROOT))] = {
            "keywords": [[*_utf16_position(text, o), w] for o, w in sorted(keyword_offsets(text).items())],
            "names": [[*_utf16_position(text, o), w] for o, w in sorted(name_offsets(text).items())],
        }
    return {"files": files, "typeNames": list(TYPE_NAMES)}


def test_vscode_textmate_tokenizes_every_rule_file_as_the_parser_reads_it(tmp_path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the TextMate grammar test needs node")
    if not (EXTENSION / "node_modules" / "vscode-textmate").is_dir():
        pytest.skip("editors/vscode/node_modules is missing: run `npm ci` in editors/vscode (make test does)")
    expected = tmp_path / "expected.json"
    expected.write_text(json.dumps(expectations()), encoding="utf-8")
    run = subprocess.run([node, "test/grammar.test.js", str(expected)], cwd=EXTENSION, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.startswith("ok: ")


def test_the_extension_packages_with_vsce(tmp_path) -> None:
    vsce = EXTENSION / "node_modules" / ".bin" / "vsce"
    if shutil.which("node") is None or not vsce.exists():
        pytest.skip("node or editors/vscode/node_modules is missing: run `npm ci` in editors/vscode (make test does)")
    out = tmp_path / "whuffie.vsix"
    run = subprocess.run([str(vsce), "package", "--out", str(out)], cwd=EXTENSION, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    import zipfile

    names = set(zipfile.ZipFile(out).namelist())
    assert {"extension/package.json", "extension/extension.js", "extension/language-configuration.json",
            "extension/syntaxes/whuffie.tmLanguage.json"} <= names
    assert "extension/node_modules/vscode-languageclient/package.json" in names
    assert not any(name.startswith("extension/test/") for name in names)

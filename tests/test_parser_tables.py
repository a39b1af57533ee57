"""The LALR tables shipped in the package (whuffie/lalr_tables.py) are those of the grammar."""

from __future__ import annotations

from pathlib import Path

import pytest
from lark import Lark

from whuffie import lalr_tables
from whuffie import parser as parser_module

ROOT = Path(__file__).resolve().parents[1]


def canonical_tables(data, memo):
    """Lark's serialized tables with the numbering taken out: states renumbered in the order a walk
    from the start states meets them, rules and terminals by content."""
    from collections import deque

    def resolve(value):
        if isinstance(value, dict):
            if set(value) == {"@"}:
                return resolve(memo[value["@"]])
            return tuple(sorted((k, resolve(v)) for k, v in value.items()))
        if isinstance(value, (list, tuple)):
            return tuple(resolve(v) for v in value)
        return value

    table = data["parser"]["parser"]
    tokens, states = table["tokens"], table["states"]
    number: dict[int, int] = {}
    queue = deque()
    for start in sorted(table["start_states"]):
        state = table["start_states"][start]
        if state not in number:
            number[state] = len(number)
            queue.append(state)
    canonical = {}
    while queue:
        state = queue.popleft()
        row = {}
        for token, (kind, arg) in sorted(states[state].items(), key=lambda item: tokens[item[0]]):
            if kind == 0:  # shift: the target state, numbered on first sight
                if arg not in number:
                    number[arg] = len(number)
                    queue.append(arg)
                row[tokens[token]] = ("shift", number[arg])
            else:
                row[tokens[token]] = ("reduce", resolve(arg))
        canonical[number[state]] = row
    rest = {k: resolve(v) for k, v in data["parser"].items() if k not in ("parser", "lexer_conf", "parser_conf")}
    lexer = {k: (tuple(sorted(resolve(v), key=repr)) if k in ("terminals", "ignore") else resolve(v))
             for k, v in data["parser"]["lexer_conf"].items()}
    parser_conf = {k: (tuple(sorted(resolve(v), key=repr)) if k == "rules" else resolve(v))
                   for k, v in data["parser"]["parser_conf"].items()}
    return {
        "states": canonical, "unreached": len(states) - len(number),
        "start_states": {k: number[v] for k, v in table["start_states"].items()},
        "end_states": {k: number[v] for k, v in table["end_states"].items()},
        "lexer_conf": lexer, "parser_conf": parser_conf, "rest": rest,
        "rules": tuple(sorted(resolve(data["rules"]), key=repr)),
        "options": resolve(data["options"]),
    }


def test_the_shipped_tables_are_what_the_grammar_builds_today():
    """Built afresh from grammar/whuffie.lark, the same automaton, rules and terminals: after a grammar edit, `make tables`.

    Lark numbers states and rules differently from one build to the next (it iterates over sets
    of objects), so the tables are compared with the numbering taken out.
    """
    grammar_text = parser_module.grammar_path().read_text(encoding="utf-8")
    assert parser_module._tables_match(lalr_tables, grammar_text), "run `make tables`"
    fresh = Lark(grammar_text, **parser_module._LARK_OPTIONS, **parser_module._runtime_options())
    expected = canonical_tables(*parser_module._serialized(fresh))
    shipped = canonical_tables(lalr_tables.DATA, lalr_tables.MEMO)
    assert shipped["unreached"] == 0 and len(shipped["states"]) > 100
    assert shipped == expected, "run `make tables`"


def test_the_parser_of_the_shipped_tables_parses_as_the_grammar_does(monkeypatch):
    """The same AST from the packaged tables as from a parser built from the grammar, on every example."""
    sources = sorted(ROOT.glob("examples/*/*.whuf"))
    assert sources
    try:
        parser_module.lark_parser.cache_clear()
        monkeypatch.setattr(parser_module, "_tables_compiled", lambda: True)
        assert parser_module.lark_parser().source_path == "<deserialized>"
        packaged = [parser_module.parse(p.read_text(encoding="utf-8"), p.name) for p in sources]
        parser_module.lark_parser.cache_clear()
        monkeypatch.setattr(parser_module, "_packaged_parser", lambda grammar_text: None)
        monkeypatch.setattr(parser_module, "_table_cache_path", lambda grammar_text: None)  # built, not cached
        assert parser_module.lark_parser().source_path != "<deserialized>"
        built = [parser_module.parse(p.read_text(encoding="utf-8"), p.name) for p in sources]
    finally:
        parser_module.lark_parser.cache_clear()
    for source, one, other in zip(sources, packaged, built):
        assert one.program == other.program, source
        assert [d.message for d in one.diagnostics] == [d.message for d in other.diagnostics], source


@pytest.mark.parametrize("field", ["GRAMMAR", "LARK_VERSION", "OPTIONS"])
def test_tables_of_another_grammar_or_lark_are_not_used(monkeypatch, field):
    grammar_text = parser_module.grammar_path().read_text(encoding="utf-8")
    monkeypatch.setattr(parser_module, "_tables_compiled", lambda: True)
    assert parser_module._packaged_parser(grammar_text) is not None
    monkeypatch.setattr(lalr_tables, field, getattr(lalr_tables, field) + " (edited)")
    assert parser_module._packaged_parser(grammar_text) is None


def test_without_bytecode_the_tables_are_not_compiled_at_each_start(monkeypatch, tmp_path):
    """Where no .pyc is there or can be written, compiling the module would cost more than the JSON cache."""
    import os
    import sys

    module = tmp_path / "package" / "lalr_tables.py"
    module.parent.mkdir()
    module.write_text("", encoding="utf-8")
    monkeypatch.setattr(parser_module, "TABLE_MODULE", module)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert parser_module._tables_compiled() is False  # nothing compiled, nothing to be written
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    assert parser_module._tables_compiled() is True  # written on this import, read on the next
    if os.geteuid() != 0:  # root writes anywhere
        module.parent.chmod(0o555)
        try:
            assert parser_module._tables_compiled() is False  # a read-only install without .pyc
        finally:
            module.parent.chmod(0o755)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    import py_compile

    py_compile.compile(str(module))
    assert parser_module._tables_compiled() is True  # compiled at install time

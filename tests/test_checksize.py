"""Expansion bounds: nesting and size counted through def calls (W005, W061), never a RecursionError."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whuffie import nodes as n
from whuffie import engines, evaluator, report
from whuffie.frontend import load_text
from whuffie.limits import MAX_DEPTH, MAX_EXPANDED_NODES
from whuffie.inputs import parse_events
from whuffie.parser import parse

HEADER = '''ruleset t
author ada "Ada"
subject member { joined: date }
event ev { x: int }
'''


def program(award: str, defs: str = "") -> str:
    return HEADER + defs + f'rule r by ada because "x" on ev award {award}\nscore s = points\n'


def chain(length: int) -> str:
    """def f1(x) = f2(x) ... def f<length>(x) = x"""
    return "".join(f"def f{i}(x: int) = f{i + 1}(x)\n" for i in range(1, length)) + f"def f{length}(x: int) = x\n"


def doubling(length: int) -> str:
    """def f_i(x) = f_{i+1}(x) + f_{i+1}(x): 2^length nodes once expanded."""
    return "".join(f"def f{i}(x: int) = f{i + 1}(x) + f{i + 1}(x)\n" for i in range(1, length)) \
        + f"def f{length}(x: int) = x\n"


def diagnostics(text: str):
    return load_text(text, "t.whuf").diagnostics


@pytest.mark.parametrize("levels", [164, 180, MAX_DEPTH])
def test_nested_calls_up_to_the_limit_check_without_recursion_error(levels: int) -> None:
    assert diagnostics(program("abs(" * levels + "x" + ")" * levels)) == []


def test_nested_calls_check_even_with_little_python_stack_left() -> None:
    text = program("min(1, " * MAX_DEPTH + "x" + ")" * MAX_DEPTH)
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    try:
        assert diagnostics(text) == []
    finally:
        sys.setrecursionlimit(before)
    assert sys.getrecursionlimit() == before


def test_a_chain_of_defs_at_the_limit_checks() -> None:
    assert diagnostics(program("f1(x)", chain(MAX_DEPTH))) == []


@pytest.mark.parametrize("length", [MAX_DEPTH + 1, 300, 2000])
def test_a_chain_of_defs_past_the_limit_is_w005_at_the_call_where_it_crosses(length: int) -> None:
    found = diagnostics(program("f1(x)", chain(length)))
    assert [d.code for d in found] == ["W005"]
    crossing = found[0]
    # the first def call (counting from the innermost def) whose expansion is MAX_DEPTH + 1 deep
    line = crossing.span.line
    text = program("f1(x)", chain(length)).splitlines()[line - 1]
    assert "def call" in crossing.message
    if length == MAX_DEPTH + 1:
        assert text.startswith("rule r")
    else:
        assert text.startswith(f"def f{length - MAX_DEPTH - 1}(")
        assert text[crossing.span.col - 1:].startswith(f"f{length - MAX_DEPTH}(x)")


def test_depth_adds_the_arguments_to_the_body() -> None:
    # Each level of the body wraps its argument, so nesting the calls stacks both.
    defs = "def g(x: int) = " + "abs(" * 150 + "x" + ")" * 150 + "\n"
    assert diagnostics(program("g(x)", defs)) == []
    assert [d.code for d in diagnostics(program("g(g(x))", defs))] == ["W005"]


def test_a_doubling_chain_is_w061_at_the_first_def_too_large_and_only_there() -> None:
    found = diagnostics(program("f1(x)", doubling(40)))
    assert [d.code for d in found] == ["W061"]
    # f40 reads x; each def above is `+` over two calls of the next: size(k) = 3 + 2 * size(k + 1)
    size, first = 0, 40
    while size <= MAX_EXPANDED_NODES:
        size, first = 3 + 2 * size, first - 1
    assert found[0].message.startswith(f"def f{first} is too large")
    assert "bind" in found[0].hint


def test_a_doubling_chain_below_the_size_limit_is_fine() -> None:
    assert diagnostics(program("f1(x)", doubling(12))) == []


def test_size_counts_every_place_an_argument_is_substituted() -> None:
    # sq reads x 4 times: nesting sq six times substitutes the argument 4^6 times over.
    defs = "def sq(x: int) = x * x * x * x\n"
    nested = "sq(" * 9 + "x" + ")" * 9
    assert [d.code for d in diagnostics(program(nested, defs))] == ["W061"]
    assert diagnostics(program("sq(sq(x))", defs)) == []


def test_a_rule_whose_expression_is_too_large_is_w061_at_the_rule() -> None:
    defs = "def sq(x: int) = x * x * x * x\n"
    found = diagnostics(program("sq(" * 9 + "x" + ")" * 9, defs))
    assert found[0].message.startswith("rule r is too large")


def test_recursive_defs_in_a_long_cycle_are_w056_not_a_recursion_error() -> None:
    length = 1500
    defs = "".join(f"def f{i}(x: int) = f{i % length + 1}(x)\n" for i in range(1, length + 1))
    found = {d.code for d in diagnostics(program("f1(x)", defs))}
    assert found == {"W056"}


@pytest.mark.parametrize("award", ["f1(x)", "abs(" * (MAX_DEPTH - 1) + "x" + ")" * (MAX_DEPTH - 1)])
@pytest.mark.parametrize("engine", ["reference", "codegen", "duckdb"])
def test_engines_run_expressions_at_the_limit(engine: str, award: str) -> None:
    loaded = load_text(program(award, chain(MAX_DEPTH)), "t.whuf")
    assert loaded.ok
    line = '{"type": "ev", "subject": "m", "at": "2026-01-01T00:00:00Z", "x": 3}\n'
    events = parse_events(line, Path("events.jsonl"), loaded.ruleset).events
    reference = evaluator.evaluate(loaded.ruleset, events)
    result = engines.evaluate(engine, loaded.ruleset, events, ledger=False)
    assert report.score_json(result, 6) == report.score_json(reference, 6)
    assert '"s": 3' in report.score_json(result, 6)


def _expressions(depth: int, callees: list[str]):
    """Random bodies over parameter x, leaves, `+`, and calls of the given later defs."""
    leaf = st.sampled_from(["x", "1"])
    if depth == 0 or not callees:
        return leaf
    inner = _expressions(depth - 1, callees)
    return st.one_of(leaf, st.tuples(inner, inner).map(lambda ab: f"({ab[0]} + {ab[1]})"),
                     st.tuples(st.sampled_from(callees), inner).map(lambda fa: f"{fa[0]}({fa[1]})"))


@st.composite
def _def_programs(draw):
    count = draw(st.integers(1, 6))
    names = [f"d{i}" for i in range(count)]
    # every body reads x (the `x +` in front), so every argument is substituted at least once
    return {name: "x + " + draw(_expressions(3, names[i + 1:])) for i, name in enumerate(names)}


def _naive(text: str, bodies: dict[str, n.Expr], x: tuple[int, int] | None = None) -> tuple[int, int]:
    """(size, depth) of an expression by really substituting: x stands for an argument of that size and depth."""
    e = text

    def walk(e: n.Expr) -> tuple[int, int]:
        if isinstance(e, n.Name) and e.id == "x":
            return x if x is not None else (0, 0)
        if isinstance(e, n.Call):
            arg = walk(e.args[0])
            size, depth = _naive(bodies[e.func], bodies, arg)
            return 1 + size, 1 + depth
        parts = [walk(c) for c in (e.left, e.right)] if isinstance(e, n.Binary) else []
        if not parts:
            return 1, 0
        return 1 + sum(p[0] for p in parts), 1 + max(p[1] for p in parts)

    return walk(e)


@settings(max_examples=60, deadline=None)
@given(_def_programs())
def test_expanded_figures_match_a_real_expansion(sources: dict[str, str]) -> None:
    """The law: size computed without expanding equals the size of the substituted tree; depth bounds it."""
    from whuffie.checker import _Checker  # noqa: PLC0415 (the figures are internal to the checker)

    defs = "".join(f"def {name}(x: int) = {body}\n" for name, body in sources.items())
    parsed = parse(program("1", defs), "t.whuf").program
    checker = _Checker(parsed)
    checker.run()
    bodies = {d.name: d.body for d in parsed.items if isinstance(d, n.DefDecl)}
    for name, body in bodies.items():
        size, depth = _naive(body, bodies)
        figures = checker.expansions[name]
        assert figures.size == min(size, MAX_EXPANDED_NODES + 1)
        assert figures.depth >= depth


def _every_expression(decl) -> list:
    """The top-level expressions of a declaration, found by entering every field of every node."""
    import dataclasses  # noqa: PLC0415

    expression_types = tuple(n.Expr.__args__)
    found, pending = [], [decl]
    while pending:
        x = pending.pop()
        if isinstance(x, expression_types):
            found.append(x)
        elif isinstance(x, (tuple, list)):
            pending.extend(x)
        elif dataclasses.is_dataclass(x) and not isinstance(x, n.Span):
            pending.extend(getattr(x, f.name) for f in dataclasses.fields(x) if f.name not in ("span", "name_span"))
    return found


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted(p.relative_to(ROOT) for p in (ROOT / "examples").rglob("*.whuf")), ids=str)
def test_the_expression_walk_skips_only_nodes_that_hold_no_expression(path: Path, monkeypatch) -> None:
    """The walk of the expansion bounds enters only the fields that can hold a node: it finds what a walk of
    every field finds (here with every expression taken as one to expand)."""
    from whuffie import checksize  # noqa: PLC0415

    monkeypatch.setattr(checksize, "_plain_and_small", lambda root, defs: False)
    parsed = parse((ROOT / path).read_text(encoding="utf-8"), str(path)).program
    assert parsed is not None
    for item in parsed.items:
        assert [id(e) for e in checksize.expressions_to_expand(item, {})] == [id(e) for e in _every_expression(item)]

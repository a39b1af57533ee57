"""The def call graph: callees come first, and every recursive def is found with a real loop of calls."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from whuffie.callgraph import callees_first, cycles

graphs = st.lists(st.lists(st.integers(0, 14), max_size=4), min_size=1, max_size=15).map(
    lambda edges: {f"d{i}": {f"d{j}" for j in out if j < len(edges)} for i, out in enumerate(edges)})


def reaches(calls: dict[str, set[str]], a: str, b: str) -> bool:
    seen, stack = set(), [a]
    while stack:
        x = stack.pop()
        for y in calls[x]:
            if y == b:
                return True
            if y not in seen:
                seen.add(y)
                stack.append(y)
    return False


@settings(max_examples=200, deadline=None)
@given(graphs)
def test_callees_come_first(calls: dict[str, set[str]]) -> None:
    order = callees_first(calls)
    assert sorted(order) == sorted(calls)
    position = {name: i for i, name in enumerate(order)}
    for caller, callees in calls.items():
        for callee in callees:
            if not reaches(calls, callee, caller):  # outside a cycle a callee always comes first
                assert position[callee] < position[caller]


@settings(max_examples=200, deadline=None)
@given(graphs)
def test_exactly_the_defs_that_reach_themselves_are_recursive_each_with_a_loop_of_real_calls(calls) -> None:
    found = cycles(calls)
    assert set(found) == {name for name in calls if reaches(calls, name, name)}
    for name, found_loop in found.items():
        loop = found_loop.names()
        assert loop[0] == loop[-1] == name and len(loop) >= 2
        assert all(b in calls[a] for a, b in zip(loop, loop[1:]))


def test_long_chains_and_cycles_take_no_recursion_and_linear_work() -> None:
    size = 50_000
    chain = {f"f{i}": {f"f{i + 1}"} for i in range(size - 1)} | {f"f{size - 1}": set()}
    assert callees_first(chain)[0] == f"f{size - 1}" and cycles(chain) == {}
    ring = {f"f{i}": {f"f{(i + 1) % size}"} for i in range(size)}
    loops = cycles(ring)
    assert len(loops) == size and len(loops["f7"]) == size + 1
    assert loops["f7"].names(most=7) == ["f7", "f8", "f9", "f10", "…", "f6", "f7"]

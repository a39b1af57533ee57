"""The graph of which def calls which: an order with callees first, and the cycles (recursion).

Both in time linear in the number of defs and calls, and without Python
recursion, so that a file of thousands of defs is checked as fast as it is
read (the checker used to search every def's callees afresh).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


def components(calls: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components (Tarjan), each after every component it calls.

    ``calls`` maps every def to the defs it calls; callees that are not keys are ignored.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)

    for root in calls:
        if root in index:
            continue
        visit(root)
        work = [(root, iter(sorted(calls[root])))]
        while work:
            name, pending = work[-1]
            callee = None
            for candidate in pending:
                if candidate not in calls:
                    continue
                if candidate not in index:
                    callee = candidate
                    break
                if candidate in on_stack:
                    low[name] = min(low[name], index[candidate])
            if callee is not None:
                visit(callee)
                work.append((callee, iter(sorted(calls[callee]))))
                continue
            work.pop()
            if work:
                caller = work[-1][0]
                low[caller] = min(low[caller], low[name])
            if low[name] == index[name]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == name:
                        break
                found.append(component)
    return found


def callees_first(calls: dict[str, set[str]]) -> list[str]:
    """Every def, each after the defs it calls (within a cycle, in any order)."""
    return [name for component in components(calls) for name in component]


@dataclass(frozen=True)
class Loop:
    """A chain of calls from a def back to itself; members of one cycle share its list of names."""

    ring: list[str]  # the defs of the loop in call order, each once
    start: int  # where this def sits in ``ring``

    def __len__(self) -> int:
        return len(self.ring) + 1

    def names(self, most: int | None = None) -> list[str]:
        """The chain [f, g, …, f]; past ``most`` names, its first and last few around "…"."""
        size = len(self.ring)

        def at(i: int) -> str:
            return self.ring[(self.start + i) % size]

        if most is None or size + 1 <= most:
            return [at(i) for i in range(size)] + [at(0)]
        head = most - 3
        return [at(i) for i in range(head)] + ["…", at(size - 1), at(0)]


def cycles(calls: dict[str, set[str]]) -> dict[str, Loop]:
    """For every recursive def, a shortest chain of calls back to itself."""
    found: dict[str, Loop] = {}
    declared = {name: i for i, name in enumerate(calls)}
    for component in components(calls):
        members = set(component)
        if len(component) == 1 and component[0] not in calls[component[0]]:
            continue
        ring = _shortest_loop(min(component, key=declared.__getitem__), calls, members)[:-1]
        place = {name: i for i, name in enumerate(ring)}
        for name in component:
            if name in place:  # the same loop, started at this def
                found[name] = Loop(ring, place[name])
            else:
                found[name] = Loop(_shortest_loop(name, calls, members)[:-1], 0)
    return found


def _shortest_loop(start: str, calls: dict[str, set[str]], members: set[str]) -> list[str]:
    """Breadth first from ``start`` back to it, inside one component."""
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        name = queue.popleft()
        for callee in sorted(calls[name] & members):
            if callee == start:
                path = [name]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return list(reversed(path)) + [start]
            if callee not in parent:
                parent[callee] = name
                queue.append(callee)
    return [start, start]  # unreachable for a component with a loop

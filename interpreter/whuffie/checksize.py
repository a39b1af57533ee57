"""Expansion bounds: how deep and how large expressions become once def calls are inlined.

The engines expand def calls: the evaluator recurses into a def's body for
every call, the SQL engine substitutes the arguments into the body. A short
file can therefore stand for an expression far deeper than its text (a chain
of defs each calling the next) or exponentially larger (each def calling the
next twice). Both are bounded here, before any engine runs, without expanding
anything: every def's figures are computed once, callees first, and a call
combines its def's figures with its arguments'.

Depth beyond limits.MAX_DEPTH is W005 at the expression where the expansion
crosses the limit; size beyond limits.MAX_EXPANDED_NODES is W061 at the
declaration. Each is reported once, where it starts, not again at every caller.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from operator import attrgetter

from . import nodes as n
from .checkbase import SUB_EXPRESSIONS, CheckerBase, children
from .limits import MAX_DEPTH, MAX_EXPANDED_NODES

_EXPR_TYPES = tuple(getattr(n.Expr, "__args__", ()))

# Sizes saturate just past the limit: the comparison stays exact, the numbers stay small.
_SATURATED = MAX_EXPANDED_NODES + 1


def _cap(x: int) -> int:
    return min(x, _SATURATED)


@dataclass(frozen=True, slots=True)
class Expansion:
    """The figures of one expression with every def call inlined.

    ``size`` counts nodes other than parameter reads; ``uses[i]`` is how many
    times parameter i is read, so a call can charge each argument for every
    place it is substituted. ``reported`` marks a figure already over its limit
    and reported further down, so that callers do not report it again.
    """

    depth: int
    size: int
    uses: tuple[int, ...]
    depth_reported: bool = False
    size_reported: bool = False


# How the walk below treats each class it meets, decided once per class: an expression (collected),
# a sequence (entered), another AST node (the fields that can hold one entered), or a leaf: a plain value,
# or a node whose fields hold plain values only (an Ident, a `by` clause, a field declaration), whatever
# it is nested in.
_EXPRESSION, _SEQUENCE, _NODE, _LEAF = range(4)
_ROLE: dict[type, int] = {}
_FIELDS_OF: dict[type, tuple[bool, object]] = {}  # a _NODE class: (one field only, getter of its fields)

# Annotations (as written in nodes.py) of values that hold no node.
_PLAIN_ANNOTATIONS = frozenset({"str", "int", "float", "bool", "None", "tuple[str, ...]"})


def _holds_no_node(annotation: str) -> bool:
    """Whether a field so annotated holds plain values only, or nodes that themselves hold plain values only.

    Anything not recognised (an expression, a union of clauses, a forward reference) may hold a node.
    """
    for part in annotation.split("|"):
        part = part.strip()
        if part in _PLAIN_ANNOTATIONS:
            continue
        if part.startswith("tuple[") and part.endswith(", ...]"):
            part = part[len("tuple["):-len(", ...]")]
        cls = getattr(n, part, None)
        if not (isinstance(cls, type) and _role(cls) == _LEAF):
            return False
    return True


def _role(cls: type) -> int:
    role = _ROLE.get(cls)
    if role is None:
        if issubclass(cls, _EXPR_TYPES):
            role = _EXPRESSION
        elif issubclass(cls, (tuple, list)):
            role = _SEQUENCE
        elif dataclasses.is_dataclass(cls) and cls is not n.Span:
            _ROLE[cls] = _NODE  # while its own fields are looked at (a node class that holds its own kind)
            names = tuple(f.name for f in dataclasses.fields(cls)
                          if f.name not in ("span", "name_span") and not _holds_no_node(str(f.type)))
            # one C call per node: a getter of the one field (the clause's expression), or of a tuple of them
            _FIELDS_OF[cls] = (len(names) == 1, attrgetter(*names) if names else None)
            role = _NODE if names else _LEAF
        else:
            role = _LEAF
        _ROLE[cls] = role
    return role


def expressions_to_expand(decl, defs) -> list[n.Expr]:
    """The top-level expressions held anywhere inside a declaration (its clauses, bodies, values) whose
    expansion needs working out: those that call a def, or have more nodes than an expansion may.

    Most expressions call no def: their expansion is the text itself, whose depth the parser bounds, so
    only their node count matters, taken as they are found.
    """
    found: list[n.Expr] = []
    pending = [decl]
    pop, push, append, roles = pending.pop, pending.extend, pending.append, _ROLE
    while pending:
        x = pop()
        role = roles.get(type(x))
        if role is None:
            role = _role(type(x))
        if role == _SEQUENCE:
            push(x)
        elif role == _NODE:
            single, fields = _FIELDS_OF[type(x)]
            if single:
                append(fields(x))
            else:
                push(fields(x))
        elif role == _EXPRESSION and not _plain_and_small(x, defs):
            found.append(x)
    return found


def _plain_and_small(root: n.Expr, defs) -> bool:
    """Whether an expression calls no def and has at most MAX_EXPANDED_NODES nodes (its expansion is itself)."""
    count = 0
    stack = [root]
    pop, push, sub_expressions, call = stack.pop, stack.extend, SUB_EXPRESSIONS.get, n.Call
    while stack:
        e = pop()
        count += 1
        kind = type(e)
        if kind is call:
            if e.func in defs:
                return False
            push(e.args)
        else:
            of = sub_expressions(kind)
            if of is not None:
                push(of(e))
    return count <= MAX_EXPANDED_NODES


class SizeChecks(CheckerBase):
    """W005 and W061 for expressions whose def calls expand past the limits."""

    def expansion_bounds(self, order: list[str]) -> None:
        """Compute every def's expansion (``order``: callees first), then check every other expression."""
        self.expansions: dict[str, Expansion] = {}
        for name in order:
            d = self.rs.defs[name]
            if name in self.recursive_defs:
                continue
            params = {p.name: i for i, p in enumerate(d.params)}
            self.expansions[name] = self.expand(d.body, params, d, f"def {name}")
        for item in self.program.items:
            if isinstance(item, (n.DefDecl, n.ImportDecl)):
                continue
            for expr in expressions_to_expand(item, self.rs.defs):
                self.expand(expr, {}, item, f"{_kind_word(item)} {getattr(item, 'name', '')}".strip())

    def expand(self, root: n.Expr, params: dict[str, int], decl, what: str) -> Expansion:
        """The expansion of one expression, post-order over an explicit stack (no Python recursion)."""
        done: dict[int, Expansion] = {}
        stack: list[tuple[n.Expr, bool]] = [(root, False)]
        while stack:
            e, ready = stack.pop()
            if not ready:
                stack.append((e, True))
                stack.extend((c, False) for c in children(e))
                continue
            done[id(e)] = self.expand_node(e, [done[id(c)] for c in children(e)], params)
        result = done[id(root)]
        return self.report(result, root, decl, what)

    def expand_node(self, e: n.Expr, parts: list[Expansion], params: dict[str, int]) -> Expansion:
        width = len(params)
        if isinstance(e, n.Name) and e.id in params:
            uses = [0] * width
            uses[params[e.id]] = 1
            return Expansion(0, 0, tuple(uses))
        depth_reported = any(p.depth_reported for p in parts)
        size_reported = any(p.size_reported for p in parts)
        callee = self.expansions.get(e.func) if isinstance(e, n.Call) else None
        if callee is None:
            uses = tuple(_cap(sum(p.uses[i] for p in parts)) for i in range(width))
            depth = 1 + max(p.depth for p in parts) if parts else 0  # as the parser counts: a leaf is 0
            size = _cap(1 + sum(p.size for p in parts))
            found = self.over_depth(e, depth, depth_reported)
            return Expansion(depth, size, uses, depth_reported or found, size_reported)
        # An argument is built once even when unused, and once more for every further read of its parameter.
        reads = [max(1, u) for u in callee.uses] + [1] * max(0, len(parts) - len(callee.uses))
        size = _cap(1 + callee.size + sum(r * p.size for r, p in zip(reads, parts)))
        uses = tuple(_cap(sum(r * p.uses[i] for r, p in zip(reads, parts))) for i in range(width))
        depth = 1 + callee.depth + max((p.depth for p in parts), default=0)
        depth_reported = depth_reported or callee.depth_reported
        found = self.over_depth(e, depth, depth_reported)
        return Expansion(depth, size, uses, depth_reported or found,
                         size_reported or callee.size_reported)

    def over_depth(self, e: n.Expr, depth: int, already: bool) -> bool:
        if depth <= MAX_DEPTH or already:
            return False
        self.err("W005", f"expression nested too deeply once def calls are expanded: {depth} levels, "
                 f"more than {MAX_DEPTH}", e.span,
                 "every def call adds the depth of the def's body; compute part of the value in a "
                 "measure or score, or call fewer defs inside each other")
        return True

    def report(self, result: Expansion, root: n.Expr, decl, what: str) -> Expansion:
        if result.size > MAX_EXPANDED_NODES and not result.size_reported:
            size = "more than " + format(MAX_EXPANDED_NODES, ",") if result.size >= _SATURATED \
                else format(result.size, ",")
            self.err("W061", f"{what} is too large once its def calls are expanded: {size} nodes "
                     f"(the limit is {MAX_EXPANDED_NODES:,})", getattr(decl, "name_span", root.span),
                     "a def that calls another def several times multiplies its size; bind the repeated "
                     "value once with a measure or score, or simplify the defs")
            return dataclasses.replace(result, size_reported=True)
        return result


def _kind_word(item) -> str:
    return n.KIND_WORDS.get(type(item), "declaration")

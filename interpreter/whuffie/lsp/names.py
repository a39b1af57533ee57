"""The name index of one rule file: every declared name and every reference to it, with spans.

Names live in namespaces, as the checker resolves them: authors, events, the
subject kind, rules (shared caps name rules), values (measures, scores, tiers
and privileges, read by name in expressions), defs, the fields of each event
and of the subject kind, the parameters of each def, and imported modules.
A key is ``(namespace, name)``; the field namespace of event ``e`` is
``field:e``. Imported stdlib defs are declarations in the module's own file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .. import nodes as n
from ..nodes import Span
from ..symbols import stdlib_module_path

Key = tuple[str, str]

# What each namespace holds, in words, for hover and the outline.
VALUE_DECLS = (n.MeasureDecl, n.ScoreDecl, n.TierDecl, n.PrivilegeDecl)


@dataclass(frozen=True)
class Declaration:
    """A declared name: its key, where its name is written, and the declaring node."""

    key: Key
    span: Span
    node: object
    kind: str  # author, subject, event, field, rule, shared cap, measure, score, tier, privilege, def, parameter…


@dataclass(frozen=True)
class Reference:
    """A use of a declared name."""

    key: Key
    span: Span
    node: object


@dataclass
class NameIndex:
    """Declarations (first one of a name wins, as in ``symbols.build``) and references, in source order."""

    declarations: dict[Key, Declaration] = field(default_factory=dict)
    duplicates: list[Declaration] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)

    def declare(self, key: Key, span: Span, node: object, kind: str) -> None:
        decl = Declaration(key, span, node, kind)
        if key in self.declarations:
            self.duplicates.append(decl)
        else:
            self.declarations[key] = decl

    def refer(self, key: Key, span: Span, node: object) -> None:
        self.references.append(Reference(key, span, node))

    def at(self, file: str, line: int, col: int) -> Declaration | Reference | None:
        """The declaration or reference whose name in ``file`` is under (line, col)."""
        for entry in [*self.declarations.values(), *self.duplicates, *self.references]:
            s = entry.span
            if s.file == file and s.line == line and s.col <= col <= s.end_col:
                return entry
        return None

    def uses(self, key: Key) -> list[Reference]:
        """Every reference to a key, in source order."""
        return [r for r in self.references if r.key == key]

    def names_in(self, namespace: str) -> list[str]:
        """The declared names of a namespace, in source order."""
        return [name for (space, name) in self.declarations if space == namespace]


def name_span(span: Span, name: str) -> Span:
    """The span of ``name`` written at the start of ``span``."""
    return Span(span.file, span.line, span.col, span.line, span.col + len(name))


def tail_span(span: Span, name: str) -> Span:
    """The span of ``name`` written at the end of ``span`` (an attribute's name after the dot)."""
    return Span(span.file, span.end_line, span.end_col - len(name), span.end_line, span.end_col)


# the namespace each kind of declaration's name lives in (a condition is read where a score is)
_SPACE = {n.AuthorDecl: "author", n.SubjectDecl: "kind", n.EventDecl: "event", n.RuleDecl: "rule",
          n.SharedCapDecl: "cap", n.MeasureDecl: "value", n.ScoreDecl: "value", n.TierDecl: "value",
          n.PrivilegeDecl: "value", n.DefDecl: "def", n.TestDecl: "test", n.PropertyDecl: "property",
          n.FactorDecl: "factor", n.ConditionDecl: "value", n.ParamDecl: "value"}


def kind_of(node: object) -> str:
    """A declaration's kind in words (a newer one's: its class name without "Decl", in lower case)."""
    return n.KIND_WORDS.get(type(node)) or type(node).__name__.removesuffix("Decl").lower()


def build_index(program: n.Program) -> NameIndex:
    """Index a program: declarations first (so a reference may precede its declaration), then references."""
    index = NameIndex()
    for item in program.items:
        _declare(index, item)
    for item in program.items:
        _refer_in(index, item)
    return index


def _declare(index: NameIndex, item) -> None:
    space = _SPACE.get(type(item))
    if space is None and hasattr(item, "name_span"):
        space = type(item).__name__  # a declaration newer than this index: its own namespace
    if space is not None:
        index.declare((space, item.name), item.name_span, item, kind_of(item))
    if isinstance(item, (n.SubjectDecl, n.EventDecl)):
        for f in item.fields:
            index.declare((f"field:{item.name}", f.name), name_span(f.span, f.name), f, "field")
    elif isinstance(item, n.DefDecl):
        for p in item.params:
            index.declare((f"param:{item.name}", p.name), name_span(p.span, p.name), p, "parameter")
    elif isinstance(item, n.ImportDecl):
        for d in imported_defs(item.path):
            index.declare(("def", d.name), d.name_span, d, "def")


@lru_cache(maxsize=32)
def _module_program(path: str) -> n.Program | None:
    from ..parser import parse

    file = stdlib_module_path(path)
    if file is None:
        return None
    result = parse(file.read_text(encoding="utf-8"), str(file))
    return result.program


def module_program_of(file: str) -> n.Program | None:
    """The parsed stdlib module whose file is ``file``, if one was imported."""
    module = "std/" + Path(file).stem
    path = stdlib_module_path(module)
    return _module_program(module) if path is not None and str(path) == file else None


def imported_defs(module: str) -> list[n.DefDecl]:
    """The defs of a stdlib module (spans in the module's own file), or [] for an unknown module."""
    program = _module_program(module)
    return [item for item in program.items if isinstance(item, n.DefDecl)] if program else []


class _Scope:
    """What bare names mean where an expression stands: a def's parameters, a rule's event fields."""

    def __init__(self, index: NameIndex, params: str | None = None, event: str | None = None) -> None:
        self.index, self.params, self.event = index, params, event

    def resolve(self, name: str, owner: bool = False) -> Key | None:
        decls = self.index.declarations
        if owner:
            return next((k for k in (("kind", name), ("event", name)) if k in decls), None)
        candidates = []
        if self.params:
            candidates.append((f"param:{self.params}", name))
        if self.event:
            candidates.append((f"field:{self.event}", name))
        candidates += [("value", name), ("kind", name), ("event", name)]
        return next((k for k in candidates if k in decls), None)


def _expression(index: NameIndex, expr, scope: _Scope) -> None:
    owners: set[int] = set()  # names before a dot: a subject kind or an event, never a score or tier
    rules: set[int] = set()  # the argument of points(RULE)
    for node in n.walk(expr):
        if isinstance(node, n.Name):
            key = ("rule", node.id) if id(node) in rules else scope.resolve(node.id, owner=id(node) in owners)
            if key and key in index.declarations:
                index.refer(key, node.span, node)
        elif isinstance(node, n.Call) and node.func == "points" and len(node.args) == 1 \
                and isinstance(node.args[0], n.Name):
            rules.add(id(node.args[0]))
        elif isinstance(node, n.Call) and ("def", node.func) in index.declarations:
            index.refer(("def", node.func), name_span(node.span, node.func), node)
        elif isinstance(node, n.Attribute) and isinstance(node.obj, n.Name):
            owners.add(id(node.obj))
            owner = node.obj.id
            if (f"field:{owner}", node.name) in index.declarations:
                index.refer((f"field:{owner}", node.name), tail_span(node.span, node.name), node)
        elif isinstance(node, n.Of):
            pass  # the subject of `of` is an id in a test, not a declared name


def _ident(index: NameIndex, space: str, ident: n.Ident | None) -> None:
    if ident is not None:
        index.refer((space, ident.name), ident.span, ident)


def _clauses(index: NameIndex, clauses, scope: _Scope) -> None:
    for clause in clauses:
        if isinstance(clause, n.By):
            _ident(index, "author", clause.author)
        elif isinstance(clause, n.On):
            _ident(index, "event", clause.event)
        elif isinstance(clause, (n.Where, n.Award, n.Default, n.Bound)):
            _expression(index, clause.value if not isinstance(clause, n.Where) else clause.cond, scope)


def _param_refs(index: NameIndex, item) -> None:
    """`cap NAME`, `within NAME`, `half_life NAME`: a parameter named where a literal goes."""
    pending = [item]
    while pending:
        x = pending.pop()
        if isinstance(x, n.ParamRef):
            if ("value", x.name) in index.declarations:
                index.refer(("value", x.name), x.span, x)
        elif isinstance(x, (tuple, list)):
            pending.extend(x)
        elif hasattr(x, "__dataclass_fields__") and not isinstance(x, n.Span):
            pending.extend(getattr(x, f) for f in x.__dataclass_fields__ if f not in ("span", "name_span"))


def _refer_in(index: NameIndex, item) -> None:
    _param_refs(index, item)
    if isinstance(item, n.RuleDecl):
        on = item.first(n.On)
        _clauses(index, item.clauses, _Scope(index, event=on.event.name if on else None))
    elif isinstance(item, (n.SharedCapDecl, n.FactorDecl)):
        for rule in item.rules:
            _ident(index, "rule", rule)
        _clauses(index, item.clauses, _Scope(index))
    elif isinstance(item, n.ConditionDecl):
        _expression(index, item.expr, _Scope(index))
        _clauses(index, item.clauses, _Scope(index))
    elif isinstance(item, n.MeasureDecl):
        event = item.aggregate.event.name
        _ident(index, "event", item.aggregate.event)
        _ident(index, f"field:{event}", item.aggregate.field)
        _clauses(index, item.clauses, _Scope(index, event=event))
    elif isinstance(item, n.ScoreDecl):
        _expression(index, item.expr, _Scope(index))
        _clauses(index, item.clauses, _Scope(index))
    elif isinstance(item, (n.TierDecl, n.PrivilegeDecl)):
        if item.condition is not None:
            _expression(index, item.condition, _Scope(index))
        _clauses(index, item.clauses, _Scope(index))
    elif isinstance(item, n.DefDecl):
        _expression(index, item.body, _Scope(index, params=item.name))
    elif isinstance(item, n.TestDecl):
        _test(index, item)
    elif isinstance(item, n.PropertyDecl):
        _property(index, item)


def _test(index: NameIndex, item: n.TestDecl) -> None:
    kinds: dict[str, str] = {}
    for stmt in item.body:
        if isinstance(stmt, n.TestSubject):
            _ident(index, "kind", stmt.kind)
            kinds[stmt.id] = stmt.kind.name
            _values(index, f"field:{stmt.kind.name}", stmt.values)
        elif isinstance(stmt, n.TestEvent):
            _ident(index, "event", stmt.event)
            _values(index, f"field:{stmt.event.name}", stmt.values)
        elif isinstance(stmt, n.Expect):
            _expression(index, stmt.expr, _Scope(index))


def _values(index: NameIndex, space: str, values) -> None:
    for value in values:
        if (space, value.name) in index.declarations:
            index.refer((space, value.name), name_span(value.span, value.name), value)
        _expression(index, value.value, _Scope(index))


def _property(index: NameIndex, item: n.PropertyDecl) -> None:
    _clauses(index, item.clauses, _Scope(index))
    body = item.body
    if isinstance(body, n.Independent):
        _ident(index, "kind", body.kind)
        _ident(index, f"field:{body.kind.name}", body.attr)
        _ident(index, "value", body.score)
    elif isinstance(body, n.Monotone):
        _ident(index, "event", body.event)
        _ident(index, f"field:{body.event.name}", body.field)
        _ident(index, "value", body.score)
    elif isinstance(body, n.GainBound):
        _ident(index, "value", body.score)
    elif isinstance(body, n.Always):
        _expression(index, body.expr, _Scope(index))

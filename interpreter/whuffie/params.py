"""Parameters: ``param NAME = LITERAL by … because "…"``, and ``--set NAME=VALUE`` for one run.

Entry point: ``bind(program, overrides)``. A parameter is a named constant,
so the simplest faithful meaning is substitution: before the checker runs,
every use of a parameter (a name in an expression, ``cap NAME``,
``within NAME``, ``decay half_life NAME``) is replaced by its value, as if
the literal had been written there. The checker then checks the value where
it is used (a cap of 0, a window too long), and every engine scores it
without knowing parameters exist. The formatter, diff and authors keep
reading the program as written.

An override is type-checked against the declared literal's type: an ``int``
takes a whole number, a ``number`` any finite number, a ``duration`` a
duration as the language writes it (``40 days``), a ``bool`` true/false, a
``text`` any text.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from dataclasses import dataclass, field

from . import nodes as n
from .diagnostics import Diagnostic, error

NAMESPACE_KINDS = (n.EventDecl, n.RuleDecl, n.SharedCapDecl, n.FactorDecl, n.MeasureDecl, n.ScoreDecl, n.TierDecl,
                   n.PrivilegeDecl, n.DefDecl, n.AuthorDecl, n.SubjectDecl)
# names an expression reads with a meaning of their own: a parameter may not take them
BUILT_IN_NAMES = ("points", "now", "tier", "true", "false", "event", "min", "max", "clamp", "abs", "floor", "ceil",
                  "round", "sqrt", "log", "exp", "days", "hours")
INT64 = 2 ** 63


@dataclass(frozen=True)
class ParamValue:
    """One parameter as a run uses it: its value, and whether --set gave it."""

    name: str
    type: str  # int | number | duration | text | bool
    value: n.Number | n.Duration | n.String | n.Bool
    declared: n.Number | n.Duration | n.String | n.Bool
    by: str | None
    because: str | None
    overridden: bool = False

    def shown(self) -> str:
        """The value as the language writes it."""
        return literal_text(self.value)


@dataclass
class Bound:
    """The program with every parameter replaced by its value, and what binding found."""

    program: n.Program
    params: list[ParamValue] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    set_errors: list[str] = field(default_factory=list)  # --set values that cannot be used (usage errors)


def literal_text(node) -> str:
    if isinstance(node, n.Duration):
        amount = node.amount
        return f"{_number_text(amount)} {node.unit[:-1] if amount == 1 else node.unit}"
    if isinstance(node, n.Bool):
        return "true" if node.value else "false"
    if isinstance(node, n.String):
        return '"' + node.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return _number_text(node.value)


def _number_text(x) -> str:
    return repr(x) if isinstance(x, float) else str(x)


def type_of(node) -> str:
    if isinstance(node, n.Duration):
        return "duration"
    if isinstance(node, n.Bool):
        return "bool"
    if isinstance(node, n.String):
        return "text"
    return "number" if isinstance(node.value, float) else "int"


def parse_sets(pairs: list[str] | tuple[str, ...], option: str = "--set") -> tuple[dict[str, str], list[str]]:
    """``NAME=VALUE`` options as a dict, and the messages of the malformed ones."""
    found: dict[str, str] = {}
    problems = []
    for pair in pairs:
        name, eq, value = pair.partition("=")
        name = name.strip()
        if not eq or not name:
            problems.append(f"{option} takes NAME=VALUE (such as tl3_min_days=40), not {pair!r}")
        elif name in found:
            problems.append(f"{option} gives {name} twice")
        else:
            found[name] = value.strip()
    return found, problems


_DURATION = re.compile(r"^(-?\d+(?:\.\d+)?)\s*(second|minute|hour|day|week)s?$")


def _override(decl: n.ParamDecl, text: str):
    """The literal for an override of ``decl``, or a message saying why the text does not fit."""
    kind = type_of(decl.value)
    span = decl.value.span
    what = f"--set {decl.name}={text}"
    if kind in ("int", "number"):
        try:
            value = int(text) if re.fullmatch(r"-?\d+", text) else float(text)
        except ValueError:
            return f"{what}: {decl.name} is {'an int' if kind == 'int' else 'a number'}, not {text!r}"
        if kind == "int" and not isinstance(value, int):
            return f"{what}: {decl.name} is an int (a whole number such as {decl.value.value}), not {text!r}"
        if isinstance(value, float) and not math.isfinite(value) or isinstance(value, int) and abs(value) >= INT64:
            return f"{what}: outside the supported numbers (64-bit integers, finite numbers)"
        return n.Number(value, span=span)
    if kind == "duration":
        m = _DURATION.match(text.strip().lower())
        if not m:
            return f"{what}: {decl.name} is a duration such as {literal_text(decl.value)}, not {text!r}"
        amount = float(m.group(1)) if "." in m.group(1) else int(m.group(1))
        return n.Duration(amount, m.group(2) + "s", span=span)
    if kind == "bool":
        if text.lower() not in ("true", "false"):
            return f"{what}: {decl.name} is a bool (true or false), not {text!r}"
        return n.Bool(text.lower() == "true", span=span)
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return n.String(text, span=span)


def bind(program: n.Program, overrides: dict[str, str] | None = None) -> Bound:
    """Check the parameters, apply the overrides and substitute every use (see the module's docstring)."""
    overrides = dict(overrides or {})
    decls = [i for i in program.items if isinstance(i, n.ParamDecl)]
    out = Bound(program)
    taken = _taken_names(program)
    authors = {i.name for i in program.items if isinstance(i, n.AuthorDecl)}
    values: dict[str, n.Number | n.Duration | n.String | n.Bool] = {}
    for decl in decls:
        _provenance(decl, authors, out.diagnostics)
        if decl.name in values:
            out.diagnostics.append(error("W050", f"param {decl.name} is declared twice", decl.name_span))
            continue
        if decl.name in taken:
            out.diagnostics.append(error(
                "W050", f"param {decl.name} has the same name as {taken[decl.name]}", decl.name_span,
                "a parameter needs a name no declaration, field or built-in uses"))
            continue
        value, overridden = decl.value, False
        if decl.name in overrides:
            given = _override(decl, overrides.pop(decl.name))
            if isinstance(given, str):
                out.set_errors.append(given)
            else:
                value, overridden = given, True
        values[decl.name] = value
        out.params.append(ParamValue(decl.name, type_of(decl.value), value, decl.value, decl.by,
                                     decl.because, overridden))
    for name in overrides:
        close = difflib.get_close_matches(name, list(values), n=1)
        out.set_errors.append(f"--set {name}: no param {name} in the rules"
                              + (f" (did you mean {close[0]}?)" if close else
                                 f" (they declare {', '.join(values)})" if values else " (they declare none)"))
    has_refs = any(isinstance(x, n.ParamRef) for x in _walk_refs(program))
    if not values and not has_refs:
        return out
    found: list[Diagnostic] = []
    substitute = _Substitution(values, found)
    items = tuple(substitute.item(i) for i in program.items if not isinstance(i, n.ParamDecl))
    out.program = dataclasses.replace(program, items=items)
    # what a --set value cannot be where it is used is the option's fault: a usage error, not the file's
    overridden = {p.name: p for p in out.params if p.overridden}
    for d in found:
        culprit = next((p for name, p in overridden.items() if f"param {name} " in d.message), None)
        if culprit is not None:
            out.set_errors.append(f"--set {culprit.name}={culprit.shown()}: {d.message}")
        else:
            out.diagnostics.append(d)
    return out


def substitute(item, values: dict[str, n.Number | n.Duration | n.String | n.Bool | n.Date | n.DateTime]):
    """One declaration with each name in ``values`` read as that literal (a def's own parameters shadow them)."""
    return _Substitution(values, []).item(item)


def bind_expression(expr: n.Expr, params: list[ParamValue]) -> n.Expr:
    """One expression with the parameters' values in place (an expression typed in the REPL)."""
    if not params:
        return expr
    return _Substitution({p.name: p.value for p in params}, []).node(expr, frozenset())


def _provenance(decl: n.ParamDecl, authors: set[str], diags: list[Diagnostic]) -> None:
    by = decl.first(n.By)
    if by is None:
        diags.append(error("W030", f"param {decl.name} has no author", decl.name_span,
                           f"add `by AUTHOR`: who decided {decl.name} = {literal_text(decl.value)}"))
    elif by.author.name not in authors:
        close = difflib.get_close_matches(by.author.name, sorted(authors), n=1)
        diags.append(error("W013", f"unknown author {by.author.name}", by.author.span,
                           f"did you mean {close[0]}?" if close else "declare it with `author NAME \"…\"`"))
    if decl.first(n.Because) is None:
        diags.append(error("W031", f"param {decl.name} has no reason", decl.name_span,
                           'add `because "…"`: why this value (where it comes from)'))


def _taken_names(program: n.Program) -> dict[str, str]:
    taken = {name: "a built-in name" for name in BUILT_IN_NAMES}
    for item in program.items:
        if isinstance(item, NAMESPACE_KINDS):
            taken.setdefault(item.name, f"the {n.KIND_WORDS[type(item)]} on line {item.name_span.line}")
        if isinstance(item, (n.EventDecl, n.SubjectDecl)):
            for f in item.fields:
                taken.setdefault(f.name, f"a field of {item.name}")
    return taken


def _walk_refs(node):
    stack = [node]
    while stack:
        x = stack.pop()
        if isinstance(x, n.ParamRef):
            yield x
        elif isinstance(x, tuple):
            stack.extend(x)
        elif dataclasses.is_dataclass(x) and not isinstance(x, type):
            stack.extend(getattr(x, f.name) for f in dataclasses.fields(x) if f.name != "span")


class _Substitution:
    """Rebuilds the tree with each parameter's value in place of its uses (def parameters shadow them)."""

    def __init__(self, values: dict, diags: list[Diagnostic]):
        self.values = values
        self.diags = diags

    def item(self, item):
        shadowed = frozenset(p.name for p in item.params) if isinstance(item, n.DefDecl) else frozenset()
        return self.node(item, shadowed)

    def node(self, x, shadowed: frozenset):
        if isinstance(x, tuple):
            return tuple(self.node(v, shadowed) for v in x)
        if isinstance(x, n.Name):
            value = self.values.get(x.id) if x.id not in shadowed else None
            return x if value is None else dataclasses.replace(value, span=x.span)
        if isinstance(x, (n.Cap, n.SharedCapDecl)) and isinstance(x.amount, n.ParamRef):
            value = self._ref(x.amount, ("int", "number"), "a number", "cap")
            if value is not None and value.value < 0:  # a literal cap cannot be negative either
                self.diags.append(error("W025", f"`cap` takes 0 or more; param {x.amount.name} is "
                                                f"{literal_text(value)}", x.amount.span))
                value = None
            x = dataclasses.replace(x, amount=value.value if value is not None else 1)
            if isinstance(x, n.Cap):
                return x
        if isinstance(x, (n.Within, n.Decay)):
            attr = "duration" if isinstance(x, n.Within) else "half_life"
            ref = getattr(x, attr)
            if isinstance(ref, n.ParamRef):
                value = self._ref(ref, ("duration",), "a duration", "within" if attr == "duration" else "half_life")
                return dataclasses.replace(x, **{attr: value or n.Duration(1, "days", span=ref.span)})
            return x
        if not dataclasses.is_dataclass(x) or isinstance(x, type):
            return x
        changes = {}
        for f in dataclasses.fields(x):
            if f.name in ("span", "name_span"):
                continue
            old = getattr(x, f.name)
            if isinstance(old, (str, int, float, bool)) or old is None:
                continue
            new = self.node(old, shadowed)
            if new is not old:
                changes[f.name] = new
        return dataclasses.replace(x, **changes) if changes else x

    def _ref(self, ref: n.ParamRef, kinds: tuple[str, ...], wanted: str, where: str):
        value = self.values.get(ref.name)
        if value is None:
            close = difflib.get_close_matches(ref.name, list(self.values), n=1)
            self.diags.append(error("W010", f"unknown param {ref.name}", ref.span,
                                    f"did you mean {close[0]}?" if close else
                                    f"`{where}` takes a literal or a param declared with `param {ref.name} = …`"))
            return None
        if type_of(value) not in kinds:
            self.diags.append(error("W020", f"`{where}` takes {wanted}; param {ref.name} is "
                                            f"{type_of(value)} {literal_text(value)}", ref.span))
            return None
        return dataclasses.replace(value, span=ref.span)

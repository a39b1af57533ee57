"""Roles: events that name several subjects, and rules that say which one they score.

    event voted { voter: user, receiver: user, up: bool }
    rule downvote_received … on voted as receiver where not up award -2
    rule downvote_cast     … on voted as voter    where not up award -1

A field whose type is the subject kind is a *role*. An input line of such an
event carries one id per role (no ``subject``); it is one event, and it
reaches each subject it names, in that role. Two passes give that meaning
without any engine knowing roles exist:

* ``bind(program)`` (before the checker): the role fields become ``text``
  (the other roles' ids are readable, ``voter != receiver``), and for each
  role an event type ``voted as voter`` with the same fields is declared;
  ``on voted as receiver`` and ``count liked as receiver`` name it. A rule
  or measure on a role event without ``as`` (or with an unknown role) is
  W070; comparing a role id with a literal singles out a subject (W041).
* ``expand(…)`` (in inputs.py and the test blocks): an event of ``voted``
  becomes one event of ``voted as ROLE`` per role, for the subject of that
  role, with the same time, id, line and fields.

So caps, once, floors and measures work per subject as for any event, and
the ledger and ``explain`` name the role (``voted as voter``).
"""

from __future__ import annotations

import dataclasses
import difflib

from . import nodes as n
from .diagnostics import Diagnostic, error

SEPARATOR = " as "


def role_type(event: str, role: str) -> str:
    """The event type one role of an event is scored as: ``voted as receiver``."""
    return f"{event}{SEPARATOR}{role}"


def roles_of(ruleset) -> dict[str, tuple[str, ...]]:
    """Each event type with roles, and its roles in declaration order (read from the checked ruleset)."""
    found: dict[str, list[str]] = {}
    for name in ruleset.events:
        if SEPARATOR in name:
            event, role = name.split(SEPARATOR, 1)
            found.setdefault(event, []).append(role)
    return {event: tuple(roles) for event, roles in found.items()}


def input_types(ruleset) -> list[str]:
    """The event types an input line may name: every declared one but the per-role ones."""
    return [name for name in ruleset.events if SEPARATOR not in name]


# ---------------------------------------------------------------- the front-end pass


def bind(program: n.Program) -> tuple[n.Program, list[Diagnostic]]:
    """The program with role events resolved (see the module docstring), and what was wrong with them."""
    kind = next((i.name for i in program.items if isinstance(i, n.SubjectDecl)), None)
    events = {i.name: i for i in program.items if isinstance(i, n.EventDecl)}
    roles = {name: tuple(f.name for f in decl.fields if f.type.name == kind)
             for name, decl in events.items()} if kind else {}
    roles = {name: found for name, found in roles.items() if found}
    diags: list[Diagnostic] = []
    if not roles and not _names_a_role(program):
        return program, diags
    items = []
    for item in program.items:
        if isinstance(item, n.EventDecl) and item.name in roles:
            plain = dataclasses.replace(item, fields=tuple(
                dataclasses.replace(f, type=n.TypeRef("text", span=f.type.span)) if f.name in roles[item.name]
                else f for f in item.fields))
            items.append(plain)
            items.extend(dataclasses.replace(plain, name=role_type(item.name, r)) for r in roles[item.name])
        elif isinstance(item, n.RuleDecl):
            items.append(_rule(item, roles, diags))
        elif isinstance(item, n.MeasureDecl):
            items.append(_measure(item, roles, diags))
        elif isinstance(item, n.TestDecl):
            _test_events(item, roles, diags)
            items.append(item)
        else:
            items.append(item)
    return dataclasses.replace(program, items=tuple(items)), diags


def _names_a_role(program: n.Program) -> bool:
    for item in program.items:
        if isinstance(item, n.RuleDecl) and any(isinstance(c, n.On) and c.role is not None for c in item.clauses):
            return True
        if isinstance(item, n.MeasureDecl) and item.aggregate.role is not None:
            return True
    return False


def _resolve(event: n.Ident, role: n.Ident | None, roles: dict, what: str, diags: list,
             optional: bool = False) -> n.Ident:
    """The event a rule or measure reads: ``voted as receiver`` for a role, the event itself otherwise."""
    known = roles.get(event.name)
    if role is None:
        if known and not optional:
            diags.append(error("W070", f"{what} is on {event.name}, whose events name several subjects "
                                       f"({', '.join(known)}): say which one it scores", event.span,
                               f"write `{event.name} as {known[0]}` (or as {', '.join(known[1:]) or known[0]})"))
        if known and optional:  # counted once per event: under its first role
            return dataclasses.replace(event, name=role_type(event.name, known[0]))
        return event
    if not known:
        diags.append(error("W070", f"{what} names the role {role.name} of {event.name}, whose events name one "
                                   "subject", role.span,
                           f"drop `as {role.name}`; a role is a field of type of the subject kind"))
        return event
    if role.name not in known:
        close = difflib.get_close_matches(role.name, known, n=1)
        diags.append(error("W070", f"{event.name} has no role {role.name}", role.span,
                           f"did you mean {close[0]}?" if close else f"its roles: {', '.join(known)}"))
        return event
    return dataclasses.replace(event, name=role_type(event.name, role.name))


def _rule(item: n.RuleDecl, roles: dict, diags: list) -> n.RuleDecl:
    clauses = []
    event = None
    for c in item.clauses:
        if isinstance(c, n.On):
            event = c.event.name
            c = dataclasses.replace(c, event=_resolve(c.event, c.role, roles, f"rule {item.name}", diags), role=None)
        clauses.append(c)
    if event in roles:
        for c in item.clauses_of(n.Where):
            _singling_out(c.cond, roles[event], f"rule {item.name}", diags)
    return dataclasses.replace(item, clauses=tuple(clauses))


def _measure(item: n.MeasureDecl, roles: dict, diags: list) -> n.MeasureDecl:
    agg = item.aggregate
    what = f"measure {item.name}"
    for extra in item.clauses_of(n.AsRole):
        diags.append(error("W034", f"{what} names a role twice", extra.span, "keep one `as ROLE`"))
    site_wide = item.first(n.Across) is not None
    event = _resolve(agg.event, agg.role, roles, what, diags, optional=site_wide)
    if agg.event.name in roles:
        for c in item.clauses_of(n.Where):
            _singling_out(c.cond, roles[agg.event.name], what, diags)
    return dataclasses.replace(item, aggregate=dataclasses.replace(agg, event=event, role=None),
                               clauses=tuple(c for c in item.clauses if not isinstance(c, n.AsRole)))


def _test_events(test: n.TestDecl, roles: dict, diags: list) -> None:
    """A test's event names its subjects by role exactly when its type has roles."""
    for stmt in test.body:
        if not isinstance(stmt, n.TestEvent):
            continue
        known = roles.get(stmt.event.name)
        if known and stmt.subject:
            given = ", ".join(f'{r}: "{stmt.subject if i == 0 else "…"}"' for i, r in enumerate(known))
            diags.append(error("W070", f"an event {stmt.event.name} names its subjects by role "
                                       f"({', '.join(known)}), not before its type", stmt.span,
                               f"write `at … {stmt.event.name} {{ {given}, … }}`"))
        elif not known and not stmt.subject:
            diags.append(error("W070", f"an event {stmt.event.name} needs its subject: `at … SUBJECT "
                                       f"{stmt.event.name} {{ … }}`", stmt.span))


def _singling_out(expr: n.Expr, role_fields: tuple[str, ...], what: str, diags: list) -> None:
    """W041 for a role id compared with a literal: the rule would treat one subject differently."""
    for node in n.walk(expr):
        operands = node.operands if isinstance(node, n.Compare) else \
            (node.value, *node.options) if isinstance(node, n.In) else ()
        literal = next((x for x in operands if isinstance(x, n.String)), None)
        role = next((x for x in operands if isinstance(x, n.Name) and x.id in role_fields), None)
        if literal is not None and role is not None:
            diags.append(error("W041", f'{what} singles out one subject: it compares the role {role.id} with '
                                       f'"{literal.value}"', node.span,
                               "rules apply to everyone the same; use an attribute or event field instead"))


# ---------------------------------------------------------------- events


def expand(event, roles: tuple[str, ...], make) -> list:
    """One event of a role type per role: ``make(subject, type)`` builds each from the original."""
    return [make(event.fields[role], role_type(event.type, role)) for role in roles]

"""Change control: what changed between two versions of a rule set, and by whom.

Entry points: ``declaration_changes(old, new)`` compares two programs
declaration by declaration; ``diff_rulesets(old, new, events=...)`` adds the
impact of the change on real events (diff_impact.py). Declarations are matched
by kind and name and compared as ASTs, whose spans take no part in equality,
so layout and comments are never a change. Within a declaration, clauses are
compared kind by kind (all `cap` clauses together, and so on), so moving a
clause to another line is not a change either; the order of several clauses of
one kind is kept, because a rule's caps apply in the order written.

A rename cannot be told from a removal and an addition, and is reported as
both: the council sees the old name go and the new one come.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from . import formatter as f
from . import nodes as n

CHANGE_KINDS = ("added", "removed", "changed")


@dataclass(frozen=True)
class ClauseChange:
    """One clause (or field, or part) of a declaration that differs: its text on each side, None where absent."""

    clause: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class DeclChange:
    """One declaration added, removed or changed.

    ``by`` is the author on the side that decides (the new side, or the old
    side for a removed declaration); ``old_by`` the author on the old side.
    """

    kind: str
    name: str
    change: str  # added | removed | changed
    by: str | None
    old_by: str | None
    clauses: tuple[ClauseChange, ...]
    old_line: int | None
    new_line: int | None
    text: str
    old_file: str | None = None  # the files of those lines (a REPL session's typed input is a file of its own)
    new_file: str | None = None  # the declaration as it stands on the deciding side, canonically formatted


# The kind of each declaration as reports name it.
KIND_NAMES = n.KIND_WORDS

# Clause keywords as written: the name each kind of clause is reported under.
CLAUSE_NAMES = {
    n.By: "by", n.Because: "because", n.Cites: "cites", n.On: "on", n.Where: "where", n.Award: "award",
    n.Cap: "cap", n.Once: "once", n.Decay: "decay", n.Within: "within", n.Default: "default",
    n.CalendarWithin: "within", n.Keep: "keep", n.Hold: "hold",
    n.Across: "across", n.AsRole: "as",
}


def _key(d) -> tuple[str, str]:
    """How a declaration is matched across versions: its kind and its name (the header items have one each)."""
    kind = KIND_NAMES[type(d)]
    if isinstance(d, (n.RulesetDecl, n.VersionDecl, n.TimezoneDecl)):
        return kind, kind
    if isinstance(d, n.ImportDecl):
        return kind, d.path
    return kind, d.name


def _declarations(program: n.Program) -> dict[tuple[str, str], object]:
    """The program's declarations by key, in source order; the first of a doubled name wins, as in symbols."""
    found: dict[tuple[str, str], object] = {}
    for item in program.items:
        found.setdefault(_key(item), item)
    return found


def _by(d) -> str | None:
    return d.by if isinstance(d, n._Provenance) else None


def _parts(d) -> dict[str, str]:
    """A declaration as named parts with their canonical text: what a change is reported in terms of.

    Two declarations are the same when their parts are; each part is
    rendered by the formatter, which prints the AST and never the source, so
    a part's text is equal exactly when its tree is.
    """
    parts: dict[str, str] = {}
    if isinstance(d, n.RulesetDecl):
        parts["name"] = d.name
        if d.title is not None:
            parts["title"] = f.format_string(d.title)
    elif isinstance(d, (n.VersionDecl, n.TimezoneDecl)):
        parts["value"] = f.format_string(d.value)
    elif isinstance(d, n.ImportDecl):
        parts["path"] = f.format_string(d.path)
    elif isinstance(d, n.AuthorDecl):
        if d.description is not None:
            parts["description"] = f.format_string(d.description)
    elif isinstance(d, (n.SubjectDecl, n.EventDecl)):
        for field in d.fields:
            parts[f"field {field.name}"] = f.format_field(field)
    elif isinstance(d, n.SharedCapDecl):
        amount = d.amount.name if isinstance(d.amount, n.ParamRef) else f.format_number(d.amount)
        parts["cap"] = f"{amount} {'total' if d.window is None else 'per ' + d.window}"
        parts["over"] = ", ".join(r.name for r in d.rules)
    elif isinstance(d, n.MeasureDecl):
        parts["aggregate"] = f.format_aggregate(d.aggregate)
    elif isinstance(d, n.ScoreDecl):
        parts["="] = f.format_expr(d.expr)
    elif isinstance(d, n.TierDecl):
        parts["when"] = "otherwise" if d.condition is None else f.format_expr(d.condition)
    elif isinstance(d, n.PrivilegeDecl):
        parts["when"] = f.format_expr(d.condition)
    elif isinstance(d, n.ConditionDecl):
        parts["="] = f.format_expr(d.expr)
    elif isinstance(d, n.DefDecl):
        params = ", ".join(f"{p.name}: {p.type.name}" for p in d.params)
        parts["signature"] = f"({params})" + (f": {d.return_type.name}" if d.return_type is not None else "")
        parts["body"] = f.format_expr(d.body)
    elif isinstance(d, n.TestDecl):
        parts["body"] = f.format_decl(d)
    elif isinstance(d, n.PropertyDecl):
        parts["law"] = f.format_property_body(d.body)
    elif isinstance(d, n.ParamDecl):
        parts["value"] = f.format_param_value(d.value)
    for clause in getattr(d, "clauses", ()):
        name = "floor" if isinstance(clause, n.Bound) and clause.kind == "floor" else \
            "ceiling" if isinstance(clause, n.Bound) else CLAUSE_NAMES[type(clause)]
        text = f.format_clause(clause)
        parts[name] = f"{parts[name]}; {text}" if name in parts else text
    return parts


def _clause_changes(old, new) -> tuple[ClauseChange, ...]:
    """The parts that differ, in the new declaration's order, then those only the old one has."""
    before, after = _parts(old), _parts(new)
    names = list(after) + [name for name in before if name not in after]
    return tuple(ClauseChange(name, before.get(name), after.get(name))
                 for name in names if before.get(name) != after.get(name))


def _tier_order_moved(old_program: n.Program, new_program: n.Program) -> set[str]:
    """Tiers kept in both versions whose place among the kept tiers changed (the first tier that holds wins)."""
    old_tiers = [d.name for d in old_program.items if isinstance(d, n.TierDecl)]
    new_tiers = [d.name for d in new_program.items if isinstance(d, n.TierDecl)]
    kept_old = [t for t in old_tiers if t in new_tiers]
    kept_new = [t for t in new_tiers if t in old_tiers]
    return {t for t, u in zip(kept_old, kept_new) if t != u}


def declaration_changes(old: n.Program, new: n.Program) -> list[DeclChange]:
    """Every declaration added, removed or changed from ``old`` to ``new``: new-side order, then the removed."""
    before, after = _declarations(old), _declarations(new)
    moved_tiers = _tier_order_moved(old, new)
    changes: list[DeclChange] = []
    for key, decl in after.items():
        kind, name = key
        previous = before.get(key)
        if previous is None:
            changes.append(DeclChange(kind, name, "added", _by(decl), None, (), None, decl.span.line,
                                      f.format_decl(decl), new_file=decl.span.file))
            continue
        clauses = _clause_changes(previous, decl)
        if kind == "tier" and name in moved_tiers:
            old_place = [d.name for d in old.items if isinstance(d, n.TierDecl)].index(name) + 1
            new_place = [d.name for d in new.items if isinstance(d, n.TierDecl)].index(name) + 1
            clauses += (ClauseChange("order", f"tier {old_place}", f"tier {new_place}"),)
        if clauses:
            changes.append(DeclChange(kind, name, "changed", _by(decl), _by(previous), clauses,
                                      previous.span.line, decl.span.line, f.format_decl(decl),
                                      previous.span.file, decl.span.file))
    for key, decl in before.items():
        if key not in after:
            changes.append(DeclChange(key[0], key[1], "removed", _by(decl), _by(decl), (), decl.span.line, None,
                                      f.format_decl(decl), old_file=decl.span.file))
    return changes


# ---------------------------------------------------------------- the whole diff


@dataclass(frozen=True)
class RuleDiff:
    """What ``whuffie diff`` reports: the declaration changes and, given events, their impact."""

    old_label: str
    new_label: str
    changes: tuple[DeclChange, ...]
    impact: object | None = None  # diff_impact.Impact when events were given
    schema: object | None = None  # diff_inputs.SchemaEffect: event lines only one version accepts
    # (name, old value, new value) of each param that --set-old or --set-new gave a value of its own
    params: tuple[tuple[str, str | None, str | None], ...] = ()


def diff_rulesets(old, new, events: tuple | None = None, subjects: tuple = (None, None),
                  as_of: dt.datetime | None = None, engine: str = "auto", notes=None,
                  schema=None) -> RuleDiff:
    """Compare two loaded, checked versions (frontend.Loaded); with events, score both and attribute the moves.

    ``events`` and ``subjects`` are pairs (old side, new side): each version
    reads the same input with its own schema. ``as_of`` must be given when
    events are (both sides are scored at one instant). The engines raise
    evaluator.EvaluationError for a run-time fault, as they do for `score`.
    """
    changes = tuple(declaration_changes(old.program, new.program))
    impact = None
    if events is not None:
        from .diff_impact import impact_of

        impact = impact_of(old.ruleset, new.ruleset, changes, events[0], events[1], subjects, as_of, engine, notes)
    return RuleDiff(old.path, new.path, changes, impact, schema, set_params(old, new))


def set_params(old, new) -> tuple[tuple[str, str | None, str | None], ...]:
    """The params a --set-old or --set-new changed on either side, with both sides' values."""
    before = {p.name: p for p in getattr(old, "params", [])}
    after = {p.name: p for p in getattr(new, "params", [])}
    found = []
    for name in dict.fromkeys([*before, *after]):
        a, b = before.get(name), after.get(name)
        if (a is not None and a.overridden) or (b is not None and b.overridden):
            found.append((name, a.shown() if a else None, b.shown() if b else None))
    return tuple(found)


class VersionError(Exception):
    """A version that cannot be read at all (no such file, a bad revision, git missing): a usage error."""


def read_version(spec: str, overrides: dict[str, str] | None = None):
    """One side of a diff through the front end: a rule file, or ``REV:PATH`` read with `git show`.

    A file that exists wins over the revision reading of the same text. The
    Loaded's path is the spec as given, so diagnostics name the revision.
    """
    from pathlib import Path

    from .frontend import load_file, load_text
    from .gitfiles import GitError, show, split_revision

    revision = split_revision(spec)
    if Path(spec).exists() or revision is None:
        if not Path(spec).exists():
            raise VersionError(f"no such file: {spec} (a git revision is written REV:PATH, e.g. HEAD~1:rules.whuf)")
        return load_file(spec, overrides=overrides)
    try:
        data = show(*revision)
    except GitError as exc:
        raise VersionError(str(exc)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise VersionError(f"{spec} is not UTF-8 text") from None
    return load_text(text, spec, overrides=overrides)

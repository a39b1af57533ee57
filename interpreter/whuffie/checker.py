"""Static checker: names, types, provenance, protected attributes, structure.

Entry point: ``check(program)``. It gathers the declaration tables
(symbols.build, with imported stdlib defs merged in), then checks every
declaration against the scope and type rules of docs/design/decisions.md.
Every finding is a Diagnostic; all of them are returned together, sorted by
position. The ruleset is handed on only when there is no error.
"""

from __future__ import annotations

import difflib
import zoneinfo
from dataclasses import dataclass, field
from functools import lru_cache

from . import nodes as n
from . import types as ty
from .diagnostics import Diagnostic, error, sort_key, warning
from .symbols import BUILTIN_FUNCTIONS, RESERVED_NAMES, Ruleset, build, stdlib_module_path, stdlib_modules
from .types import BOOL, DATE, DATETIME, DURATION, ERROR, INT, NUMBER, TEXT, TIER, Type


@dataclass
class CheckResult:
    """The checked ruleset (None if it has errors) and every diagnostic."""

    ruleset: Ruleset | None
    diagnostics: list[Diagnostic] = field(default_factory=list)


def check(program: n.Program) -> CheckResult:
    """Check a parsed program and return the ruleset the evaluator can trust."""
    checker = _Checker(program)
    ruleset = checker.run()
    diags = sorted(checker.diags, key=sort_key)
    ok = not any(d.is_error for d in diags)
    return CheckResult(ruleset if ok else None, diags)


def check_expression(program: n.Program, expr: n.Expr, subjects=()) -> tuple[Type, list[Diagnostic]]:
    """Type one expression read on its own (the REPL): the scope of a test's `expect`, plus `now`."""
    checker = _Checker(program)
    checker.run()
    checker.diags = []  # the program's own findings are not about this expression
    scope = Scope("the REPL", tiers=True, now=True, test_subjects=frozenset(subjects), no_singling_out=False)
    result = checker.infer(expr, scope)
    return result, sorted(checker.diags, key=sort_key)


def suggest(name: str, candidates) -> str | None:
    """A "did you mean …" hint from the names in scope, or None."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=3, cutoff=0.6)
    if not close:
        return None
    return "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"


# ---------------------------------------------------------------- scopes


@dataclass
class Scope:
    """What an expression may read (decisions.md, "Names and scopes")."""

    construct: str
    author: str | None = None
    event: n.EventDecl | None = None
    event_unknown: bool = False  # the rule's event is unknown: its names are not reported again
    subject: bool = False
    now: bool = False
    points: bool = False
    measures: bool = False
    scores: frozenset[str] | None = frozenset()  # None: every score
    later_scores: frozenset[str] = frozenset()
    tiers: bool = False
    privileges: frozenset[str] | None = frozenset()
    later_privileges: frozenset[str] = frozenset()
    protected_ok: bool = False
    params: dict[str, tuple[int, Type]] | None = None
    singled_params: set[int] | None = None
    test_subjects: frozenset[str] | None = None
    literals_only: bool = False
    no_singling_out: bool = True

    def who(self) -> str:
        """The construct and its author, for messages."""
        return f"{self.construct} (by {self.author})" if self.author else self.construct


@dataclass
class DefInfo:
    """A checked def: parameter types, return type, parameters compared with a text literal."""

    params: list[tuple[str, Type]]
    returns: Type
    singled: set[int] = field(default_factory=set)


CLAUSE_WORDS = {
    n.By: "by", n.Because: "because", n.On: "on", n.Where: "where", n.Award: "award",
    n.Decay: "decay", n.Once: "once", n.Within: "within", n.Default: "default",
}

KIND_WORDS = {
    n.EventDecl: "event", n.RuleDecl: "rule", n.SharedCapDecl: "shared cap", n.MeasureDecl: "measure",
    n.ScoreDecl: "score", n.TierDecl: "tier", n.PrivilegeDecl: "privilege", n.DefDecl: "def",
}


@lru_cache(maxsize=32)
def _load_module(path: str):
    from .parser import parse, read_source

    text, diags = read_source(path)
    if text is None:
        return None, tuple(diags)
    result = parse(text, path)
    return result.program, tuple(result.diagnostics)


def _children(e: n.Expr):
    if isinstance(e, n.Attribute):
        return (e.obj,)
    if isinstance(e, n.Call):
        return e.args
    if isinstance(e, n.Unary):
        return (e.operand,)
    if isinstance(e, (n.Binary, n.Coalesce)):
        return (e.left, e.right)
    if isinstance(e, n.Compare):
        return e.operands
    if isinstance(e, n.In):
        return (e.value, *e.options)
    if isinstance(e, n.If):
        return (e.cond, e.then, e.orelse)
    if isinstance(e, n.Of):
        return (e.target,)
    return ()


def _walk(e: n.Expr):
    stack = [e]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(_children(node))


def _constant(e: n.Expr) -> float | None:
    """The value of a numeric literal, possibly negated, else None."""
    if isinstance(e, n.Number):
        return e.value
    if isinstance(e, n.Unary) and e.op == "-":
        inner = _constant(e.operand)
        return None if inner is None else -inner
    return None


def _conjuncts(e: n.Expr) -> list[n.Expr]:
    if isinstance(e, n.Binary) and e.op == "and":
        return _conjuncts(e.left) + _conjuncts(e.right)
    return [e]


class _Checker:
    """One run of the checker over one program."""

    def __init__(self, program: n.Program) -> None:
        self.program = program
        self.diags: list[Diagnostic] = []
        self.types: dict[int, Type] = {}
        self.def_infos: dict[str, DefInfo] = {}
        self.defs_in_progress: set[str] = set()
        self.recursive_defs: set[str] = set()
        self.measure_types: dict[str, Type] = {}
        self.score_types: dict[str, Type] = {}
        self.owners: set[str] = set()
        self.kind: n.SubjectDecl | None = None

    # -- reporting
    def err(self, code: str, message: str, span: n.Span, hint: str | None = None) -> Type:
        self.diags.append(error(code, message, span, hint))
        return ERROR

    def warn(self, code: str, message: str, span: n.Span, hint: str | None = None) -> None:
        self.diags.append(warning(code, message, span, hint))

    # -- the run
    def run(self) -> Ruleset:
        imported, modules = self.imports()
        rs = build(self.program, imported)
        self.rs = rs
        rs.stdlib_defs = imported
        rs.stdlib_programs = modules
        self.kind = rs.subject_kind
        self.has_otherwise = any(t.condition is None for t in rs.tiers.values())
        self.header()
        self.authors()
        self.unique_names(imported)
        self.schema()
        self.defs()
        for item in self.program.items:
            if isinstance(item, n.RuleDecl):
                self.rule(item)
            elif isinstance(item, n.SharedCapDecl):
                self.shared_cap(item)
        measures = [i for i in self.program.items if isinstance(i, n.MeasureDecl)]
        for m in measures:
            self.measure_types.setdefault(m.name, self.measure_type(m))
        for m in measures:
            self.measure(m)
        self.scores()
        self.tiers()
        self.privileges()
        for prop in rs.properties:
            self.property(prop)
        for test in rs.tests:
            self.test(test)
        self.ownership()
        rs.types = self.types
        rs.measure_types = self.measure_types
        rs.score_types = self.score_types
        rs.def_types = {name: info.returns for name, info in self.def_infos.items()}
        return rs

    # -- imports and header
    def imports(self) -> tuple[dict[str, n.DefDecl], dict[str, n.Program]]:
        defs: dict[str, n.DefDecl] = {}
        modules: dict[str, n.Program] = {}
        for item in self.program.items:
            if not isinstance(item, n.ImportDecl) or item.path in modules:
                continue
            path = stdlib_module_path(item.path)
            if path is None:
                known = stdlib_modules()
                hint = suggest(item.path, known) or ""
                listing = "available modules: " + (", ".join(known) or "none")
                self.err("W019", f'unknown module "{item.path}": imports name standard-library modules only',
                         item.span, f"{hint} {listing}".strip())
                continue
            program, diags = _load_module(str(path))
            self.diags.extend(diags)
            if program is None:
                continue
            modules[item.path] = program
            for decl in program.items:
                if isinstance(decl, n.DefDecl):
                    if decl.name in defs:
                        continue
                    defs[decl.name] = decl
                elif not isinstance(decl, n.ImportDecl):
                    self.err("W025", f"module {item.path} may only contain defs", decl.span)
        return defs, modules

    def header(self) -> None:
        seen: dict[type, n.Decl] = {}
        for item in self.program.items:
            if isinstance(item, (n.RulesetDecl, n.VersionDecl, n.TimezoneDecl)):
                word = {n.RulesetDecl: "ruleset", n.VersionDecl: "version", n.TimezoneDecl: "timezone"}[type(item)]
                if type(item) in seen:
                    self.err("W034", f"`{word}` is given twice", item.span,
                             f"keep the one on line {seen[type(item)].span.line}")
                else:
                    seen[type(item)] = item
            if isinstance(item, n.TimezoneDecl):
                self.timezone(item)

    def timezone(self, item: n.TimezoneDecl) -> None:
        try:
            zoneinfo.ZoneInfo(item.value)
            return
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            pass
        hint = suggest(item.value, zoneinfo.available_timezones())
        self.err("W059", f'"{item.value}" is not a timezone name', item.span,
                 hint or 'use an IANA name such as "UTC" or "Europe/London"')

    def authors(self) -> None:
        first: dict[str, n.AuthorDecl] = {}
        for item in self.program.items:
            if isinstance(item, n.AuthorDecl):
                if item.name in first:
                    self.err("W032", f"author {item.name} is declared twice", item.name_span,
                             f"the first declaration is on line {first[item.name].span.line}")
                else:
                    first[item.name] = item

    def unique_names(self, imported: dict[str, n.DefDecl]) -> None:
        seen: dict[str, tuple[str, n.Span | None]] = {
            name: ("def", None) for name in imported
        }
        for item in self.program.items:
            word = KIND_WORDS.get(type(item))
            if word is None:
                continue
            if item.name in RESERVED_NAMES or (word == "def" and item.name in BUILTIN_FUNCTIONS + ("points",)):
                self.err("W050", f"{word} {item.name} takes a built-in name", item.name_span,
                         f"choose another name than `{item.name}`")
                continue
            if item.name in seen:
                other, where = seen[item.name]
                place = f"on line {where.line}" if where else "in an imported module"
                self.err("W050", f"{word} {item.name} has the same name as the {other} declared {place}",
                         item.name_span, "every rule, event, measure, score, tier, privilege and def needs its own name")
            else:
                seen[item.name] = (word, item.name_span)

    # -- schema
    def schema(self) -> None:
        kinds = [i for i in self.program.items if isinstance(i, n.SubjectDecl)]
        for extra in kinds[1:]:
            if extra.name == kinds[0].name:
                self.err("W050", f"subject {extra.name} is declared twice", extra.name_span)
            else:
                self.err("W025", f"a rule file declares one subject kind; {kinds[0].name} is already declared",
                         extra.name_span, f"use {kinds[0].name} for every subject, or split the rule file")
        for kind in kinds:
            self.fields(kind.fields, f"subject {kind.name}", reserved=("id",))
        for item in self.program.items:
            if isinstance(item, n.EventDecl):
                self.fields(item.fields, f"event {item.name}", reserved=("at", "id", "subject", "type"))

    def fields(self, fields: tuple[n.Field, ...], owner: str, reserved: tuple[str, ...]) -> None:
        seen: set[str] = set()
        for f in fields:
            if f.name in seen:
                self.err("W050", f"{owner} declares field {f.name} twice", f.span)
            elif f.name in reserved:
                self.err("W050", f"{owner} cannot declare a field named {f.name}: it is built in", f.span,
                         f"rename it, e.g. {f.name}_")
            seen.add(f.name)
            t = self.type_ref(f.type, allow_tier=False)
            if f.range is not None:
                if t is not None and not t.numeric:
                    self.err("W058", f"field {f.name} of {owner} is {t}; only int and number fields take a range",
                             f.range.span, "remove the `in low..high` part")
                elif f.range.low > f.range.high:
                    self.err("W058", f"range {f.range.low}..{f.range.high} of field {f.name} is empty "
                             "(its low end is above its high end)", f.range.span,
                             f"write it as {f.range.high}..{f.range.low}")

    def type_ref(self, ref: n.TypeRef, allow_tier: bool = True) -> Type | None:
        t = ty.type_named(ref.name)
        if t is None or (t == TIER and not allow_tier):
            names = [b for b in ty.BASE_TYPES if allow_tier or b != "tier"]
            self.err("W011", f"unknown type {ref.name}", ref.span,
                     suggest(ref.name, names) or "types are " + ", ".join(names))
            return None
        return t

    def field_type(self, f: n.Field) -> Type:
        t = ty.type_named(f.type.name)
        if t is None:
            return ERROR
        return t.maybe if f.optional else t

    # -- provenance
    def provenance(self, decl, what: str, need_by: bool = True, need_because: bool = False) -> None:
        by_clauses = decl.clauses_of(n.By)
        authors = list(self.rs.authors)
        if by_clauses:
            author = by_clauses[0].author
            if author.name in self.rs.authors:
                self.owners.add(author.name)
            else:
                hint = suggest(author.name, authors) or (
                    f"declare it first: author {author.name} \"Full Name\"" if not authors
                    else "declared authors: " + ", ".join(authors))
                self.err("W013", f"{what} names an unknown author {author.name}", author.span, hint)
        elif need_by:
            hint = f"add `by <author>`, one of: {', '.join(authors)}" if authors else \
                "declare an author and add `by <author>`"
            self.err("W030", f"{what} has no author: every {what.split()[0]} says who wrote it",
                     decl.name_span, hint)
        if need_because and not decl.clauses_of(n.Because):
            self.err("W031", f"{what} has no reason: add `because \"...\"`", decl.name_span,
                     "say why the rule exists, e.g. because \"On-time returns keep the shelves full\"")
        self.twice(decl, what, (n.By, n.Because))

    def twice(self, decl, what: str, kinds) -> None:
        for kind in kinds:
            clauses = decl.clauses_of(kind)
            for extra in clauses[1:]:
                word = CLAUSE_WORDS.get(kind, kind.__name__.lower())
                self.err("W034", f"{what} gives `{word}` twice", extra.span,
                         f"keep one `{word}` (the first is on line {clauses[0].span.line})")

    def ownership(self) -> None:
        for author in self.rs.authors.values():
            if author.name not in self.owners:
                self.warn("W033", f"author {author.name} owns nothing: no rule, cap, measure, score, tier, "
                          "privilege or property names them", author.name_span,
                          f"remove the author, or add `by {author.name}` where they decided something")

    # -- defs
    def defs(self) -> None:
        calls = {name: {c.func for c in _walk(d.body) if isinstance(c, n.Call) and c.func in self.rs.defs}
                 for name, d in self.rs.defs.items()}
        for name, d in self.rs.defs.items():
            path = self.cycle_from(name, calls)
            if path:
                self.recursive_defs.add(name)
                self.err("W056", f"def {name} is recursive ({' -> '.join(path)}): defs may not call themselves",
                         d.name_span, "compute the value without recursion, e.g. with min/max/clamp")
        for name in self.rs.defs:
            self.def_info(name)

    @staticmethod
    def cycle_from(start: str, calls: dict[str, set[str]]) -> list[str] | None:
        stack = [(start, [start])]
        seen: set[str] = set()
        while stack:
            name, path = stack.pop()
            for callee in sorted(calls.get(name, ())):
                if callee == start:
                    return path + [start]
                if callee not in seen:
                    seen.add(callee)
                    stack.append((callee, path + [callee]))
        return None

    def def_info(self, name: str) -> DefInfo | None:
        if name in self.def_infos:
            return self.def_infos[name]
        if name in self.defs_in_progress:
            return None
        d = self.rs.defs[name]
        self.defs_in_progress.add(name)
        params: list[tuple[str, Type]] = []
        scope_params: dict[str, tuple[int, Type]] = {}
        for i, p in enumerate(d.params):
            t = self.type_ref(p.type) or ERROR
            if p.name in scope_params:
                self.err("W050", f"def {name} has two parameters named {p.name}", p.span)
            scope_params[p.name] = (i, t)
            params.append((p.name, t))
        singled: set[int] = set()
        scope = Scope(f"def {name}", params=scope_params, singled_params=singled)
        body = self.value(d.body, scope)
        returns = body
        if d.return_type is not None:
            declared = self.type_ref(d.return_type)
            if declared is not None:
                if not ty.assignable(body, declared):
                    self.err("W020", f"def {name} says it returns {declared}, but its body is {body}",
                             d.body.span)
                returns = declared
        if name in self.recursive_defs:
            returns = ERROR
        info = DefInfo(params, returns, singled)
        self.defs_in_progress.discard(name)
        self.def_infos[name] = info
        return info

    # -- rules and caps
    def rule(self, rule: n.RuleDecl) -> None:
        what = f"rule {rule.name}"
        self.provenance(rule, what, need_because=True)
        self.twice(rule, what, (n.On, n.Where, n.Award, n.Decay, n.Once))
        on = rule.first(n.On)
        award = rule.first(n.Award)
        missing = [w for w, c in (("on", on), ("award", award)) if c is None]
        if missing:
            hint = ("add `on <event>`" if on is None else "") + \
                (" and " if len(missing) == 2 else "") + ("add `award <number>`" if award is None else "")
            self.err("W035", f"{what} has no `{'` and no `'.join(missing)}` clause", rule.name_span, hint)
        event = self.event_ref(on.event, what) if on else None
        scope = Scope(what, rule.by, event=event, event_unknown=event is None, subject=True, now=True)
        where = rule.first(n.Where)
        if where is not None:
            t = self.value(where.cond, scope)
            if not t.has("bool"):
                self.err("W021", f"the `where` of {what} must be a bool, but it is {t}", where.cond.span)
            elif event is not None:
                self.satisfiable(where.cond, scope, what)
        if award is not None:
            t = self.value(award.value, scope)
            if not t.numeric:
                self.err("W022", f"the award of {what} must be a number, but it is {t}", award.value.span,
                         "award an int or number, e.g. award 2 or award 3 * hours")
        for decay in rule.clauses_of(n.Decay):
            if decay.half_life.seconds() <= 0:
                self.err("W055", f"{what} decays with a half-life of zero", decay.half_life.span,
                         "use a positive half-life, e.g. decay half_life 180 days")

    def event_ref(self, ident: n.Ident, what: str) -> n.EventDecl | None:
        event = self.rs.events.get(ident.name)
        if event is None:
            events = list(self.rs.events)
            self.err("W012", f"{what} refers to an unknown event type {ident.name}", ident.span,
                     suggest(ident.name, events) or ("declared events: " + ", ".join(events) if events
                                                     else "declare it: event NAME { field: type }"))
        return event

    def shared_cap(self, cap: n.SharedCapDecl) -> None:
        what = f"shared cap {cap.name}"
        self.provenance(cap, what)
        seen: dict[str, n.Ident] = {}
        for ident in cap.rules:
            if ident.name in seen:
                self.err("W057", f"{what} names rule {ident.name} twice", ident.span, "remove the second mention")
            elif ident.name not in self.rs.rules:
                self.err("W014", f"{what} is over an unknown rule {ident.name}", ident.span,
                         suggest(ident.name, self.rs.rules) or "`over` lists rule names, not event types")
            seen[ident.name] = ident

    # -- measures
    def measure_type(self, m: n.MeasureDecl) -> Type:
        agg = m.aggregate
        if agg.kind in ("count", "count_days", "count_distinct"):
            return INT
        event = self.rs.events.get(agg.event.name)
        f = self.event_field(event, agg.field.name) if event and agg.field else None
        if f is None:
            return ERROR
        t = self.field_type(f).required
        if agg.kind == "avg":
            t = NUMBER if t.numeric else ERROR
        if agg.kind in ("min", "max", "avg") and not m.clauses_of(n.Default):
            return t.maybe
        return t

    @staticmethod
    def event_field(event: n.EventDecl | None, name: str) -> n.Field | None:
        if event is None:
            return None
        return next((f for f in event.fields if f.name == name), None)

    def measure(self, m: n.MeasureDecl) -> None:
        what = f"measure {m.name}"
        self.provenance(m, what, need_by=False)
        self.twice(m, what, (n.Where, n.Within, n.Default))
        agg = m.aggregate
        event = self.event_ref(agg.event, what)
        if event is not None and agg.field is not None:
            f = self.event_field(event, agg.field.name)
            if f is None:
                self.err("W015", f"event {event.name} has no field {agg.field.name}", agg.field.span,
                         suggest(agg.field.name, [x.name for x in event.fields])
                         or "its fields: " + (", ".join(x.name for x in event.fields) or "none"))
            else:
                t = self.field_type(f).required
                if agg.kind in ("sum", "avg") and not t.numeric:
                    self.err("W020", f"`{agg.kind}` needs a number field, but {event.name}.{f.name} is {t}",
                             agg.field.span, "use count distinct for other fields")
                elif agg.kind in ("min", "max") and not t.has("int", "number", "date", "datetime", "duration"):
                    self.err("W020", f"`{agg.kind}` needs a number, date or duration field, "
                             f"but {event.name}.{f.name} is {t}", agg.field.span)
        scope = Scope(what, m.by, event=event, event_unknown=event is None, subject=True, now=True)
        for where in m.clauses_of(n.Where):
            t = self.value(where.cond, scope)
            if not t.has("bool"):
                self.err("W021", f"the `where` of {what} must be a bool, but it is {t}", where.cond.span)
            elif event is not None:
                self.satisfiable(where.cond, scope, what)
        for within in m.clauses_of(n.Within):
            if within.duration.seconds() <= 0:
                self.err("W055", f"{what} counts within a window of zero length", within.duration.span,
                         "use a positive span, e.g. within 30 days")
        for default in m.clauses_of(n.Default):
            t = self.value(default.value, Scope(f"the default of {what}", now=True, literals_only=True))
            expected = self.measure_types.get(m.name, ERROR).required
            if not ty.assignable(t, expected):
                self.err("W020", f"the default of {what} must be {expected}, but it is {t}", default.value.span)

    # -- scores, tiers, privileges
    def scores(self) -> None:
        names = list(self.rs.scores)
        seen: list[str] = []
        bounded: n.ScoreDecl | None = None
        for item in self.program.items:
            if not isinstance(item, n.ScoreDecl):
                continue
            what = f"score {item.name}"
            self.provenance(item, what, need_by=False)
            scope = Scope(what, item.by, subject=True, now=True, points=True, measures=True,
                          scores=frozenset(seen), later_scores=frozenset(names) - frozenset(seen))
            t = self.value(item.expr, scope)
            if not t.numeric:
                self.err("W020", f"{what} must be a number, but its expression is {t}", item.expr.span)
            self.score_types.setdefault(item.name, t if t.numeric and not t.is_error else NUMBER)
            if item.name not in seen:
                seen.append(item.name)
            bounds = item.clauses_of(n.Bound)
            for kind in ("floor", "ceiling"):
                extra = [b for b in bounds if b.kind == kind][1:]
                for b in extra:
                    self.err("W034", f"{what} gives `{kind}` twice", b.span)
            for b in bounds:
                bt = self.value(b.value, Scope(f"the {b.kind} of {what}", literals_only=True))
                if not bt.numeric:
                    self.err("W020", f"the {b.kind} of {what} must be a number, but it is {bt}", b.value.span)
            if bounds:
                if bounded is not None and bounded.name != item.name:
                    self.err("W025", f"{what} has a running {bounds[0].kind}, but score {bounded.name} "
                             "already has one: only one score may be bounded per event", bounds[0].span)
                elif not self.bounded_form(item.expr):
                    self.err("W025", f"{what} has a running {bounds[0].kind}, so its expression must be "
                             "`points`, `C + points` or `points + C`", item.expr.span,
                             "move the rest into another score declared below it")
                bounded = bounded or item

    @staticmethod
    def bounded_form(e: n.Expr) -> bool:
        def is_points(x):
            return isinstance(x, n.Name) and x.id == "points"
        if is_points(e):
            return True
        if isinstance(e, n.Binary) and e.op == "+":
            return (is_points(e.left) and _constant(e.right) is not None) or \
                (is_points(e.right) and _constant(e.left) is not None)
        return False

    def tiers(self) -> None:
        otherwise: n.TierDecl | None = None
        earlier: list[n.TierDecl] = []
        for item in self.program.items:
            if not isinstance(item, n.TierDecl):
                continue
            what = f"tier {item.name}"
            self.provenance(item, what)
            if otherwise is not None:
                self.err("W052", f"{what} comes after `tier {otherwise.name} otherwise`, so it is never used",
                         item.name_span, "`otherwise` must be the last tier; move this tier above it")
            if item.condition is None:
                otherwise = otherwise or item
                continue
            scope = Scope(what, item.by, subject=True, now=True, points=True, measures=True, scores=None)
            t = self.value(item.condition, scope)
            if not t.has("bool"):
                self.err("W021", f"the condition of {what} must be a bool, but it is {t}", item.condition.span)
            elif otherwise is None:
                for above in earlier:
                    reason = self.implies(item.condition, above.condition)
                    if reason:
                        self.warn("W053", f"{what} can never be reached: whenever its condition holds, the "
                                  f"condition of tier {above.name} above it holds too", item.name_span,
                                  f"tiers are tried top to bottom; move {item.name} above {above.name}")
                        break
                earlier.append(item)

    def privileges(self) -> None:
        names = list(self.rs.privileges)
        seen: list[str] = []
        for item in self.program.items:
            if not isinstance(item, n.PrivilegeDecl):
                continue
            what = f"privilege {item.name}"
            self.provenance(item, what)
            scope = Scope(what, item.by, subject=True, now=True, points=True, measures=True, scores=None,
                          tiers=True, privileges=frozenset(seen),
                          later_privileges=frozenset(names) - frozenset(seen))
            t = self.value(item.condition, scope)
            if not t.has("bool"):
                self.err("W021", f"the condition of {what} must be a bool, but it is {t}", item.condition.span)
            seen.append(item.name)

    # -- properties and tests
    def property(self, prop: n.PropertyDecl) -> None:
        what = f'property "{prop.name}"'
        self.provenance(prop, what)
        body = prop.body
        if isinstance(body, n.Always):
            scope = Scope(what, prop.by, subject=True, now=True, points=True, measures=True, scores=None,
                          tiers=True, privileges=None, protected_ok=True, no_singling_out=False)
            t = self.value(body.expr, scope)
            if not t.has("bool"):
                self.err("W021", f"`always` in {what} needs a bool, but it is {t}", body.expr.span)
        elif isinstance(body, n.Independent):
            if self.kind is None or body.kind.name != self.kind.name:
                self.err("W017", f"{what} names an unknown subject kind {body.kind.name}", body.kind.span,
                         f"the subject kind is {self.kind.name}" if self.kind else "declare a subject kind")
            elif self.subject_field(body.attr.name) is None:
                self.unknown_attr(body.attr.name, body.attr.span)
        elif isinstance(body, n.Monotone):
            event = self.event_ref(body.event, what)
            if event is not None and body.field is not None:
                f = self.event_field(event, body.field.name)
                if f is None:
                    self.err("W015", f"event {event.name} has no field {body.field.name}", body.field.span,
                             suggest(body.field.name, [x.name for x in event.fields]))
                elif not self.field_type(f).numeric:
                    self.err("W020", f"`monotone in` needs a number field, but {event.name}.{f.name} is "
                             f"{self.field_type(f)}", body.field.span)
        score = getattr(body, "score", None)
        if score is not None and score.name not in self.rs.scores:
            self.err("W018", f"{what} names an unknown score {score.name}", score.span,
                     suggest(score.name, self.rs.scores) or "scores: " + ", ".join(self.rs.scores))

    def subject_field(self, name: str) -> n.Field | None:
        if self.kind is None:
            return None
        return next((f for f in self.kind.fields if f.name == name), None)

    def unknown_attr(self, name: str, span: n.Span) -> Type:
        names = [f.name for f in self.kind.fields] + ["id"] if self.kind else []
        return self.err("W015", f"subject {self.kind.name if self.kind else '?'} has no attribute {name}", span,
                        suggest(name, names) or "its attributes: " + ", ".join(names))

    def test(self, test: n.TestDecl) -> None:
        what = f'test "{test.name}"'
        subjects: set[str] = set()
        for stmt in test.body:
            if isinstance(stmt, n.TestSubject):
                subjects.add(stmt.id)
                if self.kind is None or stmt.kind.name != self.kind.name:
                    self.err("W017", f"{what} declares a subject of unknown kind {stmt.kind.name}", stmt.kind.span,
                             f"the subject kind is {self.kind.name}" if self.kind else "declare a subject kind")
                    continue
                self.values(stmt.values, self.kind.fields, f"subject {stmt.id}", stmt.span, what)
            elif isinstance(stmt, n.TestEvent):
                subjects.add(stmt.subject)
                event = self.event_ref(stmt.event, what)
                if event is not None:
                    self.values(stmt.values, event.fields, f"event {event.name}", stmt.span, what)
        scope = Scope(what, tiers=True, test_subjects=frozenset(subjects), no_singling_out=False)
        for stmt in test.body:
            if isinstance(stmt, n.Expect):
                t = self.value(stmt.expr, scope)
                if not t.has("bool"):
                    self.err("W021", f"`expect` in {what} needs a bool, but it is {t}", stmt.expr.span,
                             "compare the value, e.g. expect standing of m == 97")

    def values(self, values, fields, owner: str, span: n.Span, what: str) -> None:
        by_name = {f.name: f for f in fields}
        given: set[str] = set()
        scope = Scope(what, literals_only=True, no_singling_out=False)
        for v in values:
            f = by_name.get(v.name)
            if v.name in given:
                self.err("W034", f"{owner} gives {v.name} twice", v.span)
            given.add(v.name)
            t = self.value(v.value, scope)
            if f is None:
                self.err("W015", f"{owner} has no field {v.name}", v.span,
                         suggest(v.name, by_name) or "its fields: " + (", ".join(by_name) or "none"))
                continue
            expected = self.field_type(f).required
            if not ty.assignable(t, expected):
                self.err("W020", f"{v.name} of {owner} is {expected}, but this value is {t}", v.value.span)
                continue
            x = _constant(v.value)
            if f.range is not None and x is not None and not (f.range.low <= x <= f.range.high):
                self.err("W028", f"{v.name} = {x} is outside its declared range {f.range.low}..{f.range.high}",
                         v.value.span)
        missing = [f.name for f in fields if not f.optional and f.name not in given]
        if missing:
            self.err("W027", f"{owner} in {what} has no value for {', '.join(missing)}", span,
                     "every field not declared optional (`T?`) needs a value")

    # -- expressions
    def value(self, e: n.Expr, scope: Scope) -> Type:
        """The type of an expression whose value is used: a `T?` here is W024."""
        t = self.infer(e, scope)
        if t.optional:
            fallback = {"text": '""', "bool": "false", "int": "0", "number": "0", "tier": "<lowest tier>"}.get(
                t.base, "<fallback>")
            if isinstance(e, n.Name) and e.id in self.rs.measures:
                hint = f"write {e.id} ?? {fallback}, or give measure {e.id} a `default {fallback}`"
            elif isinstance(e, (n.Name, n.Attribute)):
                label = e.id if isinstance(e, n.Name) else f"{getattr(e.obj, 'id', '…')}.{e.name}"
                hint = f"write {label} ?? {fallback}"
            else:
                hint = f"add a fallback: (…) ?? {fallback}"
            self.err("W024", f"this value may be none ({t}); resolve it with `??` before using it", e.span, hint)
            return t.required
        return t

    def infer(self, e: n.Expr, scope: Scope) -> Type:
        t = _INFER[type(e)](self, e, scope)
        self.types[id(e)] = t
        return t

    def _number(self, e: n.Number, scope: Scope) -> Type:
        return INT if isinstance(e.value, int) else NUMBER

    def _literal(self, e, scope: Scope) -> Type:
        return _LITERAL_TYPES[type(e)]

    def _not_here(self, e, scope: Scope, what: str, why: str, hint: str | None = None) -> Type:
        return self.err("W025", f"{what} cannot be read in {scope.construct}: {why}", e.span, hint)

    def _name(self, e: n.Name, scope: Scope) -> Type:
        name = e.id
        rs = self.rs
        if scope.params is not None:
            if name in scope.params:
                return scope.params[name][1]
            if name == "now":
                return self._not_here(e, scope, "now", "defs are pure", "pass the time in as a parameter")
            return self.unknown_name(e, scope, list(scope.params))
        if scope.literals_only:
            if name == "now" and scope.now:
                return DATETIME
            return self._not_here(e, scope, name, "only literals are allowed here")
        if scope.event is not None:
            f = self.event_field(scope.event, name)
            if f is not None:
                return self.field_type(f)
        if name == "now":
            return DATETIME if scope.now else self._not_here(e, scope, "now", "it is not in scope here")
        if name == "points":
            if scope.points:
                return NUMBER
            return self._not_here(e, scope, "points", "a rule sees one event and its subject, not totals",
                                  "read points in a score")
        if name in rs.measures:
            if scope.measures:
                return self.measure_types.get(name, ERROR)
            return self._not_here(e, scope, f"measure {name}", "measures are read by scores, tiers and privileges")
        if name in rs.scores:
            if scope.scores is None or name in scope.scores:
                return self.score_types.get(name, NUMBER)
            if scope.construct == f"score {name}":
                return self.err("W051", f"score {name} refers to itself", e.span,
                                "a score is computed from points, measures and the scores above it")
            if name in scope.later_scores:
                return self.err("W051", f"score {name} is used in {scope.construct} before it is declared",
                                e.span, f"a score reads only scores declared above it; move {name} up")
            return self._not_here(e, scope, f"score {name}", "scores are read by scores, tiers and privileges")
        if name in rs.privileges:
            if scope.privileges is None or name in scope.privileges:
                return BOOL
            if scope.construct == f"privilege {name}":
                return self.err("W051", f"privilege {name} refers to itself", e.span)
            if name in scope.later_privileges:
                return self.err("W051", f"privilege {name} is used in {scope.construct} before it is declared",
                                e.span, f"a privilege reads only privileges declared above it; move {name} up")
            return self._not_here(e, scope, f"privilege {name}", "privileges are read by privileges and properties")
        if name == "tier":
            if scope.tiers:
                return TIER if self.has_otherwise or scope.test_subjects is not None else TIER.maybe
            if self.rs.tiers:
                return self._not_here(e, scope, "tier", "tiers are given after scores and are read by "
                                      "privileges and properties")
        if name in rs.tiers:
            if scope.tiers:
                return TIER
            return self._not_here(e, scope, f"tier {name}", "tiers are compared in privileges and properties")
        if scope.event_unknown and scope.event is None:
            return ERROR
        if scope.event is not None and name in rs.events:
            return self._not_here(e, scope, f"event {name}", "it is a type of event, not a value",
                                  "read the current event's fields by name, or event.<field>")
        if name in rs.rules:
            return self._not_here(e, scope, f"rule {name}", "it is a rule, not a value",
                                  f"its points are points({name}), in a score")
        return self.unknown_name(e, scope, self.names_in_scope(scope))

    def names_in_scope(self, scope: Scope) -> list[str]:
        rs = self.rs
        names = ["now"] if scope.now else []
        if scope.event is not None:
            names += [f.name for f in scope.event.fields]
        if scope.points:
            names.append("points")
        if scope.measures:
            names += list(rs.measures)
        names += list(rs.scores) if scope.scores is None else list(scope.scores)
        names += list(rs.privileges) if scope.privileges is None else list(scope.privileges)
        if scope.tiers:
            names += ["tier", *rs.tiers]
        return names

    def unknown_name(self, e: n.Name, scope: Scope, names: list[str]) -> Type:
        hint = suggest(e.id, names)
        if hint is None and self.kind is not None and scope.subject and self.subject_field(e.id):
            hint = f"subject attributes are read as {self.kind.name}.{e.id}"
        return self.err("W010", f"unknown name {e.id} in {scope.construct}", e.span, hint)

    def _attribute(self, e: n.Attribute, scope: Scope) -> Type:
        obj = e.obj
        if isinstance(obj, n.Name) and scope.params is None:
            if self.kind is not None and obj.id == self.kind.name and not self.shadowed(obj.id, scope):
                if not scope.subject:
                    return self._not_here(e, scope, f"{obj.id}.{e.name}", "only literals are allowed here"
                                          if scope.literals_only else "subject attributes are not in scope")
                self.types[id(obj)] = ERROR
                if e.name == "id":
                    return TEXT
                f = self.subject_field(e.name)
                if f is None:
                    return self.unknown_attr(e.name, e.span)
                if f.protected and not scope.protected_ok:
                    self.err("W040", f"{scope.who()} reads the protected attribute {obj.id}.{e.name}", e.span,
                             "protected attributes may be read only in properties and audits")
                    return ERROR
                return self.field_type(f)
            if obj.id == "event" and (scope.event is not None or scope.event_unknown) \
                    and not self.shadowed("event", scope):
                self.types[id(obj)] = ERROR
                if e.name == "at":
                    return DATETIME
                if e.name == "id":
                    return TEXT
                if scope.event is None:
                    return ERROR
                f = self.event_field(scope.event, e.name)
                if f is None:
                    names = [x.name for x in scope.event.fields] + ["at", "id"]
                    return self.err("W015", f"event {scope.event.name} has no field {e.name}", e.span,
                                    suggest(e.name, names) or "its fields: " + ", ".join(names))
                return self.field_type(f)
            if obj.id in self.rs.events:
                return self._not_here(e, scope, f"{obj.id}.{e.name}", "the fields of other events are not in scope",
                                      f"aggregate them with a measure, e.g. measure total = sum {obj.id}.{e.name}")
            if not self.known_value(obj.id, scope):
                kinds = [self.kind.name] if self.kind else []
                if scope.event is not None or scope.event_unknown:
                    kinds.append("event")
                return self.err("W017", f"unknown subject kind {obj.id} in {scope.construct}", obj.span,
                                suggest(obj.id, kinds) or (f"attributes are read as {kinds[0]}.<attribute>"
                                                           if kinds else "declare a subject kind"))
        t = self.value(obj, scope)
        if t.is_error:
            return ERROR
        return self.err("W015", f"a value of type {t} has no field {e.name}", e.span)

    def shadowed(self, name: str, scope: Scope) -> bool:
        return scope.event is not None and self.event_field(scope.event, name) is not None

    def known_value(self, name: str, scope: Scope) -> bool:
        rs = self.rs
        return self.shadowed(name, scope) or name in ("now", "points", "tier") or any(
            name in table for table in (rs.measures, rs.scores, rs.privileges, rs.tiers))

    def _call(self, e: n.Call, scope: Scope) -> Type:
        f = e.func
        if f == "points" and scope.params is None:
            if not scope.points and scope.test_subjects is None:
                return self._not_here(e, scope, "points", "a rule sees one event and its subject, not totals")
            if len(e.args) != 1:
                return self.err("W023", f"points(...) takes one rule name, not {len(e.args)} arguments", e.span)
            arg = e.args[0]
            if not isinstance(arg, n.Name) or arg.id not in self.rs.rules:
                label = arg.id if isinstance(arg, n.Name) else "this"
                return self.err("W014", f"points({label}): {label} is not a rule", arg.span,
                                suggest(label, self.rs.rules) if isinstance(arg, n.Name) else None)
            self.types[id(arg)] = ERROR
            return NUMBER
        if f in self.rs.defs:
            return self.def_call(e, scope)
        if f in _BUILTINS:
            return _BUILTINS[f](self, e, scope)
        names = list(_BUILTINS) + list(self.rs.defs)
        what = next((w for w, t in (("score", self.rs.scores), ("measure", self.rs.measures),
                                     ("rule", self.rs.rules)) if f in t), None)
        for a in e.args:
            self.infer(a, scope)
        msg = f"{f} is a {what}, not a function" if what else f"unknown function {f}"
        return self.err("W016", msg, e.span, suggest(f, names) or "functions: " + ", ".join(sorted(names)))

    def def_call(self, e: n.Call, scope: Scope) -> Type:
        info = self.def_info(e.func)
        arg_types = [self.value(a, scope) for a in e.args]
        if info is None:
            return ERROR
        if len(e.args) != len(info.params):
            return self.err("W023", f"def {e.func} takes {len(info.params)} argument"
                            f"{'s' * (len(info.params) != 1)}, but {len(e.args)} are given", e.span,
                            f"{e.func}({', '.join(f'{p}: {t}' for p, t in info.params)})")
        for i, (arg, t, (pname, ptype)) in enumerate(zip(e.args, arg_types, info.params)):
            if not ty.assignable(t, ptype):
                self.err("W020", f"argument {pname} of {e.func} must be {ptype}, but this is {t}", arg.span)
            if i in info.singled:
                if scope.no_singling_out and scope.params is None and self.is_subject_id(arg):
                    self.err("W041", f"{scope.who()} singles out one subject: {e.func} compares its parameter "
                             f"{pname} with a text literal, and it is given {self.kind.name}.id", e.span,
                             "rules apply to everyone the same; use an attribute or event field instead")
                elif scope.params is not None and isinstance(arg, n.Name) and arg.id in scope.params:
                    scope.singled_params.add(scope.params[arg.id][0])
        return info.returns

    def is_subject_id(self, e: n.Expr) -> bool:
        return (self.kind is not None and isinstance(e, n.Attribute) and e.name == "id"
                and isinstance(e.obj, n.Name) and e.obj.id == self.kind.name)

    def _unary(self, e: n.Unary, scope: Scope) -> Type:
        t = self.value(e.operand, scope)
        if e.op == "not":
            if not t.has("bool"):
                return self.err("W020", f"`not` needs a bool, but this is {t}", e.operand.span)
            return BOOL
        if not t.has("int", "number", "duration"):
            return self.err("W020", f"cannot negate a {t}", e.operand.span)
        return t

    def _binary(self, e: n.Binary, scope: Scope) -> Type:
        lt = self.value(e.left, scope)
        rt = self.value(e.right, scope)
        op = e.op
        if op in ("and", "or"):
            for side, t in ((e.left, lt), (e.right, rt)):
                if not t.has("bool"):
                    self.err("W020", f"`{op}` needs bool operands, but this is {t}", side.span)
            return BOOL
        if lt.is_error or rt.is_error:
            return ERROR
        result = _arithmetic(op, lt.base, rt.base)
        if op in ("/", "%") and rt.numeric:
            self.divisor(e.right, scope)
        if result is not None:
            return Type(result)
        left_ok = any(a == lt.base for a, _ in _ARITH[op])
        culprit = e.right if left_ok else e.left
        wanted = sorted({b for a, b in _ARITH[op] if a == lt.base}) if left_ok else \
            sorted({a for a, _ in _ARITH[op]})
        hint = None
        if lt.base in ("date", "datetime") and rt.numeric and op in "+-":
            hint = "add a duration, e.g. 30 days"
        elif op == "%":
            hint = "`%` is defined for ints"
        return self.err("W020", f"cannot use `{op}` with {lt} and {rt}: "
                        f"{'the right' if left_ok else 'the left'} operand must be {' or '.join(wanted)}",
                        culprit.span, hint)

    def divisor(self, e: n.Expr, scope: Scope) -> None:
        rng = self.interval(e, scope)
        if rng is not None and rng.contains(0):
            self.warn("W026", f"possible division by zero in {scope.construct}: the divisor can be 0 "
                      f"(its declared range is {rng})", e.span,
                      "exclude 0 in a `where`, or use a def with a fallback such as std/math's ratio_or")

    def interval(self, e: n.Expr, scope: Scope) -> ty.Interval | None:
        """The range of values of a numeric expression, when the declared ranges pin it down."""
        c = _constant(e)
        if c is not None:
            return ty.point(c)
        f = self.field_ref(e, scope)
        if f is not None:
            return ty.closed(f.range.low, f.range.high) if f.range else None
        if isinstance(e, n.Binary) and e.op in ("+", "-", "*"):
            a, b = self.interval(e.left, scope), self.interval(e.right, scope)
            if a is None or b is None:
                return None
            return ty.arithmetic(e.op, a, b)
        return None

    def field_ref(self, e: n.Expr, scope: Scope) -> n.Field | None:
        """The declared field an expression reads directly, if any."""
        if isinstance(e, n.Name) and scope.event is not None:
            return self.event_field(scope.event, e.id)
        if isinstance(e, n.Attribute) and isinstance(e.obj, n.Name):
            if e.obj.id == "event" and scope.event is not None:
                return self.event_field(scope.event, e.name)
            if self.kind is not None and e.obj.id == self.kind.name:
                return self.subject_field(e.name)
        return None

    def _compare(self, e: n.Compare, scope: Scope) -> Type:
        types = [self.value(x, scope) for x in e.operands]
        for i, op in enumerate(e.ops):
            a, b = types[i], types[i + 1]
            if op in ("==", "!="):
                ok = ty.comparable_equal(a, b)
            else:
                ok = ty.comparable_order(a, b)
                if not ok and not any(a.base in g for g in ty.ORDERED_GROUPS):
                    self.err("W020", f"values of type {a} have no order; `{op}` needs numbers, dates, "
                             "durations, text or tiers", e.operands[i].span)
                    continue
            if not ok:
                self.err("W020", f"cannot compare {a} with {b} using `{op}`", e.operands[i + 1].span,
                         self.compare_hint(a, b))
        if scope.no_singling_out:
            self.singling_out(e, list(e.operands), scope)
        return BOOL

    @staticmethod
    def compare_hint(a: Type, b: Type) -> str | None:
        if a.base == "text" or b.base == "text":
            return "text compares only with text; quote numbers only when the field is text"
        if {a.base, b.base} & {"duration"}:
            return "compare a duration with a duration, e.g. now - member.joined >= 30 days"
        return None

    def singling_out(self, e: n.Expr, operands: list[n.Expr], scope: Scope) -> None:
        literals = [x for x in operands if isinstance(x, n.String)]
        if not literals:
            return
        for x in operands:
            if scope.params is None and self.is_subject_id(x):
                self.err("W041", f"{scope.who()} singles out one subject: it compares {self.kind.name}.id "
                         f'with "{literals[0].value}"', e.span,
                         "rules apply to everyone the same; use an attribute or event field instead")
                return
            if scope.params is not None and isinstance(x, n.Name) and x.id in scope.params:
                scope.singled_params.add(scope.params[x.id][0])

    def _in(self, e: n.In, scope: Scope) -> Type:
        t = self.value(e.value, scope)
        for option in e.options:
            ot = self.value(option, scope)
            if not ty.comparable_equal(t, ot):
                self.err("W020", f"this option is {ot}, but the value tested is {t}", option.span)
        if scope.no_singling_out:
            self.singling_out(e, [e.value, *e.options], scope)
        return BOOL

    def _coalesce(self, e: n.Coalesce, scope: Scope) -> Type:
        lt = self.infer(e.left, scope).required
        rt = self.value(e.right, scope)
        result = ty.unify(lt, rt)
        if result is None:
            return self.err("W020", f"the fallback of `??` must be {lt}, but it is {rt}", e.right.span)
        return result

    def _if(self, e: n.If, scope: Scope) -> Type:
        ct = self.value(e.cond, scope)
        if not ct.has("bool"):
            self.err("W021", f"the condition of `if` must be a bool, but it is {ct}", e.cond.span)
        a = self.value(e.then, scope)
        b = self.value(e.orelse, scope)
        result = ty.unify(a, b)
        if result is None:
            return self.err("W020", f"both branches of `if` must have one type: `then` is {a}, `else` is {b}",
                            e.orelse.span)
        return result

    def _of(self, e: n.Of, scope: Scope) -> Type:
        if scope.test_subjects is None:
            return self._not_here(e, scope, "`X of subject`", "it is only allowed in tests and the REPL")
        if e.subject not in scope.test_subjects:
            self.err("W010", f"unknown subject {e.subject} in {scope.construct}", e.span,
                     suggest(e.subject, scope.test_subjects) or "declare it in the test, e.g. member m { ... }")
        target = e.target
        if isinstance(target, n.Call) and target.func == "points":
            return self.infer(target, scope)
        if isinstance(target, n.Name):
            name = target.id
            rs = self.rs
            self.types[id(target)] = ERROR
            if name == "points":
                return NUMBER
            if name == "tier":
                return TIER
            if name in rs.scores:
                return self.score_types.get(name, NUMBER)
            if name in rs.measures:
                return self.measure_types.get(name, ERROR).required
            if name in rs.privileges:
                return BOOL
            names = ["points", "tier", *rs.scores, *rs.measures, *rs.privileges]
            return self.err("W010", f"unknown score, measure or privilege {name} in {scope.construct}",
                            target.span, suggest(name, names))
        return self.err("W025", "`of` reads a score, measure, tier, privilege or points of one subject",
                        target.span)

    # -- builtins
    def _numbers(self, e: n.Call, scope: Scope, count: int | tuple[int, ...],
                 durations: bool = False) -> list[Type] | None:
        counts = (count,) if isinstance(count, int) else count
        types = [self.value(a, scope) for a in e.args]
        if len(e.args) not in counts and not (counts == (2,) and e.func in ("min", "max") and len(e.args) > 2):
            wanted = " or ".join(map(str, counts)) + (" or more" if e.func in ("min", "max") else "")
            self.err("W023", f"{e.func} takes {wanted} argument{'s' * (counts != (1,))}, "
                     f"but {len(e.args)} {'is' if len(e.args) == 1 else 'are'} given", e.span)
            return None
        allowed = ("int", "number", "duration") if durations else ("int", "number")
        ok = True
        for arg, t in zip(e.args, types):
            if not t.has(*allowed):
                self.err("W020", f"{e.func} needs {' or '.join(allowed[1:] if durations else ('numbers',))}"
                         f", but this is {t}", arg.span)
                ok = False
        if durations and ok:
            kinds = {t.base == "duration" for t in types if not t.is_error}
            if len(kinds) > 1:
                self.err("W020", f"{e.func} mixes durations and numbers", e.span)
                ok = False
        return types if ok else None

    def _min_max(self, e: n.Call, scope: Scope) -> Type:
        types = self._numbers(e, scope, 2, durations=True)
        if types is None:
            return ERROR
        if any(t.base == "duration" for t in types):
            return DURATION
        return ty.numeric_result(*types)

    def _clamp(self, e: n.Call, scope: Scope) -> Type:
        types = self._numbers(e, scope, 3)
        return ERROR if types is None else ty.numeric_result(*types)

    def _abs(self, e: n.Call, scope: Scope) -> Type:
        types = self._numbers(e, scope, 1, durations=True)
        return ERROR if types is None else types[0]

    def _to_int(self, e: n.Call, scope: Scope) -> Type:
        return ERROR if self._numbers(e, scope, 1) is None else INT

    def _round(self, e: n.Call, scope: Scope) -> Type:
        types = self._numbers(e, scope, (1, 2))
        if types is None:
            return ERROR
        if len(types) == 2:
            if not types[1].has("int"):
                self.err("W020", f"the digits of round must be an int, but this is {types[1]}", e.args[1].span)
            return NUMBER
        return INT

    def _real(self, e: n.Call, scope: Scope) -> Type:
        return ERROR if self._numbers(e, scope, 1) is None else NUMBER

    def _duration_to_number(self, e: n.Call, scope: Scope) -> Type:
        types = [self.value(a, scope) for a in e.args]
        if len(types) != 1:
            return self.err("W023", f"{e.func} takes 1 argument (a duration), but {len(types)} are given", e.span)
        if not types[0].has("duration"):
            return self.err("W020", f"{e.func} needs a duration, but this is {types[0]}", e.args[0].span,
                            "e.g. days(now - member.joined)")
        return NUMBER

    # -- interval reasoning
    def atoms(self, cond: n.Expr, scope: Scope) -> list[tuple[object, object]]:
        """A condition as conjunct atoms: (key, Interval) for comparisons with a constant, else (expr, None)."""
        out: list[tuple[object, object]] = []
        for c in _conjuncts(cond):
            if isinstance(c, n.Compare):
                for i, op in enumerate(c.ops):
                    a, b = c.operands[i], c.operands[i + 1]
                    ca, cb = _constant(a), _constant(b)
                    if cb is not None and ca is None:
                        rng = ty.from_comparison(op, cb)
                        key = a
                    elif ca is not None and cb is None:
                        rng = ty.from_comparison(ty.FLIPPED[op], ca)
                        key = b
                    else:
                        rng = None
                    if rng is not None:
                        out.append((self.atom_key(key, scope), rng))
                    else:
                        out.append((n.Compare((a, b), (op,)), None))
            else:
                out.append((c, None))
        return out

    def atom_key(self, e: n.Expr, scope: Scope) -> object:
        f = self.field_ref(e, scope)
        if f is not None and scope.event is not None and f in scope.event.fields:
            return ("event", f.name)
        return e

    def satisfiable(self, cond: n.Expr, scope: Scope, what: str) -> None:
        ranges: dict[object, ty.Interval] = {}
        declared: dict[object, n.Field] = {}
        for key, rng in self.atoms(cond, scope):
            if rng is None:
                continue
            f = self.event_field(scope.event, key[1]) if isinstance(key, tuple) else self.field_ref(key, scope)
            if key not in ranges:
                base = ty.closed(f.range.low, f.range.high) if f is not None and f.range else ty.EVERYTHING
                ranges[key] = base
                if f is not None:
                    declared[key] = f
            ranges[key] = ranges[key].intersect(rng)
            current = ranges[key]
            f = declared.get(key)
            if f is not None and self.field_type(f).base == "int":
                current = current.integral()
            if current.empty:
                label = key[1] if isinstance(key, tuple) else (
                    f"{self.kind.name}.{f.name}" if f is not None and self.kind is not None else "a value")
                detail = (f"{label} is declared in {f.range.low}..{f.range.high}"
                          if f is not None and f.range else f"the conditions on {label} contradict each other")
                self.warn("W054", f"the `where` of {what} can never hold: {detail}", cond.span,
                          "check the bounds against the declared range")
                return

    def implies(self, cond: n.Expr, other: n.Expr) -> bool:
        """Whether ``cond`` holding means ``other`` holds too (conservative: False when unsure)."""
        scope = Scope("tier")
        mine = self.atoms(cond, scope)
        ranges: dict[object, ty.Interval] = {}
        plain: set = set()
        for key, rng in mine:
            if rng is None:
                plain.add(key)
            else:
                ranges[key] = ranges.get(key, ty.EVERYTHING).intersect(rng)
        for key, rng in self.atoms(other, scope):
            if rng is None:
                if key not in plain:
                    return False
            elif key not in ranges or not ranges[key].within(rng):
                return False
        return True


def _arith_table() -> dict[str, set[tuple[str, str]]]:
    num = ("int", "number")
    table: dict[str, set[tuple[str, str]]] = {op: set() for op in "+-*/%"}
    for op in "+-*/":
        table[op] |= {(a, b) for a in num for b in num}
    table["%"].add(("int", "int"))
    for op in "+-":
        table[op] |= {("datetime", "duration"), ("date", "duration"), ("duration", "duration")}
    table["-"] |= {("datetime", "datetime"), ("date", "date"), ("datetime", "date"), ("date", "datetime")}
    table["*"] |= {("duration", "int"), ("duration", "number"), ("int", "duration"), ("number", "duration")}
    table["/"] |= {("duration", "int"), ("duration", "number"), ("duration", "duration")}
    return table


_ARITH = _arith_table()


def _arithmetic(op: str, a: str, b: str) -> str | None:
    """The result type of ``a op b`` per decisions.md, or None when not allowed."""
    if (a, b) not in _ARITH[op]:
        return None
    if a in ("int", "number") and b in ("int", "number"):
        if op == "/":
            return "number"
        return "int" if a == b == "int" else "number"
    if op == "-" and a in ("date", "datetime") and b in ("date", "datetime"):
        return "duration"
    if a in ("date", "datetime"):
        return a
    if op == "/" and b == "duration":
        return "number"
    return "duration"


_LITERAL_TYPES = {n.Duration: DURATION, n.String: TEXT, n.Bool: BOOL, n.Date: DATE, n.DateTime: DATETIME}

_INFER = {
    n.Number: _Checker._number,
    n.Duration: _Checker._literal,
    n.String: _Checker._literal,
    n.Bool: _Checker._literal,
    n.Date: _Checker._literal,
    n.DateTime: _Checker._literal,
    n.Name: _Checker._name,
    n.Attribute: _Checker._attribute,
    n.Call: _Checker._call,
    n.Unary: _Checker._unary,
    n.Binary: _Checker._binary,
    n.Compare: _Checker._compare,
    n.In: _Checker._in,
    n.Coalesce: _Checker._coalesce,
    n.If: _Checker._if,
    n.Of: _Checker._of,
}

_BUILTINS = {
    "min": _Checker._min_max,
    "max": _Checker._min_max,
    "clamp": _Checker._clamp,
    "abs": _Checker._abs,
    "floor": _Checker._to_int,
    "ceil": _Checker._to_int,
    "round": _Checker._round,
    "sqrt": _Checker._real,
    "log": _Checker._real,
    "exp": _Checker._real,
    "days": _Checker._duration_to_number,
    "hours": _Checker._duration_to_number,
}

"""Declarations: imports, header, authors, unique names, schema, provenance and defs."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from . import callgraph
from . import nodes as n
from . import types as ty
from .checkbase import CheckerBase, DefInfo, Scope, suggest, walk
from .symbols import BUILTIN_FUNCTIONS, RESERVED_NAMES, stdlib_module_path, stdlib_modules
from .types import ERROR, TIER, Type

CLAUSE_WORDS = {
    n.By: "by", n.Because: "because", n.On: "on", n.Where: "where", n.Award: "award",
    n.Decay: "decay", n.Once: "once", n.Within: "within", n.Default: "default",
    n.CalendarWithin: "within", n.Keep: "keep", n.Hold: "hold",
}

# the declarations that share one namespace of names (a rule and a score may not both be `x`)
NAMESPACE_KINDS = (n.EventDecl, n.RuleDecl, n.SharedCapDecl, n.FactorDecl, n.MeasureDecl, n.ScoreDecl, n.TierDecl,
                   n.PrivilegeDecl, n.DefDecl, n.ConditionDecl)


@lru_cache(maxsize=32)
def _load_module(path: str):
    from .parser import parse, read_source

    text, diags = read_source(path)
    if text is None:
        return None, tuple(diags)
    result = parse(text, path)
    return result.program, tuple(result.diagnostics)


class DeclChecks(CheckerBase):
    """The checks of declarations that are not expressions."""

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
            if not isinstance(item, NAMESPACE_KINDS):
                continue
            word = n.KIND_WORDS[type(item)]
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
            if f.choices is not None:
                if t is not None and t.base != "text":
                    self.err("W058", f"field {f.name} of {owner} is {t}; only text fields take a list of values",
                             f.choices.span, "remove the `in [...]` part, or give numbers a range `in low..high`")
                twice = sorted({v for v in f.choices.values if f.choices.values.count(v) > 1})
                if twice:
                    self.err("W058", f"field {f.name} of {owner} lists {', '.join(repr(v) for v in twice)} twice",
                             f.choices.span, "list each value once")

    def type_ref(self, ref: n.TypeRef, allow_tier: bool = True) -> Type | None:
        t = ty.type_named(ref.name)
        if t is None or (t == TIER and not allow_tier):
            names = [b for b in ty.BASE_TYPES if allow_tier or b != "tier"]
            self.err("W011", f"unknown type {ref.name}", ref.span,
                     suggest(ref.name, names) or "types are " + ", ".join(names))
            return None
        return t

    def provenance(self, decl, what: str, need_by: bool = True, need_because: bool = False) -> None:
        by = decl.first(n.By)
        if by is not None:
            author = by.author
            if author.name in self.rs.authors:
                self.owners.add(author.name)
            else:
                authors = list(self.rs.authors)
                hint = suggest(author.name, authors) or (
                    f"declare it first: author {author.name} \"Full Name\"" if not authors
                    else "declared authors: " + ", ".join(authors))
                self.err("W013", f"{what} names an unknown author {author.name}", author.span, hint)
        elif need_by:
            authors = list(self.rs.authors)
            hint = f"add `by <author>`, one of: {', '.join(authors)}" if authors else \
                "declare an author and add `by <author>`"
            self.err("W030", f"{what} has no author: every {what.split()[0]} says who wrote it",
                     decl.name_span, hint)
        if need_because and decl.first(n.Because) is None:
            self.err("W031", f"{what} has no reason: add `because \"...\"`", decl.name_span,
                     "say why the rule exists, e.g. because \"On-time returns keep the shelves full\"")
        self.twice(decl, what, (n.By, n.Because))

    def twice(self, decl, what: str, kinds) -> None:
        clauses = decl.clauses
        if len({type(c) for c in clauses}) == len(clauses):
            return  # no kind of clause is given twice (the usual case): one pass instead of one per kind
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

    def defs(self) -> list[str]:
        """Check every def, callees before callers; return that order."""
        calls = {name: {c.func for c in walk(d.body) if isinstance(c, n.Call) and c.func in self.rs.defs}
                 for name, d in self.rs.defs.items()}
        for name, loop in callgraph.cycles(calls).items():
            self.recursive_defs.add(name)
            shown = loop.names(most=7)  # a message stays one line, however long the cycle
            self.err("W056", f"def {name} is recursive ({' -> '.join(shown)}): defs may not call themselves",
                     self.rs.defs[name].name_span, "compute the value without recursion, e.g. with min/max/clamp")
        # Callees first, so typing a body finds every callee's signature ready instead of recursing
        # into it: a long chain of defs costs no Python stack.
        order = callgraph.callees_first(calls)
        for name in order:
            self.def_info(name)
        return order

    def def_info(self, name: str) -> DefInfo | None:
        if name in self.def_infos:
            return self.def_infos[name]
        d = self.rs.defs[name]
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
        self.def_infos[name] = info
        return info

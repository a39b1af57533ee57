"""Names and scope: what an expression may read where (decisions.md, "Names and scopes")."""

from __future__ import annotations

from . import nodes as n
from . import types as ty
from .checkbase import CheckerBase, Scope, suggest
from .types import BOOL, DATETIME, ERROR, NUMBER, TEXT, TIER, Type


class ScopeChecks(CheckerBase):
    """Resolving names, attributes and fields against a scope."""

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
        if name in rs.conditions:
            if scope.scores is None and scope.measures:
                return BOOL
            return self._not_here(e, scope, f"condition {name}", "conditions are read by tiers, privileges, "
                                  "properties, tests and other conditions")
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
        if scope.scores is None and scope.measures:
            names += list(rs.conditions)
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
            name in table for table in (rs.measures, rs.scores, rs.privileges, rs.tiers, rs.conditions))

    def subject_field(self, name: str) -> n.Field | None:
        if self.kind is None:
            return None
        return next((f for f in self.kind.fields if f.name == name), None)

    def unknown_attr(self, name: str, span: n.Span) -> Type:
        names = [f.name for f in self.kind.fields] + ["id"] if self.kind else []
        return self.err("W015", f"subject {self.kind.name if self.kind else '?'} has no attribute {name}", span,
                        suggest(name, names) or "its attributes: " + ", ".join(names))

    def event_field(self, event: n.EventDecl | None, name: str) -> n.Field | None:
        """The first field of that name of an event type (every name in a rule is looked up here first)."""
        if event is None:
            return None
        fields = self.fields_by_name.get(id(event))
        if fields is None:
            fields = {}
            for f in event.fields:
                fields.setdefault(f.name, f)
            self.fields_by_name[id(event)] = fields
        return fields.get(name)

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

    def field_type(self, f: n.Field) -> Type:
        t = self.field_types.get(id(f))  # a field is read once per use in every rule: its type made once
        if t is None:
            t = ty.type_named(f.type.name) or ERROR
            t = self.field_types[id(f)] = t.maybe if f.optional else t
        return t

    def is_subject_id(self, e: n.Expr) -> bool:
        return (self.kind is not None and isinstance(e, n.Attribute) and e.name == "id"
                and isinstance(e.obj, n.Name) and e.obj.id == self.kind.name)

"""The declarations that hold expressions: rules, shared caps, measures, scores, tiers, privileges, properties, tests."""

from __future__ import annotations

from . import nodes as n
from . import types as ty
from .checkbase import CheckerBase, Scope, constant, suggest
from .types import ERROR, INT, NUMBER, Type


class ItemChecks(CheckerBase):
    """The checks of each kind of declaration that holds expressions."""

    def rule(self, rule: n.RuleDecl) -> None:
        what = f"rule {rule.name}"
        self.provenance(rule, what, need_because=True)
        self.twice(rule, what, (n.On, n.Where, n.Award, n.Decay, n.Once))
        first: dict[type, object] = {}  # the first clause of each kind, in one pass
        for clause in rule.clauses:
            first.setdefault(type(clause), clause)
        on = first.get(n.On)
        award = first.get(n.Award)
        missing = [w for w, c in (("on", on), ("award", award)) if c is None]
        if missing:
            hint = ("add `on <event>`" if on is None else "") + \
                (" and " if len(missing) == 2 else "") + ("add `award <number>`" if award is None else "")
            self.err("W035", f"{what} has no `{'` and no `'.join(missing)}` clause", rule.name_span, hint)
        event = self.event_ref(on.event, what) if on else None
        by = first.get(n.By)
        scope = Scope(what, by.author.name if by else None, event=event, event_unknown=event is None, subject=True,
                      now=True, earlier=True)
        where = first.get(n.Where)
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
            elif event is not None and n.Cap in first:
                self.cap_can_cut(rule, award.value, scope)
        for decay in rule.clauses_of(n.Decay) if n.Decay in first else ():
            if not self.duration_fits(decay.half_life):
                continue
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
        if agg.kind in ("min", "max", "avg", "last", "first") and not m.clauses_of(n.Default):
            return t.maybe
        return t

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
            if not self.duration_fits(within.duration):
                continue
            if within.duration.seconds() <= 0:
                self.err("W055", f"{what} counts within a window of zero length", within.duration.span,
                         "use a positive span, e.g. within 30 days")
        windows = m.clauses_of(n.Within) + m.clauses_of(n.CalendarWithin)
        for extra in sorted(windows, key=lambda c: (c.span.line, c.span.col))[1:]:
            if not (isinstance(extra, n.Within) and len(m.clauses_of(n.Within)) > 1):  # twice() said so
                self.err("W034", f"{what} gives `within` twice", extra.span, "keep one window")
        for window in m.clauses_of(n.CalendarWithin):
            self.calendar_window(window, what)
        for default in m.clauses_of(n.Default):
            t = self.value(default.value, Scope(f"the default of {what}", now=True, literals_only=True))
            expected = self.measure_types.get(m.name, ERROR).required
            if not ty.assignable(t, expected):
                self.err("W020", f"the default of {what} must be {expected}, but it is {t}", default.value.span)

    def calendar_window(self, window: n.CalendarWithin, what: str) -> None:
        """A calendar window counts whole months, at least one, within the supported dates."""
        if isinstance(window.amount, float) and not window.amount.is_integer():
            self.err("W020", f"{what} counts within {window.amount} {window.unit}, but calendar windows count "
                     "whole months and years", window.span, "write a whole number, or a fixed length in days")
        elif window.amount <= 0:
            self.err("W055", f"{what} counts within a window of zero length", window.span,
                     "use a positive span, e.g. within 6 months")
        elif window.months > 12 * 9999:
            self.err("W060", f"the window {window.amount:g} {window.unit} is longer than any span of supported "
                     "dates (years 1 to 9999)", window.span, "use at most 9999 years")

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
            return (is_points(e.left) and constant(e.right) is not None) or \
                (is_points(e.right) and constant(e.left) is not None)
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
            scope = Scope(what, item.by, subject=True, now=True, points=True, measures=True, scores=None)
            self.tier_memory(item, scope, what)
            if item.condition is None:
                otherwise = otherwise or item
                continue
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
        elif isinstance(body, n.FourFifths):
            self.four_fifths(body, what)
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

    def four_fifths(self, body: n.FourFifths, what: str) -> None:
        """``four fifths over KIND.ATTR for NAME``: a text or bool attribute, and a privilege or tier."""
        if self.kind is None or body.kind.name != self.kind.name:
            self.err("W017", f"{what} names an unknown subject kind {body.kind.name}", body.kind.span,
                     f"the subject kind is {self.kind.name}" if self.kind else "declare a subject kind")
        else:
            f = self.subject_field(body.attr.name)
            if f is None:
                self.unknown_attr(body.attr.name, body.attr.span)
            elif f.type.name not in ("text", "bool"):
                self.err("W020", f"`four fifths over` groups members by a text or bool attribute, but "
                         f"{self.kind.name}.{f.name} is {self.field_type(f)}", body.attr.span,
                         "for bands of a number, run `whuffie audit --by ATTR --bands ATTR=E,E,…`")
        name = body.selection.name
        if name not in self.rs.privileges and name not in self.rs.tiers:
            names = [*self.rs.privileges, *self.rs.tiers]
            self.err("W018", f"{what} names an unknown privilege or tier {name}", body.selection.span,
                     suggest(name, names) or "privileges and tiers: " + (", ".join(names) or "none"))

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
                if not stmt.subject:  # an event named by role: its subjects are the roles' ids (roles.py)
                    subjects.update(v.value.value for v in stmt.values if isinstance(v.value, n.String))
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
            x = constant(v.value)
            if f.range is not None and x is not None and not (f.range.low <= x <= f.range.high):
                self.err("W028", f"{v.name} = {x} is outside its declared range {f.range.low}..{f.range.high}",
                         v.value.span)
            if f.choices is not None and isinstance(v.value, n.String) and v.value.value not in f.choices.values:
                self.err("W028", f"{v.name} = {v.value.value!r} is not one of its declared values",
                         v.value.span, suggest(v.value.value, f.choices.values)
                         or "its values: " + ", ".join(repr(c) for c in f.choices.values))
        missing = [f.name for f in fields if not f.optional and f.name not in given]
        if missing:
            self.err("W027", f"{owner} in {what} has no value for {', '.join(missing)}", span,
                     "every field not declared optional (`T?`) needs a value")

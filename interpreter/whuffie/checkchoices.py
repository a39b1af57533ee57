"""W067: a text literal compared with an enumerated field that is not one of the field's values."""

from __future__ import annotations

from . import nodes as n
from .checkbase import CheckerBase, suggest, walk


class ChoiceChecks(CheckerBase):
    """Comparisons (`==`, `!=`, `in`) of an enumerated text field with text it can never hold."""

    def enumerations(self, event: n.EventDecl | None) -> dict[str, tuple[str, ...]]:
        """The enumerated text fields of an event type: name -> its values."""
        if event is None:
            return {}
        return {f.name: f.choices.values for f in event.fields if f.choices is not None and f.type.name == "text"}

    def choices_in_expressions(self) -> None:
        attributes = {}
        if self.kind is not None:
            attributes = {f.name: f.choices.values for f in self.kind.fields
                          if f.choices is not None and f.type.name == "text"}
        if not attributes and not any(f.choices is not None for e in self.rs.events.values() for f in e.fields):
            return  # no enumerated field anywhere: no literal can miss one (and no rule need be looked at)
        for rule in self.rs.rules.values():
            on = rule.first(n.On)
            fields = self.enumerations(self.rs.events.get(on.event.name)) if on is not None else {}
            for clause in (rule.first(n.Where), rule.first(n.Award)):
                if clause is not None:
                    self._literals_against(clause.cond if isinstance(clause, n.Where) else clause.value,
                                           fields, attributes)
        for m in self.rs.measures.values():
            where = m.first(n.Where)
            if where is not None:
                self._literals_against(where.cond, self.enumerations(self.rs.events.get(m.aggregate.event.name)),
                                       attributes)
        others = [d.expr for d in self.rs.scores.values()]
        others += [d.condition for d in self.rs.tiers.values() if d.condition is not None]
        others += [d.condition for d in self.rs.privileges.values()]
        for e in others:
            self._literals_against(e, {}, attributes)

    def _literals_against(self, expr: n.Expr, fields: dict, attributes: dict) -> None:
        if not fields and not attributes:
            return
        for node in walk(expr):
            if isinstance(node, n.Compare):
                for a, op, b in zip(node.operands, node.ops, node.operands[1:]):
                    if op in ("==", "!="):
                        self._one(a, b, fields, attributes)
                        self._one(b, a, fields, attributes)
            elif isinstance(node, n.In):
                for option in node.options:
                    self._one(node.value, option, fields, attributes)

    def _one(self, side: n.Expr, literal: n.Expr, fields: dict, attributes: dict) -> None:
        if not isinstance(literal, n.String):
            return
        name, values = self._enumerated(side, fields, attributes)
        if values is None or literal.value in values:
            return
        from .formatter import format_string

        self.warn("W067", f"{name} is never {format_string(literal.value)}: it holds only "
                  + ", ".join(format_string(v) for v in values[:8]) + (", …" if len(values) > 8 else ""),
                  literal.span, suggest(literal.value, values) or "compare it with one of its declared values")

    def _enumerated(self, e: n.Expr, fields: dict, attributes: dict):
        if isinstance(e, n.Name) and e.id in fields:
            return e.id, fields[e.id]
        if isinstance(e, n.Attribute) and isinstance(e.obj, n.Name):
            if e.obj.id == "event" and e.name in fields:
                return e.name, fields[e.name]
            if self.kind is not None and e.obj.id == self.kind.name and e.name in attributes:
                return f"{self.kind.name}.{e.name}", attributes[e.name]
        return None, None

"""The formatter: an AST printed in the one canonical layout, comments kept.

Entry points: ``format_program(program)`` and ``format_expr(expr)``.
The laws it keeps (tested with Hypothesis): ``parse(format_program(p)) == p``
and formatting is idempotent. Parentheses are printed only where the
grammar's precedence needs them.

Comments are placed by source line: an own-line comment goes before the
first output line that comes from a later source line; a trailing comment
goes at the end of the output line made from its source line, and so does
an own-line comment from between the source lines that one output line
joins. Comments keep their order. A declaration that would fit on one line
is spread over several when a comment must sit below its first line.

Layout: header, author and import lines one per line; schemas, tiers,
privileges, shared caps, measures and scores on one line when they fit in
LINE_WIDTH, else the head and then indented clause lines; rules always one
clause per line (``on E where C`` joined); long and/or chains broken before
the operator. One blank line between declarations where the source had any,
and always around multi-line declarations.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass
from functools import lru_cache

from . import nodes as n

LINE_WIDTH = 88
INDENT = "  "

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SINGULAR = {"seconds": "second", "minutes": "minute", "hours": "hour", "days": "day", "weeks": "week"}

# ---------------------------------------------------------------- expressions

# Binding strength, loosest first, as in grammar/whuffie.lark.
_IF, _OR, _AND, _NOT, _COMPARE, _COALESCE, _SUM, _PRODUCT, _NEGATE, _OF, _PRIMARY = range(11)
_BINARY_LEVEL = {"or": _OR, "and": _AND, "+": _SUM, "-": _SUM, "*": _PRODUCT, "/": _PRODUCT, "%": _PRODUCT}


def _level(e: n.Expr) -> int:
    kind = type(e)
    if kind is n.Binary:
        return _BINARY_LEVEL[e.op]
    if kind is n.Unary:
        return _NOT if e.op == "not" else _NEGATE
    if kind is n.Compare or kind is n.In:
        return _COMPARE
    if kind is n.Coalesce:
        return _COALESCE
    if kind is n.If:
        return _IF
    if kind is n.Of:
        return _OF
    return _PRIMARY


def _operand(e: n.Expr, at_least: int) -> str:
    text = format_expr(e)
    return f"({text})" if _level(e) < at_least else text


def format_number(value: int | float) -> str:
    """A number literal that reads back as the same value (floats always show a '.')."""
    if isinstance(value, bool) or isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError(f"{value!r} has no literal form")
    text = repr(value)
    if "e" in text or "E" in text:
        mantissa, exponent = text.lower().split("e")
        if "." not in mantissa:
            mantissa += ".0"
        return f"{mantissa}e{exponent}"
    return text if "." in text else text + ".0"


def format_string(value: str) -> str:
    """A string literal with the escapes the parser understands."""
    out = ['"']
    for ch in value:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif not ch.isprintable():
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def format_duration(d: n.Duration) -> str:
    """``30 days``, ``1 day``."""
    unit = _SINGULAR[d.unit] if d.amount == 1 else d.unit
    return f"{format_number(d.amount)} {unit}"


def format_time(value: n.Date | n.DateTime) -> str:
    """A date or datetime literal; UTC prints as Z."""
    if isinstance(value, n.Date):
        return value.value.isoformat()
    moment = value.value
    offset = moment.utcoffset()
    text = moment.replace(tzinfo=None).isoformat()
    if offset is None:
        return text
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{text}{sign}{hours:02d}:{mins:02d}"


def format_subject_id(value: str) -> str:
    """A subject id: bare when it is a name (not a keyword), quoted otherwise."""
    return value if _NAME.match(value) and value not in _keywords() else format_string(value)


@lru_cache(maxsize=1)
def _keywords() -> frozenset[str]:
    # LALR lookahead merging lets a keyword through where a subject id is
    # expected (`at 2026-01-10 at returned`), so keywords are always quoted.
    from .parser import lark_parser

    return frozenset(t.pattern.value for t in lark_parser().terminals
                     if t.pattern.type == "str" and _NAME.match(t.pattern.value))


def format_expr(e: n.Expr) -> str:
    """One expression on one line, with the fewest parentheses that keep its meaning."""
    kind = type(e)
    if kind is n.Name:
        return e.id
    if kind is n.Number:
        return format_number(e.value)
    if kind is n.Binary:
        level = _BINARY_LEVEL[e.op]
        return f"{_operand(e.left, level)} {e.op} {_operand(e.right, level + 1)}"
    if kind is n.Attribute:
        return f"{_operand(e.obj, _PRIMARY)}.{e.name}"
    if kind is n.Call:
        return f"{e.func}({', '.join(format_expr(a) for a in e.args)})"
    if kind is n.Compare:
        parts = [_operand(e.operands[0], _COALESCE)]
        for op, operand in zip(e.ops, e.operands[1:]):
            parts.append(f"{op} {_operand(operand, _COALESCE)}")
        return " ".join(parts)
    if kind is n.Unary:
        if e.op == "not":
            return f"not {_operand(e.operand, _NOT)}"
        operand = _operand(e.operand, _NEGATE)
        return f"- {operand}" if operand.startswith("-") else f"-{operand}"
    if kind is n.String:
        return format_string(e.value)
    if kind is n.Bool:
        return "true" if e.value else "false"
    if kind is n.Duration:
        return format_duration(e)
    if kind is n.Date or kind is n.DateTime:
        return format_time(e)
    if kind is n.In:
        options = ", ".join(format_expr(o) for o in e.options)
        keyword = "not in" if e.negated else "in"
        return f"{_operand(e.value, _COALESCE)} {keyword} [{options}]"
    if kind is n.Coalesce:
        return f"{_operand(e.left, _SUM)} ?? {_operand(e.right, _COALESCE)}"
    if kind is n.If:
        return f"if {format_expr(e.cond)} then {format_expr(e.then)} else {format_expr(e.orelse)}"
    if kind is n.Of:
        return f"{_operand(e.target, _PRIMARY)} of {format_subject_id(e.subject)}"
    if kind is n.Earlier:
        clauses = "".join(" " + _clause(c) for c in e.clauses)
        return f"earlier({_aggregate(e.aggregate)}{clauses})"
    raise TypeError(f"not an expression node: {e!r}")


# ---------------------------------------------------------------- output lines


@dataclass
class _Line:
    """One output line and the source lines it was made from (0 when unknown)."""

    text: str
    first: int
    last: int
    depth: int = 0
    comment_depth: int | None = None  # indentation of comments placed before it
    trailing: str = ""
    tail: n.Expr | None = None  # the expression the text ends with, which may be broken over lines
    is_comment: bool = False


def _lines_of(span: n.Span) -> tuple[int, int]:
    return span.line, span.end_line


def _join_span(*spans: n.Span) -> tuple[int, int]:
    return min(s.line for s in spans), max(s.end_line for s in spans)


def _clause(c) -> str:
    kind = type(c)
    if kind is n.By:
        return f"by {c.author.name}"
    if kind is n.Because:
        return f"because {format_string(c.text)}"
    if kind is n.Cites:
        return f"cites {format_string(c.text)}"
    if kind is n.On:
        return f"on {c.event.name}" + (f" as {c.role.name}" if c.role is not None else "")
    if kind is n.Where:
        return f"where {format_expr(c.cond)}"
    if kind is n.Award:
        return f"award {format_expr(c.value)}"
    if kind is n.Cap:
        return f"cap {_number_or_param(c.amount)} {_period(c.window)}"
    if kind is n.Once:
        return "once" if c.window is None else f"once per {c.window}"
    if kind is n.Decay:
        return f"decay half_life {_duration_or_param(c.half_life)}"
    if kind is n.Within:
        return f"within {_duration_or_param(c.duration)}"
    if kind is n.CalendarWithin:
        unit = c.unit[:-1] if c.amount == 1 else c.unit
        return f"within {format_number(c.amount)} {unit}"
    if kind is n.Default:
        return f"default {format_expr(c.value)}"
    if kind is n.Keep:
        return "keep" if c.cond is None else f"keep while {format_expr(c.cond)}"
    if kind is n.Hold:
        return f"hold {format_duration(c.duration)}"
    if kind is n.Across:
        return "across everyone"
    if kind is n.AsRole:
        return f"as {c.role.name}"
    if kind is n.Bound:
        return f"{c.kind} {format_expr(c.value)} per event"
    raise TypeError(f"not a clause: {c!r}")


def _number_or_param(value) -> str:
    return value.name if isinstance(value, n.ParamRef) else format_number(value)


def _duration_or_param(value) -> str:
    return value.name if isinstance(value, n.ParamRef) else format_duration(value)


def _param_value(value) -> str:
    if isinstance(value, n.Duration):
        return format_duration(value)
    if isinstance(value, n.String):
        return format_string(value.value)
    if isinstance(value, n.Bool):
        return "true" if value.value else "false"
    return format_number(value.value)


def _clause_tail(c) -> n.Expr | None:
    """The expression a clause's text ends with, if any."""
    kind = type(c)
    if kind is n.Where:
        return c.cond
    if kind is n.Award or kind is n.Default:
        return c.value
    if kind is n.Keep:
        return c.cond
    return None


def _broken(line: _Line) -> list[_Line]:
    """A line too wide for LINE_WIDTH that ends in an and/or chain, broken before the operators.

    Continuation lines start with the operator and are indented two levels
    deeper than the line they continue; the text is the same up to
    whitespace, so the meaning cannot change.
    """
    e = line.tail
    if (type(e) is not n.Binary or e.op not in ("and", "or")
            or len(INDENT * line.depth) + len(line.text) <= LINE_WIDTH):
        return [line]
    op = e.op
    operands = []
    node = e
    while type(node) is n.Binary and node.op == op:
        operands.append(node.right)
        node = node.left
    operands.append(node)
    operands.reverse()
    level = _BINARY_LEVEL[op]
    texts = [_operand(x, level if i == 0 else level + 1) for i, x in enumerate(operands)]
    prefix = line.text[: len(line.text) - len(format_expr(e))]
    out: list[_Line] = []
    depth, current = line.depth, prefix + texts[0]
    first, last = line.first, operands[0].span.end_line
    for operand, text in zip(operands[1:], texts[1:]):
        piece = f" {op} {text}"
        if len(INDENT * depth) + len(current) + len(piece) <= LINE_WIDTH:
            current += piece
            last = max(last, operand.span.end_line)
            continue
        out.append(_Line(current, first, max(first, last), depth=depth))
        depth, current = line.depth + 2, f"{op} {text}"
        first, last = operand.span.line, operand.span.end_line
    out.append(_Line(current, first, max(last, line.last), depth=depth))
    return out


def _period(window: str | None) -> str:
    return "total" if window is None else f"per {window}"


_PROVENANCE = (n.By, n.Because, n.Cites)


def _field(f: n.Field) -> str:
    text = f"{f.name}: {f.type.name}{'?' if f.optional else ''}"
    if f.range is not None:
        text += f" in {format_number(f.range.low)}..{format_number(f.range.high)}"
    if f.choices is not None:
        text += f" in [{', '.join(format_string(v) for v in f.choices.values)}]"
    if f.protected:
        text += " protected"
    return text


def _values(values: tuple[n.FieldValue, ...]) -> str:
    return "{ " + ", ".join(f"{v.name}: {format_expr(v.value)}" for v in values) + " }" if values else "{}"


def _aggregate(a: n.Aggregate) -> str:
    text = _aggregate_only(a)
    return text + (f" as {a.role.name}" if a.role is not None else "")


def _aggregate_only(a: n.Aggregate) -> str:
    if a.kind == "count":
        return f"count {a.event.name}"
    if a.kind == "count_days":
        return f"count distinct days of {a.event.name}"
    if a.kind == "count_distinct":
        return f"count distinct {a.event.name}.{a.field.name}"
    return f"{a.kind} {a.event.name}.{a.field.name}"


def _property_body(b) -> str:
    kind = type(b)
    if kind is n.Always:
        text = f"always {format_expr(b.expr)}"
    elif kind is n.Independent:
        text = f"independent of {b.kind.name}.{b.attr.name}"
    elif kind is n.Monotone:
        text = f"monotone in {b.event.name}" + (f".{b.field.name}" if b.field else "")
    elif kind is n.FourFifths:
        return f"four fifths over {b.kind.name}.{b.attr.name} for {b.selection.name}"
    else:
        text = f"gain per {b.window} <= {format_number(b.amount)}"
    if kind is not n.Always and b.score is not None:
        text += f" for {b.score.name}"
    return text


class _Layout:
    """Turns one declaration into output lines, multi-line when it must be."""

    def __init__(self, spread: bool) -> None:
        self.spread = spread  # a comment sits inside: never fold onto one line

    def decl(self, d) -> list[_Line]:
        """The declaration's output lines, long and/or chains broken over continuation lines."""
        return [piece for line in self._decl(d) for piece in _broken(line)]

    def _decl(self, d) -> list[_Line]:
        first, last = _lines_of(d.span)
        kind = type(d)
        if kind is n.RulesetDecl:
            title = f" {format_string(d.title)}" if d.title is not None else ""
            return [_Line(f"ruleset {d.name}{title}", first, last)]
        if kind is n.VersionDecl:
            return [_Line(f"version {format_string(d.value)}", first, last)]
        if kind is n.TimezoneDecl:
            return [_Line(f"timezone {format_string(d.value)}", first, last)]
        if kind is n.ImportDecl:
            return [_Line(f"import {format_string(d.path)}", first, last)]
        if kind is n.AuthorDecl:
            description = f" {format_string(d.description)}" if d.description is not None else ""
            return [_Line(f"author {d.name}{description}", first, last)]
        if kind is n.SubjectDecl:
            return self._schema("subject", d)
        if kind is n.EventDecl:
            return self._schema("event", d)
        if kind is n.RuleDecl:
            return self._rule(d)
        if kind is n.SharedCapDecl:
            rules = ", ".join(r.name for r in d.rules)
            head = f"shared cap {d.name} {_number_or_param(d.amount)} {_period(d.window)} over {rules}"
            head_end = d.rules[-1].span if d.rules else d.name_span
            return self._with_clauses(head, head_end, d, d.clauses)
        if kind is n.FactorDecl:
            head = f"factor {d.name} over {', '.join(r.name for r in d.rules)}"
            return self._with_clauses(head, d.rules[-1].span if d.rules else d.name_span, d, d.clauses)
        if kind is n.MeasureDecl:
            return self._with_clauses(f"measure {d.name} = {_aggregate(d.aggregate)}", d.aggregate.span,
                                      d, d.clauses, inline=(n.Where, n.Within, n.CalendarWithin, n.Default, n.Across))
        if kind is n.ScoreDecl:
            return self._with_clauses(f"score {d.name} = {format_expr(d.expr)}", d.expr.span, d, d.clauses,
                                      fold=not any(type(c) is n.Bound for c in d.clauses), tail=d.expr)
        if kind is n.TierDecl:
            condition = "otherwise" if d.condition is None else f"when {format_expr(d.condition)}"
            head_end = d.name_span if d.condition is None else d.condition.span
            return self._with_clauses(f"tier {d.name} {condition}", head_end, d, d.clauses, tail=d.condition)
        if kind is n.PrivilegeDecl:
            return self._with_clauses(f"privilege {d.name} when {format_expr(d.condition)}", d.condition.span,
                                      d, d.clauses, tail=d.condition)
        if kind is n.ConditionDecl:
            return self._with_clauses(f"condition {d.name} = {format_expr(d.expr)}", d.expr.span, d, d.clauses,
                                      tail=d.expr)
        if kind is n.DefDecl:
            params = ", ".join(f"{p.name}: {p.type.name}" for p in d.params)
            returns = f": {d.return_type.name}" if d.return_type is not None else ""
            head = f"def {d.name}({params}){returns} ="
            body = format_expr(d.body)
            if len(head) + 1 + len(body) <= LINE_WIDTH and not self.spread:
                return [_Line(f"{head} {body}", first, last)]
            body_first, body_last = _lines_of(d.body.span)
            # The head ends on the line of its last parameter or return type, so that an own-line
            # comment between `=` and the body stays on its own line, above the body.
            head_spans = [d.name_span, *(p.span for p in d.params)] + \
                ([d.return_type.span] if d.return_type is not None else [])
            head_last = min(max(s.end_line for s in head_spans), body_first)
            return [_Line(head, first, max(first, head_last)),
                    _Line(body, body_first, body_last, depth=1, tail=d.body)]
        if kind is n.TestDecl:
            return self._test(d)
        if kind is n.ParamDecl:
            return self._with_clauses(f"param {d.name} = {_param_value(d.value)}", d.value.span, d, d.clauses)
        if kind is n.PropertyDecl:
            clauses = "".join(f" {_clause(c)}" for c in d.clauses)
            text = f"property {format_string(d.name)}{clauses}: {_property_body(d.body)}"
            return [_Line(text, first, last, tail=d.body.expr if type(d.body) is n.Always else None)]
        raise TypeError(f"not a declaration: {d!r}")

    def _schema(self, keyword: str, d) -> list[_Line]:
        first, last = _lines_of(d.span)
        head = f"{keyword} {d.name}"
        if not d.fields:
            return [_Line(f"{head} {{}}", first, last)]
        one_line = f"{head} {{ {', '.join(_field(f) for f in d.fields)} }}"
        if len(one_line) <= LINE_WIDTH and not self.spread:
            return [_Line(one_line, first, last)]
        lines = [_Line(f"{head} {{", first, first)]
        lines += [_Line(_field(f), *_lines_of(f.span), depth=1) for f in d.fields]
        lines.append(_Line("}", last, last, comment_depth=1))
        return lines

    def _rule(self, d: n.RuleDecl) -> list[_Line]:
        first, _ = _lines_of(d.span)
        clauses = list(d.clauses)
        head = f"rule {d.name}"
        head_last = d.name_span.end_line or first
        if clauses and type(clauses[0]) is n.By:
            head += f" {_clause(clauses[0])}"
            head_last = clauses[0].span.end_line
            clauses = clauses[1:]
        lines = [_Line(head, first, head_last)]
        i = 0
        while i < len(clauses):
            c = clauses[i]
            if type(c) is n.On and i + 1 < len(clauses) and type(clauses[i + 1]) is n.Where:
                lines.append(_Line(f"{_clause(c)} {_clause(clauses[i + 1])}",
                                   *_join_span(c.span, clauses[i + 1].span), depth=1, tail=clauses[i + 1].cond))
                i += 2
                continue
            lines.append(_Line(_clause(c), *_lines_of(c.span), depth=1, tail=_clause_tail(c)))
            i += 1
        return lines

    def _with_clauses(self, head: str, head_end: n.Span, d, clauses, inline: tuple = (),
                      fold: bool = True, tail: n.Expr | None = None) -> list[_Line]:
        """A declaration whose clauses fit on its line, else go on indented lines.

        ``inline`` clauses directly after the head stay on the head line;
        then each run of provenance clauses shares one line and every other
        clause gets its own.
        """
        first, last = _lines_of(d.span)
        if fold and not self.spread:
            one_line = " ".join([head] + [_clause(c) for c in clauses])
            if len(one_line) <= LINE_WIDTH:
                return [_Line(one_line, first, last)]
        rest = list(clauses)
        head_parts = [head]
        head_last = head_end.end_line
        while rest and isinstance(rest[0], inline):
            head_parts.append(_clause(rest[0]))
            head_last = rest[0].span.end_line
            tail = _clause_tail(rest[0])
            rest.pop(0)
        lines = [_Line(" ".join(head_parts), first, max(head_last, first), tail=tail)]
        group: list = []
        for c in rest + [None]:
            if c is not None and type(c) in _PROVENANCE:
                group.append(c)
                continue
            if group:
                lines.append(_Line(" ".join(_clause(g) for g in group),
                                   *_join_span(*(g.span for g in group)), depth=1))
                group = []
            if c is not None:
                lines.append(_Line(_clause(c), *_lines_of(c.span), depth=1, tail=_clause_tail(c)))
        if len(lines) == 1:
            lines[0].last = last
        return lines

    def _test(self, d: n.TestDecl) -> list[_Line]:
        first, last = _lines_of(d.span)
        head = f"test {format_string(d.name)} {{"
        if not d.body and not self.spread:
            return [_Line(head + "}", first, last)]
        lines = [_Line(head, first, d.name_span.end_line or first)]
        for s in d.body:
            lines.append(_Line(_test_statement(s), *_lines_of(s.span), depth=1,
                               tail=s.expr if type(s) is n.Expect else None))
        lines.append(_Line("}", last, last, comment_depth=1))
        return lines


def _test_statement(s) -> str:
    kind = type(s)
    if kind is n.TestSubject:
        return f"{s.kind.name} {format_subject_id(s.id)} {_values(s.values)}"
    if kind is n.TestEvent:
        values = f" {_values(s.values)}" if s.values else ""
        if not s.subject:  # an event that names its subjects by role
            return f"at {format_time(s.at)} {s.event.name} {_values(s.values)}"
        return f"at {format_time(s.at)} {format_subject_id(s.subject)} {s.event.name}{values}"
    if kind is n.Expect:
        return f"expect {format_expr(s.expr)}"
    if kind is n.AsOf:
        return f"as of {format_time(s.at)}"
    raise TypeError(f"not a test statement: {s!r}")


# ---------------------------------------------------------------- program


@dataclass
class _Entry:
    """A top-level piece of output: a declaration's lines or one own-line comment."""

    lines: list[_Line]
    first: int  # source lines, for blank-line decisions
    last: int
    is_comment: bool = False

    @property
    def multi_line(self) -> bool:
        return not self.is_comment and len(self.lines) > 1


def format_program(program: n.Program, newline: str = "\n") -> str:
    """The whole file in canonical layout: one blank line between groups, one final newline.

    ``newline`` is the line break to write: a file keeps its own (sourcelines.line_ending).
    """
    comments = list(program.comments)
    items = list(program.items)
    # Which declaration (if any) each comment sits inside.
    inside: dict[int, list[n.Comment]] = {}
    top_level: list[n.Comment] = []
    starts = [d.span.line for d in items]  # source order, so sorted
    for c in comments:
        owner = None
        line = c.span.line
        index = bisect.bisect_right(starts, line if c.trailing else line - 1) - 1
        if index >= 0:
            d = items[index]
            if d.span.line < line <= d.span.end_line or (c.trailing and d.span.line == line):
                owner = index
        if owner is None:
            top_level.append(c)
        else:
            inside.setdefault(owner, []).append(c)

    entries: list[_Entry] = []
    for index, d in enumerate(items):
        own = inside.get(index, [])
        lines = _layout_with_comments(d, own)
        entries.append(_Entry(lines, d.span.line, d.span.end_line))
        for c in _place_comments(lines, own):
            # An own-line comment with no later line in its declaration follows it.
            entries.append(_Entry([_Line("#" + c.text, c.span.line, c.span.line)],
                                  d.span.end_line, d.span.end_line, is_comment=True))
    for c in top_level:
        entries.append(_Entry([_Line("#" + c.text, c.span.line, c.span.line)],
                              c.span.line, c.span.line, is_comment=True))
    entries.sort(key=lambda e: e.first)  # stable: a declaration stays before the comments that follow it

    out: list[str] = []
    for i, entry in enumerate(entries):
        if i and _blank_between(entries, i):
            out.append("")
        for line in entry.lines:
            out.append(_render(line))
    return newline.join(out) + newline if out else ""


def _layout_with_comments(d, own: list[n.Comment]) -> list[_Line]:
    """The declaration's lines: spread over several lines when a comment must sit among them."""
    if own:
        spread = _Layout(spread=True).decl(d)
        # Spread only if a comment would sit below the first line; a comment at
        # the end of the first line fits a folded declaration just as well.
        for c in own:
            at = c.span.line
            if _at_line_end(spread, c):
                if _holder(spread, at) > 0:
                    return spread
            elif any(ln.first > at for ln in spread):
                return spread
    return _Layout(spread=False).decl(d)


def _at_line_end(lines: list[_Line], c: n.Comment) -> bool:
    """True when a comment goes at the end of an output line.

    Trailing comments do, and so do own-line comments from inside the source
    lines that one output line was made from (between two lines of a long
    expression): moving them after that line would put them after comments
    that came later in the source.
    """
    return c.trailing or any(ln.first <= c.span.line <= ln.last for ln in lines if not ln.is_comment)


def _holder(lines: list[_Line], at: int) -> int:
    """Index of the output line that takes a comment from the end of source line ``at``.

    The first line made from that source line, so that the choice does not
    depend on how the declaration is laid out after it.
    """
    for i, ln in enumerate(lines):
        if not ln.is_comment and ln.first <= at <= ln.last:
            return i
    earlier = [i for i, ln in enumerate(lines) if not ln.is_comment and ln.first <= at]
    return earlier[-1] if earlier else 0


def _render(line: _Line) -> str:
    text = INDENT * line.depth + line.text
    return text + line.trailing


def _place_comments(lines: list[_Line], comments: list[n.Comment]) -> list[n.Comment]:
    """Put a declaration's comments on its lines; return the ones that belong after it."""
    after: list[n.Comment] = []
    placed = -1  # index of the line that took the previous comment: comments keep source order
    for c in comments:
        at = c.span.line
        if after:
            after.append(c)
            continue
        if _at_line_end(lines, c):
            holder = _holder(lines, at)
            if holder >= placed:
                lines[holder].trailing += "  #" + c.text
                placed = holder
                continue
            # An earlier comment already sits below that line: this one goes on its own line after it.
            target = placed + 1 if placed + 1 < len(lines) else None
        else:
            target = next((i for i, ln in enumerate(lines) if ln.first > at), None)
            if target is not None:
                target = max(target, placed + 1)
        if target is None or target >= len(lines):
            after.append(c)
            continue
        following = lines[target]
        depth = following.depth if following.comment_depth is None else following.comment_depth
        comment_line = _Line("#" + c.text, at, at, depth=depth, is_comment=True)
        lines.insert(target, comment_line)
        placed = target
    return after


def _blank_between(entries: list[_Entry], i: int) -> bool:
    before, entry = entries[i - 1], entries[i]
    if entry.first - before.last > 1:
        return True
    if before.multi_line:
        return True
    if before.is_comment:
        return False  # a comment directly above a declaration stays with it
    return _opens_multi_line_group(entries, i)


def _opens_multi_line_group(entries: list[_Entry], i: int) -> bool:
    """True when entry i is a multi-line declaration, or comments directly above one."""
    while entries[i].is_comment:
        if i + 1 >= len(entries) or entries[i + 1].first - entries[i].last > 1:
            return False
        i += 1
    return entries[i].multi_line


# ---------------------------------------------------------------- pieces, for reports that quote a declaration


def format_clause(clause) -> str:
    """One clause (by, because, where, award, cap, …) in its canonical text."""
    return _clause(clause)


def format_field(f: n.Field) -> str:
    """One field of a subject or event schema, as `name: type? in low..high protected`."""
    return _field(f)


def format_aggregate(a: n.Aggregate) -> str:
    """What a measure aggregates, as written after `measure NAME =`."""
    return _aggregate(a)


def format_param_value(value) -> str:
    """A param's literal, as written after `param NAME =`."""
    return _param_value(value)


def format_property_body(body) -> str:
    """A property's law, as written after its `:`."""
    return _property_body(body)


def format_decl(d) -> str:
    """One declaration in the canonical layout, without comments or a final line end."""
    return "\n".join(_render(line) for line in _Layout(spread=False).decl(d))

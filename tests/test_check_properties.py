"""Laws of the checker, with rule sets generated well-typed by construction.

A generated rule set (authors, one subject kind, events with typed and ranged
fields, rules whose `where`/`award` come from typed expression generators,
measures, scores, tiers, privileges, a test and properties) must check with no
error. The same rule set with one fault injected must fail with the fault's
code at the fault's span.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from whuffie.checker import check
from whuffie.diagnostics import CODES
from whuffie.frontend import load_text
from whuffie.parser import parse

Pieces = list[tuple[str, str | None]]

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def piece(text: str, tag: str | None = None) -> Pieces:
    return [(text, tag)]


@dataclass
class Field:
    name: str
    type: str
    low: int | None = None
    high: int | None = None
    optional: bool = False

    def decl(self) -> str:
        rng = f" in {self.low}..{self.high}" if self.low is not None else ""
        return f"{self.name}: {self.type}{'?' if self.optional else ''}{rng}"


@dataclass
class Env:
    """What a rule's expressions may read: its event's fields and the subject's attributes."""

    fields: list[Field]
    numbers: list[Pieces] = field(default_factory=list)

    def __post_init__(self) -> None:
        for f in self.fields:
            if f.type in ("int", "number"):
                read = piece(f.name, "field")
                self.numbers.append(piece("(") + read + piece(" ?? 0)") if f.optional else read)
        self.numbers.append(piece("member.level", "attr"))

    def of_type(self, t: str) -> list[Field]:
        return [f for f in self.fields if f.type == t]


# ---------------------------------------------------------------- typed expressions


@st.composite
def num_expr(draw, env: Env, depth: int = 2) -> Pieces:
    kinds = ["lit", "read", "read"]
    if depth > 0:
        kinds += ["arith", "arith", "minmax", "if", "abs", "clamp", "round", "def"]
    kind = draw(st.sampled_from(kinds))
    sub = lambda: draw(num_expr(env, depth - 1))  # noqa: E731
    if kind == "lit":
        return piece(str(draw(st.integers(0, 40))))
    if kind == "read":
        return list(draw(st.sampled_from(env.numbers)))
    if kind == "arith":
        op = draw(st.sampled_from(["+", "-", "*"]))
        return piece("(") + sub() + piece(f" {op} ") + sub() + piece(")")
    if kind == "minmax":
        return piece(draw(st.sampled_from(["min(", "max("]))) + sub() + piece(", ") + sub() + piece(")")
    if kind == "if":
        return piece("(if ") + draw(bool_expr(env, depth - 1)) + piece(" then ") + sub() + piece(" else ") \
            + sub() + piece(")")
    if kind == "abs":
        return piece("abs(") + sub() + piece(")")
    if kind == "clamp":
        return piece("clamp(") + sub() + piece(", 0, 100)")
    if kind == "round":
        return piece(draw(st.sampled_from(["round(", "floor(", "ceil("]))) + sub() + piece(")")
    if draw(st.booleans()):
        return piece("bonus(") + sub() + piece(")")
    return piece("ratio_or(") + sub() + piece(", ") + sub() + piece(", 0)")  # from std/math


@st.composite
def bool_expr(draw, env: Env, depth: int = 2) -> Pieces:
    kinds = ["cmp", "cmp", "date", "at"]
    if env.of_type("bool"):
        kinds.append("flag")
    if env.of_type("text"):
        kinds.append("text")
    if any(f.type == "int" and not f.optional for f in env.fields):
        kinds.append("in")
    if depth > 0:
        kinds += ["not", "andor", "andor"]
    kind = draw(st.sampled_from(kinds))
    if kind == "cmp":
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
        return draw(num_expr(env, max(depth - 1, 0))) + piece(f" {op} ") + \
            piece(str(draw(st.integers(0, 40))), "rlit")
    if kind == "date":
        return piece(f"now - member.joined >= {draw(st.integers(1, 400))} days")
    if kind == "at":
        return piece("event.at <= now")
    if kind == "flag":
        return piece(draw(st.sampled_from(env.of_type("bool"))).name, "field")
    if kind == "text":
        f = draw(st.sampled_from(env.of_type("text")))
        read = piece("(") + piece(f.name, "field") + piece(' ?? "")') if f.optional else piece(f.name, "field")
        return read + piece(f' == "{draw(st.sampled_from(["a", "b", "north"]))}"')
    if kind == "in":
        f = draw(st.sampled_from([f for f in env.fields if f.type == "int" and not f.optional]))
        return piece(f.name, "field") + piece(" in [1, 2, 3]")
    if kind == "not":
        return piece("not (") + draw(bool_expr(env, depth - 1)) + piece(")")
    op = draw(st.sampled_from(["and", "or"]))
    return piece("(") + draw(bool_expr(env, depth - 1)) + piece(f" {op} ") + draw(bool_expr(env, depth - 1)) \
        + piece(")")


# ---------------------------------------------------------------- rule sets


@st.composite
def field_decl(draw, prefix: str, i: int) -> Field:
    t = draw(st.sampled_from(["int", "int", "number", "bool", "text"]))
    name = f"{prefix}_{'abcdefgh'[i]}"
    if t in ("int", "number") and draw(st.booleans()):
        low = draw(st.integers(0, 5))
        return Field(name, t, low, low + draw(st.integers(1, 100)))
    return Field(name, t, optional=t != "bool" and draw(st.booleans()))


@st.composite
def rule_sets(draw):
    """A well-typed rule file, as lines of pieces (tags mark where faults can go)."""
    authors = [f"author{i}" for i in range(draw(st.integers(1, 3)))]
    events = []
    for e in range(draw(st.integers(1, 3))):
        fields = [draw(field_decl(f"e{e}", i)) for i in range(draw(st.integers(1, 4)))]
        events.append((f"ev{e}", fields))
    lines: list[Pieces] = [piece('ruleset generated "Generated"'), piece('timezone "Europe/London"'),
                           piece('import "std/math"')]
    lines += [piece(f'author {a} "{a.title()}"') for a in authors]
    lines.append(piece("subject member { joined: date, level: int in 0..10, age: int protected }"))
    for name, fields in events:
        lines.append(piece(f"event {name} {{ " + ", ".join(f.decl() for f in fields) + " }"))
    lines.append(piece("def bonus(x: number): number = clamp(x, 0, 50) / 2"))
    rules = []
    for r in range(draw(st.integers(1, 6))):
        event, fields = draw(st.sampled_from(events))
        env = Env(fields)
        author = draw(st.sampled_from(authors))
        line = piece("rule ") + piece(f"rule{r}", "name") + piece(" ") + piece("by ", "by") \
            + piece(author, "author") + piece(f' because "Reason {r}" on {event}')
        if draw(st.booleans()):
            line += piece(" where ") + draw(bool_expr(env))
        line += piece(" award ") + draw(num_expr(env))
        extra = draw(st.sampled_from(["", " cap 20 per month", " once per year", " decay half_life 90 days"]))
        lines.append(line + piece(extra))
        rules.append(f"rule{r}")
    owner = authors[0]
    event, fields = events[0]
    numeric = [f for f in fields if f.type in ("int", "number") and not f.optional]
    lines.append(piece(f"measure how_many = count {event} within 30 days"))
    if numeric:
        lines.append(piece(f"measure total = sum {event}.{numeric[0].name}"))
        lines.append(piece(f"measure best = max {event}.{numeric[0].name} default 0"))
    lines.append(piece(f"shared cap together 50 per day over {', '.join(rules)} by {owner}"))
    start = draw(st.integers(0, 100))
    lines.append(piece(f"score standing = {start} + points floor 0 per event"))
    extra = " + total + best" if numeric else ""
    lines.append(piece(f"score overall = standing + how_many + points({rules[0]}){extra}"))
    thresholds = sorted(draw(st.lists(st.integers(1, 300), min_size=1, max_size=3, unique=True)), reverse=True)
    for i, t in enumerate(thresholds):
        lines.append(piece(f"tier level{i} when overall >= {t} and how_many >= 0 by {owner}"))
    lines.append(piece(f"tier lowest otherwise by {owner}"))
    lines.append(piece(f"privilege keys when tier >= level{len(thresholds) - 1} by {owner}"))
    lines.append(piece(f"privilege doors when keys or standing > 10 by {owner}"))
    values = ", ".join(f"{f.name}: {sample_value(f)}" for f in fields if not f.optional or draw(st.booleans()))
    lines.append(piece('test "generated" {'))
    lines.append(piece("  member m { joined: 2024-01-01, level: 3, age: 40 }"))
    lines.append(piece(f"  at 2026-01-10T10:00:00Z m {event} {{ {values} }}"))
    lines.append(piece("  expect overall of m >= 0 and (tier of m == lowest or not doors of m)"))
    lines.append(piece("}"))
    lines.append(piece(f'property "bounded" by {owner}: always standing >= 0'))
    lines.append(piece(f'property "fair" by {owner}: independent of member.age'))
    lines.append(piece(f'property "no farming" by {owner}: gain per day <= 1000 for overall'))
    return lines


def sample_value(f: Field) -> str:
    if f.type == "bool":
        return "true"
    if f.type == "text":
        return '"x"'
    return str(f.low if f.low is not None else 1) + (".5" if f.type == "number" else "")


def render(lines: list[Pieces]) -> tuple[str, list[tuple[int, int, int, str, int]]]:
    """The text, and every tagged piece as (line, col, end_col, tag, index into lines)."""
    out, tagged = [], []
    for number, line in enumerate(lines, 1):
        col = 1
        text = ""
        for i, (chunk, tag) in enumerate(line):
            if tag:
                tagged.append((number, col, col + len(chunk), tag, i))
            text += chunk
            col += len(chunk)
        out.append(text)
    return "\n".join(out) + "\n", tagged


def errors(text: str):
    return [d for d in load_text(text, "gen.whuf").diagnostics if d.is_error]


@SETTINGS
@given(rule_sets())
def test_well_typed_rule_sets_check_without_errors(lines) -> None:
    text, _ = render(lines)
    found = errors(text)
    assert found == [], text + "\n" + "\n".join(f"{d.span} {d.code} {d.message}" for d in found)


FAULTS = {
    "field": ("W010", lambda chunk: chunk + "_zz"),    # a renamed field reference
    "rlit": ("W020", lambda chunk: f'"{chunk}"'),      # a number swapped for text
    "by": ("W030", None),                              # a removed `by`
    "author": ("W013", lambda chunk: "nobody_known"),  # an unknown author
    "attr": ("W040", lambda chunk: "member.age"),      # a protected attribute read by a rule
}


@SETTINGS
@given(rule_sets(), st.sampled_from(sorted(FAULTS)), st.data())
def test_one_injected_fault_is_reported_at_its_span(lines, fault, data) -> None:
    _, tagged = render(lines)
    sites = [t for t in tagged if t[3] == fault]
    if not sites:
        return
    line, col, end_col, tag, index = data.draw(st.sampled_from(sites))
    code, change = FAULTS[fault]
    broken = [list(x) for x in lines]
    chunk, _ = broken[line - 1][index]
    if change is None:
        # removing `by AUTHOR`: the fault is reported at the rule's name
        name = next(t for t in tagged if t[0] == line and t[3] == "name")
        broken[line - 1][index] = ("", None)
        broken[line - 1][index + 1] = ("", None)
        line, col, end_col = name[0], name[1], name[2]
    else:
        new = change(chunk)
        broken[line - 1][index] = (new, None)
        end_col = col + len(new)
    text, _ = render(broken)
    found = errors(text)
    hits = [d for d in found if d.code == code and (d.span.line, d.span.col, d.span.end_col) == (line, col, end_col)]
    assert hits, text + "\n" + "\n".join(f"{d.span}-{d.span.end_col} {d.code} {d.message}" for d in found)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_sets(), st.data())
def test_checker_never_crashes_on_a_damaged_rule_set(lines, data) -> None:
    text, _ = render(lines)
    words = text.split(" ")
    start = data.draw(st.integers(0, len(words) - 1))
    length = data.draw(st.integers(1, 3))
    damaged = " ".join(words[:start] + words[start + length:])
    result = parse(damaged, "gen.whuf")
    if result.program is None or not result.ok:
        return
    for d in check(result.program).diagnostics:
        assert d.code in CODES and d.span.line >= 1, d

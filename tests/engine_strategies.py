"""Shared Hypothesis strategies for the engine tests: well-typed rule sets and histories for them.

The typed expression generators follow tests/test_check_properties.py (copied,
not imported, so that file's owner can change it freely), widened to the
constructs whose evaluation differs between engines: own caps in every window,
shared caps, `once` per window, floors and ceilings, decay, every measure kind
with `where` and `within`, scores reading scores, tiers and privileges.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from hypothesis import strategies as st

WINDOWS = ["day", "week", "month", "year"]
# Spans the change to summer time in Europe/London and a new year, so windows are tested in local time.
BASE = dt.datetime(2025, 12, 20, tzinfo=dt.timezone.utc)


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
    fields: list[Field]
    numbers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for f in self.fields:
            if f.type in ("int", "number"):
                self.numbers.append(f"({f.name} ?? 0)" if f.optional else f.name)
        self.numbers.append("member.level")

    def of_type(self, t: str) -> list[Field]:
        return [f for f in self.fields if f.type == t]


@st.composite
def num_expr(draw, env: Env, depth: int = 2) -> str:
    kinds = ["lit", "read", "read"]
    if depth > 0:
        kinds += ["arith", "arith", "minmax", "if", "abs", "clamp", "round", "def"]
    kind = draw(st.sampled_from(kinds))
    sub = lambda: draw(num_expr(env, depth - 1))  # noqa: E731
    if kind == "lit":
        return str(draw(st.one_of(st.integers(0, 40), st.sampled_from([0.5, 2.25]))))
    if kind == "read":
        return draw(st.sampled_from(env.numbers))
    if kind == "arith":
        return f"({sub()} {draw(st.sampled_from(['+', '-', '*']))} {sub()})"
    if kind == "minmax":
        return f"{draw(st.sampled_from(['min', 'max']))}({sub()}, {sub()})"
    if kind == "if":
        return f"(if {draw(bool_expr(env, depth - 1))} then {sub()} else {sub()})"
    if kind == "abs":
        return f"abs({sub()})"
    if kind == "clamp":
        return f"clamp({sub()}, 0, 100)"
    if kind == "round":
        return f"{draw(st.sampled_from(['round', 'floor', 'ceil']))}({sub()})"
    if draw(st.booleans()):
        return f"bonus({sub()})"
    return f"ratio_or({sub()}, {sub()}, 0)"  # from std/math


@st.composite
def bool_expr(draw, env: Env, depth: int = 2) -> str:
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
        return f"{draw(num_expr(env, max(depth - 1, 0)))} {op} {draw(st.integers(0, 40))}"
    if kind == "date":
        return f"now - member.joined >= {draw(st.integers(1, 400))} days"
    if kind == "at":
        return f"event.at <= now - {draw(st.integers(0, 30))} days"
    if kind == "flag":
        return draw(st.sampled_from(env.of_type("bool"))).name
    if kind == "text":
        f = draw(st.sampled_from(env.of_type("text")))
        read = f'({f.name} ?? "")' if f.optional else f.name
        return f'{read} == "{draw(st.sampled_from(["a", "b"]))}"'
    if kind == "in":
        f = draw(st.sampled_from([f for f in env.fields if f.type == "int" and not f.optional]))
        return f"{f.name} {draw(st.sampled_from(['in', 'not in']))} [1, 2, 3]"
    if kind == "not":
        return f"not ({draw(bool_expr(env, depth - 1))})"
    return f"({draw(bool_expr(env, depth - 1))} {draw(st.sampled_from(['and', 'or']))} {draw(bool_expr(env, depth - 1))})"


@st.composite
def field_decl(draw, prefix: str, i: int) -> Field:
    t = draw(st.sampled_from(["int", "int", "number", "bool", "text"]))
    name = f"{prefix}_{'abcdefgh'[i]}"
    if t in ("int", "number") and draw(st.booleans()):
        low = draw(st.integers(0, 5))
        return Field(name, t, low, low + draw(st.integers(1, 60)))
    return Field(name, t, optional=t != "bool" and draw(st.booleans()))


@dataclass
class Generated:
    """A rule file and what a history for it needs to know."""

    text: str
    events: list[tuple[str, list[Field]]]


@st.composite
def rule_sets(draw) -> Generated:
    """A well-typed rule file that exercises every step of the rule pipeline."""
    events = []
    for e in range(draw(st.integers(1, 3))):
        fields = [draw(field_decl(f"e{e}", i)) for i in range(draw(st.integers(1, 3)))]
        events.append((f"ev{e}", fields))
    lines = ['ruleset generated "Generated"', f'timezone "{draw(st.sampled_from(["Europe/London", "UTC"]))}"',
             'import "std/math"', 'author ada "Ada"', 'author ben "Ben"',
             "subject member { joined: date, level: int in 0..10, age: int protected }"]
    for name, fields in events:
        lines.append(f"event {name} {{ " + ", ".join(f.decl() for f in fields) + " }")
    lines.append("def bonus(x: number): number = clamp(x, 0, 50) / 2")
    rules = []
    for r in range(draw(st.integers(1, 6))):
        event, fields = draw(st.sampled_from(events))
        env = Env(fields)
        line = f'rule rule{r} by {draw(st.sampled_from(["ada", "ben"]))} because "Reason {r}" on {event}'
        if draw(st.booleans()):
            line += f" where {draw(bool_expr(env))}"
        line += f" award {draw(num_expr(env))}"
        if draw(st.integers(0, 3)) == 0:
            line += " once" + draw(st.sampled_from(["", *[f" per {w}" for w in WINDOWS]]))
        for _ in range(draw(st.integers(0, 2))):
            amount = draw(st.integers(0, 60))
            line += f" cap {amount} " + draw(st.sampled_from(["total", *[f"per {w}" for w in WINDOWS]]))
        if draw(st.integers(0, 3)) == 0:
            line += f" decay half_life {draw(st.integers(1, 90))} days"
        lines.append(line)
        rules.append(f"rule{r}")
    for s in range(draw(st.integers(0, 2))):
        members = draw(st.lists(st.sampled_from(rules), min_size=1, max_size=len(rules), unique=True))
        window = draw(st.sampled_from(["total", *[f"per {w}" for w in WINDOWS]]))
        lines.append(f"shared cap together{s} {draw(st.integers(0, 80))} {window} over {', '.join(members)} by ada")
    event, fields = events[0]
    env = Env(fields)
    numeric = [f for f in fields if f.type in ("int", "number")]
    within = draw(st.sampled_from(["", " within 30 days", " within 400 days"]))
    where = f" where {draw(bool_expr(env, 1))}" if draw(st.booleans()) else ""
    lines.append(f"measure how_many = count {event}{where}{within}")
    lines.append(f"measure days_seen = count distinct days of {events[-1][0]}{within}")
    extra = ""
    if numeric:
        f = numeric[0]
        lines.append(f"measure total = sum {event}.{f.name}{within}")
        lines.append(f"measure best = max {event}.{f.name} default 0")
        lines.append(f"measure least = min {event}.{f.name}{where} default 0")
        lines.append(f"measure mean = avg {event}.{f.name} default 0")
        lines.append(f"measure kinds = count distinct {event}.{f.name}")
        extra = " + total + best - least + mean + kinds"
    bound = draw(st.sampled_from(["", "floor", "ceiling"]))
    start = draw(st.integers(0, 100))
    if bound == "floor":
        lines.append(f"score standing = {start} + points floor {draw(st.integers(0, start))} per event")
    elif bound == "ceiling":
        lines.append(f"score standing = points + {start} ceiling {start + draw(st.integers(0, 100))} per event")
    else:
        lines.append(f"score standing = {start} + points")
    lines.append(f"score overall = standing + how_many + days_seen + points({rules[0]}){extra}")
    thresholds = sorted(draw(st.lists(st.integers(1, 300), min_size=1, max_size=3, unique=True)), reverse=True)
    for i, t in enumerate(thresholds):
        lines.append(f"tier level{i} when overall >= {t} and how_many >= 0 by ada")
    last = f"level{len(thresholds) - 1}"
    if draw(st.booleans()):
        lines.append("tier lowest otherwise by ada")
        lines.append(f"privilege keys when tier >= {last} by ada")
    else:  # without `otherwise` a subject may have no tier
        lines.append(f"privilege keys when (tier ?? {last}) >= {last} by ada")
    lines.append("privilege doors when keys or standing > 10 by ada")
    return Generated("\n".join(lines) + "\n", events)


def _value(draw, f: Field):
    if f.type == "bool":
        return draw(st.booleans())
    if f.type == "text":
        return draw(st.sampled_from(["a", "b", "c"]))
    low, high = (f.low, f.high) if f.low is not None else (-5, 40)
    if f.type == "number" and draw(st.booleans()):
        return draw(st.integers(low * 4, high * 4)) / 4
    return draw(st.integers(low, high))


@st.composite
def histories(draw, generated: Generated, max_size: int = 40) -> tuple[str, str]:
    """Events (JSONL, unsorted, with ties) and subjects (JSONL) for a generated rule set."""
    count = draw(st.integers(0, max_size))
    lines = []
    minutes = draw(st.lists(st.integers(0, 60 * 24 * 120), min_size=1, max_size=6))  # reused: ties
    for i in range(count):
        event, fields = draw(st.sampled_from(generated.events))
        at = BASE + dt.timedelta(minutes=draw(st.sampled_from(minutes)) + draw(st.sampled_from([0, 0, 7, 1440])))
        record = {"subject": draw(st.sampled_from(["s1", "s2", "s3"])), "type": event, "at": at.isoformat()}
        if draw(st.booleans()):
            record["id"] = f"e{i}"
        for f in fields:
            if f.optional and draw(st.booleans()):
                continue
            record[f.name] = _value(draw, f)
        lines.append(json.dumps(record))
    subjects = []
    for sid in ("s1", "s2", "s3", "s4"):
        joined = dt.date(2025, 1, 1) + dt.timedelta(days=draw(st.integers(0, 400)))
        subjects.append(json.dumps({"id": sid, "joined": joined.isoformat(), "level": draw(st.integers(0, 10)),
                                    "age": 30}))
    return "".join(x + "\n" for x in lines), "".join(x + "\n" for x in subjects)

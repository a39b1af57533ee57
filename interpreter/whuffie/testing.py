"""Hypothesis strategies for whuffie: subjects, events and whole histories generated from a checked ruleset.

Public: ``subjects(ruleset)``, ``events(ruleset, type)``, ``histories(ruleset)``
and the ``History`` they build. Everything is generated from the declared
schema: the subject kind's attributes and every event type's fields, in their
declared types and ranges.

Shrinking is designed for readable counterexamples: times shrink towards one
base instant (``BASE``, a Monday 09:00 in the ruleset's timezone), numbers
towards 0 (or the end of their range nearest 0) and to whole numbers, text
towards "", optional values towards none, bursts towards fewer events, and
histories towards fewer subjects and events.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from . import nodes as n
from .inputs import Event
from .symbols import Ruleset

UTC = dt.timezone.utc

# A Monday, so that day, week, month and year windows all start at or before it.
BASE_LOCAL = dt.datetime(2026, 3, 2, 9, 0)
SPAN_DAYS = 120
SUBJECT_IDS = ("s1", "s2", "s3", "s4")
MAX_BURST = 40
MAX_EPISODES = 8
WORDS = "abcxyz"


# ---------------------------------------------------------------- histories


@dataclass(frozen=True)
class History:
    """Subjects (id -> attributes), events in input order (sorted by time) and the as-of instant."""

    subjects: dict[str, dict]
    events: tuple[Event, ...]
    as_of: dt.datetime
    timezone: str = "UTC"
    name: str = "history.jsonl"
    kind_fields: tuple[n.Field, ...] = field(default=(), compare=False, repr=False)

    def events_of(self, subject: str) -> list[Event]:
        """The events of one subject, in input order."""
        return [e for e in self.events if e.subject == subject]

    def with_events(self, events, as_of: dt.datetime | None = None) -> "History":
        """The same subjects with other events (renumbered; as-of defaults to the latest event)."""
        return _assemble(self.subjects, list(events), self.timezone, self.name, self.kind_fields, as_of)

    def with_subjects(self, subjects: dict[str, dict]) -> "History":
        """The same events with other subject attributes."""
        return replace(self, subjects=subjects)

    def renamed(self, name: str) -> "History":
        """The same history as if read from a file called ``name`` (event lines name it)."""
        return _assemble(self.subjects, list(self.events), self.timezone, name, self.kind_fields, self.as_of)

    @property
    def latest(self) -> dt.datetime | None:
        """The time of the latest event, or None without events."""
        return max((e.at for e in self.events), default=None)

    def events_jsonl(self) -> str:
        """The events as JSONL, one line per event, readable by ``whuffie score``/``explain``."""
        lines = []
        for e in self.events:
            record = {"subject": e.subject, "type": e.type, "at": iso(e.at), "id": e.id}
            record.update({k: json_value(v) for k, v in e.fields.items()})
            lines.append(json.dumps(record, ensure_ascii=False))
        return "".join(line + "\n" for line in lines)

    def subjects_jsonl(self) -> str:
        """The subjects as JSONL (``--subjects``), one line per subject."""
        lines = []
        for sid, attrs in self.subjects.items():
            record = {"id": sid}
            record.update({k: json_value(v) for k, v in attrs.items()})
            lines.append(json.dumps(record, ensure_ascii=False))
        return "".join(line + "\n" for line in lines)


def iso(at: dt.datetime) -> str:
    """An instant as ISO 8601 in UTC with a Z (whole seconds when possible)."""
    at = at.astimezone(UTC)
    text = at.strftime("%Y-%m-%dT%H:%M:%S")
    if at.microsecond:
        text += f".{at.microsecond:06d}".rstrip("0")
    return text + "Z"


def json_value(value):
    """A field or attribute value as the input readers accept it."""
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
        return int(seconds) if seconds.is_integer() else seconds
    return value


def base_instant(timezone: str) -> dt.datetime:
    """The instant generated times shrink towards: BASE_LOCAL in the ruleset's timezone."""
    return BASE_LOCAL.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def _local_time(timezone: str, days: int, minutes: int) -> dt.datetime:
    # Wall-clock arithmetic, so "day 3, minute 0" is 09:00 local whatever the offset that day.
    local = BASE_LOCAL.replace(tzinfo=ZoneInfo(timezone)) + dt.timedelta(days=days, minutes=minutes)
    return local.astimezone(UTC)


def _assemble(subjects: dict[str, dict], events: list[Event], timezone: str, name: str,
              kind_fields: tuple, as_of: dt.datetime | None = None) -> History:
    """Sort events by time (stable), number them e1, e2, … and fix the as-of."""
    ordered = sorted(events, key=lambda e: e.at)
    renumbered = tuple(
        Event(e.subject, e.type, e.at, f"e{i}", f"{name}:{i}", i - 1, dict(e.fields))
        for i, e in enumerate(ordered, 1))
    if as_of is None:
        as_of = max((e.at for e in renumbered), default=base_instant(timezone))
    return History(dict(subjects), renumbered, as_of, timezone, name, kind_fields)


# ---------------------------------------------------------------- values


def _hundredths(low: float, high: float):
    lo, hi = math.ceil(low * 100), math.floor(high * 100)
    if lo > hi:
        return st.just(low)
    return st.integers(lo, hi).map(lambda k: k / 100)


def value_strategy(f: n.Field, timezone: str = "UTC", texts: tuple[str, ...] = (), numbers: tuple = ()):
    """Values of one declared field or attribute (within its range; none first when optional)."""
    kind = f.type.name
    low = f.range.low if f.range is not None else None
    high = f.range.high if f.range is not None else None
    if kind == "int":
        lo = math.ceil(low) if low is not None else -1000
        hi = math.floor(high) if high is not None else 1000
        near = [int(x) for x in numbers if float(x).is_integer() and lo <= x <= hi]
        base = st.one_of(st.integers(lo, hi), *([st.sampled_from(near)] if near else []))
    elif kind == "number":
        lo = low if low is not None else -1000
        hi = high if high is not None else 1000
        whole = st.integers(math.ceil(lo), math.floor(hi)) if math.ceil(lo) <= math.floor(hi) else st.nothing()
        near = [x for x in numbers if lo <= x <= hi]
        base = st.one_of(whole, _hundredths(lo, hi), *([st.sampled_from(near)] if near else []))
    elif kind == "bool":
        base = st.booleans()
    elif kind == "text" and f.choices is not None:  # an enumerated field holds only its values
        base = st.sampled_from(f.choices.values)
    elif kind == "text":
        # Text the rules compare with comes first: made-up words rarely meet a condition.
        base = st.one_of(*([st.sampled_from(texts)] if texts else []), st.text(alphabet=WORDS, max_size=4))
    elif kind == "date":
        today = BASE_LOCAL.date()
        base = st.integers(0, 3650).map(lambda k: today - dt.timedelta(days=k))
    elif kind == "datetime":
        start = base_instant(timezone)
        base = st.integers(0, 3650 * 24).map(lambda h: start - dt.timedelta(hours=h))
    elif kind == "duration":
        base = st.integers(0, 60 * 24 * 365).map(lambda m: dt.timedelta(minutes=m))
    else:
        base = st.nothing()
    return st.one_of(st.none(), base) if f.optional else base


def _literals(ruleset: Ruleset, kind: type) -> list:
    found: list = []
    stack: list = []
    for table in (ruleset.rules, ruleset.measures, ruleset.scores, ruleset.tiers, ruleset.privileges,
                  ruleset.defs):
        stack.extend(reversed(list(table.values())))
    while stack:
        node = stack.pop()
        if isinstance(node, kind) and not isinstance(node.value, bool) and node.value not in found:
            found.append(node.value)
            continue
        stack.extend(reversed(n.children(node)))
    return found


def number_literals(ruleset: Ruleset) -> tuple[float, ...]:
    """Every number literal of the rules, measures, scores, tiers and privileges, and its neighbours ±1.

    Number fields sometimes draw from these, so that thresholds such as
    ``hours > 8`` are met on both sides.
    """
    values = set()
    for v in _literals(ruleset, n.Number):
        values.update((v - 1, v, v + 1))
    return tuple(sorted(values))


def text_literals(ruleset: Ruleset) -> tuple[str, ...]:
    """Every string literal the rules, measures, scores, tiers and privileges compare with, in order.

    Text fields and attributes draw from these as well as from short made-up
    words, so that a condition such as ``member.region == "north"`` is
    actually exercised.
    """
    return tuple(_literals(ruleset, n.String))


def _record(fields, timezone: str, texts: tuple[str, ...] = (), numbers: tuple = ()):
    return st.fixed_dictionaries({f.name: value_strategy(f, timezone, texts, numbers) for f in fields})


def attributes(ruleset: Ruleset):
    """Attribute dicts of one subject of the ruleset's subject kind."""
    kind = ruleset.subject_kind
    return _record(kind.fields if kind else (), ruleset.timezone, text_literals(ruleset), number_literals(ruleset))


def subjects(ruleset: Ruleset, max_subjects: int = 3):
    """Dicts subject id -> attributes, with 1 to ``max_subjects`` subjects named s1, s2, …."""
    max_subjects = max(1, min(max_subjects, len(SUBJECT_IDS)))

    @st.composite
    def build(draw):
        count = draw(st.integers(1, max_subjects))
        return {sid: draw(attributes(ruleset)) for sid in SUBJECT_IDS[:count]}

    return build()


def fields(ruleset: Ruleset, type: str, texts: tuple[str, ...] = ()):
    """Field dicts of one event type (text drawn also from ``texts``)."""
    return _record(ruleset.events[type].fields, ruleset.timezone, texts, number_literals(ruleset))


def _time(ruleset: Ruleset):
    return st.tuples(st.integers(0, SPAN_DAYS), st.integers(0, 24 * 60 - 1))


def events(ruleset: Ruleset, type: str, subject: str = "s1"):
    """Single events of one type for one subject, at a time within the span after BASE."""
    if type not in ruleset.events:
        raise KeyError(f"no event type {type!r} in ruleset {ruleset.name}")

    values_of = fields(ruleset, type, text_literals(ruleset) + SUBJECT_IDS)

    @st.composite
    def build(draw):
        days, minutes = draw(_time(ruleset))
        values = draw(values_of)
        at = _local_time(ruleset.timezone, days, minutes)
        return Event(subject, type, at, "e0", "history.jsonl:0", 0, values)

    return build()


def histories(ruleset: Ruleset, max_subjects: int = 3, max_episodes: int = MAX_EPISODES,
              max_burst: int = MAX_BURST, types: tuple[str, ...] | None = None):
    """Whole histories: a few subjects, and episodes that are single events or bursts in one day.

    A burst is up to ``max_burst`` events of one type, one subject and one set
    of fields, a minute apart: the way people farm a scoring system.
    """
    from .roles import SEPARATOR, roles_of

    # a role event is drawn as each role's own event (`voted as voter`), the role's id its subject's
    with_roles = roles_of(ruleset)
    types = tuple(types if types is not None else (t for t in ruleset.events if t not in with_roles))
    literals = text_literals(ruleset)

    max_subjects = max(1, min(max_subjects, len(SUBJECT_IDS)))
    ids = SUBJECT_IDS[:max_subjects]
    field_values = {t: fields(ruleset, t, literals + ids) for t in types}
    attribute_values = attributes(ruleset)
    kinds = st.sampled_from(types) if types else None
    episode_count = st.integers(0, max_episodes)
    subject_index = st.integers(0, max_subjects - 1)
    times = _time(ruleset)
    burst_size = st.one_of(st.just(1), st.integers(2, max(2, max_burst)))
    subject_count = st.integers(1, max_subjects)

    @st.composite
    def build(draw):
        produced: list[Event] = []
        needed = 0
        if kinds is not None:
            for _ in range(draw(episode_count)):
                # Subjects are drawn by index, so that shrinking moves every event to s1.
                index = draw(subject_index)
                needed = max(needed, index + 1)
                etype = draw(kinds)
                days, minutes = draw(times)
                values = draw(field_values[etype])
                if SEPARATOR in etype:
                    values = {**values, etype.split(SEPARATOR, 1)[1]: ids[index]}
                size = draw(burst_size)
                for i in range(size):
                    at = _local_time(ruleset.timezone, days, minutes + i)
                    produced.append(Event(ids[index], etype, at, "", "", 0, values))
        # Subjects without events (the quiet ones) come on top of those the events need.
        total = max(needed, draw(subject_count))
        people = {sid: draw(attribute_values) for sid in ids[:total]}
        kind = ruleset.subject_kind
        return _assemble(people, produced, ruleset.timezone, "history.jsonl", kind.fields if kind else ())

    return build()

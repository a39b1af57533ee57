"""Input loading: events and subjects from JSONL or CSV, validated against the schema.

Entry points: ``load_events(path, ruleset)`` and ``load_subjects(path, ruleset)``.
A bad line never stops reading: every problem is collected as a ``Reject``
(file:line, the message, the line verbatim), so the caller can report all of
them at once or write them to a rejects file. A file none of whose rows can be
read (a CSV header without a required column, a FIFO) raises DataError with
code W080 instead. Turning files into rows is datafiles.py's part.

CSV layout: events have the columns ``subject, type, at, id`` (``id`` may be
left empty or left out) and then any field of any event type; a field left
empty is absent. Subjects have ``id`` and then the attributes. CSV values are
parsed by the field's declared type (``true``/``false`` for bool).
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import gc
import itertools
import json
import math
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec

from . import fastlines
from . import nodes as n
from .datafiles import DataError, check_header, is_csv, is_stdin, limited, open_input, rows, sniff, split_end
from .columns import PLAIN, ColumnMap
from .symbols import Ruleset

EVENT_KEYS = ("subject", "type", "at", "id")


class Event(msgspec.Struct, gc=False):
    """One accepted input event; ``position`` is its place in the input (ties keep input order).

    A msgspec struct rather than a dataclass: built in C, it costs half the
    time and less memory per event, which a log of millions of events feels;
    it holds no cycle, so the cyclic collector need not track it.
    """

    subject: str
    type: str
    at: dt.datetime  # timezone-aware
    id: str
    line: str  # "file:line", for messages and the ledger
    position: int
    fields: dict


class ReadEvent(msgspec.Struct, gc=False):
    """An event as the events reader keeps it: Event's attributes at less memory a line.

    A log of ten million lines is held whole while it is grouped and scored,
    so every byte of an event counts ten million times: the file's name is one
    string for all of its events and the line a number (an int object shared
    with another event's position where the reader can), and "file:line" is
    made only where a message or the ledger reads ``line``; ``id`` is that
    text unless the line gave an id of its own.
    """

    subject: str
    type: str
    at: dt.datetime  # timezone-aware
    given_id: str | None  # the line's own id; None: the id is ``line``
    file: str  # the file's name, as in "file:line"
    number: int  # the line number
    position: int
    fields: dict

    @property
    def line(self) -> str:
        return f"{self.file}:{self.number}"

    @property
    def id(self) -> str:
        given = self.given_id
        return f"{self.file}:{self.number}" if given is None else given


@dataclass(slots=True)
class Reject:
    """A data line that failed validation."""

    where: str  # "file:line"
    message: str
    text: str  # the line verbatim (without its line end)
    end: str = "\n"  # its line end as it was (\r\n in a CRLF file), so the rejects file keeps the bytes

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class Events(list):
    """The accepted events of one file in input order, with the reader's grouping of them by subject.

    ``grouped()`` is that grouping (subject -> its events, in input order)
    while the list still holds what the reader put in it (checked by its
    length), so an engine need not group a million events again; else None.
    """

    __slots__ = ("by_subject", "latest")

    def __init__(self):
        super().__init__()
        self.by_subject: dict[str, list[Event]] = {}
        self.latest: dt.datetime | None = None  # the reader's latest `at`, kept as it reads

    def grouped(self) -> dict[str, list[Event]] | None:
        groups = self.by_subject
        return groups if sum(map(len, groups.values())) == len(self) else None

    def latest_at(self) -> dt.datetime | None:
        """The latest event's time (None for no event): the reader's, while the list holds what it put in."""
        if self.grouped() is not None and (self.latest is not None or not self):
            return self.latest
        return max(map(_AT, self), default=None)


_AT = operator.attrgetter("at")
_FIRST, _SECOND = operator.itemgetter(0), operator.itemgetter(1)


@dataclass
class EventLoad:
    """The accepted events (input order) and the rejected lines of one events file."""

    events: list[Event] = field(default_factory=Events)
    rejects: list[Reject] = field(default_factory=list)
    header: str | None = None  # CSV header, repeated at the top of a rejects file
    header_end: str = "\n"
    read: int = 0
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (file:line, message), W082
    expanded: int = 0  # events beyond one per line: a line of a role event is one event per role
    # line number -> the text id a rejected line names (or an accepted one whose id is its own file:line)
    named_ids: dict[int, str] = field(default_factory=dict)


@dataclass
class SubjectLoad:
    """Subjects by id (attributes as dicts) and the rejected lines."""

    subjects: dict[str, dict] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    header: str | None = None
    header_end: str = "\n"
    read: int = 0
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (file:line, message), W082


@contextlib.contextmanager
def paused_gc():
    """Pause the cyclic garbage collector while building many acyclic objects.

    Loading a million events creates millions of objects and no cycles; each
    collector pass rescans them all, which made loading grow faster than linearly.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# ---------------------------------------------------------------- values


def _describe(value) -> str:
    """A value as a message shows it: JSON-like, control characters escaped, long values shortened."""
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 80 else value[:60] + "…", ensure_ascii=False)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**80:
        return f"an integer of {len(str(abs(value))):,} digits"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "a list"
    return repr(value)


def _expected(f: n.Field) -> str:
    text = f.type.name
    if f.range is not None:
        text += f" in {_num(f.range.low)}..{_num(f.range.high)}"
    if f.choices is not None:
        values = f.choices.values
        shown = ", ".join(_describe(v) for v in values[:8]) + (f", … ({len(values)} values)" if len(values) > 8 else "")
        text += f" in [{shown}]"
    return text


def _num(x) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(seconds?|minutes?|hours?|days?|weeks?)\s*$")


def parse_time(text: str, tz: dt.tzinfo) -> dt.datetime:
    """An ISO 8601 date or datetime; without an offset it is local time in ``tz``."""
    if not isinstance(text, str):
        raise DataError("expected an ISO 8601 datetime")
    try:
        if len(text) == 10:
            d = dt.date.fromisoformat(text)
            value = dt.datetime(d.year, d.month, d.day)
        else:
            value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise DataError("expected an ISO 8601 datetime such as 2026-01-10T09:30:00Z") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    # One zone for every instant: subtracting two datetimes of one ZoneInfo would give
    # wall-clock differences across a DST change.
    try:
        return value.astimezone(dt.timezone.utc)
    except (OverflowError, ValueError):  # e.g. 9999-12-31T23:00:00-05:00 is in year 10000 UTC
        raise DataError(OUT_OF_RANGE) from None


OUT_OF_RANGE = "outside the supported range 0001-01-01..9999-12-31 UTC"


def as_of_instant(text: str, tz: dt.tzinfo, clock: dt.datetime | None = None) -> dt.datetime:
    """An as-of instant as the user writes it: an ISO date or datetime, ``now`` or ``today``.

    ``now`` is the clock (read once, by the caller or here); ``today`` the
    local midnight that began it. Raises DataError, whose message is
    OUT_OF_RANGE for an instant the datetime range cannot hold.
    """
    if text in ("now", "today"):
        clock = (clock or dt.datetime.now(dt.timezone.utc)).astimezone(tz)
        if text == "today":
            clock = clock.replace(hour=0, minute=0, second=0, microsecond=0)
        return clock.astimezone(dt.timezone.utc)
    return parse_time(text, tz)


def convert(value, f: n.Field, tz: dt.tzinfo, from_csv: bool):
    """Check (and for CSV, parse) one value of a declared field; raise DataError if it does not fit."""
    kind = f.type.name
    raw = value
    try:
        if kind == "int":
            if from_csv:
                value = int(value.strip())
            elif isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise ValueError
        elif kind == "number":
            if from_csv:
                value = float(value.strip())
                if value.is_integer() and re.fullmatch(r"\s*-?\d+\s*", raw):
                    value = int(value)
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError
        elif kind == "bool":
            if from_csv:
                low = value.strip().lower()
                if low not in ("true", "false"):
                    raise ValueError
                value = low == "true"
            elif not isinstance(value, bool):
                raise ValueError
        elif kind == "text":
            if not isinstance(value, str):
                raise ValueError
        elif kind == "date":
            if not isinstance(value, str):
                raise ValueError
            value = dt.date.fromisoformat(value.strip())
        elif kind == "datetime":
            try:
                value = parse_time(value.strip() if isinstance(value, str) else value, tz)
            except DataError as exc:
                if str(exc) == OUT_OF_RANGE:
                    raise DataError(f"{_describe(raw)} is {OUT_OF_RANGE}") from None
                raise
        elif kind == "duration":
            # A duration is written as in the language ("30 days") or as seconds.
            if isinstance(value, str):
                m = _DURATION.match(value)
                if m:
                    unit = m.group(2) if m.group(2).endswith("s") else m.group(2) + "s"
                    value = dt.timedelta(seconds=float(m.group(1)) * n.UNIT_SECONDS[unit])
                elif from_csv:
                    value = dt.timedelta(seconds=float(value))
                else:
                    raise ValueError
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                value = dt.timedelta(seconds=value)
            else:
                raise ValueError
        else:  # an unknown type is the checker's business; accept the value as given
            return value
    except DataError as exc:
        if OUT_OF_RANGE in str(exc):
            raise
        raise DataError(f"expected {_expected(f)}, got {_describe(raw)}") from None
    except (ValueError, TypeError, OverflowError):
        raise DataError(f"expected {_expected(f)}, got {_describe(raw)}") from None
    if f.range is not None and not (f.range.low <= value <= f.range.high):
        raise DataError(f"expected {_expected(f)}, got {_describe(raw)}")
    if f.choices is not None and value not in f.choices.values:
        raise DataError(f"expected {_expected(f)}, got {_describe(raw)}{_did_you_mean(value, f.choices.values)}")
    return value


def _did_you_mean(value, choices: tuple[str, ...]) -> str:
    import difflib

    close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.6)
    return f" (did you mean {_describe(close[0])}?)" if close else ""


def _fast_checker(f: n.Field):
    """A quick test for a JSON value of a plain type: the value, or _SLOW to take the careful path."""
    kind, rng = f.type.name, f.range
    lo, hi = (rng.low, rng.high) if rng is not None else (None, None)
    if kind == "int":
        if rng is None:
            return lambda v: v if type(v) is int else _SLOW
        return lambda v: v if type(v) is int and lo <= v <= hi else _SLOW
    if kind == "number":
        if rng is None:
            return lambda v: v if (type(v) is int or (type(v) is float and math.isfinite(v))) else _SLOW
        return lambda v: v if (type(v) is int or type(v) is float) and lo <= v <= hi else _SLOW
    if kind == "bool":
        return lambda v: v if type(v) is bool else _SLOW
    if kind == "text" and f.choices is not None:
        allowed = frozenset(f.choices.values)
        return lambda v: v if type(v) is str and v in allowed else _SLOW
    if kind == "text":
        return lambda v: v if type(v) is str else _SLOW
    return lambda v: _SLOW


_SLOW = object()
_EVENT_KEY_SET = frozenset(EVENT_KEYS)
_BOOL_TEXTS = {"true": True, "false": False}  # convert(text, a bool field, from_csv=True) of each
_NO_TEXTS: dict = {}


def _utc_instant(text: str, tz: dt.tzinfo) -> dt.datetime | None:
    """A time as the quick path reads it (ISO 8601 with a time of day), in UTC; None: read it carefully."""
    if len(text) < 11:
        return None
    try:
        at = dt.datetime.fromisoformat(text)
        return (at.replace(tzinfo=tz) if at.tzinfo is None else at).astimezone(dt.timezone.utc)
    except (ValueError, OverflowError):
        return None


_NO_VALUES: dict = {}  # the values of an event type without fields (shared, never mutated)
FIRST_FIELD = "f0_"  # fastlines' attribute of a struct's first field


def _values_table(spec: fastlines.FastType) -> dict:
    """The first field's value (None: no field) -> the values dict, for a type whose every dict can be shared.

    A type without fields, or with one bool field, has one or two dicts; every
    event shares them (they are never mutated), so a chunk finds its events'
    values with C loops alone. Any other type has an empty table: its lines miss.
    """
    if spec.values is None:
        return {None: _NO_VALUES}
    if len(spec.names) == 1 and spec.repeats:
        return {value: {spec.names[0]: value} for value in (False, True)}
    return {}


def _values_maker(spec: fastlines.FastType, table: dict):
    """struct -> its values dict; one shared dict per distinct bool tuple (never mutated) or for no field."""
    if spec.values is None:
        return lambda item: _NO_VALUES
    names, getter = spec.names, spec.values
    build = (lambda got: {names[0]: got}) if len(names) == 1 else (lambda got: dict(zip(names, got)))
    if not spec.repeats:
        return lambda item: build(getter(item))
    seen: dict = dict(table)

    def shared(item):
        got = getter(item)
        values = seen.get(got)
        if values is None:
            values = seen[got] = build(got)
        return values
    return shared


def _filled(found: list, make) -> list:
    """``found`` with each None replaced by ``make(its index)``: the few misses of a lookup done with map."""
    at = 0
    with contextlib.suppress(ValueError):  # list.index finds the next miss in C
        while True:
            at = found.index(None, at)
            found[at] = make(at)
    return found


def _shared_ints(first: int, position: int, count: int) -> tuple[list[int], list[int]]:
    """The line numbers first.. and the positions position.. of ``count`` events, as shared int objects.

    An int beyond 256 is an object of 32 bytes; a line's number is mostly the
    position of an event a line or so later, so both lists take their ints
    from one range (unless the two are far apart: then each has its own).
    """
    low, high = min(first, position), max(first, position) + count
    if high - low > 2 * count:
        return list(range(first, first + count)), list(range(position, position + count))
    ints = list(range(low, high))
    return ints[first - low:first - low + count], ints[position - low:position - low + count]


def _byte_stream(text) -> tuple[object, bool] | None:
    """(a binary stream of ``text``, whether a byte order mark may lead it), or None when only lines can be had."""
    if isinstance(text, str):
        import io

        try:
            return io.BytesIO(text.encode("utf-8", "surrogateescape")), False
        except UnicodeEncodeError:  # a lone surrogate a str can hold and UTF-8 cannot
            return None
    buffer = getattr(text, "buffer", None)  # the TextIOWrapper of open_input over a file, not read from yet
    named = getattr(buffer, "name", None)
    return (buffer, True) if isinstance(named, str) and not named.startswith("<") else None


def _reject(where: str, message: str, line: str) -> Reject:
    text, end = split_end(line)
    return Reject(where, message, text, end)


# ---------------------------------------------------------------- events


def load_events(path: str | Path, ruleset: Ruleset, subjects: dict[str, dict] | None = None,
                attributes_needed: bool = False, columns: ColumnMap = PLAIN) -> EventLoad:
    """Read and validate an events file (JSONL, or CSV by its .csv suffix).

    When ``attributes_needed`` the rules read subject attributes, so an event
    of a subject missing from ``subjects`` is rejected. ``columns`` says how
    the file's own column names read as whuffie's (columns.py).
    """
    path = Path(path)
    with open_input(path) as fh, paused_gc():
        if is_stdin(path):
            from .limits import MAX_DATA_FILE_BYTES

            # a header naming the subject (or, for a log of role events, the type) column is CSV
            from_csv, lines = sniff(fh, (columns.source("subject"), columns.source("type")) if not columns.plain
                                    or any(" as " in t for t in ruleset.events) else ("subject",))
            return parse_events(limited(lines, MAX_DATA_FILE_BYTES, STDIN_NAME), Path(STDIN_NAME), ruleset,
                                subjects, attributes_needed, from_csv=from_csv, columns=columns)
        return parse_events(fh, path, ruleset, subjects, attributes_needed, columns=columns)


class _NoIdSeen(dict):
    """The ``seen_ids`` of parse_events that keeps no id: no line is a duplicate of another."""

    def __setitem__(self, key, value) -> None:
        pass


NO_ID_SEEN = _NoIdSeen()

STDIN_NAME = "<stdin>"  # standard input's name in messages and default ids


def _convert_record(row: dict, decls: dict, skip, tz, from_csv: bool, problems: list[str], label: str,
                    *, unknown: str, missing: str) -> dict:
    """A row's values converted by their declarations; unknown, bad and missing ones go to problems.

    ``unknown`` and ``missing`` are messages with ``{}`` for the key.
    """
    values: dict = {}
    for key, value in row.items():
        if key in skip:
            continue
        decl = decls.get(key)
        if decl is None:
            problems.append(unknown.format(key))
            continue
        if value is None and decl.optional and not from_csv:
            values[key] = None
            continue
        try:
            values[key] = convert(value, decl, tz, from_csv)
        except DataError as exc:
            problems.append(f"{label} {key}: {exc}")
    for decl in decls.values():
        if decl.name not in row:
            if decl.optional:
                values[decl.name] = None
            else:
                problems.append(missing.format(decl.name))
    return values


def parse_events(text, path: Path, ruleset: Ruleset, subjects: dict[str, dict] | None = None,
                 attributes_needed: bool = False, numbered: bool = False,
                 from_csv: bool | None = None, columns: ColumnMap = PLAIN, careful_only: bool = False,
                 seen_ids: dict[str, str] | None = None) -> EventLoad:
    """Validate events from text or an open file (see ``load_events``); ``text`` may be numbered lines.

    With ``numbered``, ``text`` yields (line number, line) pairs (for CSV the
    header first), so a caller can hand over just the lines it could not
    validate itself. ``careful_only`` reads every row the careful way: the
    tests hold the quick paths to it. ``seen_ids`` are the ids accepted
    before these lines (id -> where it was): a line naming one is a duplicate;
    a caller that finds duplicates itself, across lines read apart
    (engines/spark/text.py), passes ``NO_ID_SEEN``.
    """
    from .roles import input_types, roles_of, role_type

    tz = ZoneInfo(ruleset.timezone)
    readable = input_types(ruleset)  # `voted as voter` is what a `voted` line becomes, never a line's type
    roles = roles_of(ruleset)
    schema = {name: {f.name: f for f in ruleset.events[name].fields} for name in readable}
    from_csv = is_csv(path) if from_csv is None else from_csv
    out = EventLoad()
    seen_ids = {} if seen_ids is None else seen_ids
    name = path.name
    position = 0
    kind = ruleset.subject_kind
    kind_name = kind.name if kind else "subject"
    fast_specs = {ename: tuple((f.name, _fast_checker(f)) for f in ruleset.events[ename].fields)
                  for ename in readable if ename not in roles}
    type_names = {ename: ename for ename in readable}
    csv_specs = {ename: schema[ename] for ename in readable if ename not in roles}
    csv_exact = {ename: {f.name: _BOOL_TEXTS for f in decls.values()
                         if f.type.name == "bool" and f.range is None and f.choices is None}
                 for ename, decls in csv_specs.items()}  # the CSV texts whose value convert() would give
    subject_names: dict[str, str] = {}  # one string object per subject id
    first_lines: dict[str, str] = {}  # each subject id's first line, for look-alike warnings
    utc = dt.timezone.utc
    fromisoformat = dt.datetime.fromisoformat
    check_subject = attributes_needed and subjects is not None

    def quick(row: dict, where: str, number: int) -> ReadEvent | None:
        """The common case of a valid JSON row, checked quickly; None means: take the careful path."""
        etype = row.get("type")
        spec = fast_specs.get(etype) if type(etype) is str else None
        subject = row.get("subject")
        at_text = row.get("at")
        if spec is None or type(subject) is not str or not subject or type(at_text) is not str \
                or len(at_text) < 11:
            return None
        try:
            at = fromisoformat(at_text)
            at = (at.replace(tzinfo=tz) if at.tzinfo is None else at).astimezone(utc)
        except (ValueError, OverflowError):
            return None
        event_id = row.get("id", where)
        extra = 3
        if event_id is not where:
            if type(event_id) is not str or not event_id or event_id in seen_ids:
                return None
            extra = 4
        if len(row) - extra != len(spec):
            return None
        values = {}
        for fname, check in spec:
            value = check(row.get(fname, _SLOW))
            if value is _SLOW:
                return None
            values[fname] = value
        if check_subject and subject not in subjects:
            return None
        if extra == 4:
            seen_ids[event_id] = where
        if subject not in subject_names:
            subject_names[subject] = subject
            first_lines.setdefault(subject, where)  # a line of the slow path may have named it first
        else:
            subject = subject_names[subject]
        return ReadEvent(subject, type_names[etype], at, event_id if extra == 4 else None, name, number, 0, values)

    csv_instants: dict[str, dt.datetime] = {}  # each time text's UTC instant: logs repeat their times

    def quick_csv(row: dict, where: str, number: int) -> ReadEvent | None:
        """A CSV row read as the careful path reads it when it has no problem; None: take the careful path.

        Its values are converted by the careful path's own _convert_record, so
        they are that path's exactly; any problem (or anything else unusual)
        leaves the row to the careful path, which words the message.
        """
        etype = row.get("type")
        decls = csv_specs.get(etype)
        subject = row.get("subject")
        at_text = row.get("at")
        if decls is None or subject is None or at_text is None:
            return None
        at = csv_instants.get(at_text)
        if at is None:
            at = _utc_instant(at_text, tz)
            if at is None:
                return None
            if len(csv_instants) >= 1 << 18:
                csv_instants.clear()
            csv_instants[at_text] = at
        event_id = row.get("id")
        if event_id is not None and event_id in seen_ids:
            return None  # a duplicate, even of a line's own default id given: the careful path words it
        if event_id == where:
            event_id = None  # the careful path's default id, given: recorded as no id
        values = {}
        for key, value in row.items():  # as _convert_record converts them, in the row's order
            if key in _EVENT_KEY_SET:
                continue
            decl = decls.get(key)
            if decl is None:
                return None
            known = csv_exact[etype].get(key, _NO_TEXTS).get(value, _SLOW)  # "true" is True: no call
            if known is _SLOW:
                try:
                    known = convert(value, decl, tz, True)
                except DataError:
                    return None
            values[key] = known
        if len(values) != len(decls):
            for decl in decls.values():
                if decl.name not in row:
                    if not decl.optional:
                        return None
                    values[decl.name] = None
        if check_subject and subject not in subjects:
            return None
        if event_id is not None:
            seen_ids[event_id] = where
        if subject not in subject_names:
            subject_names[subject] = subject
            first_lines.setdefault(subject, where)
        else:
            subject = subject_names[subject]
        return ReadEvent(subject, etype, at, event_id, name, number, 0, values)

    mapped = not columns.plain
    declared_fields = {ename: {f.name for f in decl.fields} for ename, decl in ruleset.events.items()}
    fields_of = lambda etype: declared_fields.get(etype, ())  # noqa: E731
    def careful(number: int, line: str, row) -> None:
        """One row as rows() gives it: the header, a message for a line that is no row, or a row to check."""
        nonlocal position
        where = f"{name}:{number}"
        mapping_problems: list[str] = []
        if mapped and type(row) is dict:  # the table's own names read as whuffie's; the line stays as it was
            row, mapping_problems = columns.apply(row, fields_of)
        if type(row) is dict and not mapping_problems and not careful_only:
            event = quick_csv(row, where, number) if from_csv else quick(row, where, number)
            if event is not None:
                out.read += 1
                event.position = position
                position += 1
                keep(event)
                return
        if isinstance(row, tuple):  # the CSV header
            out.header, out.header_end = split_end(line)
            needed = ("type", "at") if roles else ("subject", "type", "at")  # a role event has no subject
            check_header(row[1], tuple(columns.source(k) for k in needed), where, line)
            return
        out.read += 1
        if isinstance(row, str):
            out.rejects.append(_reject(where, row, line))
            return
        problems: list[str] = mapping_problems
        etype = row.get("type")
        event_roles = roles.get(etype, ()) if isinstance(etype, str) else ()
        for key in ("type", "at") if event_roles else ("subject", "type", "at"):
            if key not in row:
                problems.append(f"missing {key}")
        subject = row.get("subject")
        if event_roles:
            if "subject" in row:
                problems.append(f"subject: an event {etype} names its subjects by role "
                                f"({', '.join(event_roles)}), not in a subject column")
            if columns.integer_ids:
                row = {k: str(v) if k in event_roles and type(v) is int else v for k, v in row.items()}
            for role in event_roles:
                if row.get(role) == "":
                    problems.append(f"field {role}: expected the id of a {kind_name}, got \"\"")
        elif "subject" in row and (not isinstance(subject, str) or not subject):
            problems.append(f"subject: expected a text id, got {_describe(subject)}")
        fields_decl = None
        if "type" in row:
            fields_decl = schema.get(etype) if isinstance(etype, str) else None
            if fields_decl is None:
                hint = _closest(etype, schema) if isinstance(etype, str) else None
                problems.append(f"unknown event type {_describe(etype)}"
                                + (f" (did you mean {hint}?)" if hint else ""))
        at = None
        if "at" in row:
            try:
                at = parse_time(row["at"], tz)
            except DataError as exc:
                problems.append(f"at: {_describe(row['at'])} is {OUT_OF_RANGE}" if str(exc) == OUT_OF_RANGE
                                else f"at: expected an ISO 8601 datetime such as 2026-01-10T09:30:00Z, "
                                f"got {_describe(row['at'])}")
        event_id = row.get("id")
        if event_id is None:
            event_id = where
        elif not isinstance(event_id, str) or not event_id:
            problems.append(f"id: expected text, got {_describe(event_id)}")
        elif event_id in seen_ids:
            problems.append(f"duplicate id {_describe(event_id)} (first at {seen_ids[event_id]})")
        values: dict = {}
        if fields_decl is not None:
            values = _convert_record(
                row, fields_decl, EVENT_KEYS, tz, from_csv, problems, "field",
                unknown=(f"field {{}}: not a field of {etype}" if from_csv else f"unknown field {{}} for event {etype}"),
                missing=f"missing required field {{}} of {etype}")
        named = [values[r] for r in event_roles] if event_roles and not problems else [subject]
        for one in named:
            if (not problems and attributes_needed and subjects is not None
                    and one not in subjects):
                hint = _closest(one, subjects)
                problems.append(f"unknown {kind_name} {_describe(one)}: not in the subjects file"
                                + (f" (did you mean {hint}?)" if hint else ""))
        named_id = row.get("id")
        if type(named_id) is str and named_id and (problems or named_id == where):
            out.named_ids[number] = named_id  # what a reader finding duplicates across lines read apart needs
        if problems:
            out.rejects.append(_reject(where, "; ".join(problems), line))
            return
        if isinstance(event_id, str) and event_id != where:
            seen_ids[event_id] = where
        given = event_id if event_id != where else None
        if event_roles:  # one event, reaching each subject it names in its role (roles.py)
            for role in event_roles:
                first_lines.setdefault(values[role], where)
                keep(ReadEvent(values[role], role_type(etype, role), at, given, name, number, position, values))
                position += 1
            out.expanded += len(event_roles) - 1
            return
        first_lines.setdefault(subject, where)
        keep(ReadEvent(subject, etype, at, given, name, number, position, values))
        position += 1

    groups = out.events.by_subject

    def keep(event: ReadEvent) -> None:
        out.events.append(event)
        if out.events.latest is None or event.at > out.events.latest:
            out.events.latest = event.at
        group = groups.get(event.subject)
        if group is None:
            groups[event.subject] = [event]
        else:
            group.append(event)

    def careful_line(number: int, raw: bytes) -> None:
        """A line the fast decoder did not take, read as rows() reads it."""
        for item in rows(path, [(number, raw.decode("utf-8", "surrogateescape"))], numbered=True, from_csv=False):
            careful(*item)

    stream = _byte_stream(text) if not from_csv and not numbered and not mapped and not careful_only else None
    fast = fastlines.schema_for(ruleset, readable, roles) if stream is not None else None
    if fast is None:
        for number, line, row in rows(path, text, numbered, from_csv):
            careful(number, line, row)
        out.warnings = look_alike_ids(first_lines, kind_name)
        return out
    # The common case, decoded in bulk (fastlines.py); what it leaves is read by `careful`, in order.
    types, unset, prefix = fast.types, fast.unset, f"{name}:"
    instants: dict[str, dt.datetime] = {}  # each time text's UTC instant: logs repeat their times
    tables = {cls: _values_table(spec) for cls, spec in types.items()}
    makers = {cls: _values_maker(spec, tables[cls]) for cls, spec in types.items()}
    struct_types = {cls: spec.name for cls, spec in types.items()}
    by_subject = collections.defaultdict(list, groups)
    out.events.by_subject = groups = by_subject
    events = out.events
    get_at, get_id, get_subject = (operator.attrgetter(a) for a in ("a_", "i_", "s_"))
    first_field, nones, files = itertools.repeat(FIRST_FIELD), itertools.repeat(None), itertools.repeat(name)

    def instant(text: str) -> dt.datetime | None:
        at = _utc_instant(text, tz)
        if at is not None:
            if len(instants) >= 1 << 18:
                instants.clear()
            instants[text] = at
        return at

    slots: dict[str, tuple[str, list]] = {}  # a subject's text -> (its one string object, its group)

    def slot(text: str) -> tuple[str, list]:
        found = slots.get(text)
        if found is None:
            subject = subject_names.setdefault(text, text)
            found = slots[text] = (subject, groups[subject])
        return found

    def one(number: int, item) -> None:
        """One line the decoder gave as a struct: the quick path's checks, then the event or the careful path."""
        nonlocal position
        at = instants.get(item.a_) or instant(item.a_)
        event_id, subject = item.i_, item.s_
        if at is None or (event_id is not unset and event_id in seen_ids) or (check_subject and subject not in subjects):
            careful_line(number, decoded.raw(number))
            return
        if event_id is unset:
            event_id = None
        elif event_id == prefix + str(number):
            event_id = None  # the careful path's default id, given: recorded as no id (and not as seen)
        else:
            seen_ids[event_id] = prefix + str(number)
        subject = subject_names.setdefault(subject, subject)  # one string object per subject id
        event = ReadEvent(subject, struct_types[item.__class__], at, event_id, name, number, position,
                          makers[item.__class__](item))
        events.append(event)
        if events.latest is None or at > events.latest:
            events.latest = at
        groups[subject].append(event)
        position += 1
        out.read += 1

    def batch(first: int, structs: list) -> bool:
        """A chunk of structs accepted with C loops (map); False, having changed nothing, if a line needs more."""
        nonlocal position
        count = len(structs)
        texts = list(map(get_at, structs))
        ats = list(map(instants.get, texts))
        if None in ats:
            # a time new to this chunk is parsed once, though several of its lines have it
            ats = [at or instants.get(text) or instant(text) for at, text in zip(ats, texts)]
            if None in ats:
                return False
        if list(map(get_id, structs)).count(unset) != count:  # ids must be checked for duplicates one by one
            return False
        named = list(map(get_subject, structs))
        if check_subject and not all(map(subjects.__contains__, named)):
            return False
        # each subject's one string object and its group, in one lookup (first_lines: from the groups, below)
        slotted = _filled(list(map(slots.get, named)), lambda at: slot(named[at]))
        named = list(map(_FIRST, slotted))
        classes = list(map(type, structs))
        values = list(map(dict.get, map(tables.__getitem__, classes), map(getattr, structs, first_field, nones)))
        values = _filled(values, lambda at: makers[classes[at]](structs[at]))  # values no other line shares
        numbers, positions = _shared_ints(first, position, count)
        accepted = list(map(ReadEvent, named, map(struct_types.__getitem__, classes), ats, nones, files,
                            numbers, positions, values))
        events.extend(accepted)
        top = max(ats)
        if events.latest is None or top > events.latest:
            events.latest = top
        collections.deque(map(list.append, map(_SECOND, slotted), accepted), 0)
        position += count
        out.read += count
        return True

    decoded = fastlines.DecodedLines(fastlines.chunks(stream[0], bom=stream[1]), fast)
    for number, item in decoded:
        if item.__class__ is list:  # a whole chunk of valid structs
            if not batch(number, item):
                for at_number, struct in enumerate(item, number):
                    one(at_number, struct)
        elif item.__class__ is bytes:
            careful_line(number, item)
        else:
            one(number, item)
    out.events.by_subject = dict(groups)  # a plain dict again: reading a missing subject adds nothing
    # Each subject's first line is its first accepted event's (what every path records), in that order.
    first_lines = {subject: group[0].line for subject, group in groups.items() if group}
    out.warnings = look_alike_ids(first_lines, kind_name)
    return out


# ---------------------------------------------------------------- subjects


def load_subjects(path: str | Path, ruleset: Ruleset) -> SubjectLoad:
    """Read and validate a subjects file: ``id`` plus the subject kind's attributes."""
    path = Path(path)
    with open_input(path) as fh:
        return parse_subjects(fh, path, ruleset)


def parse_subjects(text, path: Path, ruleset: Ruleset) -> SubjectLoad:
    """Validate subjects from text or an open file (see ``load_subjects``)."""
    tz = ZoneInfo(ruleset.timezone)
    kind = ruleset.subject_kind
    attrs = {f.name: f for f in kind.fields} if kind else {}
    kind_name = kind.name if kind else "subject"
    from_csv = is_csv(path)
    out = SubjectLoad()
    first_seen: dict[str, str] = {}
    for number, line, row in rows(path, text):
        where = f"{path.name}:{number}"
        if isinstance(row, tuple):
            out.header, out.header_end = split_end(line)
            check_header(row[1], ("id",), where, line)
            continue
        out.read += 1
        if isinstance(row, str):
            out.rejects.append(_reject(where, row, line))
            continue
        problems: list[str] = []
        subject_id = row.get("id")
        if not isinstance(subject_id, str) or not subject_id:
            problems.append("missing id" if "id" not in row
                            else f"id: expected a text id, got {_describe(subject_id)}")
        elif subject_id in first_seen:
            problems.append(f"duplicate id {_describe(subject_id)} (first at {first_seen[subject_id]})")
        values = _convert_record(row, attrs, ("id",), tz, from_csv, problems, "attribute",
                                 unknown=f"unknown attribute {{}} of {kind_name}",
                                 missing=f"missing required attribute {{}} of {kind_name}")
        if problems:
            out.rejects.append(_reject(where, "; ".join(problems), line))
            continue
        first_seen[subject_id] = where
        out.subjects[subject_id] = values
    out.warnings = look_alike_ids(first_seen, kind_name)
    return out


def look_alike_ids(first_lines: dict[str, str], kind_name: str) -> list[tuple[str, str]]:
    """W082 warnings: distinct ids that read the same (equal after NFC normalisation or trimming spaces).

    ``first_lines`` maps each id to the line it first appears on; one warning
    (file:line, message) per look-alike pair, naming both lines.
    """
    import unicodedata

    seen: dict[str, str] = {}
    found = []
    for ident, where in first_lines.items():
        key = unicodedata.normalize("NFC", ident).strip()
        if key in seen:
            other = seen[key]
            # escaped, so that the difference two look-alikes hide can be seen
            found.append((where, f"{kind_name} id {json.dumps(ident)} looks like {json.dumps(other)} "
                                 f"(at {first_lines[other]}) but is a different id"))
        else:
            seen[key] = ident
            if ident != ident.strip():
                found.append((where, f"{kind_name} id {_describe(ident)} has leading or trailing spaces"))
    return found


def _closest(word, options) -> str | None:
    import difflib

    if not isinstance(word, str):
        return None
    found = difflib.get_close_matches(word, list(options), n=1)
    return found[0] if found else None

"""Input loading: events and subjects from JSONL or CSV, validated against the schema.

Entry points: ``load_events(path, ruleset)`` and ``load_subjects(path, ruleset)``.
A bad line never stops reading: every problem is collected as a ``Reject``
(file:line, the message, the line verbatim), so the caller can report all of
them at once or write them to a rejects file.

CSV layout: events have the columns ``subject, type, at, id`` (``id`` may be
left empty or left out) and then any field of any event type; a field left
empty is absent. Subjects have ``id`` and then the attributes. CSV values are
parsed by the field's declared type (``true``/``false`` for bool).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gc
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from . import nodes as n
from .symbols import Ruleset

EVENT_KEYS = ("subject", "type", "at", "id")


@dataclass(slots=True)
class Event:
    """One accepted input event; ``position`` is its place in the input (ties keep input order)."""

    subject: str
    type: str
    at: dt.datetime  # timezone-aware
    id: str
    line: str  # "file:line", for messages and the ledger
    position: int
    fields: dict


@dataclass(slots=True)
class Reject:
    """A data line that failed validation."""

    where: str  # "file:line"
    message: str
    text: str  # the line verbatim (without its newline)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class EventLoad:
    """The accepted events (input order) and the rejected lines of one events file."""

    events: list[Event] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    header: str | None = None  # CSV header, repeated at the top of a rejects file
    read: int = 0


@dataclass
class SubjectLoad:
    """Subjects by id (attributes as dicts) and the rejected lines."""

    subjects: dict[str, dict] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    header: str | None = None
    read: int = 0


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


class DataError(Exception):
    """A value that does not fit its declared type; the message says what was expected."""


# ---------------------------------------------------------------- values


def _describe(value) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
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
    return value.astimezone(dt.timezone.utc)


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
            value = parse_time(value.strip() if isinstance(value, str) else value, tz)
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
    except (ValueError, TypeError, DataError, OverflowError):
        raise DataError(f"expected {_expected(f)}, got {_describe(raw)}") from None
    if f.range is not None and not (f.range.low <= value <= f.range.high):
        raise DataError(f"expected {_expected(f)}, got {_describe(raw)}")
    return value


# ---------------------------------------------------------------- reading rows


def _lines(source) -> "iter[str]":
    """Lines without their line ends, from text or an open file (read lazily)."""
    if isinstance(source, str):
        return iter(source.splitlines())
    return (line.rstrip("\r\n") for line in source)


def _rows(path: Path, source, numbered: bool = False):
    """Yield (line number, raw line, dict or error message) for a JSONL or CSV file.

    With ``numbered``, ``source`` yields (line number, line) pairs: some lines of a file.
    """
    if path.suffix.lower() == ".csv":
        yield from _csv_rows(source)
        return
    loads = json.loads
    for number, line in (source if numbered else enumerate(_lines(source), 1)):
        try:
            obj = loads(line)
        except json.JSONDecodeError as exc:
            if not line.strip():
                continue
            yield number, line, f"malformed JSON: {exc.msg} at column {exc.colno}"
            continue
        except RecursionError:
            yield number, line, "malformed JSON: nested too deeply"
            continue
        if type(obj) is not dict:
            yield number, line, "malformed JSON: expected an object {...} on each line"
            continue
        yield number, line, obj


def _csv_rows(source):
    lines = _lines(source)
    first = next(lines, None)
    if first is None:
        return
    header = [h.strip() for h in next(csv.reader([first]))]
    yield 1, first, ("header", header)
    for number, line in enumerate(lines, 2):
        if not line.strip():
            continue
        try:
            cells = next(csv.reader([line], strict=True))
        except csv.Error as exc:
            yield number, line, f"malformed CSV: {exc}"
            continue
        if len(cells) != len(header):
            yield number, line, f"malformed CSV: {len(cells)} columns, the header has {len(header)}"
            continue
        # An empty CSV cell means "absent" (an optional field, or no id).
        yield number, line, {k: v for k, v in zip(header, cells) if v != ""}


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a data file") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror}") from None


def _open(path: Path):
    try:
        return path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a data file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror}") from None


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
    if kind == "text":
        return lambda v: v if type(v) is str else _SLOW
    return lambda v: _SLOW


_SLOW = object()


# ---------------------------------------------------------------- events


def load_events(path: str | Path, ruleset: Ruleset, subjects: dict[str, dict] | None = None,
                attributes_needed: bool = False) -> EventLoad:
    """Read and validate an events file (JSONL, or CSV by its .csv suffix).

    When ``attributes_needed`` the rules read subject attributes, so an event
    of a subject missing from ``subjects`` is rejected.
    """
    path = Path(path)
    with _open(path) as fh, paused_gc():
        try:
            return parse_events(fh, path, ruleset, subjects, attributes_needed)
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not UTF-8 text ({exc.reason})") from None


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
                 attributes_needed: bool = False, numbered: bool = False) -> EventLoad:
    """Validate events from text or an open file (see ``load_events``); JSONL ``text`` may be numbered lines.

    With ``numbered`` (JSONL only), ``text`` yields (line number, line) pairs,
    so a caller can hand over just the lines it could not validate itself.
    """
    tz = ZoneInfo(ruleset.timezone)
    schema = {name: {f.name: f for f in decl.fields} for name, decl in ruleset.events.items()}
    from_csv = path.suffix.lower() == ".csv"
    out = EventLoad()
    seen_ids: dict[str, str] = {}
    name = path.name
    position = 0
    kind = ruleset.subject_kind
    kind_name = kind.name if kind else "subject"
    fast_specs = {ename: tuple((f.name, _fast_checker(f)) for f in decl.fields)
                  for ename, decl in ruleset.events.items()}
    type_names = {ename: ename for ename in ruleset.events}
    subject_names: dict[str, str] = {}  # one string object per subject id
    utc = dt.timezone.utc
    fromisoformat = dt.datetime.fromisoformat
    check_subject = attributes_needed and subjects is not None

    def quick(row: dict, where: str) -> Event | None:
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
        except ValueError:
            return None
        at = (at.replace(tzinfo=tz) if at.tzinfo is None else at).astimezone(utc)
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
        subject = subject_names.setdefault(subject, subject)
        return Event(subject, type_names[etype], at, event_id, where, 0, values)

    for number, line, row in _rows(path, text, numbered):
        where = f"{name}:{number}"
        if type(row) is dict and not from_csv:
            event = quick(row, where)
            if event is not None:
                out.read += 1
                event.position = position
                position += 1
                out.events.append(event)
                continue
        if isinstance(row, tuple):  # the CSV header
            out.header = line
            missing = [k for k in ("subject", "type", "at") if k not in row[1]]
            if missing:
                out.rejects.append(Reject(where, f"CSV header lacks column {', '.join(missing)}", line))
                return out
            continue
        out.read += 1
        if isinstance(row, str):
            out.rejects.append(Reject(where, row, line))
            continue
        problems: list[str] = []
        for key in ("subject", "type", "at"):
            if key not in row:
                problems.append(f"missing {key}")
        subject = row.get("subject")
        if "subject" in row and (not isinstance(subject, str) or not subject):
            problems.append(f"subject: expected a text id, got {_describe(subject)}")
        etype = row.get("type")
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
            except DataError:
                problems.append(f"at: expected an ISO 8601 datetime such as 2026-01-10T09:30:00Z, "
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
        if (not problems and attributes_needed and subjects is not None
                and subject not in subjects):
            hint = _closest(subject, subjects)
            problems.append(f"unknown {kind_name} {_describe(subject)}: not in the subjects file"
                            + (f" (did you mean {hint}?)" if hint else ""))
        if problems:
            out.rejects.append(Reject(where, "; ".join(problems), line))
            continue
        if isinstance(event_id, str) and event_id != where:
            seen_ids[event_id] = where
        out.events.append(Event(subject, etype, at, event_id, where, position, values))
        position += 1
    return out


# ---------------------------------------------------------------- subjects


def load_subjects(path: str | Path, ruleset: Ruleset) -> SubjectLoad:
    """Read and validate a subjects file: ``id`` plus the subject kind's attributes."""
    path = Path(path)
    text = _read_text(path)
    return parse_subjects(text, path, ruleset)


def parse_subjects(text: str, path: Path, ruleset: Ruleset) -> SubjectLoad:
    """Validate subjects already read into memory (see ``load_subjects``)."""
    tz = ZoneInfo(ruleset.timezone)
    kind = ruleset.subject_kind
    attrs = {f.name: f for f in kind.fields} if kind else {}
    kind_name = kind.name if kind else "subject"
    from_csv = path.suffix.lower() == ".csv"
    out = SubjectLoad()
    first_seen: dict[str, str] = {}
    for number, line, row in _rows(path, text):
        where = f"{path.name}:{number}"
        if isinstance(row, tuple):
            out.header = line
            if "id" not in row[1]:
                out.rejects.append(Reject(where, "CSV header lacks column id", line))
                return out
            continue
        out.read += 1
        if isinstance(row, str):
            out.rejects.append(Reject(where, row, line))
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
            out.rejects.append(Reject(where, "; ".join(problems), line))
            continue
        first_seen[subject_id] = where
        out.subjects[subject_id] = values
    return out


def _closest(word, options) -> str | None:
    import difflib

    if not isinstance(word, str):
        return None
    found = difflib.get_close_matches(word, list(options), n=1)
    return found[0] if found else None

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
    text: str  # the line verbatim (without its line end)
    end: str = "\n"  # its line end as it was (\r\n in a CRLF file), so the rejects file keeps the bytes

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class EventLoad:
    """The accepted events (input order) and the rejected lines of one events file."""

    events: list[Event] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    header: str | None = None  # CSV header, repeated at the top of a rejects file
    header_end: str = "\n"
    read: int = 0
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (file:line, message), W082


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


class DataError(Exception):
    """A value that does not fit its declared type, or a file that cannot be read at all.

    File-level problems carry a diagnostic ``code`` (W080) and ``where`` (the
    file, or file:line); they stop the run, where a bad line is only a Reject.
    """

    def __init__(self, message: str, code: str | None = None, where: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


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
    return value


# ---------------------------------------------------------------- reading files


STDIN = "-"  # the events argument that means standard input


def is_stdin(path) -> bool:
    """Whether an input argument names standard input (``-``)."""
    return str(path) == STDIN


def refuse_unreadable(path: str | Path, limit: int) -> str | None:
    """Why ``path`` cannot be read as an input, or None: it exists, is a regular file and fits ``limit``."""
    import os

    try:
        os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    if os.path.isdir(path):
        return "is a directory, not a file"
    return not_a_regular_file(path, limit)


def not_a_regular_file(path: str | Path, limit: int) -> str | None:
    """Why an existing ``path`` must not be opened, or None (also when it is missing or a directory).

    Anything but a regular file (a FIFO, a device such as /dev/zero, a socket)
    could block forever or never end, so it is refused before it is opened;
    so is a file beyond ``limit`` bytes. Shared by the rule-file reader
    (parser.read_source) and the data readers.
    """
    import os
    import stat

    try:
        info = os.stat(path)
    except OSError:
        return None  # the caller's open() names the problem
    if stat.S_ISDIR(info.st_mode):
        return None
    if not stat.S_ISREG(info.st_mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(info.st_mode) else
                "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else
                "a socket" if stat.S_ISSOCK(info.st_mode) else "something else")
        return f"is {kind}, not a regular file; only regular files are read"
    if info.st_size > limit:
        return f"is too large ({info.st_size:,} bytes; the limit is {limit:,})"
    return None


def check_input(path: str | Path) -> None:
    """Raise DataError (W080) unless ``path`` is standard input or a readable regular data file."""
    from .limits import MAX_DATA_FILE_BYTES

    if is_stdin(path):
        return
    problem = refuse_unreadable(path, MAX_DATA_FILE_BYTES)
    if problem is not None:
        raise DataError(problem, code="W080", where=str(path))


def _open(path: Path):
    """An input file as text, lazily; undecodable bytes stay in the lines as surrogates (see _bad_bytes)."""
    if is_stdin(path):
        import io
        import sys

        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="surrogateescape", newline="")
    check_input(path)
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror}", code="W080", where=str(path)) from None
    head = fh.peek(4)[:4] if hasattr(fh, "peek") else b""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        fh.close()
        raise DataError("is UTF-16 text; whuffie reads UTF-8 (save the file as UTF-8)", code="W080",
                        where=str(path))
    import io

    return io.TextIOWrapper(fh, encoding="utf-8-sig", errors="surrogateescape", newline="")


def read_data_text(path: Path) -> str:
    """A whole data file as text (the REPL keeps it to re-validate); same checks as the streaming readers."""
    with _open(path) as fh:
        return fh.read()


def _limited(lines, limit: int, path) -> "iter[str]":
    """Lines from a stream of unknown size (standard input), refused once past ``limit`` characters."""
    total = 0
    for line in lines:
        total += len(line)
        if total > limit:
            raise DataError(f"is too large (more than {limit:,} bytes)", code="W080", where=str(path))
        yield line


def _raw_lines(source) -> "iter[str]":
    """Physical lines with their line ends, from text or an open file (read lazily).

    A line ends at \\n, \\r\\n or a lone \\r, the same for text and files
    (str.splitlines would also split at form feeds and U+2028).
    """
    if isinstance(source, str):
        import io

        source = io.StringIO(source, newline="")
    return iter(source)


_UNDECODABLE = re.compile("[\udc80-\udcff]")


def _bad_bytes(line: str) -> str | None:
    """The message for a line holding bytes that are not UTF-8 (read as surrogate escapes), or None."""
    if line.isascii():
        return None
    found = _UNDECODABLE.search(line)
    if found is None:
        return None
    byte = ord(found.group()) - 0xDC00
    return f"not valid UTF-8 (byte 0x{byte:02x} at column {found.start() + 1}); save the file as UTF-8"


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _object_without_duplicates(pairs: list) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


_DECODE_CAREFULLY = json.JSONDecoder(object_pairs_hook=_object_without_duplicates).decode


def _json_rows(source, numbered: bool):
    """(line number, line, dict or error message) for each non-blank JSONL line."""
    loads, carefully = json.loads, _DECODE_CAREFULLY
    # lines keep their line ends (JSON ignores them): a rejected line is written back as it came
    lines = source if numbered else enumerate(_raw_lines(source), 1)
    for number, line in lines:
        try:
            obj = loads(line)
            # A key given twice leaves fewer keys than members, and members are at most
            # commas + 1: when the two agree there is no duplicate; else parse again, checking.
            if type(obj) is dict and len(obj) != line.count(",") + 1:
                obj = carefully(line)
        except json.JSONDecodeError:
            if not line.strip():
                continue
            yield number, line, _bad_bytes(line) or _json_error(line.rstrip("\r\n"))
            continue
        except _DuplicateKey as exc:
            yield number, line, f"malformed JSON: key {_describe(exc.key)} given twice"
            continue
        except RecursionError:
            yield number, line, "malformed JSON: nested too deeply"
            continue
        except ValueError:  # Python refuses to convert integers of more than 4,300 digits
            yield number, line, "malformed JSON: integer too large"
            continue
        if type(obj) is not dict:
            yield number, line, "malformed JSON: expected an object {...} on each line"
            continue
        bad = _bad_bytes(line)
        if bad is not None:
            yield number, line, bad
            continue
        yield number, line, obj


def _json_error(text: str) -> str:
    """Where JSON parsing of a line (without its line end, as columns are counted) fails."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"malformed JSON: {exc.msg} at column {exc.colno}"
    except ValueError:
        pass
    return "malformed JSON"


def _rows(path: Path, source, numbered: bool = False, from_csv: bool | None = None):
    """Yield (line number, raw line, dict or error message) for a JSONL or CSV file.

    With ``numbered``, ``source`` yields (line number, line) pairs: some lines of a JSONL file.
    A CSV file yields its header first as (1, line, ("header", names)).
    """
    if from_csv if from_csv is not None else is_csv(path):
        yield from _csv_rows(path, source)
        return
    yield from _json_rows(source, numbered)


def is_csv(path: Path) -> bool:
    """CSV by the file name's suffix (standard input is sniffed by ``_sniff``)."""
    return path.suffix.lower() == ".csv"


def _sniff(source) -> tuple[bool, "iter[str]"]:
    """Standard input's format from its first line: CSV when it reads like a CSV header, else JSONL."""
    import itertools

    lines = _raw_lines(source)
    first = next(lines, None)
    if first is None:
        return False, iter(())
    head = first.lstrip("\ufeff").strip()
    looks_csv = not head.startswith("{") and bool(head) and all(
        cell.strip().isidentifier() for cell in next(csv.reader([head])))
    return looks_csv, itertools.chain([first], lines)


def _csv_records(source):
    """(first line number, record text with line ends, cells or error) for each CSV record.

    A quoted cell may hold line breaks, so a record can span physical lines; a
    line with an odd number of quotes opens such a cell. One never closed (or
    a record that does not parse across lines) is read as its first line
    alone, and the lines after it are read again, so one stray quote costs
    one line, not the rest of the file.
    """
    from .limits import MAX_CSV_RECORD_LINES

    lines = _raw_lines(source)
    again: list[tuple[int, str]] = []  # lines to read again, last first
    counter = 0

    def next_line():
        nonlocal counter
        if again:
            return again.pop()
        line = next(lines, None)
        if line is None:
            return None
        counter += 1
        return counter, line

    def parse(text: str):
        try:
            rows = list(csv.reader([text], strict=True))
        except csv.Error as exc:
            return f"malformed CSV: {exc}"
        return rows[0] if len(rows) == 1 else "malformed CSV: more than one record on the line"

    while (item := next_line()) is not None:
        number, line = item
        quotes = line.count('"')
        if not quotes % 2:
            yield number, line, (parse(line) if quotes else None)
            continue
        parts = [item]
        while quotes % 2 and len(parts) < MAX_CSV_RECORD_LINES and (more := next_line()) is not None:
            parts.append(more)
            quotes += more[1].count('"')
        cells = parse("".join(p[1] for p in parts)) if not quotes % 2 else None
        if isinstance(cells, list):
            yield number, "".join(p[1] for p in parts), cells
            continue
        again.extend(reversed(parts[1:]))
        yield number, line, parse(line)


def _csv_rows(path: Path, source):
    header: list[str] | None = None
    for number, line, cells in _csv_records(source):
        if cells is None:  # no quotes: the common case, split here
            if not line.strip():
                continue
            cells = line.rstrip("\r\n").split(",")
        bad = _bad_bytes(line)
        if header is None:
            if bad is not None:
                raise DataError(f"the CSV header is {bad}", code="W080", where=f"{path.name}:{number}")
            if isinstance(cells, str):
                raise DataError(f"the CSV header is {cells}", code="W080", where=f"{path.name}:{number}")
            header = [h.strip().lstrip("\ufeff") for h in cells]
            yield number, line, ("header", header)
            continue
        if bad is not None:
            yield number, line, bad
            continue
        if isinstance(cells, str):
            yield number, line, cells
            continue
        if len(cells) != len(header):
            yield number, line, f"malformed CSV: {len(cells)} columns, the header has {len(header)}"
            continue
        # An empty CSV cell means "absent" (an optional field, or no id).
        yield number, line, {k: v for k, v in zip(header, cells) if v != ""}


def _check_header(header: list[str], required: tuple[str, ...], where: str, text: str) -> None:
    """A CSV header that cannot be read as this kind of file stops the run (nothing in it could be scored)."""
    repeated = sorted({h for h in header if header.count(h) > 1})
    missing = [k for k in required if k not in header]
    if not missing and not repeated:
        return
    if repeated:
        message = f"the CSV header names column{'s' * (len(repeated) > 1)} {', '.join(repeated)} more than once"
    else:
        message = (f"the CSV header lacks the required column{'s' * (len(missing) > 1)} {', '.join(missing)}"
                   f" (it has {', '.join(header) or 'no columns'})")
    for sep in (";", "\t", "|"):
        if len(header) == 1 and sep in text:
            shown = "tab" if sep == "\t" else repr(sep)
            message += f"; it looks separated by {shown}: whuffie reads comma-separated CSV"
            break
    raise DataError(message, code="W080", where=where)


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


def _split_end(line: str) -> tuple[str, str]:
    """A physical line (or CSV record) and its line end, apart."""
    text = line.rstrip("\r\n")
    return text, line[len(text):] or "\n"


def _reject(where: str, message: str, line: str) -> Reject:
    text, end = _split_end(line)
    return Reject(where, message, text, end)


# ---------------------------------------------------------------- events


def load_events(path: str | Path, ruleset: Ruleset, subjects: dict[str, dict] | None = None,
                attributes_needed: bool = False) -> EventLoad:
    """Read and validate an events file (JSONL, or CSV by its .csv suffix).

    When ``attributes_needed`` the rules read subject attributes, so an event
    of a subject missing from ``subjects`` is rejected.
    """
    path = Path(path)
    with _open(path) as fh, paused_gc():
        if is_stdin(path):
            from .limits import MAX_DATA_FILE_BYTES

            from_csv, lines = _sniff(fh)
            return parse_events(_limited(lines, MAX_DATA_FILE_BYTES, STDIN_NAME), Path(STDIN_NAME), ruleset,
                                subjects, attributes_needed, from_csv=from_csv)
        return parse_events(fh, path, ruleset, subjects, attributes_needed)


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
                 from_csv: bool | None = None) -> EventLoad:
    """Validate events from text or an open file (see ``load_events``); JSONL ``text`` may be numbered lines.

    With ``numbered`` (JSONL only), ``text`` yields (line number, line) pairs,
    so a caller can hand over just the lines it could not validate itself.
    """
    tz = ZoneInfo(ruleset.timezone)
    schema = {name: {f.name: f for f in decl.fields} for name, decl in ruleset.events.items()}
    from_csv = is_csv(path) if from_csv is None else from_csv
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
    first_lines: dict[str, str] = {}  # each subject id's first line, for look-alike warnings
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
            first_lines[subject] = where
        else:
            subject = subject_names[subject]
        return Event(subject, type_names[etype], at, event_id, where, 0, values)

    for number, line, row in _rows(path, text, numbered, from_csv):
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
            out.header, out.header_end = _split_end(line)
            _check_header(row[1], ("subject", "type", "at"), where, line)
            continue
        out.read += 1
        if isinstance(row, str):
            out.rejects.append(_reject(where, row, line))
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
        if (not problems and attributes_needed and subjects is not None
                and subject not in subjects):
            hint = _closest(subject, subjects)
            problems.append(f"unknown {kind_name} {_describe(subject)}: not in the subjects file"
                            + (f" (did you mean {hint}?)" if hint else ""))
        if problems:
            out.rejects.append(_reject(where, "; ".join(problems), line))
            continue
        if isinstance(event_id, str) and event_id != where:
            seen_ids[event_id] = where
        first_lines.setdefault(subject, where)
        out.events.append(Event(subject, etype, at, event_id, where, position, values))
        position += 1
    out.warnings = look_alike_ids(first_lines, kind_name)
    return out


# ---------------------------------------------------------------- subjects


def load_subjects(path: str | Path, ruleset: Ruleset) -> SubjectLoad:
    """Read and validate a subjects file: ``id`` plus the subject kind's attributes."""
    path = Path(path)
    with _open(path) as fh:
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
    for number, line, row in _rows(path, text):
        where = f"{path.name}:{number}"
        if isinstance(row, tuple):
            out.header, out.header_end = _split_end(line)
            _check_header(row[1], ("id",), where, line)
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

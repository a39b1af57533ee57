"""Reading data files: which files may be read at all, and their lines and records.

The events and subjects readers (inputs.py) validate rows; this module turns
a file (or standard input) into rows: JSON objects from JSON Lines, cell
dicts from CSV records, or a message for a line that is not even that. Bytes
that are not UTF-8 are kept as surrogate escapes, so such a line is one bad
line and goes back to the rejects file as the very bytes it had. Lines keep
their line ends for the same reason.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path


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


def open_input(path: Path):
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
    with open_input(path) as fh:
        return fh.read()


def limited(lines, limit: int, path) -> "iter[str]":
    """Lines from a stream of unknown size (standard input), refused once past ``limit`` characters."""
    total = 0
    for line in lines:
        total += len(line)
        if total > limit:
            raise DataError(f"is too large (more than {limit:,} bytes)", code="W080", where=str(path))
        yield line


def raw_lines(source) -> "iter[str]":
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
    lines = source if numbered else enumerate(raw_lines(source), 1)
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
            yield number, line, f"malformed JSON: key {json.dumps(exc.key, ensure_ascii=False)} given twice"
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


def rows(path: Path, source, numbered: bool = False, from_csv: bool | None = None):
    """Yield (line number, raw line, dict or error message) for a JSONL or CSV file.

    With ``numbered``, ``source`` yields (line number, line) pairs: some lines of a file (of a CSV file,
    its header first).
    A CSV file yields its header first as (1, line, ("header", names)).
    """
    if from_csv if from_csv is not None else is_csv(path):
        yield from _csv_rows(path, source, numbered)
        return
    yield from _json_rows(source, numbered)


def is_csv(path: Path) -> bool:
    """CSV by the file name's suffix (standard input is sniffed by ``_sniff``)."""
    return path.suffix.lower() == ".csv"


def sniff(source, names: tuple[str, ...] = ("subject",)) -> tuple[bool, "iter[str]"]:
    """Standard input's format from its first line: CSV when it is a CSV header naming `subject`, else JSONL.

    ``names`` are the columns that mark an events header (the mapped ones with --columns).
    """
    import itertools

    lines = raw_lines(source)
    first = next(lines, None)
    if first is None:
        return False, iter(())
    head = first.lstrip("\ufeff").strip()
    # an events CSV header names the subject column; anything else is read (and reported) as JSON Lines
    looks_csv = not head.startswith("{") and any(cell.strip() in names for cell in next(csv.reader([head])))
    return looks_csv, itertools.chain([first], lines)


def csv_records(source, numbered: bool = False):
    """(first line number, record text with line ends, cells or error) for each CSV record.

    With ``numbered``, ``source`` yields (line number, line) pairs; a quoted
    cell continues on the next pair given.

    A quoted cell may hold line breaks, so a record can span physical lines; a
    line with an odd number of quotes opens such a cell. One never closed (or
    a record that does not parse across lines) is read as its first line
    alone, and the lines after it are read again, so one stray quote costs
    one line, not the rest of the file.
    """
    from .limits import MAX_CSV_RECORD_LINES

    lines = iter(source) if numbered else enumerate(raw_lines(source), 1)
    again: list[tuple[int, str]] = []  # lines to read again, last first

    def next_line():
        if again:
            return again.pop()
        return next(lines, None)

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


def _csv_rows(path: Path, source, numbered: bool = False):
    header: list[str] | None = None
    for number, line, cells in csv_records(source, numbered):
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


def check_header(header: list[str], required: tuple[str, ...], where: str, text: str) -> None:
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


def split_end(line: str) -> tuple[str, str]:
    """A physical line (or CSV record) and its line end, apart."""
    text = line.rstrip("\r\n")
    return text, line[len(text):] or "\n"

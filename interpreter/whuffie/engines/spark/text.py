"""JSONL and CSV logs read, validated and staged by Spark itself: inputs.py's own parser on the executors.

Entry point: ``load(spec, plan, subjects, attributes_needed, columns) -> SparkLoad``
(spark_columnar's load, so ``SparkLoad.score`` runs unchanged). The spec is a
file, a glob of part files (`logs/*.jsonl`) or a directory of them.

Lines. Spark's text reader with ``lineSep`` ``\\n`` (Hadoop's line reader;
it skips a UTF-8 byte-order mark at the start of a file, as ``utf-8-sig``
does) gives each record with a CRLF's ``\\r`` still on it. Python also ends
a line at a lone ``\\r`` (never at ``\\x0b``, ``\\x0c``, ``\\x1c``..``\\x1e`` or
U+2028, as ``str.splitlines`` would): a record holding one is cut there, so
the lines and their numbers are inputs.py's. A line's number survives any
partitioning: one small aggregate counts the lines of each read split
(``_metadata.file_path``, ``file_block_start``), their prefix sums per file
number each split's first line, and within a split the executor counts on
(a split is read in order by one task). The position is the file's rank
among the sorted paths (``spark_columnar.FILE_RANK_SHIFT``) and the line,
times 16 plus the role of a role event.

Validation. Each batch of lines goes through ``inputs.parse_events`` on the
executor (``mapInArrow``), so messages are inputs.py's by construction; an
accepted line becomes staged columns (``sqlengine.Layout``), a rejected one
its message and text. The one check across lines, an id given twice (the
first accepted line in input order keeps it), is a Spark SQL aggregate
after; the few lines it finds are parsed again on the driver with the first
one's id seen, for inputs.py's exact message. Only rejects (and those lines)
reach the driver.

A CSV record may span lines (a quoted cell with a line break): a log with a
line of an odd number of quotes is not read here (``NeedsDriver``), and the
caller reads it on the driver as before, never with a wrong number.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from ...columns import PLAIN, ColumnMap
from ...inputs import DataError, Reject
from ...plan import Plan
from .columnar import FILE_RANK_SHIFT, SparkColumnarError, SparkLoad, rejects_of

TEXT_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv")
ROLE_SLOTS = 16  # positions per line: a role event's line is one event per role, in the roles' order
HEAD_BYTES = 65_536  # what is read of each file on the driver: its UTF-16 mark, a CSV header


class NeedsDriver(Exception):
    """A log this reader cannot number exactly (a CSV record over several lines): read it on the driver."""


def is_text_set(spec: str) -> bool:
    """Whether an events argument is several JSONL or CSV files for Spark: a glob or a directory of them."""
    if spec.startswith(("duckdb:", "spark:")):
        return False
    if any(c in spec for c in "*?["):
        return spec.lower().endswith(TEXT_SUFFIXES)
    return os.path.isdir(spec) and bool(_text_files(spec))


def _text_files(folder: str) -> list[str]:
    """The part files of a directory as Spark lists them (no hidden or _-prefixed file), when all are text."""
    names = [n for n in os.listdir(folder) if not n.startswith((".", "_")) and os.path.isfile(os.path.join(folder, n))]
    return names if names and all(n.lower().endswith(TEXT_SUFFIXES) for n in names) else []


def is_csv_spec(spec: str) -> bool:
    if os.path.isdir(spec):
        return all(n.lower().endswith(".csv") for n in _text_files(spec))
    return spec.lower().endswith(".csv")


def load(spec: str, plan: Plan, subjects: dict[str, dict] | None, attributes_needed: bool,
         columns: ColumnMap | None = PLAIN) -> SparkLoad:
    """Read a JSONL/CSV log (file, glob, directory) with Spark, validate every line, register ``events``.

    Raises DataError (W080: a UTF-16 file, a CSV header that cannot be
    read), SparkColumnarError (nothing to read), NeedsDriver, or
    sqlengine.SqlUnsupported (an accepted value beyond 64 bits or not Unicode).
    """
    from .. import spark

    columns = columns or PLAIN
    session = spark.session()
    several = is_text_set(spec)
    from_csv = is_csv_spec(spec)
    try:
        lines = session.read.option("lineSep", "\n").text(spec).selectExpr(
            "_metadata.file_path AS file", "_metadata.file_block_start AS block", "CAST(value AS BINARY) AS raw",
            "value")
        splits = _splits(lines, from_csv)
    except NeedsDriver:
        raise
    except Exception as exc:  # noqa: BLE001 - Spark's AnalysisException for a missing path
        raise SparkColumnarError(f"{spec}: {str(exc).strip().splitlines()[0]}") from None
    files = sorted({f for f, *_ in splits})
    labels = _labels(files) if several else {f: spec.rstrip("/").rsplit("/", 1)[-1] for f in files}
    heads = {f: _read_bytes(session, f, 0, HEAD_BYTES) for f in files}
    for f in files:
        if heads[f][:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise DataError("is UTF-16 text; whuffie reads UTF-8 (save the file as UTF-8)", code="W080",
                            where=spec if not several else labels[f])
    headers = _csv_headers(heads, labels, plan, columns) if from_csv else {}
    first_line, totals = _first_lines(splits)
    ranks = {f: rank for rank, f in enumerate(files)}
    reader = _Reader(plan, subjects, attributes_needed, columns, from_csv, labels, ranks, first_line, headers)
    # an RDD's partitions, not mapInArrow (which needs pandas): each task reads its splits in order
    parsed = session.createDataFrame(lines.select("file", "block", "raw").rdd.mapPartitions(reader.parse),
                                     reader.schema()).persist()
    try:
        return _staged(session, parsed, lines, reader, plan, subjects, labels, totals, headers, spec, several)
    finally:
        parsed.unpersist()


def _splits(lines, from_csv: bool) -> list[tuple]:
    """(file, block start, records, lone carriage returns inside records) of each read split, checked for CSV."""
    cr, quote = "chr(13)", "'\"'"
    rows = lines.selectExpr(
        "file", "block",
        f"CASE WHEN instr(value, {cr}) = 0 THEN 0 ELSE octet_length(value) - octet_length(replace(value, {cr}, ''))"
        f" - CASE WHEN endswith(value, {cr}) THEN 1 ELSE 0 END END AS cut",
        f"(octet_length(value) - octet_length(replace(value, {quote}, ''))) % 2 = 1 AS odd") \
        .groupBy("file", "block").agg({"*": "count", "cut": "sum", "odd": "max"}).collect()
    out = []
    for row in rows:
        d = row.asDict()
        if from_csv and d["max(odd)"]:
            raise NeedsDriver("a CSV line with an odd number of quotes (a record may span lines)")
        out.append((d["file"], d["block"], d["count(1)"], d["sum(cut)"] or 0))
    return out


def _first_lines(splits: list[tuple]) -> tuple[dict, dict]:
    """({(file, block): the split's first line number}, {file: its number of lines})."""
    first, totals = {}, {}
    for file, block, records, cut in sorted(splits):
        at = totals.get(file, 0)
        first[(file, block)] = at + 1
        totals[file] = at + records + cut
    return first, totals


def _labels(files: list[str]) -> dict[str, str]:
    """Each file as messages name it: its path under the files' common directory."""
    local = {f: unquote(urlparse(f).path) for f in files}
    base = os.path.commonpath([os.path.dirname(p) for p in local.values()]) if local else ""
    return {f: os.path.relpath(p, base) if base else p for f, p in local.items()}


def _read_bytes(session, file: str, start: int, size: int) -> bytes:
    """Bytes of a file Spark reads (local or any Hadoop file system): for a head, or the last line's end."""
    local = _local_path(file)
    if local is not None:
        with open(local, "rb") as fh:
            fh.seek(start)
            return fh.read(size)
    fs, path = _hadoop_file(session, file)
    jvm = session._jvm
    stream = fs.open(path)
    try:
        stream.seek(start)
        return bytes(jvm.org.apache.commons.io.IOUtils.toByteArray(
            jvm.org.apache.commons.io.input.BoundedInputStream(stream, size)))
    finally:
        stream.close()


def _file_size(session, file: str) -> int:
    local = _local_path(file)
    if local is not None:
        return os.path.getsize(local)
    fs, path = _hadoop_file(session, file)
    return fs.getFileStatus(path).getLen()


def _local_path(file: str) -> str | None:
    """The local path of a ``file:`` URL (or a plain path), None for another file system."""
    parsed = urlparse(file)
    return unquote(parsed.path) if parsed.scheme in ("", "file") else None


def _hadoop_file(session, file: str):
    """(file system, path) of a file on a Hadoop file system (HDFS, S3A…), through Spark's JVM."""
    path = session._jvm.org.apache.hadoop.fs.Path(file)
    return path.getFileSystem(session._jsc.hadoopConfiguration()), path


def _csv_headers(heads: dict[str, bytes], labels: dict[str, str], plan: Plan, columns: ColumnMap) -> dict:
    """{file: (line number, header line)} of each CSV file, checked as inputs.py checks it (DataError W080)."""
    import io

    from ...datafiles import raw_lines
    from ...inputs import parse_events

    out = {}
    for file, head in heads.items():
        text = io.TextIOWrapper(io.BytesIO(head), encoding="utf-8-sig", errors="surrogateescape", newline="")
        for number, line in enumerate(raw_lines(text), 1):
            if line.strip():
                if not line.endswith(("\n", "\r")) and len(head) == HEAD_BYTES:
                    raise NeedsDriver("a CSV header longer than the head read of the file")
                # the header alone: parse_events checks it (its W080) as it would at the top of the file
                parse_events(iter([(number, line)]), Path(labels[file]), plan.ruleset, numbered=True, from_csv=True,
                             columns=columns)
                out[file] = (number, line)
                break
    return out


class _Reader:
    """The executors' part: lines numbered as inputs.py numbers them, parsed by inputs.parse_events.

    Pickled to the executors with what it needs (the ruleset, the subjects'
    ids, the split table); whuffie itself must be importable there.
    """

    def __init__(self, plan: Plan, subjects, attributes_needed: bool, columns: ColumnMap, from_csv: bool,
                 labels: dict, ranks: dict, first_line: dict, headers: dict):
        from .. import sqlengine, textlog

        self.ruleset = plan.ruleset
        self.subjects = {s: {} for s in subjects} if subjects is not None else None
        self.attributes_needed = attributes_needed
        self.columns, self.from_csv = columns, from_csv
        self.labels, self.ranks, self.first_line, self.headers = labels, ranks, first_line, headers
        self.layout = sqlengine.layout_for(plan)
        self.staged = textlog._staging_columns(self.layout)

    def schema(self):
        from pyspark.sql import types as T

        kinds = {"BIGINT": T.LongType(), "DOUBLE": T.DoubleType(), "BOOLEAN": T.BooleanType(), "VARCHAR": T.StringType()}
        # a rejected line's text, its message and the id it names travel as bytes: a lone surrogate (an
        # undecodable byte, a JSON escape) would not survive Java's strings
        fixed = [("kind", T.ByteType()), ("lpos", T.LongType()), ("role", T.IntegerType()), ("line", T.StringType()),
                 ("xid", T.BinaryType()), ("reg", T.BooleanType()), ("subject", T.StringType()),
                 ("type", T.StringType()), ("id", T.StringType()), ("at_us", T.LongType()),
                 ("message", T.BinaryType()), ("text", T.BinaryType()), ("end", T.StringType())]
        return T.StructType([T.StructField(n, t, True) for n, t in fixed]
                            + [T.StructField(c, kinds[t], True) for c, t in self.staged.items()])

    def numbered(self, records):
        """(file, line number, line with its line end) of each line of a task's records (file, block, bytes)."""
        state: dict = {}
        for file, block, raw in records:
            key = (file, block)
            number = state.get(key) or self.first_line[key]
            text = bytes(raw).decode("utf-8", "surrogateescape")
            if "\r" in text[:-1]:  # a lone carriage return ends a line for Python too
                pieces = text.split("\r")
                last = pieces.pop()
                lines = [p + "\r" for p in pieces[:-1]] + ([pieces[-1] + "\r\n"] if last == "" else
                                                           [pieces[-1] + "\r", last + "\n"])
            else:
                lines = [text[:-1] + "\r\n" if text.endswith("\r") else text + "\n"]
            for line in lines:
                yield file, number, line
                number += 1
            state[key] = number

    def parse(self, records):
        """A task's lines, parsed by inputs.parse_events a file's run of lines at a time: rows of ``schema``."""
        from pathlib import Path

        from ...inputs import NO_ID_SEEN, parse_events

        for file, lines in self.runs(self.numbered(records)):
            label = self.labels[file]
            if self.from_csv:
                header = self.headers.get(file)
                if header is None:
                    continue  # nothing but blank lines
                lines = [header] + [(n, line) for n, line in lines if n > header[0]]
            load = parse_events(iter(lines), Path(label), self.ruleset, self.subjects, self.attributes_needed,
                                numbered=True, from_csv=self.from_csv, columns=self.columns, seen_ids=NO_ID_SEEN)
            yield from self.rows(load, label, self.ranks[file])

    RUN = 20_000  # lines parsed at once: a batch's Python objects stay small

    def runs(self, numbered):
        """(file, [(line number, line)]) for consecutive lines of one file, at most RUN of them."""
        current, run = None, []
        for file, number, line in numbered:
            if file != current or len(run) >= self.RUN:
                if run:
                    yield current, run
                current, run = file, []
            run.append((number, line))
        if run:
            yield current, run

    def names(self) -> list[str]:
        return [f.name for f in self.schema().fields]

    def rows(self, load, label: str, rank: int):
        """The parsed lines as rows: kind 0 an accepted event, 1 a rejected line, 2 a value SQL cannot hold."""
        from zoneinfo import ZoneInfo

        from ..sqlengine import SqlUnsupported, _us, _Values

        values = _Values(ZoneInfo(self.ruleset.timezone))
        names = self.names()
        by_type: dict[str, dict[str, tuple[str, str]]] = {}
        for (etype, fname), column in self.layout.field_columns.items():
            by_type.setdefault(etype, {})[column] = (fname, self.layout.field_types[(etype, fname)])
        fields = {c: None for c in self.staged}
        base = rank * FILE_RANK_SHIFT
        previous, role = None, 0

        def add(**row) -> tuple:
            return tuple(row.get(name) for name in names)

        for e in load.events:
            role = role + 1 if e.number == previous else 0
            previous = e.number
            line = f"{label}:{e.number}"
            given = e.given_id
            row = dict(fields, kind=0, lpos=base + e.number, role=role, line=line, subject=e.subject, type=e.type,
                       id=given if given is not None else line, reg=given is not None,
                       xid=_bytes(given if given is not None else load.named_ids.get(e.number)))
            try:
                row["at_us"] = _us(e.at)
                for column, (fname, kind) in by_type.get(e.type, {}).items():
                    value = values.to_sql(e.fields.get(fname), kind)
                    if column + "_i" in self.staged:
                        row[column + "_i"] = value if isinstance(value, int) else None
                        row[column + "_d"] = value if isinstance(value, float) else None
                    else:
                        row[column] = value
                    if isinstance(value, str):
                        value.encode("utf-8")  # a lone surrogate escape: no Arrow text holds it
                for text in (e.subject, given or ""):
                    text.encode("utf-8")
            except (SqlUnsupported, UnicodeError) as exc:
                yield add(kind=2, lpos=base + e.number, message=_bytes(str(exc) if isinstance(exc, SqlUnsupported)
                                                                       else ""))
                continue
            yield add(**row)
        for r in load.rejects:
            number = int(r.where.rsplit(":", 1)[1])
            yield add(kind=1, lpos=base + number, line=f"{label}:{number}", xid=_bytes(load.named_ids.get(number)),
                      message=_bytes(r.message), text=r.text.encode("utf-8", "surrogateescape"), end=r.end)


def _bytes(text: str | None) -> bytes | None:
    return None if text is None else text.encode("utf-8", "surrogatepass")


def _text(data) -> str:
    return bytes(data).decode("utf-8", "surrogatepass")


def _line(data) -> str:
    return bytes(data).decode("utf-8", "surrogateescape")


def _staged(session, parsed, lines, reader: _Reader, plan: Plan, subjects, labels: dict, totals: dict,
            headers: dict, spec: str, several: bool) -> SparkLoad:
    """The cross-line check (an id given twice), the rejects, and the accepted events as ``events``."""
    from .. import sqlengine

    parsed.createOrReplaceTempView("__parsed")
    problem = session.sql("SELECT message FROM __parsed WHERE kind = 2 LIMIT 1").collect()
    if problem:
        from ..textlog import _NOT_UNICODE

        raise sqlengine.SqlUnsupported(_text(problem[0][0])) if problem[0][0] else _NOT_UNICODE
    # each id's first accepted line, and every later line naming it: rejected as a duplicate
    later = session.sql("""
        WITH firsts AS (SELECT xid, min(lpos) AS first, min_by(line, lpos) AS first_line FROM __parsed
                        WHERE kind = 0 AND reg GROUP BY xid)
        SELECT DISTINCT p.lpos, p.line, p.kind, p.text, p.end, f.xid, f.first_line FROM __parsed p
        JOIN firsts f ON p.xid = f.xid AND p.lpos > f.first""").collect()
    again = _parsed_again(session, lines, reader, later, headers)
    read = session.sql("SELECT count_if(kind = 1) + count_if(kind = 0 AND role = 0) FROM __parsed").collect()[0][0]
    rejected = {r.lpos for r in later if r.lpos in again}
    session.createDataFrame([(x,) for x in sorted(rejected)] or [(-1,)], "lpos bigint") \
        .createOrReplaceTempView("__duplicates")
    # the rejected lines in input order, each duplicate id with inputs.py's message: a list, or streamed when many
    found = session.sql("SELECT lpos, line, message, text, end FROM __parsed WHERE kind = 1 "
                        "AND lpos NOT IN (SELECT lpos FROM __duplicates)")
    if again:
        found = found.unionByName(session.createDataFrame(
            [(lpos, r.where, _bytes(r.message), r.text.encode("utf-8", "surrogateescape"), r.end)
             for lpos, r in again.items()], found.schema))
    end_of = _last_line_end(session, labels, totals)
    rejects = rejects_of(found.orderBy("lpos"), lambda row: Reject(row.line, _text(row.message), _line(row.text),
                                                                   end_of(row.line, row.end)))
    layout = reader.layout
    columns = ", ".join(reader.staged)
    session.sql(f"SELECT subject, type, lpos * {ROLE_SLOTS} + role AS pos, id, line, at_us"
                f"{', ' + columns if columns else ''} FROM __parsed WHERE kind = 0 "
                "AND lpos NOT IN (SELECT lpos FROM __duplicates)").createOrReplaceTempView("__text_staged")
    events = _events(session, plan, layout, reader.staged).persist()
    events.createOrReplaceTempView("events")
    accepted = events.count()
    lines_accepted = session.sql(f"SELECT count(DISTINCT pos DIV {ROLE_SLOTS}) FROM events").collect()[0][0]
    name = spec.rstrip("/").rsplit("/", 1)[-1]
    load = SparkLoad(session, plan, layout, name, read, rejects, accepted, subjects or {},
                     expanded=accepted - lines_accepted)
    header = next(iter(headers[f] for f in sorted(headers)), None)
    if header is not None:
        from ...datafiles import split_end

        load.header, load.header_end = split_end(header[1])
    return load


def _parsed_again(session, lines, reader: _Reader, later: list, headers: dict) -> dict[int, Reject]:
    """{position: reject} of each line naming an id an earlier accepted line has: inputs.py's exact message.

    A rejected line has its text here; an accepted one (rarer still) is
    read again from the log by its number. A line whose id is only its own
    default (file:line) stays accepted: parse_events says which.
    """
    if not later:
        return {}
    from pathlib import Path

    from ...inputs import parse_events

    wanted = {(r.line, r.lpos) for r in later if r.kind == 0}
    texts = {r.lpos: _line(r.text) + r.end for r in later if r.kind == 1}
    if wanted:
        texts.update(_lines_at(session, lines, reader, {line for line, _ in wanted}))
    out = {}
    for r in later:
        label, number = r.line.rsplit(":", 1)
        header = next((headers[f] for f, shown in reader.labels.items() if shown == label and f in headers), None)
        numbered = ([header] if reader.from_csv and header else []) + [(int(number), texts[r.lpos])]
        careful = parse_events(iter(numbered), Path(label), reader.ruleset, reader.subjects, reader.attributes_needed,
                               numbered=True, from_csv=reader.from_csv, columns=reader.columns,
                               seen_ids={_text(r.xid): r.first_line})
        if careful.rejects:
            reject = careful.rejects[0]
            out[r.lpos] = Reject(r.line, reject.message, reject.text, reject.end)
    return out


def _lines_at(session, lines, reader: _Reader, wanted: set[str]) -> dict[int, str]:
    """{position: line with its end} of the lines named (`label:number`), read again from the log."""
    def pick(records):
        for file, number, line in reader.numbered(records):
            if f"{reader.labels[file]}:{number}" in wanted:
                yield reader.ranks[file] * FILE_RANK_SHIFT + number, line

    return dict(lines.select("file", "block", "raw").rdd.mapPartitions(pick).collect())


def _last_line_end(session, labels: dict, totals: dict):
    """``end_of(where, end)``: a line's end, where a file's last line read as ending in CRLF may end in a lone CR
    with no line feed after it (the file's last byte says; looked at once per file, only for such a line)."""
    last = {f"{labels[f]}:{n}": f for f, n in totals.items()}
    found: dict[str, str] = {}

    def end_of(where: str, end: str) -> str:
        if end != "\r\n" or where not in last:
            return end
        if where not in found:
            file = last[where]
            found[where] = "\r" if _read_bytes(session, file, _file_size(session, file) - 1, 1) == b"\r" else end
        return found[where]
    return end_of


def _events(session, plan: Plan, layout, staged: dict[str, str]):
    """``__text_staged`` as the score query's ``events``: number columns typed as the in-memory path types them
    (all whole: integers; mixed: doubles with a float flag), calendar keys in the ruleset's zone."""
    from ..staging import CALENDAR_COLUMNS, with_calendar
    from ..textlog import number_counts, typed_number_columns

    select = ["subject", "type", "pos", "id", "line", "at_us"]
    counts = number_counts(layout, "__text_staged")
    typed, names = typed_number_columns(layout, session.sql(counts).collect()[0] if counts else ())
    session.sql(f"SELECT {', '.join(select + typed)} FROM __text_staged").createOrReplaceTempView("__text_typed")
    kept = select + names
    query = with_calendar("__text_typed", kept, list(CALENDAR_COLUMNS), dialect="spark", timezone=plan.timezone)
    return session.sql(query.sql("spark"))

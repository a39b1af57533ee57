"""Mutated event logs through every reader: nothing lost, nothing invented, no traceback.

The example logs (JSONL and CSV) are mutated line by line: invalid UTF-8,
duplicate keys, huge integers, datetimes at the edge of the range, typos in
the event type, missing and extra fields, blank lines, CRLF, NUL and BOM. Each
mutated log is scored with `--rejects` on the Python reader and on DuckDB's
reader. The laws:

- no run prints a traceback, and the exit code is 0 or 2;
- read = scored + rejected + after as-of;
- the rejects file holds exactly the rejected lines, verbatim (byte for byte);
- both readers count alike and end with the same exit code.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from whuffie.cli import app

from .budget import fuzz_settings

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "examples" / "library"
LOGS = {
    "jsonl": (LIB / "events.jsonl").read_bytes().splitlines(keepends=True),
    "csv": (LIB / "events.csv").read_bytes().splitlines(keepends=True),
}
RULES = str(LIB / "rules.whuf")
SUBJECTS = str(LIB / "subjects.jsonl")
RUNNER = CliRunner()
SUMMARY = re.compile(r"read (\d+), scored (\d+), rejected (\d+), after as-of (\d+)")

# (old, new) byte replacements that make a line bad, or odd but good.
REPLACEMENTS = [
    (b'"returned"', b'"retruned"'), (b'"alice"', b'"al\xffice"'), (b'"alice"', b'"alice "'),
    (b'"alice"', b'"ali\xcc\x81ce"'), (b'"days_late": 0', b'"days_late": 0, "days_late": 1'),
    (b'"days_late": 0', b'"days_late": ' + b"9" * 4400), (b'"days_late": 0', b'"days_late": 99999999999999999999'),
    (b'"days_late": 0', b'"days_late": 0.5'), (b'"days_late": 0', b'"days_late": null'),
    (b"2026-02-02T10:00:00Z", b"9999-12-31T23:00:00-05:00"), (b"2026-02-03T10:00:00Z", b"0001-01-01T00:00:00+01:00"),
    (b"2026-02-04T10:00:00Z", b"0001-01-01T00:00:00"), (b"2026-02-05T10:00:00Z", b"9999-12-31"),
    (b"T10:00:00Z", b"T25:00:00Z"), (b'"damaged": false', b'"damaged": "false"'), (b"}", b', "extra": 1}'),
    (b"alice,", b"al\xffice,"), (b",returned,", b",retruned,"), (b",0,false", b"," + b"9" * 4400 + b",false"),
    (b"2026-02-02T10:00:00Z", b"9999-12-31T23:00:00-05:00"), (b",a-ret", b',"a\nret'), (b",false,", b",maybe,"),
]
WHOLE_LINE = [b"\n", b"\r\n", b"\x00\n", b"\xef\xbb\xbf", b"{}\n", b"[1, 2]\n", b'{"subject": \n', b"not json\n",
              b"alice,returned\n", b'"unterminated\n']


@st.composite
def mutated_logs(draw) -> tuple[str, bytes]:
    fmt = draw(st.sampled_from(sorted(LOGS)))
    lines = list(LOGS[fmt])
    for _ in range(draw(st.integers(1, 6))):
        first = 1 if fmt == "csv" else 0  # the header is a file-level matter: mutated elsewhere
        i = draw(st.integers(first, len(lines) - 1))
        if draw(st.integers(0, 3)) == 0:
            lines.insert(i, draw(st.sampled_from(WHOLE_LINE)))
            continue
        old, new = draw(st.sampled_from(REPLACEMENTS))
        lines[i] = lines[i].replace(old, new, 1)
    if draw(st.integers(0, 5)) == 0:
        lines = [line.replace(b"\n", b"\r\n") for line in lines]
    return fmt, b"".join(lines)


def run(events: Path, rejects: Path, engine: str):
    result = RUNNER.invoke(app, ["score", RULES, str(events), "--subjects", SUBJECTS, "--rejects", str(rejects),
                                 "--engine", engine, "--format", "json", "--as-of", "2026-06-01"])
    text = result.stdout + result.stderr
    assert "Traceback" not in text and "report this" not in text, text[-3000:]
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 2), text[-3000:]
    return result


@fuzz_settings(quick=40)
@given(mutated_logs())
def test_every_line_is_scored_rejected_or_after_as_of_on_every_reader(tmp_path_factory, case):
    fmt, data = case
    folder = tmp_path_factory.mktemp("log")
    events = folder / f"events.{fmt}"
    events.write_bytes(data)
    ends = {}
    for engine in ("reference", "duckdb"):
        rejects = folder / f"rejects-{engine}.{fmt}"
        result = run(events, rejects, engine)
        assert events.read_bytes() == data, "the input was changed"
        found = SUMMARY.search(result.stderr)
        if found is None:  # a file-level problem: nothing scored, exit 2, and said so
            assert result.exit_code == 2, result.stderr
            ends[engine] = (2, None)
            continue
        read, scored, rejected, after = (int(x) for x in found.groups())
        assert read == scored + rejected + after, result.stderr
        kept = rejects.read_bytes()
        if fmt == "csv" and kept:
            header, _, kept = kept.partition(b"\n")
            assert header + b"\n" == data.split(b"\n", 1)[0] + b"\n"  # the header verbatim, line end and all
        # Verbatim: every rejected record is a run of the input's own bytes, in order.
        assert rejected == 0 or kept, result.stderr
        position = 0
        records = _records(kept, fmt)
        assert len(records) == rejected, (records, result.stderr)
        for record in records:
            at = data.find(record, position)
            assert at >= 0, f"rejects hold {record!r}, which is not in the input"
            position = at + len(record)
        ends[engine] = (result.exit_code, (read, scored, rejected, after))
    assert ends["reference"] == ends["duckdb"], ends


def _records(kept: bytes, fmt: str) -> list[bytes]:
    """The rejects file's records as byte strings (a quoted CSV cell may hold a newline)."""
    if fmt == "jsonl":
        return [line for line in kept.splitlines(keepends=True) if line.strip()]
    # CSV records as the reader splits them (docs/language.md, Input formats): a quoted cell may span
    # lines, but a quote never closed costs only its own line, so the rejects file reads back the same
    from whuffie.inputs import _csv_records

    text = kept.decode("utf-8", "surrogateescape")
    return [record.encode("utf-8", "surrogateescape") for _, record, _ in _csv_records(text) if record.strip()]


# ---------------------------------------------------------------- Parquet

pa = None
try:
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError:  # pragma: no cover - pyarrow is a dev dependency
    pass

PARQUET_VALUES = {
    # How a column may be stored, and values it may hold: some valid, some out of range, some of the wrong kind.
    "days_late": [(pa.int64() if pa else None, [0, 3, -1, 2**63 - 1, None]),
                  (pa.uint64() if pa else None, [0, 2, 2**64 - 1]),
                  (pa.float64() if pa else None, [0.0, 2.5, 1e20, float("nan")]),
                  (pa.string() if pa else None, ["0", "x", "", None])],
    "at": [(pa.timestamp("us", tz="UTC") if pa else None, ["normal", "year1", "year9999"]),
           (pa.string() if pa else None, ["2026-02-02T10:00:00Z", "9999-12-31T23:00:00-05:00",
                                          "0001-01-01T00:00:00+01:00", "yesterday", ""])],
}


@st.composite
def parquet_tables(draw):
    rows = draw(st.integers(1, 8))
    days_type, days_pool = draw(st.sampled_from(PARQUET_VALUES["days_late"]))
    at_type, at_pool = draw(st.sampled_from(PARQUET_VALUES["at"]))
    instants = {"normal": dt.datetime(2026, 2, 2, 10, tzinfo=dt.timezone.utc),
                "year1": dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc),
                "year9999": dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone.utc)}
    ats = [draw(st.sampled_from(at_pool)) for _ in range(rows)]
    if at_type == pa.timestamp("us", tz="UTC"):
        ats = [instants[a] for a in ats]
    return pa.table({
        "subject": pa.array([draw(st.sampled_from(["alice", "bob", "", "zed", None])) for _ in range(rows)],
                            pa.string()),
        "type": pa.array([draw(st.sampled_from(["returned", "returned", "retruned", None])) for _ in range(rows)],
                         pa.string()),
        "at": pa.array(ats, at_type),
        "days_late": pa.array([draw(st.sampled_from(days_pool)) for _ in range(rows)], days_type),
        "damaged": pa.array([draw(st.sampled_from([True, False, None])) for _ in range(rows)], pa.bool_()),
    })


@fuzz_settings(quick=20)
@given(parquet_tables())
def test_parquet_rows_are_scored_or_rejected_alike_on_every_engine(tmp_path_factory, table):
    folder = tmp_path_factory.mktemp("parquet")
    events = folder / "events.parquet"
    pq.write_table(table, events)
    data = events.read_bytes()
    ends = {}
    for engine in ("reference", "codegen", "duckdb"):
        result = run(events, folder / f"rejects-{engine}.jsonl", engine)
        assert events.read_bytes() == data, "the input was changed"
        found = SUMMARY.search(result.stderr)
        counts = tuple(int(x) for x in found.groups()) if found else None
        if counts:
            read, scored, rejected, after = counts
            assert read == table.num_rows == scored + rejected + after, result.stderr
        ends[engine] = (result.exit_code, counts, result.stdout)
    assert len(set(ends.values())) == 1, ends

"""The whole ledger, exported: every contribution of every subject, as Parquet, CSV or JSONL.

Entry points: ``ledger_format(path)`` (the format a file's suffix names, or a
``LedgerError``), ``SqlLedgerSink`` (handed to the DuckDB engine: once the
score query has run without a fault, it writes the ledger query's rows
straight from DuckDB, so a large log never becomes Python objects) and
``write_results(results, ruleset, path)`` (the ledger the Python engines
kept). Both write through the same DuckDB ``COPY`` with the same columns and
types, so the file does not depend on the engine that scored.

The columns are the fields of ``explain --format json``'s ledger entries, after
``subject``: ``rule``, ``author``, ``because``, ``cites``, ``event``,
``event_type``, ``at``, ``line``, ``raw``, ``capped``, ``cut_by``, ``decay``,
``value``, ``span``. Amounts (``raw``, ``capped``, each cut) are integers when
every award and every cap and bound is an integer, else doubles; ``value``
is an integer when, in addition, no rule decays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from .evaluator import Results
from .plan import lower
from .engines.sqlledger import LEDGER_COLUMNS, number_kinds
from .symbols import Ruleset

FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class LedgerError:
    """A --ledger path that cannot be written, worded for the user (exit 2)."""

    message: str


def ledger_format(path: Path) -> str | LedgerError:
    """The format a --ledger file's suffix names, after checking that the file can be created there."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        return LedgerError(f"--ledger {path}: the suffix names the format: .parquet, .csv or .jsonl "
                           f"(not {path.suffix or 'none'!r})")
    if path.is_dir():
        return LedgerError(f"--ledger {path} is a directory")
    if not path.parent.is_dir():
        return LedgerError(f"--ledger {path}: the folder {path.parent} does not exist")
    return fmt


class SqlLedgerSink:
    """Writes the ledger from DuckDB, called by the SQL engine once its score query ran without a fault."""

    def __init__(self, path: Path, fmt: str):
        self.path, self.fmt = path, fmt
        self.written = False
        self.error: str | None = None  # why the file could not be written (the scores stand)

    def __call__(self, con, compiled) -> None:
        if compiled.ledger is None:  # no rules: nothing fires
            return
        import duckdb
        from sqlglot import exp

        try:
            _copy(con, exp.Subquery(this=compiled.ledger), self.path, self.fmt)
        except duckdb.IOException as exc:  # the file, not the query: no reason to hand the run over
            self.error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return
        self.written = True


def write_results(results: Results, ruleset: Ruleset, path: Path, fmt: str) -> None:
    """Write the ledger the reference or generated Python kept (``ledger=True``) through DuckDB's COPY."""
    import duckdb
    import pyarrow as pa
    from sqlglot import exp

    amounts_whole, values_whole = number_kinds(lower(ruleset))
    amount = pa.int64() if amounts_whole else pa.float64()
    value = pa.int64() if values_whole else pa.float64()
    schema = pa.schema([
        ("subject", pa.string()), ("rule", pa.string()), ("author", pa.string()), ("because", pa.string()),
        ("cites", pa.list_(pa.string())), ("event", pa.string()), ("event_type", pa.string()),
        ("at_us", pa.int64()), ("line", pa.string()), ("raw", amount), ("capped", amount),
        ("cut_by", pa.list_(pa.struct([("by", pa.string()), ("amount", amount)]))), ("decay", pa.float64()),
        ("value", value), ("span", pa.string())])
    as_amount = int if amounts_whole else float
    as_value = int if values_whole else float
    columns: dict[str, list] = {name: [] for name in schema.names}
    for subject in results.subjects:
        for e in subject.ledger:
            row = (subject.subject, e.rule, e.author, e.because, list(e.cites), e.event_id, e.event_type,
                   (e.at - EPOCH) // dt.timedelta(microseconds=1), e.line, as_amount(e.raw), as_amount(e.capped),
                   [{"by": c.by, "amount": as_amount(c.amount)} for c in e.cuts], float(e.decay), as_value(e.value),
                   str(e.span))
            for name, cell in zip(schema.names, row):
                columns[name].append(cell)
    table = pa.table(columns, schema=schema)
    con = duckdb.connect(":memory:")
    try:
        con.register("ledger_rows", table)
        _copy(con, exp.to_table("ledger_rows"), path, fmt)
    finally:
        con.close()


def _copy(con, source, path: Path, fmt: str) -> None:
    """COPY the ledger rows of ``source`` (a relation with at_us) to ``path`` in the file's format."""
    from sqlglot import exp

    from .engines.sqlengine import _quote

    at = exp.Cast(this=exp.Anonymous(this="make_timestamp", expressions=[exp.column("at_us")]),
                  to=exp.DataType.build("TIMESTAMPTZ"))
    if fmt != "parquet":  # ISO 8601 in UTC with a Z, as explain prints it
        text = exp.Anonymous(this="strftime", expressions=[
            exp.Anonymous(this="make_timestamp", expressions=[exp.column("at_us")]),
            exp.Literal.string("%Y-%m-%dT%H:%M:%S.%f")])
        at = exp.DPipe(this=exp.Anonymous(this="regexp_replace", expressions=[
            text, exp.Literal.string(r"\.?0+$"), exp.Literal.string("")]), expression=exp.Literal.string("Z"))
    cols = []
    for name in LEDGER_COLUMNS:
        if name == "at":
            cols.append(at.as_("at"))
        elif fmt == "csv" and name in ("cites", "cut_by"):  # a list in one CSV cell: its JSON text
            cols.append(exp.Anonymous(this="to_json", expressions=[exp.column(name)]).as_(name))
        else:
            cols.append(exp.column(name))
    select = exp.select(*cols).from_(exp.alias_(source, "l") if isinstance(source, exp.Subquery) else source)
    options = {"parquet": "FORMAT parquet", "csv": "FORMAT csv, HEADER true", "jsonl": "FORMAT json"}[fmt]
    con.execute("SET TimeZone = 'UTC'")
    # the path is the only text from outside, written as a quoted SQL string
    con.execute(f"COPY ({select.sql('duckdb')}) TO '{_quote(str(path))}' ({options})")

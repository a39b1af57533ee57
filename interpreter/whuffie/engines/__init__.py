"""Choosing an engine: reference, generated Python or DuckDB, with the fallbacks that keep them equal.

Entry point: ``evaluate(engine, ruleset, events, subjects, as_of, ledger=..., only=..., notes=...)``.
Every engine returns the same ``evaluator.Results``. The SQL engine never
answers with a number it is not sure of: a construct it cannot express
(W091, reported through ``notes``), a fault it met (rerun in generated
Python, which raises the reference's exact W090), or a DuckDB error (an
overflow of 64-bit integers, say) all hand the run to generated Python.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

from ..diagnostics import Diagnostic, warning
from ..evaluator import Results
from ..inputs import Event
from ..symbols import Ruleset

ENGINES = ("auto", "reference", "codegen", "duckdb", "spark")


def is_columnar(spec: str) -> bool:
    """Whether an events argument is read by DuckDB itself: a .parquet file or duckdb:PATH#TABLE."""
    return spec.startswith("duckdb:") or spec.lower().endswith(".parquet")


def is_text_log(spec: str) -> bool:
    """Whether an events argument is a JSONL log that the DuckDB reader can take (not CSV, not columnar)."""
    return not is_columnar(spec) and not spec.lower().endswith(".csv")


def choose(engine: str, events: int, columnar_input: bool, ledger: bool) -> str:
    """The engine `auto` stands for: DuckDB for Parquet/DuckDB input without a ledger, else generated Python.

    A large JSONL or CSV log stays on generated Python: it is already in Python
    objects, and handing them to DuckDB costs more than scoring them
    (benchmarks/README.md, "Engines"). ``events`` is kept for that measured choice.
    """
    if engine != "auto":
        return engine
    if not ledger and columnar_input:
        return "duckdb"
    return "codegen"


# A JSONL log at least this large is read by DuckDB under `auto` when no ledger is needed
# (benchmarks/README.md, "Engines": DuckDB's reader and the query beat inputs.py + generated Python).
TEXT_LOG_ON_DUCKDB_BYTES = 32_000_000


def text_log_on_duckdb(path: str, engine: str, ledger: bool, only: str | None) -> bool:
    """Whether a JSONL log is read, validated and scored by DuckDB: `--engine duckdb`, or `auto` on a large log."""
    import os

    if ledger or only is not None or not is_text_log(path) or engine not in ("duckdb", "auto"):
        return False
    if engine == "duckdb":
        return True
    try:
        return os.path.getsize(path) >= TEXT_LOG_ON_DUCKDB_BYTES
    except OSError:
        return False


def evaluate(engine: str, ruleset: Ruleset, events: list[Event], subjects: dict[str, dict] | None = None,
             as_of: dt.datetime | None = None, *, ledger: bool = True, only: str | None = None,
             notes: Callable[[Diagnostic], None] | None = None,
             progress: Callable[[int, int], None] | None = None, ledger_sink=None) -> Results:
    """Evaluate in-memory events with one engine (``auto`` picks); same Results or same W090 from each.

    ``ledger_sink`` is handed to the SQL engine, which writes the ledger from DuckDB through it
    (ledger_export.SqlLedgerSink); on any other engine it is not called.
    """
    from .. import evaluator, sitewide
    from . import codegen

    if sitewide.site_measures(ruleset):  # computed once over every event, then read as literals
        return sitewide.evaluate(
            lambda rs, evs, subj, at, **kw: evaluate(engine, rs, evs, subj, at, **kw), ruleset, events, subjects,
            as_of, ledger=ledger, only=only, notes=notes, progress=progress, ledger_sink=ledger_sink)
    engine = choose(engine, len(events), False, ledger)
    if engine == "reference":
        return evaluator.evaluate(ruleset, events, subjects, as_of, ledger=ledger, only=only)
    if engine == "duckdb" and not ledger and only is None:
        from . import sqlengine
        from ..plan import lower

        results = on_duckdb(lambda: sqlengine.evaluate(lower(ruleset), events, subjects, as_of,
                                                       ledger_sink=ledger_sink), notes)
        if results is not None:
            return results
    if engine == "spark" and not ledger and only is None:
        results = on_spark(ruleset, events, subjects, as_of, notes)
        if results is not None:
            return results
    try:
        return codegen.evaluate(ruleset, events, subjects, as_of, ledger=ledger, only=only, progress=progress)
    except codegen.CodegenUnsupported as exc:
        if notes:
            notes(warning("W091", f"the generated-Python engine cannot compile {exc}; using the reference",
                          ruleset.program.items[0].span if ruleset.program.items else None))
        return evaluator.evaluate(ruleset, events, subjects, as_of, ledger=ledger, only=only)


def evaluate_columnar(load, ruleset: Ruleset, subjects: dict[str, dict] | None = None,
                      as_of: dt.datetime | None = None, *,
                      notes: Callable[[Diagnostic], None] | None = None, ledger_sink=None) -> Results:
    """Score rows DuckDB read and validated (Parquet, a DuckDB table, a JSONL log) on DuckDB, or hand over.

    The one place where the SQL engine's refusals become the other engines'
    outcome: what the query cannot express (W091 through ``notes``), a fault it
    met or a DuckDB error all rerun the accepted rows on generated Python, which
    gives the reference's result or raises its exact W090.
    """
    from .. import sitewide
    from . import sqlengine

    if sitewide.site_measures(ruleset):  # each site-wide value one aggregate on DuckDB, then the scores
        results = on_duckdb(lambda: sitewide.evaluate_columnar(load, ruleset, subjects, as_of, ledger_sink), notes)
        if results is not None:
            return results
        return evaluate("codegen", ruleset, load.events(), subjects, as_of, ledger=False, notes=notes)
    results = on_duckdb(lambda: sqlengine.evaluate_columnar(load, subjects, as_of, ledger_sink=ledger_sink), notes)
    if results is not None:
        return results
    return evaluate("codegen", ruleset, load.events(), subjects, as_of, ledger=False, notes=notes)


# DuckDB's errors for values beyond its types: a run-time fault (W090) in every other engine
_FAULT_ERRORS = ("OutOfRangeException", "ConversionException", "InvalidInputException")


def on_duckdb(run: Callable[[], Results], notes: Callable[[Diagnostic], None] | None) -> Results | None:
    """``run()``'s results, or None when the run must go to generated Python (after a W091 note if any).

    A fault the query met (SqlFault) and a DuckDB error about a value beyond
    its range (an int64 overflow, a double that no integer holds) are faults:
    generated Python meets them too and names them, so no note. A construct the
    query cannot express, a query too deep to print, or any other database
    error is a W091 note: the same result, from another engine.
    """
    import duckdb

    from . import sqlengine

    try:
        return run()
    except sqlengine.SqlUnsupported as exc:
        note = exc.diagnostic()
    except sqlengine.SqlFault:
        return None
    except duckdb.Error as exc:
        if type(exc).__name__ in _FAULT_ERRORS:
            return None
        note = engine_error(exc)
    except RecursionError:
        note = sqlengine.SqlUnsupported("an expression nested this deeply").diagnostic()
    except Exception as exc:  # noqa: BLE001 - any other library error: never a wrong number, hand over
        note = engine_error(exc)
    if notes:
        notes(note)
    return None


# above this many events a whole run is not handed from Spark to generated Python (on the driver):
# a W091 naming the construct instead, never a wrong number and never a driver out of memory
SPARK_HANDOVER_LIMIT = 5_000_000


class SparkRefused(Exception):
    """A run Spark cannot score exactly and that is too large to hand to generated Python."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def refusal(note: Diagnostic, events: int) -> Diagnostic:
    """The W091 of a run too large to hand from Spark to the driver, naming what Spark could not express."""
    return warning("W091", f"{note.message.split(';')[0]}; {events} events are too many to score on the driver "
                   f"(more than {SPARK_HANDOVER_LIMIT})", note.span)


def on_spark(ruleset: Ruleset, events, subjects, as_of, notes) -> Results | None:
    """Spark's results, or None when the run goes to generated Python (after a W091 note, as on_duckdb)."""
    from . import spark, sqlengine
    from ..plan import lower

    try:
        return spark.evaluate(lower(ruleset), events, subjects, as_of)
    except spark.SparkMissing:
        raise
    except sqlengine.SqlUnsupported as exc:
        note = exc.diagnostic()
    except sqlengine.SqlFault:
        return None  # generated Python meets the fault too and names it (W090)
    except RecursionError:
        note = sqlengine.SqlUnsupported("an expression nested this deeply").diagnostic()
    except Exception as exc:  # noqa: BLE001 - a Spark error: never a wrong number, hand over
        note = engine_error(exc, "Spark could not run the query")
    if len(events) > SPARK_HANDOVER_LIMIT:
        raise SparkRefused(refusal(note, len(events)))
    if notes:
        notes(note)
    return None


def engine_error(exc: Exception, what: str = "DuckDB could not run the query",
                 then: str = "scoring with the generated-Python engine") -> Diagnostic:
    """A database error as a W091 note: the run continues on generated Python (or as ``then`` says)."""
    from ..nodes import NO_SPAN

    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return warning("W091", f"{what} ({first[:300]}); {then}", NO_SPAN,
                   hint="nothing to fix: the result is the same, only slower on very large logs")

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

from .diagnostics import Diagnostic, warning
from .evaluator import Results
from .inputs import Event
from .symbols import Ruleset

ENGINES = ("auto", "reference", "codegen", "duckdb")


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

    from .sqlengine import is_text_log

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
             progress: Callable[[int, int], None] | None = None) -> Results:
    """Evaluate in-memory events with one engine (``auto`` picks); same Results or same W090 from each."""
    from . import codegen, evaluator

    engine = choose(engine, len(events), False, ledger)
    if engine == "reference":
        return evaluator.evaluate(ruleset, events, subjects, as_of, ledger=ledger, only=only)
    if engine == "duckdb" and not ledger and only is None:
        from . import sqlengine
        from .plan import lower

        try:
            return sqlengine.evaluate(lower(ruleset), events, subjects, as_of)
        except sqlengine.SqlUnsupported as exc:
            if notes:
                notes(exc.diagnostic())
        except sqlengine.SqlFault:
            pass  # generated Python meets the same fault and names it exactly
        except Exception as exc:  # noqa: BLE001 - any database error: never a wrong number, fall back
            if notes:
                notes(engine_error(exc))
    try:
        return codegen.evaluate(ruleset, events, subjects, as_of, ledger=ledger, only=only, progress=progress)
    except codegen.CodegenUnsupported as exc:
        if notes:
            notes(warning("W091", f"the generated-Python engine cannot compile {exc}; using the reference",
                          ruleset.program.items[0].span if ruleset.program.items else None))
        return evaluator.evaluate(ruleset, events, subjects, as_of, ledger=ledger, only=only)


def engine_error(exc: Exception) -> Diagnostic:
    """A database error as a W091 note: the run continues on generated Python."""
    from .nodes import NO_SPAN

    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return warning("W091", f"DuckDB could not run the query ({first}); scoring with the generated-Python engine",
                   NO_SPAN, hint="nothing to fix: the result is the same, only slower on very large logs")

"""The command line: whuffie check | fmt | score | explain | authors | diff | audit | test | repl | lsp | sql.

Exit codes: 0 ok, 1 rule-file errors or failed tests, 2 bad input data or usage.
"""

from __future__ import annotations

import difflib
import gc
import json
import operator
import re
import sys
from pathlib import Path
from typing import NoReturn, Optional

import typer

from . import diagnostics as diag
from . import sourcelines
from .cli_coercion import install_plain_coercion
from .frontend import load_file

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2

EVENTS_HELP = ("Events: JSONL, CSV (by the .csv suffix), Parquet (.parquet), a DuckDB table duckdb:PATH#TABLE, "
               "or - for standard input (JSONL, or CSV when its first line is a header naming subject).")
VERBOSE_HELP = "Print every bad line and warning (by default the first few of each kind, then a count)."
# the column mapping of every command that reads events (columns.py parses and applies it)
COLUMNS_OPTION = typer.Option(None, "--columns", metavar="KEY=COL,…", help="Read a table with its own column names: subject=user_id,type=event_type,at=ts,id=event_id (integer ids are read as text).")
EXTRA_OPTION = typer.Option(None, "--extra", metavar="POLICY", help="Columns the rules do not declare: reject (the default) or ignore.")
SET_OPTION = typer.Option([], "--set", metavar="NAME=VALUE", help="Give a param another value for this run (type-checked), e.g. --set tl3_min_days=40; repeatable.")
SPARK_MASTER_OPTION = typer.Option(None, "--spark-master", metavar="URL", help="With --engine spark: the Spark master (default local[*]), e.g. spark://host:7077 or yarn.")
SPARK_POSITION_OPTION = typer.Option(None, "--position", metavar="COLUMN", help="With --engine spark and a spark:db.table input: the column (or expression) of input order that breaks ties in time; default for a table of Parquet files: the file's rank and the row in it.")
SPARK_CONF_OPTION = typer.Option([], "--spark-conf", metavar="KEY=VALUE", help="With --engine spark: a Spark setting, e.g. spark.executor.memory=4g; repeatable.")
TYPES_OPTION = typer.Option(None, "--types", metavar="TYPE=CODE,…", help="Event types stored as codes: voted=2,answer_accepted=1, or a file of such lines (or a JSON object).")


def _plain_placeholders(params: list) -> list:
    """No `<bool>` after a flag (it takes no value) and no `<path>` after an argument named RULES or EVENTS."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        elif param.param_type_name == "argument":
            param.display_type_rich = lambda ctx: None
    return install_plain_coercion(params)  # no Pydantic adapters for plain values (start-up)


class _Group(typer.core.TyperGroup):
    def get_params(self, ctx):
        return _plain_placeholders(super().get_params(ctx))


class _Command(typer.core.TyperCommand):
    """Help in the usual Unix shape: `score [OPTIONS] RULES EVENTS`, with no type placeholders that mislead."""

    def get_params(self, ctx):
        return _plain_placeholders(super().get_params(ctx))

    def collect_usage_pieces(self, ctx) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name != "argument":
                continue
            name = param.metavar or param.name.upper()
            name = name if param.required else f"[{name}]"
            pieces.append(name + ("..." if param.nargs != 1 else ""))
        return pieces


app = typer.Typer(
    name="whuffie",
    help="whuffie: community scores whose every point is traceable to a rule, an author and an event.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_Group,
)


def _print_version(value: bool) -> None:
    if value:
        from . import __version__

        print(f"whuffie {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _options(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")) -> None:
    """whuffie: community scores whose every point is traceable to a rule, an author and an event."""


def _color(stream) -> bool:
    return stream.isatty()


def _print_diagnostics(diags: list[diag.Diagnostic], sources: dict[str, str]) -> None:
    if diags:
        sys.stderr.write(diag.render(diags, sources, color=_color(sys.stderr)))


@app.command(cls=_Command)
def check(
    files: list[Path] = typer.Argument(..., metavar="FILES", help="Rule files (*.whuf) to check."),
    format: str = typer.Option("text", "--format", metavar="FORMAT", help="Output format: text or json."),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors."),
) -> None:
    """Check rule files: syntax, names, types, provenance and fairness."""
    if format not in ("text", "json"):
        _usage(f"--format must be text or json, not {format!r}")
    all_diags: list[diag.Diagnostic] = []
    sources: dict[str, str] = {}
    for path in files:
        loaded = load_file(path)
        if loaded.source is not None:
            sources[str(path)] = loaded.source
        all_diags.extend(loaded.diagnostics)
    all_diags.sort(key=diag.sort_key)
    failed = any(d.is_error or strict for d in all_diags)
    if format == "json":
        print(diag.to_json(all_diags))
    else:
        _print_diagnostics(all_diags, sources)
        count = len(files)
        status = "failed" if failed else "ok"
        noun = "file" if count == 1 else "files"
        detail = diag.summary(all_diags) if all_diags else "no problems"
        print(f"checked {count} {noun}: {detail} ({status})", file=sys.stderr if failed else sys.stdout)
    raise typer.Exit(EXIT_ERRORS if failed else EXIT_OK)


@app.command(cls=_Command)
def fmt(
    files: list[Path] = typer.Argument(..., metavar="FILES", help="Rule files to format in place."),
    check_only: bool = typer.Option(False, "--check", help="Only report files that are not formatted; change nothing."),
    diff: bool = typer.Option(False, "--diff", help="Print a unified diff instead of writing."),
) -> None:
    """Format rule files in the one canonical layout (comments kept)."""
    from .formatter import format_program
    from .parser import parse

    unformatted = 0
    broken = 0
    for path in files:
        loaded = load_file(path, check=False)
        if loaded.program is None or any(d.is_error for d in loaded.diagnostics):
            _print_diagnostics(loaded.diagnostics, {str(path): loaded.source or ""})
            broken += 1
            continue
        formatted = format_program(loaded.program, newline=sourcelines.line_ending(loaded.source))
        if formatted == loaded.source:
            continue
        # Never write a file whose meaning the formatter changed (that would be a whuffie bug).
        again = parse(formatted, str(path)).program
        if again != loaded.program:
            print(f"{path}: internal error: formatting would change the meaning; file left as it was "
                  "(please report this)", file=sys.stderr)
            broken += 1
            continue
        unformatted += 1
        if diff:
            sys.stdout.writelines(difflib.unified_diff(
                sourcelines.split_keeping_ends(loaded.source), sourcelines.split_keeping_ends(formatted),
                fromfile=f"{path} (original)", tofile=f"{path} (formatted)"))
        if check_only:
            print(f"would reformat {path}", file=sys.stderr)
        elif not diff:
            try:
                path.write_text(formatted, encoding="utf-8")
            except OSError as exc:
                print(f"{path}: cannot write the formatted file: {exc.strerror}", file=sys.stderr)
                unformatted -= 1
                broken += 1
                continue
            print(f"formatted {path}", file=sys.stderr)
    done = len(files) - unformatted - broken
    parts = []
    if unformatted:
        verb = "would be reformatted" if check_only or diff else "reformatted"
        parts.append(f"{unformatted} file{'s' * (unformatted != 1)} {verb}")
    if done:
        parts.append(f"{done} file{'s' * (done != 1)} already formatted")
    if broken:
        parts.append(f"{broken} file{'s' * (broken != 1)} with errors")
    print(", ".join(parts), file=sys.stderr)
    if broken or (check_only and unformatted):
        raise typer.Exit(EXIT_ERRORS)
    raise typer.Exit(EXIT_OK)


# ---------------------------------------------------------------- score / explain / authors


def _overrides(sets: list[str] | None, option: str = "--set") -> dict[str, str]:
    """--set NAME=VALUE options as a dict (a malformed one is a usage error)."""
    from .params import parse_sets

    found, problems = parse_sets(sets or [], option)
    if problems:
        _usage(problems[0])
    return found


def _report_params(loaded, option: str = "--set", label: str = "") -> None:
    """Stop on a --set value that does not fit (exit 2); else record the parameters this run used."""
    if loaded.set_errors:
        _usage(loaded.set_errors[0].replace("--set ", f"{option} ", 1))
    if loaded.params:
        shown = ", ".join(f"{p.name}={p.shown()}" + (f" ({option})" if p.overridden else "") for p in loaded.params)
        print(f"{label}params: {shown}", file=sys.stderr)


def _load_rules(path: Path, sets: list[str] | None = None):
    """Load and check a rule file and compile it; print diagnostics and exit 1 on errors."""
    from .evaluator import EvaluationError, compile_ruleset

    loaded = load_file(path, overrides=_overrides(sets))
    if loaded.set_errors:
        _report_params(loaded)
    if not loaded.ok or loaded.ruleset is None:
        errors = [d for d in loaded.diagnostics if d.is_error]
        _print_diagnostics(sorted(errors, key=diag.sort_key), {str(path): loaded.source or ""})
        print(f"{path}: {diag.summary(errors)}; nothing scored", file=sys.stderr)
        raise typer.Exit(EXIT_ERRORS)
    try:
        program = compile_ruleset(loaded.ruleset)
    except EvaluationError as exc:
        _print_diagnostics(exc.diagnostics, {str(path): loaded.source or ""})
        raise typer.Exit(EXIT_ERRORS)
    _report_params(loaded)
    _start_up_done()
    return loaded, program


def _column_map(columns: str | None, extra: str | None, types: str | None):
    """The --columns, --extra and --types options as one ColumnMap; a bad one is a usage error."""
    from .columns import ColumnsError, parse_options

    try:
        return parse_options(columns, extra, types)
    except ColumnsError as exc:
        _usage(str(exc))


def _check_column_map(columns, ruleset) -> None:
    if columns is not None and (problem := columns.problem(ruleset)) is not None:
        _usage(problem)


def _run(rules: Path, events_path: Path | None, subjects_path: Path | None, as_of: str | None,
         rejects_path: Path | None, only: str | None = None, ledger: bool = True, engine: str = "auto",
         verbose: bool = False, ledger_sink=None, columns=None, sets: list[str] | None = None):
    """The shared front half of score / explain / authors: rules, inputs, evaluation."""
    from .columns import PLAIN

    columns = columns or PLAIN
    from .evaluator import EvaluationError
    from .datafiles import check_input, is_stdin
    from .inputs import STDIN_NAME, DataError, load_events
    from .engines import is_columnar

    if engine not in ENGINE_NAMES:
        _usage(f"--engine must be one of {', '.join(ENGINE_NAMES)}, not {engine!r}")
    _refuse_rejects_over_inputs(rejects_path, rules, events_path, subjects_path)
    from .engines import text_log_on_duckdb

    if subjects_path is not None and is_stdin(subjects_path):
        _usage("--subjects - is not supported: standard input is for the events (give the subjects as a file)")
    import os

    from .engines.spark.columnar import is_spark_only

    # several Parquet files (a glob or a directory) and a spark:db.table are read by Spark itself
    parquet_set = engine == "spark" and events_path is not None and is_spark_only(str(events_path))
    if engine != "spark" and events_path is not None and not str(events_path).startswith("spark:") \
            and not os.path.isfile(events_path) and is_spark_only(str(events_path)):
        _usage(f"{events_path}: several files (a glob or a directory) are read by Spark: add --engine spark, "
               "or give one file")
    try:  # a FIFO or a device would hang the reader (ours or DuckDB's): refuse it before reading
        for given in (events_path, subjects_path):
            if given is not None and not str(given).startswith("duckdb:") and not (
                    parquet_set and given is events_path):
                check_input(given)
    except DataError as exc:
        _data_error(exc)
    from .engines.spark.text import is_text_set

    # a JSONL or CSV log on Spark is read by Spark itself, after the rules and subjects (below)
    text_on_spark = engine == "spark" and only is None and not ledger and events_path is not None and (
        not is_stdin(events_path) and not is_columnar(str(events_path)) and not str(events_path).startswith("spark:")
        and (is_text_set(str(events_path)) or not os.path.isdir(events_path)))
    if events_path is not None and not is_stdin(events_path) and not (text_on_spark and not parquet_set) and (
            parquet_set or is_columnar(str(events_path)) or text_log_on_duckdb(str(events_path), engine, ledger, only)):
        return _run_columnar(rules, str(events_path), subjects_path, as_of, rejects_path, only, ledger, engine,
                             verbose, ledger_sink, columns, sets)

    loaded, program = _load_rules(rules, sets)
    ruleset = loaded.ruleset
    _check_column_map(columns, ruleset)
    subjects = None
    try:
        if subjects_path is not None:
            subjects = _load_subjects_or_stop(subjects_path, ruleset, verbose)
        if events_path is None:
            return loaded, program, None, None
        if program.reads_attributes and subjects is None:
            kind = ruleset.subject_kind.name
            _usage(f"the rules read {kind} attributes; give them with --subjects FILE")
        if text_on_spark:
            from .plan import lower

            on_spark = _run_on_spark(loaded, program, lower(ruleset), str(events_path), subjects, as_of,
                                     rejects_path, verbose, columns, rules)
            if on_spark is not None:
                return on_spark
            if is_text_set(str(events_path)):  # the driver reads one file only
                _usage(f"{events_path}: Spark could not read it (the note above says why)")
        with _progress(f"reading {events_path.name}"):
            load = load_events(events_path, ruleset, subjects, program.reads_attributes, columns=columns)
    except DataError as exc:
        _data_error(exc)
    _warn_each("W082", load.warnings, verbose)
    shown = STDIN_NAME if is_stdin(events_path) else events_path  # standard input is `<stdin>` in messages
    _handle_rejects(load, rejects_path, shown, "line", verbose=verbose)
    instant = _as_of_instant(as_of, ruleset)
    _refuse_nothing_to_score(events_path, len(load.events), len(load.rejects), subjects, instant)
    grouped = load.events.grouped() if hasattr(load.events, "grouped") else None
    known = (set(grouped) if grouped is not None else {e.subject for e in load.events}) | set(subjects or {})
    if only is not None and only not in known:
        _unknown_subject(only, sorted(known), shown, subjects_path)
    try:
        from . import engines

        with _progress(f"scoring {len(load.events)} events") as bar:
            results = engines.evaluate(engine, ruleset, load.events, subjects, instant, ledger=ledger, only=only,
                                       notes=lambda d: _print_diagnostics([d], {str(rules): loaded.source or ""}),
                                       progress=bar.update, ledger_sink=ledger_sink)
    except (EvaluationError, engines.SparkRefused) as exc:
        _scoring_failed(exc, rules, loaded)
    if instant is None and load.events:
        _warn_if_later_than_clock(results.as_of, lambda: max(load.events, key=operator.attrgetter("at")).line)
    _summary(events_path, load.read, None, results, len(load.rejects), rejects_path, _line_counts(load, results))
    return loaded, program, load, results


def _line_counts(load, results) -> tuple[int, int] | None:
    """(scored, after as-of) in lines when a line of a role event became several events, else None."""
    if not getattr(load, "expanded", 0):
        return None
    events = load.events() if callable(load.events) else load.events
    after = {e.line for e in events if e.at > results.as_of}
    return len({e.line for e in events}) - len(after), len(after)


def _summary(source, read: int, only: str | None, results, rejected: int, rejects_path: Path | None,
             lines: tuple[int, int] | None = None) -> None:
    """The closing count line: every line read is scored, rejected or after the as-of instant."""
    from .datafiles import is_stdin
    from .inputs import STDIN_NAME
    from .report import iso

    source = STDIN_NAME if is_stdin(source) else source
    scored, after = lines or (results.scored, results.after_as_of)
    print(f"{source}: read {read}{f' rows of {only}' if only is not None else ''}, scored {scored}, "
          f"rejected {rejected}, after as-of {after} (as of {iso(results.as_of)})"
          + (f"; rejects in {rejects_path}" if rejects_path is not None and rejected else ""), file=sys.stderr)


def _load_subjects_or_stop(subjects_path: Path, ruleset, verbose: bool) -> dict:
    """The subjects file; a bad line in it stops the run (exit 2), whatever --rejects says."""
    from .inputs import load_subjects

    subj = load_subjects(subjects_path, ruleset)
    _warn_each("W082", subj.warnings, verbose)
    if subj.rejects:
        _print_capped(subj.rejects, verbose)
        print(f"{subjects_path}: {len(subj.rejects)} bad line{'s' * (len(subj.rejects) != 1)}; "
              "nothing scored (fix the subjects file)", file=sys.stderr)
        raise typer.Exit(EXIT_USAGE)
    return subj.subjects


def _data_error(exc) -> None:
    """A whole input that cannot be read: its diagnostic (W080) when it has one, then exit 2."""
    if getattr(exc, "code", None):
        _print_diagnostics([diag.error(exc.code, exc.message, _place(exc.where or ""))], {})
        raise typer.Exit(EXIT_USAGE)
    _usage(str(exc))


def _place(where: str):
    """A span for a data location, "file" or "file:line": shown as it is written."""
    from .nodes import Span

    return Span(where, 0, 0, 0, 0)


def _warn_each(code: str, found: list[tuple[str, str]], verbose: bool) -> None:
    """Warnings about input lines, (file:line, message) each: the first few of each kind unless verbose."""
    if found:
        _print_capped([_Note(where, message) for where, message in found], verbose, code)


class _Note:
    """A located input message, printed as a warning with a code."""

    def __init__(self, where: str, message: str):
        self.where, self.message = where, message


def _refuse_nothing_to_score(events_path, accepted: int, rejected: int, subjects: dict | None, instant) -> None:
    """W084: no event and no subject (nothing to score), or subjects but no instant to score them at."""
    if accepted:
        return
    from .datafiles import is_stdin
    from .inputs import STDIN_NAME

    events_path = STDIN_NAME if is_stdin(events_path) else events_path
    why = ("its only line was rejected" if rejected == 1 else f"all {rejected:,} lines were rejected") if rejected \
        else "it has no events"
    if not subjects:
        _print_diagnostics([diag.error("W084", f"nothing to score: {why} and no subjects file names a subject",
                                       _place(str(events_path)),
                                       "check that this is the right events file, or give --subjects FILE")], {})
        raise typer.Exit(EXIT_USAGE)
    if instant is None:
        _print_diagnostics([diag.error("W084", f"no instant to score the subjects at: {why}, and the as-of instant "
                                       "defaults to the latest event", _place(str(events_path)),
                                       "give --as-of T (a date, a datetime, `now` or `today`)")], {})
        raise typer.Exit(EXIT_USAGE)


def _warn_if_later_than_clock(as_of, where) -> None:
    """W083: the default as-of instant (the latest event) is in the future, so every score is as of then.

    ``where`` gives that event's file:line, worked out only for the warning (a pass over every event).
    """
    import datetime as dt

    from .report import iso

    clock = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    if as_of is not None and as_of > clock:
        _print_diagnostics([diag.warning(
            "W083", f"the default as-of instant, {iso(as_of)} (the latest event), is later than the clock, "
                    f"{iso(clock)}: every score is computed as of then",
            _place(where() if callable(where) else where), "check that event's time, or give --as-of now")], {})


def _unknown_subject(only: str, known: list[str], events_path, subjects_path) -> None:
    """`explain ID` for an id no input names: say where it was looked for, and suggest close ids."""
    from .report import escape_controls

    close = difflib.get_close_matches(only, known, n=3)
    where = f"no event in {events_path}" + (f" and no line in {subjects_path}" if subjects_path else "")
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    _usage(f"unknown subject {escape_controls(repr(only))}: {where} names it{hint}")


def _check_precision(precision: int) -> None:
    if not 0 <= precision <= 12:
        _usage(f"--precision must be between 0 and 12, not {precision}")


@app.command(cls=_Command)
def score(
    rules: Path = typer.Argument(..., metavar="RULES", help="The rule file (*.whuf)."),
    events: Path = typer.Argument(..., metavar="EVENTS", help=EVENTS_HELP),
    subjects: Optional[Path] = typer.Option(None, "--subjects", metavar="FILE", help="Subjects with their attributes, JSONL or CSV."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="T", help="Evaluate at this instant (a date means its local midnight; `now` and `today` read the clock); default: the latest event."),
    format: str = typer.Option("table", "--format", metavar="FORMAT", help="table, csv, json or jsonl."),
    rejects: Optional[Path] = typer.Option(None, "--rejects", metavar="FILE", help="Write bad event lines here (verbatim) and score the rest."),
    precision: int = typer.Option(2, "--precision", metavar="N", help="Decimals in the output (rounded half away from zero)."),
    engine: str = typer.Option("auto", "--engine", metavar="ENGINE", help="auto, codegen (generated Python), duckdb, spark or reference. auto: DuckDB for Parquet or duckdb:PATH#TABLE input, else codegen."),
    reasons: Optional[int] = typer.Option(None, "--reasons", metavar="N", help="Add each subject's top N reasons (what cost the most points; needs the ledger, so DuckDB hands the run to generated Python)."),
    ledger: Optional[Path] = typer.Option(None, "--ledger", metavar="FILE", help="Also write every contribution of every subject here: Parquet, CSV or JSONL by the suffix (.parquet, .csv, .jsonl)."),
    verbose: bool = typer.Option(False, "--verbose", help=VERBOSE_HELP),
    tier_log: Optional[Path] = typer.Option(None, "--tier-log", metavar="FILE", help="Write every subject's tier changes here (JSONL), for rule sets with a tier that has memory."),
    columns: Optional[str] = COLUMNS_OPTION,
    extra: Optional[str] = EXTRA_OPTION,
    types: Optional[str] = TYPES_OPTION,
    output: Optional[Path] = typer.Option(None, "--output", metavar="PATH.parquet", help="Write the results here as Parquet instead of printing them (with --engine spark, written by Spark: a directory of part files)."),
    spark_master: Optional[str] = SPARK_MASTER_OPTION,
    spark_conf: list[str] = SPARK_CONF_OPTION,
    position: Optional[str] = SPARK_POSITION_OPTION,
    set_: list[str] = SET_OPTION,
) -> None:
    """Score every subject: scores, tier, privileges and measures."""
    _spark_settings(engine, spark_master, spark_conf, position, events)
    from . import report

    if format not in ("table", "csv", "json", "jsonl"):
        _usage(f"--format must be table, csv, json or jsonl, not {format!r}")
    _check_precision(precision)
    if reasons is not None and reasons < 0:
        _usage("--reasons must be 0 or more")
    sink = _ledger_sink(ledger, engine, events, rules, subjects)
    # an output file never names an input, nor another output of the same run
    _refuse_rejects_over_inputs(tier_log, events, rules, subjects, ledger, rejects, option="--tier-log")
    if output is not None:
        if not str(output).lower().endswith(".parquet"):
            _usage(f"--output writes Parquet: give a path ending in .parquet, not {str(output)!r}")
        if reasons is not None:
            _usage("--output writes the results' columns; --reasons is for the printed formats")
        _refuse_rejects_over_inputs(output, events, rules, subjects, ledger, rejects, tier_log, option="--output")
    if reasons is not None:
        sink = None  # reasons need the ledger in Python: the run is generated Python's, and so is the file
    loaded, _, load, results = _run(rules, events, subjects, as_of, rejects, engine=engine, verbose=verbose,
                                    ledger=reasons is not None or (ledger is not None and sink is None),
                                    ledger_sink=sink, columns=_column_map(columns, extra, types), sets=set_)
    ruleset = loaded.ruleset
    if ledger is not None:
        _write_ledger(ledger, sink, loaded, load, results, subjects)
    if tier_log is not None:
        _write_tier_log(tier_log, results, ruleset)
    if output is not None:
        from .results_parquet import OutputError, write

        try:
            write(results, ruleset, output, engine)
        except OutputError as exc:
            _usage(str(exc))
        raise typer.Exit(EXIT_OK)
    if format == "json":
        sys.stdout.write(report.score_json(results, precision, ruleset, reasons))
    elif format == "jsonl":
        sys.stdout.write(report.score_jsonl(results, precision, ruleset, reasons))
    elif format == "csv":
        sys.stdout.write(report.score_csv(results, ruleset, precision, reasons))
    else:
        header = report.score_columns(ruleset, reasons)
        rows = report.score_rows(results, ruleset, precision, reasons)
        if sys.stdout.isatty():
            from rich.console import Console
            from rich.markup import escape as rich_escape
            from rich.table import Table

            table = Table(title=f"{ruleset.title or ruleset.name} as of {report.iso(results.as_of)}")
            for i, column in enumerate(header):
                numeric = (0 < i <= len(ruleset.scores) or i >= len(ruleset.scores) + 3) and not (
                    reasons is not None and i == len(header) - 1)  # the reasons column is text
                table.add_column(column, justify="right" if numeric else "left")
            for row in rows:
                table.add_row(*(rich_escape(report.escape_controls(cell)) for cell in row))
            Console().print(table)
        else:
            sys.stdout.write(report.plain_table(header, rows))
    raise typer.Exit(EXIT_OK)


def _write_tier_log(path: Path, results, ruleset) -> None:
    from .tier_history import has_history, tier_log_jsonl

    if not has_history(ruleset):
        _usage("--tier-log needs a tier with memory (`keep` or `hold`): without one a tier has no history")
    try:
        path.write_text(tier_log_jsonl(results), encoding="utf-8")
    except OSError as exc:
        _usage(f"cannot write the tier log {path}: {exc.strerror or exc}")


@app.command(cls=_Command)
def explain(
    rules: Path = typer.Argument(..., metavar="RULES", help="The rule file (*.whuf)."),
    events: Path = typer.Argument(..., metavar="EVENTS", help=EVENTS_HELP),
    subject: str = typer.Argument(..., metavar="SUBJECT", help="The subject id to explain."),
    subjects: Optional[Path] = typer.Option(None, "--subjects", metavar="FILE", help="Subjects with their attributes, JSONL or CSV."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="T", help="Evaluate at this instant; default: the latest event."),
    format: str = typer.Option("text", "--format", metavar="FORMAT", help="text or json."),
    reasons: int = typer.Option(4, "--reasons", metavar="N", help="How many reasons (rules that lowered the score most) to list."),
    rejects: Optional[Path] = typer.Option(None, "--rejects", metavar="FILE", help="Write bad event lines here and explain with the rest."),
    precision: int = typer.Option(2, "--precision", metavar="N", help="Decimals in the output."),
    engine: str = typer.Option("auto", "--engine", metavar="ENGINE", help="auto, codegen, duckdb, spark or reference. The ledger comes from generated Python (or the reference); with Parquet/DuckDB input only the subject's rows are read."),
    why_not: Optional[str] = typer.Option(None, "--why-not", metavar="TARGET", help="A tier or privilege: which parts of its condition fail, by how much, and the rules that could get the subject there."),
    notice: bool = typer.Option(False, "--notice", help="Print a plain-language letter to the subject instead: scores, tier, principal reasons, what would change the outcome, who wrote the rules."),
    lang: str = typer.Option("en", "--lang", metavar="LANG", help="The language of --notice (en, de)."),
    verbose: bool = typer.Option(False, "--verbose", help=VERBOSE_HELP),
    columns: Optional[str] = COLUMNS_OPTION,
    extra: Optional[str] = EXTRA_OPTION,
    types: Optional[str] = TYPES_OPTION,
    spark_master: Optional[str] = SPARK_MASTER_OPTION,
    spark_conf: list[str] = SPARK_CONF_OPTION,
    set_: list[str] = SET_OPTION,
) -> None:
    """Explain one subject's scores: every contribution, the cuts, and the key reasons."""
    _spark_settings(engine, spark_master, spark_conf, events=events)
    from . import report

    if format not in ("text", "json"):
        _usage(f"--format must be text or json, not {format!r}")
    _check_precision(precision)
    if reasons < 0:
        _usage("--reasons must be 0 or more")
    from .catalogs import languages

    if lang not in languages():
        close = difflib.get_close_matches(lang, languages(), n=1)
        _usage(f"--lang must be one of {', '.join(languages())}, not {lang!r}"
               + (f" (did you mean {close[0]!r}?)" if close else ""))
    loaded, _, load, results = _run(rules, events, subjects, as_of, rejects, only=subject, engine=engine,
                                 verbose=verbose, columns=_column_map(columns, extra, types), sets=set_)
    result = results.subjects[0]
    from . import whynot_render

    try:
        asked, next_up = whynot_render.for_explain(loaded, load, results, why_not, subjects, precision)
    except whynot_render.UnknownTarget as exc:
        close = f" (did you mean {', '.join(repr(c) for c in exc.close)}?)" if exc.close else ""
        _usage(f"--why-not {exc.target!r} is not a tier or privilege of {rules}{close}")
    if notice:
        from .notice import notice as letter

        target = asked if asked is not None else whynot_render.next_tier_for_notice(loaded, load, results, subjects)
        sys.stdout.write(letter(loaded.ruleset, result, results.as_of, target, lang, precision, reasons))
    elif format == "json":
        sys.stdout.write(report.explain_json(result, precision, reasons, loaded.ruleset,
                                             why_not=whynot_render.why_not_data(asked, precision) if asked else None))
    else:
        sys.stdout.write(report.explain_text(result, loaded.ruleset, loaded.source, results.as_of,
                                             precision, reasons, next_tier=next_up))
        if asked is not None:
            sys.stdout.write("\n" + whynot_render.why_not_text(asked, precision))
    raise typer.Exit(EXIT_OK)


@app.command(cls=_Command)
def authors(
    rules: Path = typer.Argument(..., metavar="RULES", help="The rule file (*.whuf)."),
    events: Optional[Path] = typer.Argument(None, metavar="EVENTS",
                                            help="Events (optional, in any form `score` reads): adds each author's share of the points."),
    subjects: Optional[Path] = typer.Option(None, "--subjects", metavar="FILE", help="Subjects with their attributes."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="T", help="Evaluate at this instant; default: the latest event."),
    format: str = typer.Option("text", "--format", metavar="FORMAT", help="text or json."),
    rejects: Optional[Path] = typer.Option(None, "--rejects", metavar="FILE", help="Write bad event lines here and use the rest."),
    precision: int = typer.Option(2, "--precision", metavar="N", help="Decimals in the output."),
    verbose: bool = typer.Option(False, "--verbose", help=VERBOSE_HELP),
    columns: Optional[str] = COLUMNS_OPTION,
    extra: Optional[str] = EXTRA_OPTION,
    types: Optional[str] = TYPES_OPTION,
    set_: list[str] = SET_OPTION,
    verify_git: bool = typer.Option(False, "--verify-git", help="Compare each declaration's author with the authors of the commits that last changed its lines (git blame); exit 1 on a mismatch."),
) -> None:
    """List every author with the rules, caps, tiers, privileges and properties they own."""
    from . import report

    if format not in ("text", "json"):
        _usage(f"--format must be text or json, not {format!r}")
    _check_precision(precision)
    if verify_git:
        if events is not None:
            _usage("--verify-git checks the rule file against git and reads no events; leave EVENTS out")
        _verify_git(rules, format)
    loaded, _, _, results = _run(rules, events, subjects, as_of, rejects, verbose=verbose,
                                 columns=_column_map(columns, extra, types), sets=set_)
    data = report.authors_data(loaded.ruleset, results, precision)
    if format == "json":
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(report.authors_text(data, results is not None, precision))
    raise typer.Exit(EXIT_OK)


@app.command("diff", cls=_Command)
def diff_command(
    old: str = typer.Argument(..., metavar="OLD", help="The old version: a rule file, or REV:PATH read with git show (HEAD~1:rules.whuf)."),
    new: str = typer.Argument(..., metavar="NEW", help="The new version: a rule file or REV:PATH."),
    events: Optional[Path] = typer.Argument(None, metavar="EVENTS", help="Events (JSONL or CSV): adds the impact of the change on them."),
    subjects: Optional[Path] = typer.Option(None, "--subjects", metavar="FILE", help="Subjects with their attributes."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="T", help="Score both versions at this instant; default: the latest event."),
    format: str = typer.Option("text", "--format", metavar="FORMAT", help="text or json."),
    precision: int = typer.Option(2, "--precision", metavar="N", help="Decimals in the output."),
    engine: str = typer.Option("auto", "--engine", metavar="ENGINE", help="auto, codegen, duckdb or reference, as for score."),
    verbose: bool = typer.Option(False, "--verbose", help=VERBOSE_HELP),
    columns: Optional[str] = COLUMNS_OPTION,
    extra: Optional[str] = EXTRA_OPTION,
    types: Optional[str] = TYPES_OPTION,
    set_old: list[str] = typer.Option([], "--set-old", metavar="NAME=VALUE", help="A param's value in the old version (a what-if: the same file twice, --set-new tl3_min_days=40)."),
    set_new: list[str] = typer.Option([], "--set-new", metavar="NAME=VALUE", help="A param's value in the new version."),
) -> None:
    """Compare two versions of a rule set: what changed, by whom, and (with events) whom it moves."""
    _start_up_done()
    from .datafiles import check_input
    from .diff import VersionError, diff_rulesets, read_version
    from .diff_inputs import read_both
    from .diff_render import diff_json, diff_text
    from .evaluator import EvaluationError, compile_ruleset
    from .inputs import DataError

    if format not in ("text", "json"):
        _usage(f"--format must be text or json, not {format!r}")
    if engine not in ENGINE_NAMES:
        _usage(f"--engine must be one of {', '.join(ENGINE_NAMES)}, not {engine!r}")
    _check_precision(precision)
    if events is not None:
        _refuse_events_read_twice("diff", events)
    try:  # a FIFO or a device would hang the reader: refuse it before reading, as score does
        for given in (events, subjects):
            if given is not None:
                check_input(given)
    except DataError as exc:
        _data_error(exc)
    sides = []
    for spec, sets, option in ((old, set_old, "--set-old"), (new, set_new, "--set-new")):
        try:
            loaded = read_version(spec, _overrides(sets, option))
        except VersionError as exc:
            _usage(str(exc))
        if not loaded.ok or loaded.ruleset is None:
            errors = sorted((d for d in loaded.diagnostics if d.is_error), key=diag.sort_key)
            _print_diagnostics(errors, {spec: loaded.source or ""})
            print(f"{spec}: {diag.summary(errors)}; nothing compared", file=sys.stderr)
            raise typer.Exit(EXIT_ERRORS)
        try:
            sides.append((loaded, compile_ruleset(loaded.ruleset)))
        except EvaluationError as exc:
            _print_diagnostics(exc.diagnostics, {spec: loaded.source or ""})
            raise typer.Exit(EXIT_ERRORS)
        _report_params(loaded, option, f"{spec} ({option[6:]}): ")
    (old_loaded, old_program), (new_loaded, new_program) = sides
    if events is not None and subjects is None and (old_program.reads_attributes or new_program.reads_attributes):
        _usage(f"the rules read {(new_loaded.ruleset.subject_kind or old_loaded.ruleset.subject_kind).name} "
               "attributes; give them with --subjects FILE")
    if events is None:
        result = diff_rulesets(old_loaded, new_loaded)
    else:
        try:
            column_map = _column_map(columns, extra, types)
            for side in (old_loaded, new_loaded):
                _check_column_map(column_map, side.ruleset)
            both = read_both(events, subjects, old_loaded.ruleset, new_loaded.ruleset,
                             old_program.reads_attributes, new_program.reads_attributes, columns=column_map)
        except DataError as exc:
            _data_error(exc)
        for side in (both.old_subjects, both.new_subjects):
            if side is not None and side.rejects:
                _print_capped(side.rejects, verbose)
                _usage(f"{subjects}: {len(side.rejects)} bad line{'s' * (len(side.rejects) != 1)}; nothing compared")
        if both.rejected_by_both:
            _handle_rejects(both.new_events.__class__(rejects=both.rejected_by_both, read=both.new_events.read),
                            None, events, "line", verbose)
        instant = _as_of_instant(as_of, new_loaded.ruleset)
        if instant is None:
            times = [e.at for e in both.old_events.events + both.new_events.events]
            if not times:
                _usage(f"nothing to score: {events} has no event either version accepts; give --as-of T")
            instant = max(times)
        notes = lambda d: _print_diagnostics([d], {})  # noqa: E731
        try:
            result = diff_rulesets(old_loaded, new_loaded, (both.old_events.events, both.new_events.events),
                                   (both.old_subjects and both.old_subjects.subjects,
                                    both.new_subjects and both.new_subjects.subjects),
                                   instant, engine, notes, both.schema_effect())
        except EvaluationError as exc:
            _print_diagnostics(exc.diagnostics, {old: old_loaded.source or "", new: new_loaded.source or ""})
            raise typer.Exit(EXIT_ERRORS)
    if format == "json":
        sys.stdout.write(diff_json(result, precision))
    else:
        sys.stdout.write(diff_text(result, precision, color=_color(sys.stdout)))
    raise typer.Exit(EXIT_OK)


def _refuse_events_read_twice(command: str, events: Path) -> None:
    """Two versions read the events once each (each with its own schema): a file of lines, never stdin or DuckDB's."""
    from .datafiles import is_stdin
    from .engines import is_columnar

    if is_stdin(events):
        _usage(f"{command} reads the events once per version: give them as a file, not standard input")
    if is_columnar(str(events)):
        _usage(f"{command} reads events from JSONL or CSV (export the Parquet or DuckDB rows to JSONL first)")


def _verify_git(rules: Path, format: str) -> None:
    """authors --verify-git: the gitauthors report; exit 1 when someone changed another author's declaration."""
    from .gitauthors import authorship_json, authorship_text, verify_authorship
    from .gitfiles import GitError

    loaded, _ = _load_rules(rules)
    try:
        result = verify_authorship(loaded)
    except GitError as exc:
        _usage(str(exc))
    sys.stdout.write(authorship_json(result) if format == "json" else authorship_text(result))
    raise typer.Exit(EXIT_ERRORS if result.mismatches else EXIT_OK)


def _audit_groups(rules: Path, subjects: Path | None, by: list[str], bands: list[str]):
    """--by and --bands, checked before any event is read: the parsed bands, or a usage error (exit 2)."""
    from . import audit as audits

    if subjects is None:
        _usage("an audit groups subjects by their attributes: give them with --subjects FILE")
    parsed = audits.parse_bands(bands)
    if isinstance(parsed, audits.AuditError):
        _usage(parsed.message)
    early = load_file(rules)  # a rule-file error is _run's to report, with its location
    if early.ruleset is not None and isinstance(dims := audits.dimensions(early.ruleset, by, parsed),
                                                audits.AuditError):
        _usage(dims.message)
    return parsed


@app.command(cls=_Command)
def audit(
    rules: Path = typer.Argument(..., metavar="RULES", help="The rule file (*.whuf)."),
    events: Path = typer.Argument(..., metavar="EVENTS", help=EVENTS_HELP),
    subjects: Optional[Path] = typer.Option(None, "--subjects", metavar="FILE", help="Subjects with their attributes (required: groups come from them)."),
    by: list[str] = typer.Option([], "--by", metavar="ATTR[,ATTR…]", help="Attributes to group by (protected ones too); several give their intersections. Default: the --bands attributes."),
    bands: list[str] = typer.Option([], "--bands", metavar="ATTR=E,E,…", help="Bands of a numeric attribute: age=25,40,65 gives <25, 25–39, 40–64, >=65."),
    min_group: int = typer.Option(30, "--min-group", metavar="N", help="Groups with fewer members are small and their flags uncertain."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="T", help="Evaluate at this instant; default: the latest event."),
    format: str = typer.Option("text", "--format", metavar="FORMAT", help="text, json or csv."),
    rejects: Optional[Path] = typer.Option(None, "--rejects", metavar="FILE", help="Write bad event lines here and audit the rest."),
    precision: int = typer.Option(2, "--precision", metavar="N", help="Decimals in the output."),
    engine: str = typer.Option("auto", "--engine", metavar="ENGINE", help="auto, codegen, duckdb, spark or reference."),
    verbose: bool = typer.Option(False, "--verbose", help=VERBOSE_HELP),
    columns: Optional[str] = COLUMNS_OPTION,
    extra: Optional[str] = EXTRA_OPTION,
    types: Optional[str] = TYPES_OPTION,
    spark_master: Optional[str] = SPARK_MASTER_OPTION,
    spark_conf: list[str] = SPARK_CONF_OPTION,
    position: Optional[str] = SPARK_POSITION_OPTION,
    set_: list[str] = SET_OPTION,
) -> None:
    """Audit groups of members: scores, tiers and privileges by group, with four-fifths impact ratios."""
    _spark_settings(engine, spark_master, spark_conf, position, events)
    from . import audit as audits
    from . import audit_render

    if format not in ("text", "json", "csv"):
        _usage(f"--format must be text, json or csv, not {format!r}")
    _check_precision(precision)
    if min_group < 1:
        _usage("--min-group must be 1 or more")
    parsed = _audit_groups(rules, subjects, by, bands)
    loaded, _, _, results = _run(rules, events, subjects, as_of, rejects, ledger=False, engine=engine,
                                 verbose=verbose, columns=_column_map(columns, extra, types), sets=set_)
    from .inputs import load_subjects

    subject_attrs = load_subjects(subjects, loaded.ruleset).subjects  # read (and checked) once already by _run
    found = audits.audit(loaded.ruleset, results, subject_attrs, audits.dimensions(loaded.ruleset, by, parsed),
                         min_group)
    render = {"json": audit_render.audit_json, "csv": audit_render.audit_csv, "text": audit_render.audit_text}
    sys.stdout.write(render[format](found, loaded.ruleset, precision))
    raise typer.Exit(EXIT_OK)


@app.command("report", cls=_Command)
def report_command(
    rules: Path = typer.Argument(..., metavar="RULES", help="The rule file (*.whuf)."),
    events: Path = typer.Argument(..., metavar="EVENTS", help=EVENTS_HELP),
    subjects: Optional[Path] = typer.Option(None, "--subjects", metavar="FILE", help="Subjects with their attributes."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE", help="Write the page here (required for html)."),
    old: Optional[str] = typer.Option(None, "--old", metavar="OLD_RULES", help="The previous rules (a file or REV:PATH): adds the change's impact, as whuffie diff."),
    by: list[str] = typer.Option([], "--by", metavar="ATTR[,ATTR…]", help="Adds the group audit by these attributes, as whuffie audit."),
    bands: list[str] = typer.Option([], "--bands", metavar="ATTR=E,E,…", help="Bands of a numeric attribute for the audit, as whuffie audit."),
    min_group: int = typer.Option(30, "--min-group", metavar="N", help="Audit groups with fewer members are small."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="T", help="Evaluate at this instant; default: the latest event."),
    format: str = typer.Option("html", "--format", metavar="FORMAT", help="html (the page) or json (the numbers on it)."),
    rejects: Optional[Path] = typer.Option(None, "--rejects", metavar="FILE", help="Write bad event lines here and report on the rest."),
    precision: int = typer.Option(2, "--precision", metavar="N", help="Decimals in the output."),
    engine: str = typer.Option("auto", "--engine", metavar="ENGINE", help="auto, codegen, duckdb or reference (the report needs the ledger, so duckdb scores only the --old comparison and generated Python the rest)."),
    verbose: bool = typer.Option(False, "--verbose", help=VERBOSE_HELP),
    columns: Optional[str] = COLUMNS_OPTION,
    extra: Optional[str] = EXTRA_OPTION,
    types: Optional[str] = TYPES_OPTION,
    set_: list[str] = SET_OPTION,
) -> None:
    """Write one self-contained HTML page of outcomes: authors, scores, tiers, rules, audit, change impact."""
    from . import audit as audits
    from .report_data import report_data, old_version_diff

    if format not in ("html", "json"):
        _usage(f"--format must be html or json, not {format!r}")
    if format == "html" and output is None:
        _usage("give the page a file to go to: -o report.html (or --format json for the numbers on stdout)")
    _check_precision(precision)
    if min_group < 1:
        _usage("--min-group must be 1 or more")
    parsed = _audit_groups(rules, subjects, by, bands) if by or bands else audits.parse_bands(bands)
    if old is not None:
        _refuse_events_read_twice("report --old", events)
    # firings and authors' shares are counted from the ledger, which only the Python engines keep
    column_map = _column_map(columns, extra, types)
    loaded, _, _, results = _run(rules, events, subjects, as_of, rejects, engine="codegen" if engine == "duckdb"
                                 else engine, verbose=verbose, columns=column_map, sets=set_)
    audited = diffed = None
    if by or bands:
        from .inputs import load_subjects

        attrs = load_subjects(subjects, loaded.ruleset).subjects  # read (and checked) once already by _run
        audited = audits.audit(loaded.ruleset, results, attrs, audits.dimensions(loaded.ruleset, by, parsed), min_group)
    if old is not None:
        from .diff import VersionError, read_version
        from .evaluator import EvaluationError
        from .inputs import DataError

        try:
            old_loaded = read_version(old)
        except VersionError as exc:
            _usage(str(exc))
        if not old_loaded.ok or old_loaded.ruleset is None:
            errors = sorted((d for d in old_loaded.diagnostics if d.is_error), key=diag.sort_key)
            _print_diagnostics(errors, {old: old_loaded.source or ""})
            print(f"{old}: {diag.summary(errors)}; nothing compared", file=sys.stderr)
            raise typer.Exit(EXIT_ERRORS)
        try:
            diffed = old_version_diff(old_loaded, loaded, events, subjects, results.as_of, engine,
                                      lambda d: _print_diagnostics([d], {}), column_map)
        except DataError as exc:
            _data_error(exc)
        except EvaluationError as exc:
            _print_diagnostics(exc.diagnostics, {old: old_loaded.source or ""})
            raise typer.Exit(EXIT_ERRORS)
    data = report_data(loaded.ruleset, results, audited, diffed, precision)
    if format == "json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        from .report_charts import ChartsUnavailable
        from .report_html import report_html

        try:
            text = report_html(data, precision)
        except ChartsUnavailable as exc:
            _usage(str(exc))
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            _usage(f"cannot write {output}: {exc.strerror or exc}")
        print(f"wrote {output}", file=sys.stderr)
    raise typer.Exit(EXIT_OK)


def _scoring_failed(exc, rules: Path, loaded) -> NoReturn:
    """A fault (W090) or a Spark run refused (W091) while scoring: print it against the rule file, exit 1."""
    from .evaluator import EvaluationError

    diagnostics = exc.diagnostics if isinstance(exc, EvaluationError) else [exc.diagnostic]
    _print_diagnostics(diagnostics, {str(rules): loaded.source or ""})
    raise typer.Exit(EXIT_ERRORS)


def _ledger_sink(ledger: Path | None, engine: str, events: Path, *inputs):
    """Check --ledger FILE; the DuckDB writer when the SQL engine will score, else None (the Python ledger)."""
    if ledger is None:
        return None
    from . import ledger_export
    from .engines import text_log_on_duckdb
    from .engines import is_columnar

    fmt = ledger_export.ledger_format(ledger)
    if isinstance(fmt, ledger_export.LedgerError):
        _usage(fmt.message)
    _refuse_rejects_over_inputs(ledger, events, *inputs, option="--ledger")
    on_duckdb = engine == "duckdb" or (engine == "auto" and str(events) != "-" and (
        is_columnar(str(events)) or text_log_on_duckdb(str(events), engine, False, None)))
    return ledger_export.SqlLedgerSink(ledger, fmt) if on_duckdb else None


def _write_ledger(ledger: Path, sink, loaded, load, results, subjects_path: Path | None) -> None:
    """The ledger file: DuckDB wrote it already, or write the Python engines' ledger (rerun if DuckDB handed over)."""
    from . import engines, ledger_export
    from .evaluator import EvaluationError

    fmt = ledger_export.ledger_format(ledger)
    if sink is not None and sink.written:
        return
    if sink is not None and sink.error is not None:
        _usage(f"cannot write the ledger to {ledger}: {sink.error}")
    if sink is not None and loaded.ruleset.rules:  # the SQL engine handed the run to generated Python: no ledger yet
        from .inputs import load_subjects

        subjects = load_subjects(subjects_path, loaded.ruleset).subjects if subjects_path is not None else None
        events = load.events() if callable(load.events) else load.events
        try:
            results = engines.evaluate("codegen", loaded.ruleset, events, subjects, results.as_of, ledger=True)
        except EvaluationError as exc:
            _print_diagnostics(exc.diagnostics, {str(loaded.path): loaded.source or ""})
            raise typer.Exit(EXIT_ERRORS)
    try:
        ledger_export.write_results(results, loaded.ruleset, ledger, fmt)
    except Exception as exc:  # noqa: BLE001 - a file DuckDB cannot write (permissions, a full disk): usage
        _usage(f"cannot write the ledger to {ledger}: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc}")


# ---------------------------------------------------------------- engines: columnar input, progress, sql

ENGINE_NAMES = ("auto", "reference", "codegen", "duckdb", "spark")


class _progress:
    """A rich progress bar on a terminal (stderr): a spinner while reading, subjects scored while scoring.

    Nothing is drawn when stderr is not a terminal (piped, CI).
    """

    def __init__(self, what: str):
        self.what = what
        self.status = None
        self.task = None

    def __enter__(self):
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, \
                TimeElapsedColumn

            self.status = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                   MofNCompleteColumn(), TimeElapsedColumn(), console=Console(stderr=True),
                                   transient=True)
            self.status.start()
            self.task = self.status.add_task(self.what, total=None)
        return self

    def update(self, done: int, total: int) -> None:
        """Subjects scored so far, of all."""
        if self.status is not None:
            self.status.update(self.task, completed=done, total=total, description=f"{self.what}: subjects")

    def __exit__(self, *exc):
        if self.status is not None:
            self.status.stop()
        return False


def _run_columnar(rules: Path, spec: str, subjects_path: Path | None, as_of: str | None,
                  rejects_path: Path | None, only: str | None, ledger: bool, engine: str, verbose: bool = False,
                  ledger_sink=None, columns=None, sets: list[str] | None = None):
    """_run for a Parquet file or duckdb:PATH#TABLE: validated in SQL, scored on DuckDB or pushed down."""
    from . import engines
    from .engines import sqlengine
    from .evaluator import EvaluationError
    from .inputs import DataError
    from .plan import lower

    loaded, program = _load_rules(rules, sets)
    ruleset = loaded.ruleset
    _check_column_map(columns, ruleset)
    subjects = None
    if subjects_path is not None:
        try:
            subjects = _load_subjects_or_stop(subjects_path, ruleset, verbose)
        except DataError as exc:
            _data_error(exc)
    if program.reads_attributes and subjects is None:
        _usage(f"the rules read {ruleset.subject_kind.name} attributes; give them with --subjects FILE")
    plan = lower(ruleset)
    from .engines.spark.columnar import is_spark_only

    several = is_spark_only(spec)
    if several and (only is not None or ledger):
        what = "a table of the Spark catalog is" if spec.startswith("spark:") else "several files are"
        _usage(f"{spec}: {what} read by Spark, which has no --subject or --ledger; give one file")
    if engine == "spark" and only is None and not ledger and (several or spec.lower().endswith(".parquet")):
        on_spark = _run_on_spark(loaded, program, plan, spec, subjects, as_of, rejects_path, verbose, columns, rules)
        if on_spark is not None:
            return on_spark
        if several:  # DuckDB would number the rows of each file from 1: no position across the files
            _usage(f"{spec}: Spark could not read it (the note above says why)")
    try:
        with _progress(f"reading {spec}"):
            load = sqlengine.load_columnar(spec, plan, subjects, program.reads_attributes, only=only, columns=columns)
    except sqlengine.ColumnarError as exc:
        _usage(str(exc))
    if only is None:
        _warn_each("W082", _look_alikes_in_sql(load, ruleset), verbose)
    _handle_rejects(load, rejects_path, spec, "row" if sqlengine.is_columnar(spec) else "line", verbose=verbose)
    instant = _as_of_instant(as_of, ruleset)
    if only is None:
        _refuse_nothing_to_score(spec, load.accepted, len(load.rejects), subjects, instant)
    notes = lambda d: _print_diagnostics([d], {str(rules): loaded.source or ""})  # noqa: E731
    try:
        if only is not None:
            # the subject filter is pushed down into the scan: only that subject's rows are read
            events = load.events(only)
            if not events and only not in (subjects or {}):
                _unknown_subject(only, sorted(subjects or {}), spec, subjects_path)
            if instant is None:  # the default as-of is the latest event of the whole input: one cheap max()
                latest = sqlengine.latest_at(spec, load.con, columns)
                if latest is not None:
                    instant = latest
                    _warn_if_later_than_clock(latest, spec)
            results = engines.evaluate("codegen" if engine in ("auto", "duckdb") else engine, ruleset, events,
                                       subjects, instant, ledger=ledger, only=only, notes=notes)
            results.scored = load.accepted - load.con.execute(
                f"SELECT count(*) FROM events WHERE at_us > {sqlengine._us(results.as_of)}").fetchall()[0][0]
            results.after_as_of = load.accepted - results.scored
        elif engines.choose(engine, load.accepted, True, ledger) == "duckdb":
            with _progress(f"scoring {load.accepted} rows on DuckDB"):
                results = engines.evaluate_columnar(load, ruleset, subjects, instant, notes=notes,
                                                    ledger_sink=ledger_sink)
        else:
            with _progress(f"scoring {load.accepted} rows") as bar:
                results = engines.evaluate(engine, ruleset, load.events(), subjects, instant, ledger=ledger,
                                           notes=notes, progress=bar.update)
    except (EvaluationError, engines.SparkRefused) as exc:
        _scoring_failed(exc, rules, loaded)
    if instant is None and only is None:
        _warn_if_later_than_clock(results.as_of, sqlengine.latest_line(load) or spec)
    _summary(spec, load.read, only, results, len(load.rejects), rejects_path,
             _line_counts(load, results))
    return loaded, program, load, results


def _run_on_spark(loaded, program, plan, spec: str, subjects, as_of: str | None, rejects_path: Path | None,
                  verbose: bool, columns, rules: Path):
    """_run_columnar for Parquet, or _run for a JSONL/CSV log, on --engine spark: read, validated and scored by
    Spark itself. None: read it on the driver instead (after a note saying why, if any)."""
    from . import engines
    from .engines import sqlengine
    from .engines.spark import columnar as spark_columnar
    from .engines.spark import text as spark_text
    from .evaluator import EvaluationError
    from .inputs import DataError, load_events, look_alike_ids

    ruleset = loaded.ruleset
    notes = lambda d: _print_diagnostics([d], {str(rules): loaded.source or ""})  # noqa: E731
    text = not spec.lower().endswith(".parquet") and (spark_text.is_text_set(spec) or not spark_columnar.is_spark_only(spec))
    try:
        with _progress(f"reading {spec} with Spark"):
            reader = spark_text if text else spark_columnar
            load = reader.load(spec, plan, subjects, program.reads_attributes, columns=columns)
    except spark_columnar.SparkColumnarError as exc:
        _usage(str(exc))
    except DataError as exc:
        _data_error(exc)
    except (spark_text.NeedsDriver, sqlengine.SqlUnsupported):  # read on the driver, which notes what it must
        return None
    except Exception as exc:  # noqa: BLE001 - a Spark error in the staging: the file is read on the driver instead
        notes(engines.engine_error(exc, "Spark could not validate the file", "reading it on the driver"))
        return None
    _warn_each("W082", look_alike_ids(load.first_lines(), ruleset.subject_kind.name if ruleset.subject_kind
                                      else "subject"), verbose)
    _handle_rejects(load, rejects_path, spec, "line" if text else "row", verbose=verbose)
    instant = _as_of_instant(as_of, ruleset)
    _refuse_nothing_to_score(spec, load.accepted, len(load.rejects), subjects, instant)
    try:
        try:
            with _progress(f"scoring {load.accepted} rows on Spark"):
                results = load.score(instant)
        except Exception as exc:  # noqa: BLE001 - SqlUnsupported, SqlFault or a Spark error: never a wrong number
            several = spark_columnar.is_spark_only(spec)  # the driver reads one file only: refused, never guessed
            if several or not isinstance(exc, sqlengine.SqlFault) and load.accepted > engines.SPARK_HANDOVER_LIMIT:
                note = exc.diagnostic() if isinstance(exc, sqlengine.SqlUnsupported) else engines.engine_error(
                    exc, "Spark could not run the query", "")
                raise engines.SparkRefused(engines.refusal(note, load.accepted)) from None
            # generated Python on the driver: the rows are read again there (it notes the W091, or names the
            # fault as W090)
            results = None
        if results is None:
            if text:
                events = load_events(spec, ruleset, subjects, program.reads_attributes, columns=columns).events
            else:
                events = sqlengine.load_columnar(spec, plan, subjects, program.reads_attributes,
                                                 columns=columns).events()
            results = engines.evaluate("spark", ruleset, events, subjects, instant, ledger=False, notes=notes)
    except (EvaluationError, engines.SparkRefused) as exc:
        _scoring_failed(exc, rules, loaded)
    if instant is None:
        _warn_if_later_than_clock(results.as_of, load.latest_line() or spec)
    _summary(spec, load.read, None, results, len(load.rejects), rejects_path, load.line_counts(results.as_of))
    return loaded, program, load, results


def _look_alikes_in_sql(load, ruleset) -> list[tuple[str, str]]:
    """W082 for input DuckDB validated: each distinct subject id with its first row, checked as inputs.py does."""
    from .inputs import look_alike_ids

    try:
        rows = load.con.execute("SELECT subject, arg_min(line, pos) FROM events GROUP BY subject "
                                "ORDER BY min(pos)").fetchall()
    except Exception:  # the rows were left to Python (no events table): nothing to compare here
        return []
    kind = ruleset.subject_kind.name if ruleset.subject_kind else "subject"
    return look_alike_ids(dict(rows), kind)


@app.command(cls=_Command)
def sql(
    rules: Path = typer.Argument(..., metavar="RULES", help="The rule file (*.whuf)."),
    dialect: str = typer.Option("duckdb", "--dialect", metavar="DIALECT", help="SQL dialect: duckdb, spark, trino, postgres (any SQLGlot dialect; --table: duckdb or spark)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="T", help="Evaluate at this instant; default: the latest event (a subquery)."),
    pretty: bool = typer.Option(True, "--pretty/--compact", help="Indent the query."),
    table: Optional[str] = typer.Option(None, "--table", metavar="NAME", help="Start from this raw events table (or table function, such as read_parquet('f.parquet') or parquet.`f.parquet`): the query validates and stages it itself and names its columns after the rule file."),
    position: Optional[str] = typer.Option(None, "--position", metavar="COLUMN", help="With --table: the column (or expression) of input order that breaks ties in time; default on DuckDB: the table's rowid. Required on Spark."),
    schema: Optional[str] = typer.Option(None, "--schema", metavar="SOURCE", help="With --table: read the raw table's column types from a Parquet file or duckdb:PATH#TABLE; default: whuffie's own layout (text subject, type and id; an instant at; each field in its declared type)."),
    subjects_table: Optional[str] = typer.Option(None, "--subjects-table", metavar="NAME", help="With --table: the subjects (id and each attribute by its name); every one is scored, and when the rules read attributes, an event naming another subject is rejected."),
    rejects_query: bool = typer.Option(False, "--rejects-query", help="With --table: print the query that lists the rejected rows (row, message, record) instead."),
    explain: bool = typer.Option(False, "--explain", help="Print DuckDB's plan of the DuckDB-dialect query (on empty tables of the right schema) instead of the query."),
    columns: Optional[str] = COLUMNS_OPTION,
    extra: Optional[str] = EXTRA_OPTION,
    types: Optional[str] = TYPES_OPTION,
) -> None:
    """Print the rule file compiled to one SQL query: over a raw events table (--table), or over the prepared
    relations `events` and `subjects`."""
    import sqlglot

    from .columns import ColumnsError
    from .engines import sqlengine
    from .plan import lower

    if dialect not in sqlglot.Dialect.classes:
        _usage(f"--dialect must be a SQLGlot dialect such as duckdb, spark, trino or postgres, not {dialect!r}")
    if table is None and any(x is not None for x in (position, schema, subjects_table, columns, extra, types)) \
            or (table is None and rejects_query):
        _usage("--position, --schema, --subjects-table, --rejects-query, --columns, --extra and --types "
               "describe a raw table: give it with --table")
    if table is not None and position is None and dialect != "duckdb" and not explain:
        hint = (" — for a table of one Parquet file, --position '_metadata.row_index + 1' (its row number)"
                if dialect in ("spark", "databricks") else "")
        _usage(f"--table on {dialect}: name the column of input order with --position (a {dialect} table has no "
               f"row order, and ties in time are broken by it){hint}")
    if table is not None and as_of is None and dialect in ("spark", "databricks") and not explain:
        _usage(f"--table on {dialect}: give --as-of T (Spark plans the staging again under every read of the "
               "latest-event subquery, and that plan does not fit a driver's memory); "
               "`SELECT max(at) FROM <table>` gives the latest event's time")
    column_map = _column_map(columns, extra, types)
    loaded, _ = _load_rules(rules)
    _check_column_map(column_map, loaded.ruleset)
    as_of_us = None
    if as_of is not None:
        as_of_us = sqlengine._us(_as_of_instant(as_of, loaded.ruleset))
    plan = lower(loaded.ruleset)
    try:
        if table is None:
            query = None if explain else sqlengine.compile_query(plan, as_of_us, dialect=dialect).sql(dialect, pretty=pretty)
            if explain:
                query = _explained(plan, None, None, column_map, as_of_us, None, None, rejects_query)
        else:
            column_types = _raw_schema(schema, plan, column_map)
            if explain:
                query = _explained(plan, table, column_types, column_map, as_of_us, position, subjects_table,
                                   rejects_query)
            else:
                from .engines import staging

                raw = staging.RawTable(table, column_types, table, position)
                query = staging.raw_query(plan, raw, column_map, dialect=dialect, as_of_us=as_of_us,
                                          subjects_relation=subjects_table, pretty=pretty, rejects=rejects_query)
    except sqlengine.SqlUnsupported as exc:
        d = diag.error("W091", f"the SQL engine cannot express {exc.message}; no query to print", exc.span,
                       "score with --engine codegen, or write the construct in a form SQL has exactly")
        _print_diagnostics([d], {str(rules): loaded.source or ""})
        raise typer.Exit(EXIT_ERRORS)
    except ColumnsError as exc:
        _usage(f"--table {table}: {exc}")
    sys.stdout.write(query + "\n")
    raise typer.Exit(EXIT_OK)


def _raw_schema(schema: str | None, plan, column_map) -> dict[str, str]:
    """The raw table's column types: read from --schema (Parquet or duckdb:PATH#TABLE), or whuffie's own layout."""
    from .engines import sqlengine, staging

    if schema is None:
        return staging.default_column_types(plan, column_map)
    import duckdb

    con = sqlengine.connect()
    try:
        if schema.startswith("duckdb:"):
            path, _, name = schema[len("duckdb:"):].partition("#")
            if not name:
                _usage(f"--schema {schema}: name the table as duckdb:PATH#TABLE")
            con.execute(f"ATTACH '{sqlengine._quote(path)}' AS schema_db (READ_ONLY)").fetchall()
            described = con.execute(f'DESCRIBE schema_db."{sqlengine._ident(name)}"').fetchall()
        else:
            described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{sqlengine._quote(schema)}')").fetchall()
    except duckdb.Error as exc:
        _usage(f"--schema {schema}: {str(exc).splitlines()[0]}")
    return {row[0]: row[1].upper() for row in described}


def _explained(plan, table, column_types, column_map, as_of_us, position, subjects_table, rejects_query) -> str:
    """DuckDB's EXPLAIN of the DuckDB-dialect query, run on empty tables of the right schema."""
    from .engines import sqlengine, staging

    con = sqlengine.connect()
    if table is None:
        compiled = sqlengine.compile_query(plan, as_of_us)
        layout = compiled.layout
        columns = {"subject": "VARCHAR", "type": "VARCHAR", "pos": "BIGINT", "id": "VARCHAR", "line": "VARCHAR",
                   "at_us": "BIGINT", **{c: "BIGINT" for c in staging.CALENDAR_COLUMNS}}
        columns.update({c: sqlengine.SQL_TYPES[layout.field_types[k]] for k, c in layout.field_columns.items()})
        subjects = {"id": "VARCHAR", **{c: sqlengine.SQL_TYPES[layout.attr_types[a]]
                                         for a, c in layout.attr_columns.items()}}
        _empty_table(con, "events", columns)
        _empty_table(con, "subjects", subjects)
        query = compiled.sql("duckdb")
    else:
        name = table if table.isidentifier() else "raw_events"
        _empty_table(con, name, column_types)
        known = None
        if subjects_table is not None:
            known = subjects_table if subjects_table.isidentifier() else "raw_subjects"
            kind = plan.ruleset.subject_kind
            kinds = {"int": "BIGINT", "number": "DOUBLE", "bool": "BOOLEAN", "text": "VARCHAR", "date": "DATE",
                     "datetime": "TIMESTAMPTZ", "duration": "DOUBLE"}
            _empty_table(con, known, {"id": "VARCHAR", **{f.name: kinds.get(f.type.name, "VARCHAR")
                                                         for f in (kind.fields if kind else [])}})
        raw = staging.RawTable(name, column_types, table, position)
        query = staging.raw_query(plan, raw, column_map, dialect="duckdb", as_of_us=as_of_us,
                                  subjects_relation=known, rejects=rejects_query)
    rows = con.execute(f"EXPLAIN {query}").fetchall()
    return "\n".join(row[1] for row in rows)


def _empty_table(con, name: str, columns: dict[str, str]) -> None:
    from .engines.sqlengine import _ident

    items = ", ".join(f'"{_ident(c)}" {t}' for c, t in columns.items())
    con.execute(f'CREATE TABLE "{_ident(name)}" ({items})').fetchall()


# ---------------------------------------------------------------- test


@app.command("test", cls=_Command)
def test_command(
    files: list[Path] = typer.Argument(..., metavar="FILES", help="Rule files (*.whuf) whose tests and properties to run."),
    seed: Optional[int] = typer.Option(None, "--seed", metavar="N", help="Seed for generated histories; the same seed gives the same report. Default: a random seed, printed."),
    max_examples: int = typer.Option(100, "--max-examples", metavar="N", help="Histories generated per property (before shrinking)."),
    save_counterexamples: Optional[Path] = typer.Option(None, "--save-counterexamples", metavar="DIR", help="Write each failing property's minimal history here as DIR/<property>.jsonl (and .subjects.jsonl)."),
    events: Optional[Path] = typer.Option(None, "--events", metavar="FILE", help="The community's events, for `four fifths` properties (checked on them, not on generated histories)."),
    subjects: Optional[Path] = typer.Option(None, "--subjects", metavar="FILE", help="The community's subjects, with --events."),
    columns: Optional[str] = COLUMNS_OPTION,
    extra: Optional[str] = EXTRA_OPTION,
    types: Optional[str] = TYPES_OPTION,
    set_: list[str] = SET_OPTION,
) -> None:
    """Run the test blocks and check the properties of rule files (properties with Hypothesis)."""
    _start_up_done()
    import random

    from . import nodes
    from .evaluator import EvaluationError, compile_ruleset
    from .properties import check_property, counterexample_files, render_property
    from .testblocks import render_outcome, run_test

    if max_examples < 1:
        _usage("--max-examples must be 1 or more")
    if (events is None) != (subjects is None):
        _usage("`four fifths` properties are checked on given events and subjects: give both --events and --subjects")
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    if save_counterexamples is not None:
        try:
            save_counterexamples.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _usage(f"cannot create {save_counterexamples}: {exc.strerror}")
    passed = failed = skipped = 0
    used_folders: set[str] = set()
    overrides = _overrides(set_)
    for path in files:
        loaded = load_file(path, overrides=overrides)
        print(f"{path} (seed {seed}, {max_examples} examples per property)")
        _report_params(loaded)
        if not loaded.ok or loaded.ruleset is None:
            errors = sorted((d for d in loaded.diagnostics if d.is_error), key=diag.sort_key)
            _print_diagnostics(errors, {str(path): loaded.source or ""})
            print(f"FAIL {path}: {diag.summary(errors)}; no test run")
            failed += 1
            continue
        ruleset, source = loaded.ruleset, loaded.source
        try:
            program = compile_ruleset(ruleset)
        except EvaluationError as exc:
            _print_diagnostics(exc.diagnostics, {str(path): source or ""})
            print(f"FAIL {path}: cannot be evaluated; no test run")
            failed += 1
            continue
        if not ruleset.tests and not ruleset.properties:
            print("  (no tests or properties)")
        for decl in ruleset.tests:
            try:
                outcome = run_test(ruleset, decl, source, program)
            except Exception as exc:  # a bug in whuffie: report it as a failure, never as a traceback
                print(f'FAIL test "{decl.name}"  [{decl.span}]\n  internal error: {type(exc).__name__}: {exc}')
                failed += 1
                continue
            sys.stdout.write(render_outcome(outcome, ruleset, source))
            passed, failed = passed + outcome.passed, failed + (not outcome.passed)
        target = save_counterexamples
        if target is not None and len(files) > 1:
            # Several files may share property names: each gets a folder named after its ruleset.
            name, suffix = ruleset.name, 1
            while name in used_folders:
                suffix += 1
                name = f"{ruleset.name}-{suffix}"
            used_folders.add(name)
            target = save_counterexamples / name
        for decl in ruleset.properties:
            if events is not None and isinstance(decl.body, nodes.FourFifths):
                ok = _four_fifths_on_events(path, decl, events, subjects, _column_map(columns, extra, types), set_)
                passed, failed = passed + ok, failed + (not ok)
                continue
            try:
                outcome = check_property(ruleset, decl, seed=seed, max_examples=max_examples, source=source,
                                         program=program)
            except Exception as exc:  # a bug in whuffie: report it as a failure, never as a traceback
                print(f'FAIL property "{decl.name}" by {decl.by}  [{decl.span}]\n'
                      f"  internal error: {type(exc).__name__}: {exc}")
                failed += 1
                continue
            folder = str(target) if target is not None else None
            sys.stdout.write(render_property(outcome, ruleset, source, str(path), program, folder))
            if outcome.skipped:
                skipped += 1
                continue
            passed, failed = passed + outcome.passed, failed + (not outcome.passed)
            if target is not None and not outcome.passed:
                for name, content in counterexample_files(outcome, program).items():
                    try:
                        target.mkdir(parents=True, exist_ok=True)
                        (target / name).write_text(content, encoding="utf-8")
                    except OSError as exc:
                        _usage(f"cannot write {target / name}: {exc.strerror}")
        print()
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    raise typer.Exit(EXIT_ERRORS if failed else EXIT_OK)


def _four_fifths_on_events(path: Path, decl, events: Path, subjects: Path, columns=None, sets=None) -> bool:
    """A `four fifths` property on the given events: score them, audit by its attribute, print the report."""
    from .audit_property import check_four_fifths, render_four_fifths
    from .inputs import load_subjects

    loaded, _, _, results = _run(path, events, subjects, None, None, ledger=False, columns=columns, sets=sets)
    outcome = check_four_fifths(loaded.ruleset, decl, results, load_subjects(subjects, loaded.ruleset).subjects)
    sys.stdout.write(render_four_fifths(outcome))
    return outcome.passed


@app.command(cls=_Command)
def lsp(
    stdio: bool = typer.Option(True, "--stdio", help="Speak LSP over standard input and output (the only transport)."),
) -> None:
    """Run the language server for editors (LSP over stdio): diagnostics, hover, completion, formatting, …"""
    _start_up_done()
    from .lsp.server import serve

    serve()


@app.command(cls=_Command)
def repl(
    rules: Optional[Path] = typer.Argument(None, metavar="RULES", help="A rule file to start from (optional)."),
    events: Optional[Path] = typer.Option(None, "--events", metavar="FILE", help="Events, JSONL or CSV."),
    subjects: Optional[Path] = typer.Option(None, "--subjects", metavar="FILE", help="Subjects with their attributes."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="T", help="Evaluate at this instant; default: the latest event."),
    columns: Optional[str] = COLUMNS_OPTION,
    extra: Optional[str] = EXTRA_OPTION,
    types: Optional[str] = TYPES_OPTION,
    set_: list[str] = SET_OPTION,
) -> None:
    """Explore a rule set interactively: evaluate expressions, try declarations, explain scores."""
    _start_up_done()
    from .repl import Reply, Session, run_interactive, run_piped

    for given in (rules, events, subjects):
        if given is not None and not given.exists():
            _usage(f"no such file: {given}")
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    session = Session(color=interactive and _color(sys.stderr))
    session.columns = _column_map(columns, extra, types)
    session.param_overrides = _overrides(set_)
    startup = Reply()
    if rules is not None:
        session.load_rules(rules, startup)
    if subjects is not None:
        session.load_data("subjects", subjects, startup)
    if events is not None:
        session.load_data("events", events, startup)
    if as_of is not None:
        given = Reply()
        session.cmd_as_of([as_of], given)
        if not given.ok:
            from .inputs import OUT_OF_RANGE

            if OUT_OF_RANGE in given.text("err"):
                _usage(f"--as-of {as_of!r} is {OUT_OF_RANGE}")
            _usage(f"--as-of {as_of!r} is not an ISO 8601 date or datetime (e.g. 2026-03-01 or 2026-03-01T12:00:00Z), "
                   "`now` or `today`")
        startup.chunks += given.chunks
    for stream, text in startup.chunks:
        (sys.stdout if stream == "out" and interactive else sys.stderr).write(text)
    if interactive:
        print("whuffie repl: :help lists the commands, Ctrl-D quits", file=sys.stderr)
        raise typer.Exit(run_interactive(session))
    code = run_piped(session, sys.stdin, sys.stdout, sys.stderr)
    raise typer.Exit(EXIT_ERRORS if code or not startup.ok else EXIT_OK)



SHOWN_PER_KIND = 5  # bad lines printed per kind of problem, unless --verbose


def _handle_rejects(load, rejects_path: Path | None, source, unit: str, verbose: bool = False) -> None:
    """Bad input lines: without --rejects, report them and stop (exit 2); with it, write them there and go on.

    The rejects file is always (re)written, empty when no line was bad, so an old
    file never passes for this run's rejects; it holds every bad line, however
    few are printed.
    """
    if not load.rejects:
        if rejects_path is not None:
            _write_rejects(rejects_path, None, [])
        return
    _print_capped(load.rejects, verbose)
    from .columns import extra_hint

    if (hint := extra_hint(load.rejects)) is not None:
        print(f"hint: {hint}", file=sys.stderr)
    if rejects_path is None:
        count = len(load.rejects)
        print(f"{source}: {count:,} bad {unit}{'s' * (count != 1)} of {load.read:,}; nothing scored "
              "(fix them, or use --rejects FILE to set them aside and score the rest)", file=sys.stderr)
        raise typer.Exit(EXIT_USAGE)
    _write_rejects(rejects_path, getattr(load, "header", None), load.rejects, getattr(load, "header_end", "\n"))


def _print_capped(items: list, verbose: bool, code: str | None = None) -> None:
    """Located messages (rejects or notes), the first SHOWN_PER_KIND of each kind, then a count per kind.

    Twenty thousand lines with one mistake make one kind: five examples and
    "… and 19,995 more like this" say as much as twenty thousand lines would.
    """
    from .report import escape_controls

    per_kind: dict[str, int] = {}
    for item in items:
        kind = _kind_of(item.message)
        seen = per_kind[kind] = per_kind.get(kind, 0) + 1
        if verbose or seen <= SHOWN_PER_KIND:
            label = f"warning[{code}]: " if code else ""
            print(f"{escape_controls(item.where)}: {label}{escape_controls(item.message)}", file=sys.stderr)
    if verbose:
        return
    for kind, count in per_kind.items():
        if count > SHOWN_PER_KIND:
            print(f"  … and {count - SHOWN_PER_KIND:,} more like this ({escape_controls(kind)}); "
                  "--verbose prints them all" + ("" if code else ", --rejects FILE keeps them"), file=sys.stderr)


_VARIABLE_PARTS = [
    (re.compile(r'"(?:[^"\\]|\\.)*"'), '"…"'),
    (re.compile(r"\bgot [^;]*"), "got …"),
    (re.compile(r"\b(column|byte|first at) [^;) ]+"), r"\1 …"),
    (re.compile(r"\b\d+ columns\b"), "… columns"),
]


def _kind_of(message: str) -> str:
    """A message with its particulars (values, columns, lines) left out: lines with one kind of mistake."""
    for pattern, replacement in _VARIABLE_PARTS:
        message = pattern.sub(replacement, message)
    return message


def _write_rejects(rejects_path: Path, header: str | None, rejects: list, header_end: str = "\n") -> None:
    """The rejects file: the CSV header (if any) once, then every bad line verbatim, with its own line end."""
    try:  # surrogateescape: a line that was not UTF-8 is written back as the very bytes it had
        with open(rejects_path, "w", encoding="utf-8", errors="surrogateescape", newline="") as fh:
            if header is not None and rejects:
                fh.write(header + header_end)
            for r in rejects:
                fh.write(r.text + getattr(r, "end", "\n"))
    except OSError as exc:
        _usage(f"cannot write {rejects_path}: {exc.strerror}")


def _refuse_rejects_over_inputs(rejects_path: Path | None, *inputs, option: str = "--rejects") -> None:
    """--rejects (or --ledger) must never name an input: writing it would destroy the data being scored.

    Paths are compared after resolving symlinks and `..`, so another spelling of
    the same file is refused too.
    """
    if rejects_path is None:
        return
    target = Path(rejects_path).resolve()
    for given in inputs:
        if given is None or str(given) == "-" or str(given).startswith("duckdb:"):
            continue
        if Path(given).resolve() == target:
            _print_diagnostics([diag.error("W081", f"{option} {rejects_path} names an input file ({given}); "
                                           "writing it would overwrite that input", _place(str(rejects_path)),
                                           f"choose another file for the {option.lstrip('-')}")], {})
            raise typer.Exit(EXIT_USAGE)


def _as_of_instant(as_of: str | None, ruleset):
    """The --as-of option as an aware datetime (a date means local midnight), or None."""
    if as_of is None:
        return None
    from zoneinfo import ZoneInfo

    import datetime as dt

    from .inputs import OUT_OF_RANGE, DataError, as_of_instant

    zone = ZoneInfo(ruleset.timezone)
    try:
        return as_of_instant(as_of, zone)
    except DataError as exc:
        if str(exc) == OUT_OF_RANGE:
            _usage(f"--as-of {as_of!r} is {OUT_OF_RANGE}")
        _usage(f"--as-of {as_of!r} is not an ISO 8601 date or datetime (e.g. 2026-03-01 or 2026-03-01T12:00:00Z), `now` or `today`")


def _spark_settings(engine: str, master: str | None, conf: list[str], position: str | None = None,
                    events=None) -> None:
    """Check --spark-master/--spark-conf/--position and whether PySpark is there; the session is made on first use."""
    table = events is not None and str(events).startswith("spark:")
    if engine != "spark":
        if master is not None or conf:
            _usage("--spark-master and --spark-conf need --engine spark")
        if table:
            _usage(f"{events}: a table in the Spark catalog is read with --engine spark")
        if position is not None:
            _usage("--position needs --engine spark and a spark:db.table input")
        return
    if position is not None and not table:
        _usage("--position is for a spark:db.table input (a file's rows are numbered by the file)")
    from .engines import spark
    from .report import escape_controls

    settings = {}
    for item in conf:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            _usage(f"--spark-conf takes KEY=VALUE, not {escape_controls(repr(item))}")
        settings[key.strip()] = value
    problem = spark.available()
    if problem is not None:
        _usage(problem)
    spark.configure(master, settings, position)


def _usage(message: str) -> None:
    print(f"whuffie: {message}", file=sys.stderr)
    raise typer.Exit(EXIT_USAGE)


_collector_paused = False  # main() pauses the cyclic collector for the start-up; _start_up_done() resumes it


def _start_up_done() -> None:
    """The rules are loaded: from here on the collector runs, over the objects made after this point.

    Start-up makes ~45,000 long-lived objects (modules, grammar tables, AST, compiled rules) and
    next to no garbage; collecting among them was 60 ms of a 10-event `score`. Freezing them keeps
    later collections (and the long sessions of repl and lsp) from scanning them again.
    """
    global _collector_paused
    if _collector_paused:
        _collector_paused = False
        gc.freeze()
        gc.enable()


# Libraries that hold what Python's exit functions do not release (DuckDB's spill files, Parquet
# writers, Spark's JVM): with one of them loaded the process leaves by the interpreter's own exit.
_OWN_EXIT = ("duckdb", "pyarrow", "pyspark", "py4j")


def _exit_without_teardown(code) -> None:
    """End the process now with ``code``, after what the interpreter's exit would do that anyone sees.

    Tearing the interpreter down frees every object one at a time: after scoring a million events
    that was 0.3 CPU s (8 % of `score --engine codegen` at 1M), spent on memory the kernel takes
    back at once. The exit functions still run (atexit: coverage's data, logging's flush) and the
    standard streams are flushed; when a stream cannot be (a closed pipe), when a thread is still
    running, or when a library of _OWN_EXIT is loaded, this returns and the normal exit happens.
    """
    import atexit
    import os
    import threading

    if not (code is None or type(code) is int) or threading.active_count() > 1:
        return
    if any(name in sys.modules for name in _OWN_EXIT) or not _flushed():
        return
    atexit._run_exitfuncs()  # runs each once and forgets it, as the interpreter's exit would
    if _flushed():
        os._exit(0 if code is None else code)


def _flushed() -> bool:
    """Flush stdout and stderr; False when one cannot be (a closed pipe: the normal exit reports it as Python does)."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return False
    return True


def main() -> None:
    """Console-script entry point."""
    global _collector_paused
    if gc.isenabled():
        gc.disable()
        _collector_paused = True
    try:
        app()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except SystemExit as done:
        _exit_without_teardown(done.code)  # returns when the interpreter's own exit is needed
        raise
    finally:
        # The interpreter's collections at exit traverse every object (~50 ms here) to find garbage
        # that the exit frees anyway; files and connections are closed by their `with` blocks.
        gc.freeze()


if __name__ == "__main__":
    main()

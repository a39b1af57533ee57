"""The command line: whuffie check | fmt | score | explain | authors | test | repl | sql.

Exit codes: 0 ok, 1 rule-file errors or failed tests, 2 bad input data or usage.
"""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path
from typing import Optional

import typer

from . import diagnostics as diag
from .frontend import load_file

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2

app = typer.Typer(
    name="whuffie",
    help="whuffie: community scores whose every point is traceable to a rule, an author and an event.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
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


@app.command()
def check(
    files: list[Path] = typer.Argument(..., help="Rule files (*.whuf) to check."),
    format: str = typer.Option("text", "--format", help="Output format: text or json."),
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


@app.command()
def fmt(
    files: list[Path] = typer.Argument(..., help="Rule files to format in place."),
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
        formatted = format_program(loaded.program)
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
                loaded.source.splitlines(keepends=True), formatted.splitlines(keepends=True),
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


def _load_rules(path: Path):
    """Load and check a rule file and compile it; print diagnostics and exit 1 on errors."""
    from .evaluator import EvaluationError, compile_ruleset

    loaded = load_file(path)
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
    return loaded, program


def _run(rules: Path, events_path: Path | None, subjects_path: Path | None, as_of: str | None,
         rejects_path: Path | None, only: str | None = None, ledger: bool = True, engine: str = "auto"):
    """The shared front half of score / explain / authors: rules, inputs, evaluation."""
    from .evaluator import EvaluationError
    from .inputs import DataError, load_events, load_subjects
    from .sqlengine import is_columnar

    if engine not in ENGINE_NAMES:
        _usage(f"--engine must be one of {', '.join(ENGINE_NAMES)}, not {engine!r}")
    _refuse_rejects_over_inputs(rejects_path, rules, events_path, subjects_path)
    from .engines import text_log_on_duckdb

    if events_path is not None and (is_columnar(str(events_path))
                                    or text_log_on_duckdb(str(events_path), engine, ledger, only)):
        return _run_columnar(rules, str(events_path), subjects_path, as_of, rejects_path, only, ledger, engine)

    loaded, program = _load_rules(rules)
    ruleset = loaded.ruleset
    subjects = None
    try:
        if subjects_path is not None:
            subj = load_subjects(subjects_path, ruleset)
            if subj.rejects:
                for r in subj.rejects:
                    print(r, file=sys.stderr)
                print(f"{subjects_path}: {len(subj.rejects)} bad line{'s' * (len(subj.rejects) != 1)}; "
                      "nothing scored (fix the subjects file)", file=sys.stderr)
                raise typer.Exit(EXIT_USAGE)
            subjects = subj.subjects
        if events_path is None:
            return loaded, program, None, None
        if program.reads_attributes and subjects is None:
            kind = ruleset.subject_kind.name
            _usage(f"the rules read {kind} attributes; give them with --subjects FILE")
        with _progress(f"reading {events_path.name}"):
            load = load_events(events_path, ruleset, subjects, program.reads_attributes)
    except DataError as exc:
        _usage(str(exc))
    _handle_rejects(load, rejects_path, events_path, "line")
    instant = _as_of_instant(as_of, ruleset)
    known = {e.subject for e in load.events} | set(subjects or {})
    if only is not None and only not in known:
        close = difflib.get_close_matches(only, sorted(known), n=1)
        _usage(f"unknown subject {only!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
               + f": no event in {events_path} and no line in the subjects file names it")
    if instant is None and not load.events and subjects:
        _usage(f"{events_path} has no event to take the as-of instant from; give --as-of T")
    try:
        from . import engines

        with _progress(f"scoring {len(load.events)} events") as bar:
            results = engines.evaluate(engine, ruleset, load.events, subjects, instant, ledger=ledger, only=only,
                                       notes=lambda d: _print_diagnostics([d], {str(rules): loaded.source or ""}),
                                       progress=bar.update)
    except EvaluationError as exc:
        _print_diagnostics(exc.diagnostics, {str(rules): loaded.source or ""})
        raise typer.Exit(EXIT_ERRORS)
    from .report import iso
    rejected = len(load.rejects)
    print(f"{events_path}: read {load.read}, scored {results.scored}, rejected {rejected}, "
          f"after as-of {results.after_as_of} (as of {iso(results.as_of)})"
          + (f"; rejects in {rejects_path}" if rejects_path is not None and rejected else ""),
          file=sys.stderr)
    return loaded, program, load, results


def _check_precision(precision: int) -> None:
    if not 0 <= precision <= 12:
        _usage(f"--precision must be between 0 and 12, not {precision}")


@app.command()
def score(
    rules: Path = typer.Argument(..., help="The rule file (*.whuf)."),
    events: Path = typer.Argument(..., help="Events, JSONL or CSV (by the .csv suffix)."),
    subjects: Optional[Path] = typer.Option(None, "--subjects", help="Subjects with their attributes, JSONL or CSV."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Evaluate at this instant (a date means its local midnight; `now` and `today` read the clock); default: the latest event."),
    format: str = typer.Option("table", "--format", help="table, csv, json or jsonl."),
    rejects: Optional[Path] = typer.Option(None, "--rejects", help="Write bad event lines here (verbatim) and score the rest."),
    precision: int = typer.Option(2, "--precision", help="Decimals in the output (rounded half away from zero)."),
    engine: str = typer.Option("auto", "--engine", help="auto, codegen (generated Python), duckdb or reference. auto: DuckDB for Parquet or duckdb:PATH#TABLE input, else codegen."),
) -> None:
    """Score every subject: scores, tier, privileges and measures."""
    from . import report

    if format not in ("table", "csv", "json", "jsonl"):
        _usage(f"--format must be table, csv, json or jsonl, not {format!r}")
    _check_precision(precision)
    loaded, _, _, results = _run(rules, events, subjects, as_of, rejects, ledger=False, engine=engine)
    ruleset = loaded.ruleset
    if format == "json":
        sys.stdout.write(report.score_json(results, precision))
    elif format == "jsonl":
        sys.stdout.write(report.score_jsonl(results, precision))
    elif format == "csv":
        sys.stdout.write(report.score_csv(results, ruleset, precision))
    else:
        header = report.score_columns(ruleset)
        rows = report.score_rows(results, ruleset, precision)
        if sys.stdout.isatty():
            from rich.console import Console
            from rich.table import Table

            table = Table(title=f"{ruleset.title or ruleset.name} as of {report.iso(results.as_of)}")
            for i, column in enumerate(header):
                numeric = 0 < i <= len(ruleset.scores) or i >= len(ruleset.scores) + 3
                table.add_column(column, justify="right" if numeric else "left")
            for row in rows:
                table.add_row(*row)
            Console().print(table)
        else:
            sys.stdout.write(report.plain_table(header, rows))
    raise typer.Exit(EXIT_OK)


@app.command()
def explain(
    rules: Path = typer.Argument(..., help="The rule file (*.whuf)."),
    events: Path = typer.Argument(..., help="Events, JSONL or CSV."),
    subject: str = typer.Argument(..., help="The subject id to explain."),
    subjects: Optional[Path] = typer.Option(None, "--subjects", help="Subjects with their attributes, JSONL or CSV."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Evaluate at this instant; default: the latest event."),
    format: str = typer.Option("text", "--format", help="text or json."),
    reasons: int = typer.Option(4, "--reasons", help="How many reasons (rules that lowered the score most) to list."),
    rejects: Optional[Path] = typer.Option(None, "--rejects", help="Write bad event lines here and explain with the rest."),
    precision: int = typer.Option(2, "--precision", help="Decimals in the output."),
    engine: str = typer.Option("auto", "--engine", help="auto, codegen, duckdb or reference. The ledger comes from generated Python (or the reference); with Parquet/DuckDB input only the subject's rows are read."),
) -> None:
    """Explain one subject's scores: every contribution, the cuts, and the key reasons."""
    from . import report

    if format not in ("text", "json"):
        _usage(f"--format must be text or json, not {format!r}")
    _check_precision(precision)
    if reasons < 0:
        _usage("--reasons must be 0 or more")
    loaded, _, _, results = _run(rules, events, subjects, as_of, rejects, only=subject, engine=engine)
    result = results.subjects[0]
    if format == "json":
        sys.stdout.write(report.explain_json(result, precision, reasons))
    else:
        sys.stdout.write(report.explain_text(result, loaded.ruleset, loaded.source, results.as_of,
                                             precision, reasons))
    raise typer.Exit(EXIT_OK)


@app.command()
def authors(
    rules: Path = typer.Argument(..., help="The rule file (*.whuf)."),
    events: Optional[Path] = typer.Argument(None, help="Events (optional): adds each author's share of the points."),
    subjects: Optional[Path] = typer.Option(None, "--subjects", help="Subjects with their attributes."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Evaluate at this instant; default: the latest event."),
    format: str = typer.Option("text", "--format", help="text or json."),
    rejects: Optional[Path] = typer.Option(None, "--rejects", help="Write bad event lines here and use the rest."),
    precision: int = typer.Option(2, "--precision", help="Decimals in the output."),
) -> None:
    """List every author with the rules, caps, tiers, privileges and properties they own."""
    from . import report

    if format not in ("text", "json"):
        _usage(f"--format must be text or json, not {format!r}")
    _check_precision(precision)
    loaded, _, _, results = _run(rules, events, subjects, as_of, rejects)
    data = report.authors_data(loaded.ruleset, results, precision)
    if format == "json":
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(report.authors_text(data, results is not None, precision))
    raise typer.Exit(EXIT_OK)


# ---------------------------------------------------------------- engines: columnar input, progress, sql

ENGINE_NAMES = ("auto", "reference", "codegen", "duckdb")


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
                  rejects_path: Path | None, only: str | None, ledger: bool, engine: str):
    """_run for a Parquet file or duckdb:PATH#TABLE: validated in SQL, scored on DuckDB or pushed down."""
    from . import engines, sqlengine
    from .evaluator import EvaluationError
    from .inputs import DataError, load_subjects
    from .plan import lower
    from .report import iso

    loaded, program = _load_rules(rules)
    ruleset = loaded.ruleset
    subjects = None
    if subjects_path is not None:
        try:
            subj = load_subjects(subjects_path, ruleset)
        except DataError as exc:
            _usage(str(exc))
        if subj.rejects:
            for r in subj.rejects:
                print(r, file=sys.stderr)
            print(f"{subjects_path}: {len(subj.rejects)} bad line{'s' * (len(subj.rejects) != 1)}; "
                  "nothing scored (fix the subjects file)", file=sys.stderr)
            raise typer.Exit(EXIT_USAGE)
        subjects = subj.subjects
    if program.reads_attributes and subjects is None:
        _usage(f"the rules read {ruleset.subject_kind.name} attributes; give them with --subjects FILE")
    plan = lower(ruleset)
    try:
        with _progress(f"reading {spec}"):
            load = sqlengine.load_columnar(spec, plan, subjects, program.reads_attributes, only=only)
    except sqlengine.ColumnarError as exc:
        _usage(str(exc))
    _handle_rejects(load, rejects_path, spec, "row", shown=50)
    instant = _as_of_instant(as_of, ruleset)
    if instant is None and only is None and not load.accepted and subjects:  # as _run: no as-of instant
        _usage(f"{spec} has no event to take the as-of instant from; give --as-of T")
    notes = lambda d: _print_diagnostics([d], {str(rules): loaded.source or ""})  # noqa: E731
    try:
        if only is not None:
            # the subject filter is pushed down into the scan: only that subject's rows are read
            events = load.events(only)
            if not events and only not in (subjects or {}):
                _usage(f"unknown subject {only!r}: no row of {spec} and no line in the subjects file names it")
            if instant is None:  # the default as-of is the latest event of the whole input: one cheap max()
                latest = sqlengine.latest_at(spec, load.con)
                if latest is not None:
                    instant = latest
            results = engines.evaluate("codegen" if engine in ("auto", "duckdb") else engine, ruleset, events,
                                       subjects, instant, ledger=ledger, only=only, notes=notes)
            results.scored = load.accepted - load.con.execute(
                f"SELECT count(*) FROM events WHERE at_us > {sqlengine._us(results.as_of)}").fetchall()[0][0]
            results.after_as_of = load.accepted - results.scored
        elif engines.choose(engine, load.accepted, True, ledger) == "duckdb":
            with _progress(f"scoring {load.accepted} rows on DuckDB"):
                results = engines.evaluate_columnar(load, ruleset, subjects, instant, notes=notes)
        else:
            with _progress(f"scoring {load.accepted} rows") as bar:
                results = engines.evaluate(engine, ruleset, load.events(), subjects, instant, ledger=ledger,
                                           notes=notes, progress=bar.update)
    except EvaluationError as exc:
        _print_diagnostics(exc.diagnostics, {str(rules): loaded.source or ""})
        raise typer.Exit(EXIT_ERRORS)
    rejected = len(load.rejects)
    print(f"{spec}: read {load.read}{f' rows of {only}' if only is not None else ''}, scored {results.scored}, "
          f"rejected {rejected}, "
          f"after as-of {results.after_as_of} (as of {iso(results.as_of)})"
          + (f"; rejects in {rejects_path}" if rejects_path is not None and rejected else ""), file=sys.stderr)
    return loaded, program, load, results


@app.command()
def sql(
    rules: Path = typer.Argument(..., help="The rule file (*.whuf)."),
    dialect: str = typer.Option("duckdb", "--dialect", help="SQL dialect: duckdb, spark, trino, postgres (any SQLGlot dialect)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Evaluate at this instant; default: the latest event (a subquery)."),
    pretty: bool = typer.Option(True, "--pretty/--compact", help="Indent the query."),
) -> None:
    """Print the rule file compiled to one SQL query over the relations `events` and `subjects`."""
    from zoneinfo import ZoneInfo

    import sqlglot

    from . import sqlengine
    from .inputs import DataError, parse_time
    from .plan import lower

    if dialect not in sqlglot.Dialect.classes:
        _usage(f"--dialect must be a SQLGlot dialect such as duckdb, spark, trino or postgres, not {dialect!r}")
    loaded, _ = _load_rules(rules)
    as_of_us = None
    if as_of is not None:
        try:
            as_of_us = sqlengine._us(parse_time(as_of, ZoneInfo(loaded.ruleset.timezone)))
        except DataError:
            _usage(f"--as-of {as_of!r} is not an ISO 8601 date or datetime")
    try:
        compiled = sqlengine.compile_query(lower(loaded.ruleset), as_of_us)
    except sqlengine.SqlUnsupported as exc:
        d = diag.error("W091", f"the SQL engine cannot express {exc.message}; no query to print", exc.span,
                       "score with --engine codegen, or write the construct in a form SQL has exactly")
        _print_diagnostics([d], {str(rules): loaded.source or ""})
        raise typer.Exit(EXIT_ERRORS)
    sys.stdout.write(compiled.sql(dialect, pretty=pretty) + "\n")
    raise typer.Exit(EXIT_OK)


# ---------------------------------------------------------------- test


@app.command("test")
def test_command(
    files: list[Path] = typer.Argument(..., help="Rule files (*.whuf) whose tests and properties to run."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed for generated histories; the same seed gives the same report. Default: a random seed, printed."),
    max_examples: int = typer.Option(100, "--max-examples", help="Histories generated per property (before shrinking)."),
    save_counterexamples: Optional[Path] = typer.Option(None, "--save-counterexamples", help="Write each failing property's minimal history here as DIR/<property>.jsonl (and .subjects.jsonl)."),
) -> None:
    """Run the test blocks and check the properties of rule files (properties with Hypothesis)."""
    import random

    from .evaluator import EvaluationError, compile_ruleset
    from .properties import check_property, counterexample_files, render_property
    from .testblocks import render_outcome, run_test

    if max_examples < 1:
        _usage("--max-examples must be 1 or more")
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    if save_counterexamples is not None:
        try:
            save_counterexamples.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _usage(f"cannot create {save_counterexamples}: {exc.strerror}")
    passed = failed = 0
    used_folders: set[str] = set()
    for path in files:
        loaded = load_file(path)
        print(f"{path} (seed {seed}, {max_examples} examples per property)")
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
            passed, failed = passed + outcome.passed, failed + (not outcome.passed)
            if target is not None and not outcome.passed:
                for name, content in counterexample_files(outcome, program).items():
                    try:
                        target.mkdir(parents=True, exist_ok=True)
                        (target / name).write_text(content, encoding="utf-8")
                    except OSError as exc:
                        _usage(f"cannot write {target / name}: {exc.strerror}")
        print()
    print(f"{passed} passed, {failed} failed")
    raise typer.Exit(EXIT_ERRORS if failed else EXIT_OK)


@app.command()
def repl(
    rules: Optional[Path] = typer.Argument(None, help="A rule file to start from (optional)."),
    events: Optional[Path] = typer.Option(None, "--events", help="Events, JSONL or CSV."),
    subjects: Optional[Path] = typer.Option(None, "--subjects", help="Subjects with their attributes."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Evaluate at this instant; default: the latest event."),
) -> None:
    """Explore a rule set interactively: evaluate expressions, try declarations, explain scores."""
    from .repl import Reply, Session, run_interactive, run_piped

    for given in (rules, events, subjects):
        if given is not None and not given.exists():
            _usage(f"no such file: {given}")
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    session = Session(color=interactive and _color(sys.stderr))
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
            _usage(f"--as-of {as_of!r} is not an ISO 8601 date or datetime (e.g. 2026-03-01 or 2026-03-01T12:00:00Z)")
        startup.chunks += given.chunks
    for stream, text in startup.chunks:
        (sys.stdout if stream == "out" and interactive else sys.stderr).write(text)
    if interactive:
        print("whuffie repl: :help lists the commands, Ctrl-D quits", file=sys.stderr)
        raise typer.Exit(run_interactive(session))
    code = run_piped(session, sys.stdin, sys.stdout, sys.stderr)
    raise typer.Exit(EXIT_ERRORS if code or not startup.ok else EXIT_OK)



def _handle_rejects(load, rejects_path: Path | None, source, unit: str, shown: int | None = None) -> None:
    """Bad input lines: without --rejects, report them and stop (exit 2); with it, write them there and go on.

    The rejects file is always (re)written, empty when no line was bad, so an old
    file never passes for this run's rejects.
    """
    if not load.rejects:
        if rejects_path is not None:
            _write_rejects(rejects_path, None, [])
        return
    for r in load.rejects[:shown]:
        print(r, file=sys.stderr)
    if rejects_path is None:
        count = len(load.rejects)
        print(f"{source}: {count} bad {unit}{'s' * (count != 1)} of {load.read}; nothing scored "
              "(fix them, or use --rejects FILE to set them aside and score the rest)", file=sys.stderr)
        raise typer.Exit(EXIT_USAGE)
    _write_rejects(rejects_path, getattr(load, "header", None), load.rejects)


def _write_rejects(rejects_path: Path, header: str | None, rejects: list) -> None:
    """The rejects file: the CSV header (if any) once, then every bad line verbatim."""
    try:
        with open(rejects_path, "w", encoding="utf-8", newline="") as fh:
            if header is not None and rejects:
                fh.write(header + "\n")
            for r in rejects:
                fh.write(r.text + "\n")
    except OSError as exc:
        _usage(f"cannot write {rejects_path}: {exc.strerror}")


def _refuse_rejects_over_inputs(rejects_path: Path | None, *inputs) -> None:
    """--rejects must never name an input: writing it would destroy the data being scored.

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
            _usage(f"--rejects {rejects_path} names an input file ({given}); "
                   "choose another file so that no input is overwritten")


def _as_of_instant(as_of: str | None, ruleset):
    """The --as-of option as an aware datetime (a date means local midnight), or None."""
    if as_of is None:
        return None
    from zoneinfo import ZoneInfo

    import datetime as dt

    from .inputs import DataError, parse_time

    zone = ZoneInfo(ruleset.timezone)
    if as_of in ("now", "today"):
        # The run's clock, read once; `today` is the local midnight that began it.
        clock = dt.datetime.now(zone)
        return clock if as_of == "now" else clock.replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        return parse_time(as_of, zone)
    except DataError:
        _usage(f"--as-of {as_of!r} is not an ISO 8601 date or datetime (e.g. 2026-03-01 or 2026-03-01T12:00:00Z), `now` or `today`")

def _usage(message: str) -> None:
    print(f"whuffie: {message}", file=sys.stderr)
    raise typer.Exit(EXIT_USAGE)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()

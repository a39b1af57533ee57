"""The command line: whuffie check | fmt | score | explain | authors | test | repl.

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
        unformatted += 1
        if diff or check_only:
            if diff:
                sys.stdout.writelines(difflib.unified_diff(
                    loaded.source.splitlines(keepends=True), formatted.splitlines(keepends=True),
                    fromfile=f"{path} (original)", tofile=f"{path} (formatted)"))
            if check_only:
                print(f"would reformat {path}", file=sys.stderr)
        else:
            path.write_text(formatted, encoding="utf-8")
            print(f"formatted {path}", file=sys.stderr)
    if broken:
        raise typer.Exit(EXIT_ERRORS)
    if check_only and unformatted:
        raise typer.Exit(EXIT_ERRORS)
    raise typer.Exit(EXIT_OK)


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

"""The REPL: explore a rule set and its scores interactively.

Two layers. ``Session`` is the language of the REPL and knows nothing of
terminals: it takes one input (an expression, one or more declarations, or a
``:command``) and returns a ``Reply`` (text for stdout and stderr, whether it
failed, whether to quit). The front ends feed it: ``run_piped`` reads lines
from a pipe (no prompts, no escape codes, exit 1 if any input failed) and
``run_interactive`` is a prompt_toolkit prompt with highlighting, completion,
history and multi-line editing.

The session's rule set is the loaded file plus the declarations typed since
(each replacing one of the same kind and name). It goes through the same
checker and evaluator as ``whuffie check`` and ``whuffie score``; everything
derived from it (checked ruleset, compiled program, validated events, subject
results) is computed on first use and thrown away on any change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, TextIO
from zoneinfo import ZoneInfo

from . import diagnostics as diag
from . import nodes as n
from . import sourcelines
from . import types as ty
from .checker import check, check_expression
from .diagnostics import Diagnostic, error
from .evaluator import Compiler, Env, EvaluationError, Program, Results, RuntimeFault, SubjectResult, compile_ruleset
from .evaluator import Scope as EvalScope
from .evaluator import evaluate
from .highlight import BUILTIN_FUNCTIONS, CLAUSE_KEYWORDS, DECLARATION_KEYWORDS, TYPE_NAMES, WORD_OPERATORS
from .inputs import (OUT_OF_RANGE, DataError, Event, EventLoad, SubjectLoad, as_of_instant, parse_events,
                     parse_subjects, parse_time, read_data_text)
from .parser import parse, parse_expression, read_source
from .symbols import Ruleset

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)  # evaluate()'s as-of when there are no events
SHOWN_REJECTS = 5  # bad data lines listed before "and N more"


# ---------------------------------------------------------------- replies


@dataclass
class Reply:
    """What one input produced: chunks of text for stdout ("out") or stderr ("err")."""

    chunks: list[tuple[str, str]] = field(default_factory=list)
    ok: bool = True
    quit: bool = False

    def out(self, text: str) -> None:
        """Add a result line (or block) for stdout."""
        self.chunks.append(("out", text if text.endswith("\n") else text + "\n"))

    def err(self, text: str) -> None:
        """Add a message for stderr without failing."""
        if text:
            self.chunks.append(("err", text if text.endswith("\n") else text + "\n"))

    def fail(self, text: str = "") -> None:
        """Add an error message for stderr and mark the input as failed."""
        self.err(text)
        self.ok = False

    def text(self, stream: str) -> str:
        """Everything written to one stream, joined."""
        return "".join(t for s, t in self.chunks if s == stream)


# ---------------------------------------------------------------- declarations


def _kind_word(item) -> str:
    words = {
        n.RulesetDecl: "ruleset", n.VersionDecl: "version", n.TimezoneDecl: "timezone", n.ImportDecl: "import",
        n.AuthorDecl: "author", n.SubjectDecl: "subject", n.EventDecl: "event", n.RuleDecl: "rule",
        n.SharedCapDecl: "shared cap", n.MeasureDecl: "measure", n.ScoreDecl: "score", n.TierDecl: "tier",
        n.PrivilegeDecl: "privilege", n.DefDecl: "def", n.TestDecl: "test", n.PropertyDecl: "property",
    }
    return words[type(item)]


def declaration_key(item) -> tuple[str, str | None]:
    """What a declaration replaces: the one of the same kind and name (header lines are one of a kind)."""
    if isinstance(item, (n.RulesetDecl, n.VersionDecl, n.TimezoneDecl)):
        return (_kind_word(item), None)
    if isinstance(item, n.ImportDecl):
        return ("import", item.path)
    return (_kind_word(item), item.name)


def describe(item) -> str:
    """A declaration in words: `rule late_return by ben`, `test "late returns"`."""
    kind, name = declaration_key(item)
    if isinstance(item, (n.TestDecl, n.PropertyDecl, n.ImportDecl)):
        label = f'{kind} "{name}"'
    elif name is None:
        label = kind
    else:
        label = f"{kind} {name}"
    author = getattr(item, "by", None)
    return f"{label} by {author}" if author else label


def _lacks_clauses(item) -> bool:
    """True for a declaration whose required clauses have not all been typed yet."""
    if isinstance(item, n.RuleDecl):
        return any(item.first(kind) is None for kind in (n.By, n.Because, n.On, n.Award))
    if isinstance(item, (n.TierDecl, n.PrivilegeDecl, n.SharedCapDecl)):
        return item.first(n.By) is None
    return False


def _apply(base: Iterable, edits: list[tuple[str, tuple, object]]) -> list:
    """The session's declarations: the file's, with the typed ones put in place and the dropped ones gone."""
    items = list(base)
    for action, key, item in edits:
        index = next((i for i, d in enumerate(items) if declaration_key(d) == key), None)
        if action == "drop":
            if index is not None:
                del items[index]
        elif index is not None:
            items[index] = item
        elif isinstance(item, n.TierDecl) and item.condition is not None:
            # A tier typed after `otherwise` could never be reached; it goes just above it.
            last = next((i for i, d in enumerate(items) if isinstance(d, n.TierDecl) and d.condition is None), None)
            items.insert(len(items) if last is None else last, item)
        else:
            items.append(item)
    return items


def open_brackets(text: str) -> int:
    """How many (, [ and { are still open, ignoring strings and comments."""
    depth = 0
    in_string = escaped = in_comment = False
    for ch in text:
        if in_comment:
            in_comment = ch != "\n"
        elif in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch in '"\n':
                in_string = False
        elif ch == "#":
            in_comment = True
        elif ch == '"':
            in_string = True
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
    return max(depth, 0)


def _first_word(text: str) -> str:
    for line in sourcelines.split(text):
        stripped = line.split("#", 1)[0].strip()
        if stripped:
            word = ""
            for ch in stripped:
                if not (ch.isalnum() or ch == "_"):
                    break
                word += ch
            return word
    return ""


def _starts_declaration(text: str) -> bool:
    return _first_word(text) in DECLARATION_KEYWORDS


def _at_end(d: Diagnostic) -> bool:
    return d.code == "W008" or "end of file" in d.message or "end of input" in d.message


def _position(diags: list[Diagnostic]) -> tuple[int, int]:
    errors = [d for d in diags if d.is_error]
    if not errors:
        return (10 ** 9, 0)
    first = min(errors, key=diag.sort_key)
    return (first.span.line, first.span.col)


def _walk(e):
    """Every node of an expression."""
    return n.walk(e)


# ---------------------------------------------------------------- values


def show_value(value, t: ty.Type, ruleset: Ruleset) -> str:
    """A value as the REPL prints it, in the language's own notation."""
    from .formatter import format_string

    if value is None:
        return "none"
    if t.base == "tier" and isinstance(value, int) and not isinstance(value, bool):
        names = {ruleset.tier_rank(name): name for name in ruleset.tiers}
        return names.get(value, "none")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = f"{value:.6f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    if isinstance(value, str):
        return format_string(value)
    if isinstance(value, dt.datetime):
        from .report import iso
        return iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
        for unit, size in (("weeks", 604800), ("days", 86400), ("hours", 3600), ("minutes", 60)):
            if seconds and seconds % size == 0:
                return f"{int(seconds // size)} {unit}"
        return f"{show_value(seconds, ty.NUMBER, ruleset)} seconds"
    return str(value)


class _SessionCompiler(Compiler):
    """The evaluator's compiler, taught `X of SUBJECT` (read from the session's subject results)."""

    def __init__(self, ruleset: Ruleset, tz: dt.tzinfo, result_of: Callable[[str], SubjectResult]):
        super().__init__(ruleset, tz)
        self.result_of = result_of

    def _of(self, node: n.Of, scope):
        sid, target, rs, result_of = node.subject, node.target, self.rs, self.result_of
        if isinstance(target, n.Call):
            rule = target.args[0].id
            return lambda env: result_of(sid).points_by_rule.get(rule, 0)
        name = target.id
        if name == "points":
            return lambda env: result_of(sid).points
        if name == "tier":
            def tier(env):
                found = result_of(sid).tier
                return rs.tier_rank(found) if found else 0
            return tier
        if name in rs.scores:
            return lambda env: result_of(sid).scores[name]
        if name in rs.measures:
            return lambda env: result_of(sid).measures[name]
        return lambda env: name in result_of(sid).privileges


class _SubjectProblem(Exception):
    """A subject's results cannot be computed; the reply says why."""

    def __init__(self, diagnostics: list[Diagnostic] | None = None, message: str | None = None):
        super().__init__(message or "")
        self.diagnostics = diagnostics or []
        self.message = message


# ---------------------------------------------------------------- the session


@dataclass
class _DataFile:
    path: Path
    text: str


@dataclass
class _Derived:
    """Everything computed from the session's state, valid until the next change."""

    program: n.Program
    diagnostics: list[Diagnostic]
    ruleset: Ruleset | None = None
    compiled: Program | None = None
    subjects: dict[str, dict] | None = None
    subject_load: SubjectLoad | None = None
    event_load: EventLoad | None = None
    as_of: dt.datetime = EPOCH
    problem: str | None = None  # why nothing can be evaluated, in words
    known: list[str] | None = None  # subject ids, once asked for

    @property
    def events(self) -> list[Event]:
        return self.event_load.events if self.event_load else []

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]


@dataclass(frozen=True)
class Command:
    """One `:command`: how to call it and what it does."""

    name: str
    usage: str
    summary: str


COMMANDS = [
    Command("load", ":load FILE", "load a rule file (the session's declarations start afresh)"),
    Command("reload", ":reload", "read the rule, events and subjects files again; typed declarations are kept"),
    Command("events", ":events FILE", "load events (JSONL, or CSV by the .csv suffix)"),
    Command("subjects", ":subjects FILE", "load subjects and their attributes"),
    Command("as-of", ":as-of [T|now|today|latest]", "evaluate at instant T (a date means its local midnight; now, today: the clock); no T: show it"),
    Command("explain", ":explain SUBJECT", "a subject's ledger, cuts, scores and the reasons that lowered them"),
    Command("ledger", ":ledger SUBJECT [RULE]", "every contribution to a subject's points (of one rule)"),
    Command("scores", ":scores", "the score table of every subject, as `whuffie score` prints it"),
    Command("authors", ":authors", "every author, what they own and their share of the points"),
    Command("type", ":type EXPR", "the type of an expression, without evaluating it"),
    Command("show", ":show NAME", "a declaration of the session's rule set, formatted, and where it comes from"),
    Command("test", ":test [SEED]", "run the rule set's test blocks and check its properties (seed 0 unless given)"),
    Command("check", ":check", "check the session's rule set and list every diagnostic"),
    Command("diff", ":diff", "what the session changed against the loaded file"),
    Command("drop", ":drop NAME", "remove a declaration from the session's rule set"),
    Command("save", ":save FILE", "write the session's rule set, formatted"),
    Command("help", ":help", "this list"),
    Command("quit", ":quit", "leave (Ctrl-D does too)"),
]
COMMAND_NAMES = [c.name for c in COMMANDS]
COMMAND_ALIASES = {"q": "quit", "exit": "quit", "h": "help", "?": "help", "t": "type", "asof": "as-of"}


class Session:
    """A REPL session: the rule set being explored, its data, and what has been computed from them."""

    def __init__(self, color: bool = False, precision: int = 2):
        self.color = color
        self.precision = precision
        self.rules_path: Path | None = None
        self.base: n.Program = n.Program(())
        self.edits: list[tuple[str, tuple, object]] = []
        self.sources: dict[str, str] = {}
        self.events_file: _DataFile | None = None
        self.subjects_file: _DataFile | None = None
        self.as_of_text: str | None = None
        self.inputs = 0
        self._derived: _Derived | None = None
        self._results: dict[str, SubjectResult] = {}
        self._all: Results | None = None
        self._lines: dict[str, list[str]] = {}

    # -- state

    def items(self) -> list:
        """The declarations of the session's rule set, in order."""
        return _apply(self.base.items, self.edits)

    def program(self, items: list | None = None) -> n.Program:
        """The session's rule set as a program (comments of the loaded file kept)."""
        return n.Program(tuple(self.items() if items is None else items), self.base.comments)

    def _invalidate(self) -> None:
        self._derived = None
        self._results = {}
        self._all = None

    def derived(self) -> _Derived:
        """The checked ruleset, compiled program and validated data (computed once per change)."""
        if self._derived is None:
            self._derived = self._derive()
        return self._derived

    def _derive(self) -> _Derived:
        program = self.program()
        result = check(program)
        d = _Derived(program, list(result.diagnostics), result.ruleset)
        if d.ruleset is None:
            count = len(d.errors)
            d.problem = f"the rule set has {count} error{'s' * (count != 1)}; :check lists them"
            return d
        try:
            d.compiled = compile_ruleset(d.ruleset)
        except EvaluationError as exc:
            d.diagnostics += exc.diagnostics
            d.ruleset = None
            d.problem = "the rule set cannot be compiled; :check lists why"
            return d
        tz = ZoneInfo(d.ruleset.timezone)
        unreadable = None  # a file none of whose lines can be read (a CSV header without a required column)
        if self.subjects_file is not None:
            try:
                d.subject_load = parse_subjects(self.subjects_file.text, self.subjects_file.path, d.ruleset)
            except DataError as exc:
                d.subject_load, unreadable = SubjectLoad(), exc
            d.subjects = d.subject_load.subjects
        if self.events_file is not None:
            try:
                d.event_load = parse_events(self.events_file.text, self.events_file.path, d.ruleset, d.subjects,
                                            d.compiled.reads_attributes)
            except DataError as exc:
                d.event_load, unreadable = EventLoad(), exc
        if self.as_of_text is not None:
            try:
                d.as_of = parse_time(self.as_of_text, tz).astimezone(dt.timezone.utc)
            except DataError:
                d.as_of = max((e.at for e in d.events), default=EPOCH)
        else:
            d.as_of = max((e.at for e in d.events), default=EPOCH).astimezone(dt.timezone.utc)
        if unreadable is not None:
            d.problem = f"{unreadable} [{unreadable.code}]; fix the file and load it again"
        elif d.compiled.reads_attributes and d.subjects is None and (d.events or self.events_file):
            kind = d.ruleset.subject_kind.name
            d.problem = f"the rules read {kind} attributes; load them with :subjects FILE"
        return d

    def known_subjects(self) -> list[str]:
        """Subject ids with an event up to the as-of instant, or in the subjects file."""
        d = self.derived()
        if d.known is None:
            d.known = sorted({e.subject for e in d.events if e.at <= d.as_of} | set(d.subjects or {}))
        return d.known

    def subject_result(self, sid: str) -> SubjectResult:
        """One subject's results and ledger, with the same evaluator as `whuffie score` (cached)."""
        if sid in self._results:
            return self._results[sid]
        d = self.derived()
        if d.problem:
            raise _SubjectProblem(message=d.problem)
        if sid not in self.known_subjects():
            raise _SubjectProblem(message=self._unknown_subject(sid))
        try:
            results = evaluate(d.ruleset, d.events, d.subjects, d.as_of, ledger=True, only=sid, program=d.compiled)
        except EvaluationError as exc:
            raise _SubjectProblem(exc.diagnostics) from None
        self._results[sid] = results.subjects[0]
        return results.subjects[0]

    def all_results(self) -> Results:
        """Every subject's results (cached)."""
        if self._all is None:
            d = self.derived()
            if d.problem:
                raise _SubjectProblem(message=d.problem)
            try:
                self._all = evaluate(d.ruleset, d.events, d.subjects, d.as_of, ledger=True, program=d.compiled)
            except EvaluationError as exc:
                raise _SubjectProblem(exc.diagnostics) from None
            self._results.update({r.subject: r for r in self._all.subjects})
        return self._all

    def _unknown_subject(self, sid: str) -> str:
        known = self.known_subjects()
        if not known:
            return f"unknown subject {sid!r}: no events or subjects are loaded (use :events FILE or :subjects FILE)"
        close = difflib.get_close_matches(sid, known, n=1)
        return f"unknown subject {sid!r}" + (f" (did you mean {close[0]!r}?)" if close else "") + \
            ": no event up to the as-of instant and no line in the subjects file names it"

    def names(self) -> dict[str, list[str]]:
        """Names for completion, by what they are."""
        items = self.items()
        out: dict[str, list[str]] = {k: [] for k in ("events", "fields", "rules", "scores", "measures", "tiers",
                                                     "privileges", "authors", "defs", "kinds", "subjects")}
        table = {n.EventDecl: "events", n.RuleDecl: "rules", n.ScoreDecl: "scores", n.MeasureDecl: "measures",
                 n.TierDecl: "tiers", n.PrivilegeDecl: "privileges", n.AuthorDecl: "authors", n.DefDecl: "defs",
                 n.SubjectDecl: "kinds", n.SharedCapDecl: "rules"}
        for item in items:
            key = table.get(type(item))
            if key is not None and item.name not in out[key]:
                out[key].append(item.name)
            if isinstance(item, (n.EventDecl, n.SubjectDecl)):
                out["fields"] += [f.name for f in item.fields if f.name not in out["fields"]]
        try:
            out["subjects"] = self.known_subjects()
        except Exception:  # completion must never break the prompt
            out["subjects"] = []
        return out

    def fields_of(self, name: str) -> list[str]:
        """The fields of an event type or the attributes of the subject kind (for `x.` completion)."""
        for item in self.items():
            if isinstance(item, n.EventDecl) and item.name == name:
                return [f.name for f in item.fields] + ["at", "id"]
            if isinstance(item, n.SubjectDecl) and item.name == name:
                return [f.name for f in item.fields] + ["id"]
        return []

    # -- rendering

    def _render(self, diags: list[Diagnostic]) -> str:
        return diag.render(sorted(diags, key=diag.sort_key), self.sources, color=self.color)

    def _record_input(self, file: str, first_line: int, text: str) -> None:
        lines = self._lines.setdefault(file, [])
        new = text.split("\n")
        start = first_line - 1
        if len(lines) < start:
            lines.extend([""] * (start - len(lines)))
        lines[start:start + len(new)] = new
        self.sources[file] = "\n".join(lines)

    # -- input

    def needs_more(self, text: str) -> bool:
        """True while the input is an unfinished declaration or has an open bracket (an empty line ends it)."""
        if not text.strip() or text.lstrip().startswith(":"):
            return False
        lines = text.split("\n")
        if len(lines) > 1 and not lines[-1].strip():
            return False
        if open_brackets(text) > 0:
            return True
        if not _starts_declaration(text):
            return False
        expr, _ = parse_expression(text, "<input>")
        if expr is not None:
            return False
        result = parse(text, "<input>")
        if not result.ok:
            return any(_at_end(d) for d in result.diagnostics if d.is_error)
        return bool(result.program.items) and _lacks_clauses(result.program.items[-1])

    def execute(self, text: str, file: str | None = None, first_line: int = 1) -> Reply:
        """Run one input: an expression, declarations or a :command. Never raises for bad input."""
        reply = Reply()
        if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in sourcelines.split(text)):
            return reply
        self.inputs += 1
        file = file or f"<in {self.inputs}>"
        self._record_input(file, first_line, text)
        try:
            stripped = text.strip()
            if stripped.startswith(":"):
                self._command(stripped[1:], reply, file, first_line, text)
            else:
                self._language(text, file, first_line, reply)
        except Exception as exc:  # a bug in whuffie: say so plainly, keep the session alive
            reply.fail(f"internal error: {type(exc).__name__}: {exc} (please report it)")
        return reply

    def _language(self, text: str, file: str, first_line: int, reply: Reply) -> None:
        padded = "\n" * (first_line - 1) + text
        expr, expr_diags = parse_expression(padded, file)
        if expr is not None:
            self._evaluate(expr, reply)
            return
        if _starts_declaration(text):
            result = parse(padded, file)
            if result.ok or _position(result.diagnostics) >= _position(expr_diags):
                if result.ok:
                    self._declare(list(result.program.items), reply)
                else:
                    reply.fail(self._render([d for d in result.diagnostics if d.is_error]))
                return
        reply.fail(self._render(expr_diags))

    # -- expressions

    def _typed(self, expr: n.Expr, reply: Reply) -> ty.Type | None:
        """Check an expression; report its errors and return None, or return its type."""
        d = self.derived()
        subjects = self.known_subjects() if d.ruleset is not None else []
        t, diags = check_expression(d.program, expr, subjects)
        own = self._bare_values(expr, d.program)
        spans = {x.span for x in own}
        diags = [self._with_repl_hint(x, subjects) for x in diags if x.span not in spans] + own
        errors = [x for x in diags if x.is_error]
        if errors:
            reply.fail(self._render(errors))
            return None
        return t

    def _bare_values(self, expr: n.Expr, program: n.Program) -> list[Diagnostic]:
        """Scores, measures, tiers, privileges and points read without `of SUBJECT`: values of nobody."""
        per_subject = {"points", "tier"} | {
            d.name for d in program.items if isinstance(d, (n.ScoreDecl, n.MeasureDecl, n.PrivilegeDecl))}
        targets = {id(x.target) for x in _walk(expr) if isinstance(x, n.Of)}
        found = []
        for node in _walk(expr):
            if isinstance(node, n.Name) and node.id in per_subject and id(node) not in targets:
                found.append(error("W025", f"{node.id} is a value of one subject, not of the whole rule set",
                                   node.span, f"name the subject: {node.id} of SUBJECT"))
            elif isinstance(node, n.Call) and node.func == "points" and id(node) not in targets:
                found.append(error("W025", "points(...) is a value of one subject, not of the whole rule set",
                                   node.span, "name the subject: points(rule) of SUBJECT"))
        return found

    def _with_repl_hint(self, d: Diagnostic, subjects: list[str]) -> Diagnostic:
        if d.code == "W010" and d.message.startswith("unknown subject"):
            sid = d.message.split()[2]
            close = difflib.get_close_matches(sid, subjects, n=3)
            if close:
                hint = "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"
            elif subjects:
                hint = "known subjects: " + ", ".join(subjects[:10]) + (" …" if len(subjects) > 10 else "")
            else:
                hint = "no subjects yet: load events with :events FILE or subjects with :subjects FILE"
            return dataclasses.replace(d, hint=hint)
        return d

    def _evaluate(self, expr: n.Expr, reply: Reply) -> None:
        d = self.derived()
        if d.ruleset is None:
            reply.fail(f"cannot evaluate: {d.problem}")
            return
        t = self._typed(expr, reply)
        if t is None:
            return
        compiler = _SessionCompiler(d.ruleset, ZoneInfo(d.ruleset.timezone), self.subject_result)
        scope = EvalScope("privilege", scores=frozenset(d.ruleset.scores), privileges=frozenset(d.ruleset.privileges))
        try:
            fn = compiler.expr(expr, scope)
            value = fn(Env(d.as_of))
        except RuntimeFault as exc:
            reply.fail(self._render([error("W090", f"run-time fault in the REPL: {exc.message}", exc.span)]))
            return
        except _SubjectProblem as exc:
            self._report_problem(exc, reply)
            return
        except Exception as exc:
            diagnostic = getattr(exc, "diagnostic", None)
            if diagnostic is None:
                raise
            reply.fail(self._render([diagnostic]))
            return
        reply.out(show_value(value, t, d.ruleset))

    def _report_problem(self, exc: _SubjectProblem, reply: Reply) -> None:
        if exc.diagnostics:
            reply.fail(self._render(exc.diagnostics))
        else:
            reply.fail(f"error: {exc.message}")

    # -- declarations

    def _declare(self, items: list, reply: Reply) -> None:
        before = self.derived()
        edits = self.edits + [("put", declaration_key(item), item) for item in items]
        self._try_edits(edits, reply, before)
        if not reply.ok:
            return
        current = {declaration_key(d): d for d in _apply(self.base.items, self.edits[:-len(items)])}
        for item in items:
            old = current.get(declaration_key(item))
            if old is not None:
                same = " (no change)" if old == item else ""
                reply.err(f"warning: {describe(item)} replaces the {_kind_word(old)} declared at {old.span}{same}")
            reply.out(f"{'replaced' if old is not None else 'added'} {describe(item)}")
            current[declaration_key(item)] = item

    def _try_edits(self, edits: list, reply: Reply, before: _Derived) -> None:
        """Take the edits if they bring no new error; else report the new errors and keep the old state."""
        candidate = check(self.program(_apply(self.base.items, edits)))
        old = {(d.code, d.span, d.message) for d in before.diagnostics}
        new = [d for d in candidate.diagnostics if (d.code, d.span, d.message) not in old]
        new_errors = [d for d in new if d.is_error]
        if new_errors:
            reply.fail(self._render(new_errors) + "the rule set is unchanged")
            return
        self.edits = edits
        self._invalidate()
        if new:
            reply.err(self._render(new))
        self._report_data(reply, quiet_if_unchanged=before)

    def _report_data(self, reply: Reply, quiet_if_unchanged: _Derived | None = None, failing: bool = False) -> None:
        """Say what the data files look like under the current rule set (bad lines, missing attributes)."""
        d = self.derived()
        for load, label in ((d.subject_load, "subjects"), (d.event_load, "events")):
            if load is None or not load.rejects:
                continue
            previous = getattr(quiet_if_unchanged, f"{label[:-1]}_load", None) if quiet_if_unchanged else None
            if previous is not None and [r.where for r in previous.rejects] == [r.where for r in load.rejects]:
                continue
            lines = [str(r) for r in load.rejects[:SHOWN_REJECTS]]
            more = len(load.rejects) - SHOWN_REJECTS
            if more > 0:
                lines.append(f"... and {more} more")
            kept = len(load.subjects) if isinstance(load, SubjectLoad) else len(load.events)
            lines.append(f"{len(load.rejects)} bad {label[:-1]} line{'s' * (len(load.rejects) != 1)} set aside; "
                         f"{kept} {label} kept")
            (reply.fail if failing else reply.err)("\n".join(lines))
        if d.problem and d.ruleset is not None:
            reply.err(f"note: {d.problem}")

    # -- commands

    def _command(self, line: str, reply: Reply, file: str, first_line: int, text: str) -> None:
        name, _, rest = line.partition(" ")
        name = name.strip().lower()
        rest = rest.strip()
        name = COMMAND_ALIASES.get(name, name)
        if name not in COMMAND_NAMES:
            close = difflib.get_close_matches(name, COMMAND_NAMES, n=1, cutoff=0.5)
            reply.fail(f"unknown command :{name}" + (f"; did you mean :{close[0]}?" if close else "")
                       + " (:help lists the commands)")
            return
        if name == "type":
            self.cmd_type(rest, reply, file, first_line, text)
            return
        try:
            args = shlex.split(rest)
        except ValueError:
            args = rest.split()
        getattr(self, "cmd_" + name.replace("-", "_"))(args, reply)

    def _arity(self, args: list[str], low: int, high: int, usage: str, reply: Reply) -> bool:
        if low <= len(args) <= high:
            return True
        reply.fail(f"usage: {usage}")
        return False

    def cmd_help(self, args: list[str], reply: Reply) -> None:
        """:help"""
        width = max(len(c.usage) for c in COMMANDS)
        lines = ["Type an expression to evaluate it, or a declaration to add it to the session's rule set:",
                 '  reputation of "bob"      tier of carol >= member      points(late_return) of m',
                 "  rule late_return by ben because \"...\" on returned where days_late > 0 award -days_late",
                 "A declaration replaces one of the same kind and name. An unfinished declaration continues",
                 "on the next line; an empty line ends it. Commands:"]
        lines += [f"  {c.usage.ljust(width)}  {c.summary}" for c in COMMANDS]
        reply.out("\n".join(lines))

    def cmd_quit(self, args: list[str], reply: Reply) -> None:
        """:quit"""
        reply.quit = True

    # loading

    def cmd_load(self, args: list[str], reply: Reply) -> None:
        """:load FILE"""
        if self._arity(args, 1, 1, ":load FILE", reply):
            self.load_rules(Path(args[0]), reply)

    def load_rules(self, path: Path, reply: Reply, keep_edits: bool = False) -> None:
        """Make a rule file the session's base; syntax errors leave the session as it was."""
        text, diags = read_source(path)
        if text is None:
            reply.fail(self._render(diags))
            return
        result = parse(text, str(path))
        if not result.ok:
            self.sources[str(path)] = text
            reply.fail(self._render([d for d in result.diagnostics if d.is_error])
                       + f"{path} not loaded: fix its syntax first")
            return
        dropped = [] if keep_edits else self.edits
        self.rules_path = path
        self.sources[str(path)] = text
        self.base = result.program
        if not keep_edits:
            self.edits = []
        self._invalidate()
        d = self.derived()
        if dropped:
            reply.err(f"note: {len(dropped)} typed declaration{'s' * (len(dropped) != 1)} of the previous "
                      "rule set were discarded")
        if d.diagnostics:
            shown = d.diagnostics
            (reply.fail if d.errors else reply.err)(self._render(shown))
        rs = d.ruleset
        counts = self._counts(self.items())
        reply.out(f"loaded {path}: {counts}" + ("" if rs is not None else f" ({diag.summary(d.errors)})"))
        self._report_data(reply)

    @staticmethod
    def _counts(items: list) -> str:
        order = ["author", "event", "rule", "measure", "score", "tier", "privilege", "test", "property"]
        tally: dict[str, int] = {}
        for item in items:
            tally[_kind_word(item)] = tally.get(_kind_word(item), 0) + 1
        parts = [f"{tally[k]} {k}{'s' * (tally[k] != 1)}" if k != "property" else
                 f"{tally[k]} propert{'ies' if tally[k] != 1 else 'y'}" for k in order if tally.get(k)]
        return ", ".join(parts) or "no declarations"

    def cmd_reload(self, args: list[str], reply: Reply) -> None:
        """:reload"""
        if not self._arity(args, 0, 0, ":reload", reply):
            return
        if self.rules_path is None and self.events_file is None and self.subjects_file is None:
            reply.fail("nothing to reload: no rule, events or subjects file is loaded")
            return
        if self.rules_path is not None:
            self.load_rules(self.rules_path, reply, keep_edits=True)
            if self.edits and reply.ok:
                reply.err(f"note: {len(self.edits)} typed declaration{'s' * (len(self.edits) != 1)} kept "
                          "on top of the file (:diff shows them)")
        for label, current in (("subjects", self.subjects_file), ("events", self.events_file)):
            if current is not None:
                self.load_data(label, current.path, reply)

    def cmd_events(self, args: list[str], reply: Reply) -> None:
        """:events FILE"""
        if self._arity(args, 1, 1, ":events FILE", reply):
            self.load_data("events", Path(args[0]), reply)

    def cmd_subjects(self, args: list[str], reply: Reply) -> None:
        """:subjects FILE"""
        if self._arity(args, 1, 1, ":subjects FILE", reply):
            self.load_data("subjects", Path(args[0]), reply)

    def load_data(self, label: str, path: Path, reply: Reply) -> None:
        """Load an events or subjects file; validated now and again whenever the schema changes."""
        try:  # the same checks as `whuffie score`: a FIFO or a device is refused, bad bytes are bad lines
            data = _DataFile(path, read_data_text(path))
        except DataError as exc:
            reply.fail(f"error: {exc}" + (f" [{exc.code}]" if exc.code else ""))
            return
        setattr(self, f"{label}_file", data)
        self._invalidate()
        d = self.derived()
        load = d.event_load if label == "events" else d.subject_load
        if load is None:
            reply.out(f"{path}: will be read once the rule set has no errors")
            return
        kept = len(load.events) if label == "events" else len(load.subjects)
        reply.out(f"{path}: {kept} {label} loaded" + (f", {len(load.rejects)} rejected" if load.rejects else ""))
        self._report_data(reply, failing=True)

    def cmd_as_of(self, args: list[str], reply: Reply) -> None:
        """:as-of [T|now|today|latest]"""
        from .report import iso

        if not self._arity(args, 0, 1, ":as-of [T|now|today|latest]", reply):
            return
        if args:
            if args[0] == "latest":
                self.as_of_text = None
            else:
                d = self.derived()
                tz = ZoneInfo(d.ruleset.timezone if d.ruleset else "UTC")
                try:
                    instant = as_of_instant(args[0], tz)
                except DataError as exc:
                    reply.fail(f"error: {args[0]!r} is {OUT_OF_RANGE}" if str(exc) == OUT_OF_RANGE else
                               f"error: {args[0]!r} is not an ISO 8601 date or datetime "
                               "(e.g. 2026-03-01 or 2026-03-01T12:00:00Z), `now` or `today`")
                    return
                # `now` and `today` are read once, when given: the session's instant then stays put
                self.as_of_text = iso(instant) if args[0] in ("now", "today") else args[0]
            self._invalidate()
        d = self.derived()
        how = "given" if self.as_of_text else ("the latest event" if d.events else "no events yet")
        reply.out(f"as of {iso(d.as_of)} ({how})")

    # results

    def _subject_arg(self, args: list[str], reply: Reply) -> SubjectResult | None:
        try:
            return self.subject_result(args[0])
        except _SubjectProblem as exc:
            self._report_problem(exc, reply)
            return None

    def cmd_explain(self, args: list[str], reply: Reply) -> None:
        """:explain SUBJECT"""
        from .report import explain_text

        if not self._arity(args, 1, 1, ":explain SUBJECT", reply):
            return
        result = self._subject_arg(args, reply)
        if result is not None:
            d = self.derived()
            reply.out(explain_text(result, d.ruleset, self.sources, d.as_of, self.precision))

    def cmd_ledger(self, args: list[str], reply: Reply) -> None:
        """:ledger SUBJECT [RULE]"""
        from .report import iso, plain_table, text_value

        if not self._arity(args, 1, 2, ":ledger SUBJECT [RULE]", reply):
            return
        result = self._subject_arg(args, reply)
        if result is None:
            return
        rules = self.derived().ruleset.rules
        entries = result.ledger
        if len(args) == 2:
            rule = args[1]
            if rule not in rules:
                close = difflib.get_close_matches(rule, list(rules), n=1)
                reply.fail(f"unknown rule {rule!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
                return
            entries = [e for e in entries if e.rule == rule]
        if not entries:
            reply.out(f"{result.subject}: no contribution" + (f" from rule {args[1]}" if len(args) == 2 else ""))
            return
        p = self.precision
        rows = []
        for e in entries:
            cuts = "; ".join(f"{c.by} -{text_value(c.amount, p)}" for c in e.cuts)
            if e.decay != 1.0:
                cuts = (cuts + "; " if cuts else "") + f"decay x{e.decay:.4f}"
            rows.append([iso(e.at), e.event_id, e.rule, e.author or "?", text_value(e.raw, p), cuts or "-",
                         text_value(e.value, p)])
        total = sum(e.value for e in entries)
        table = plain_table(["at", "event", "rule", "author", "raw", "cuts", "value"], rows)
        reply.out(table + f"{len(entries)} contribution{'s' * (len(entries) != 1)}, total {text_value(total, p)}")

    def cmd_scores(self, args: list[str], reply: Reply) -> None:
        """:scores"""
        from .report import plain_table, score_columns, score_rows

        if not self._arity(args, 0, 0, ":scores", reply):
            return
        try:
            results = self.all_results()
        except _SubjectProblem as exc:
            self._report_problem(exc, reply)
            return
        rs = self.derived().ruleset
        reply.out(plain_table(score_columns(rs), score_rows(results, rs, self.precision)))

    def cmd_authors(self, args: list[str], reply: Reply) -> None:
        """:authors"""
        from .report import authors_data, authors_text

        if not self._arity(args, 0, 0, ":authors", reply):
            return
        d = self.derived()
        if d.ruleset is None:
            reply.fail(f"error: {d.problem}")
            return
        results = None
        if d.events:
            try:
                results = self.all_results()
            except _SubjectProblem as exc:
                self._report_problem(exc, reply)
                return
        data = authors_data(d.ruleset, results, self.precision)
        reply.out(authors_text(data, results is not None, self.precision).rstrip("\n") or "no authors")

    def cmd_type(self, rest: str, reply: Reply, file: str, first_line: int, text: str) -> None:
        """:type EXPR"""
        if not rest:
            reply.fail("usage: :type EXPR")
            return
        # Blank out the command word so that columns (and carets) match the input as typed.
        colon = text.index(":")
        word_end = colon + re.match(r":\s*\S+\s*", text[colon:]).end()
        blanked = "".join(ch if ch == "\n" else " " for ch in text[:word_end])
        padded = "\n" * (first_line - 1) + blanked + text[word_end:]
        expr, diags = parse_expression(padded, file)
        if expr is None:
            reply.fail(self._render(diags))
            return
        t = self._typed(expr, reply)
        if t is not None:
            reply.out(str(t))

    def cmd_show(self, args: list[str], reply: Reply) -> None:
        """:show NAME"""
        if not self._arity(args, 1, 1, ":show NAME", reply):
            return
        found = [d for d in self.items() if declaration_key(d)[1] == args[0]]
        if not found:
            names = [declaration_key(d)[1] for d in self.items() if declaration_key(d)[1]]
            close = difflib.get_close_matches(args[0], names, n=1)
            reply.fail(f"no declaration named {args[0]!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            return
        for item in found:
            reply.out(f"# {describe(item)}, declared at {item.span}")
            reply.out(self._format(n.Program((item,))).rstrip("\n"))

    # checking, testing

    def cmd_check(self, args: list[str], reply: Reply) -> None:
        """:check"""
        if not self._arity(args, 0, 0, ":check", reply):
            return
        d = self.derived()
        if d.diagnostics:
            (reply.fail if d.errors else reply.err)(self._render(d.diagnostics))
        detail = diag.summary(d.diagnostics) if d.diagnostics else "no problems"
        reply.out(f"session rule set ({self._counts(self.items())}): {detail}")

    def cmd_test(self, args: list[str], reply: Reply) -> None:
        """:test [SEED]"""
        if not self._arity(args, 0, 1, ":test [SEED]", reply):
            return
        if args and not args[0].isdigit():
            reply.fail("usage: :test [SEED] (the seed is a whole number)")
            return
        seed = int(args[0]) if args else 0
        d = self.derived()
        if d.ruleset is None:
            reply.fail(f"error: {d.problem}")
            return
        try:
            from .testblocks import render_outcome, run_test
        except ImportError:
            reply.fail("the test runner (whuffie test) is not available in this build yet; no test was run")
            return
        try:
            from .properties import check_property, render_property
        except ImportError:
            check_property = None
        rs, program = d.ruleset, d.compiled
        rules = str(self.rules_path) if self.rules_path and not self.changes() else "SESSION.whuf"
        passed = failed = 0
        out: list[str] = []
        for decl in rs.tests:
            sources = _SourceMap(self.sources, decl.span.file)
            outcome = run_test(rs, decl, sources, program)
            out.append(render_outcome(outcome, rs, sources))
            passed, failed = passed + outcome.passed, failed + (not outcome.passed)
        if rs.properties and check_property is None:
            out.append(f"{len(rs.properties)} properties not checked: property checking is not available yet\n")
        elif rs.properties:
            for decl in rs.properties:
                sources = _SourceMap(self.sources, decl.span.file)
                outcome = check_property(rs, decl, seed=seed, source=sources, program=program)
                out.append(render_property(outcome, rs, sources, rules, program, None))
                passed, failed = passed + outcome.passed, failed + (not outcome.passed)
        if not rs.tests and not rs.properties:
            out.append("(no tests or properties)\n")
        summary = f"{passed} passed, {failed} failed (seed {seed})"
        if rules == "SESSION.whuf" and failed:
            summary += "; the replay commands name SESSION.whuf: :save SESSION.whuf to replay them"
        reply.out("".join(out) + summary)
        if failed:
            reply.ok = False

    # the session against its file

    def cmd_drop(self, args: list[str], reply: Reply) -> None:
        """:drop NAME"""
        if not self._arity(args, 1, 1, ":drop NAME", reply):
            return
        found = [d for d in self.items() if declaration_key(d)[1] == args[0]]
        if not found:
            reply.fail(f"no declaration named {args[0]!r} (:show NAME finds them)")
            return
        if len(found) > 1:
            reply.fail(f"{args[0]!r} names {len(found)} declarations: "
                       + ", ".join(describe(d) for d in found) + "; rename one first")
            return
        before = self.derived()
        self._try_edits(self.edits + [("drop", declaration_key(found[0]), None)], reply, before)
        if reply.ok:
            reply.out(f"dropped {describe(found[0])}")

    def changes(self) -> list[tuple[str, object | None, object | None]]:
        """(added|replaced|removed, old, new) for every declaration that differs from the loaded file."""
        base = {declaration_key(d): d for d in self.base.items}
        now = {declaration_key(d): d for d in self.items()}
        out = []
        for key, item in now.items():
            if key not in base:
                out.append(("added", None, item))
            elif base[key] != item:
                out.append(("replaced", base[key], item))
        out += [("removed", item, None) for key, item in base.items() if key not in now]
        return out

    def cmd_diff(self, args: list[str], reply: Reply) -> None:
        """:diff"""
        if not self._arity(args, 0, 0, ":diff", reply):
            return
        changes = self.changes()
        against = str(self.rules_path) if self.rules_path else "the empty rule set"
        if not changes:
            reply.out(f"no changes against {against}")
            return
        marks = {"added": "+", "replaced": "~", "removed": "-"}
        lines = [f"{len(changes)} change{'s' * (len(changes) != 1)} against {against}:"]
        for what, old, new in changes:
            item = new if new is not None else old
            was = ""
            if what == "replaced" and getattr(old, "by", None) != getattr(new, "by", None):
                was = f" (was by {getattr(old, 'by', None) or 'nobody'})"
            lines.append(f"  {marks[what]} {what} {describe(item)}{was}")
        reply.out("\n".join(lines))
        before = self._format(self.base)
        after = self._format(self.program())
        name = str(self.rules_path) if self.rules_path else "(empty)"
        diff = difflib.unified_diff(sourcelines.split_keeping_ends(before), sourcelines.split_keeping_ends(after),
                                    fromfile=f"{name} (loaded)", tofile=f"{name} (session)")
        reply.out("".join(diff).rstrip("\n"))

    def _format(self, program: n.Program) -> str:
        """The canonical text of a program whose declarations may come from several inputs."""
        from .formatter import format_program

        # The formatter orders declarations and comments by line; a typed declaration is
        # placed just after the one before it, so it keeps its place among the file's lines.
        home = str(self.rules_path) if self.rules_path else None
        placed = []
        previous_end = 0
        for item in program.items:
            if item.span.file != home:
                span = n.Span(home or "<session>", previous_end, 1, previous_end, 1)
                item = dataclasses.replace(item, span=span)
            placed.append(item)
            previous_end = max(previous_end, item.span.end_line)
        comments = program.comments if home else ()
        return format_program(n.Program(tuple(placed), comments))

    def cmd_save(self, args: list[str], reply: Reply) -> None:
        """:save FILE"""
        if not self._arity(args, 1, 1, ":save FILE", reply):
            return
        path = Path(args[0])
        d = self.derived()
        text = self._format(d.program)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            reply.fail(f"error: cannot write {path}: {exc.strerror}")
            return
        note = f" (it has {diag.summary(d.errors)})" if d.errors else ""
        reply.out(f"saved {len(d.program.items)} declarations to {path}{note}")
        if self.rules_path is not None and path.resolve() == self.rules_path.resolve():
            # The file now holds the session's rule set: it becomes the new base.
            self.load_rules(path, Reply(), keep_edits=False)


class _SourceMap(dict):
    """File name -> text, for a rule set typed across inputs; read whole, it is the text of one file.

    report.source_of looks a span's file up in it; code that takes the single source of a
    test or property (and splits it into lines) gets the file that test or property is in.
    """

    def __init__(self, texts: dict[str, str], main: str):
        super().__init__(texts)
        self.main = main

    def splitlines(self, keepends: bool = False) -> list[str]:
        """The lines of the main file."""
        text = self.get(self.main, "")
        return sourcelines.split_keeping_ends(text) if keepends else sourcelines.split(text)


# ---------------------------------------------------------------- piped input


def run_piped(session: Session, lines: Iterable[str], stdout: TextIO, stderr: TextIO,
              file: str = "<stdin>") -> int:
    """Run a script line by line: results on stdout, diagnostics on stderr; 1 if any input failed."""
    failed = False
    buffer: list[str] = []
    start = 1
    number = 0
    iterator = iter(lines)
    pending = next(iterator, None)

    def submit() -> bool:
        nonlocal failed, buffer
        text = "\n".join(buffer)
        buffer = []
        reply = session.execute(text, file=file, first_line=start)
        _write(reply, stdout, stderr)
        failed |= not reply.ok
        return reply.quit

    while pending is not None:
        line = pending.rstrip("\r\n")
        pending = next(iterator, None)
        number += 1
        if not buffer:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            start = number
        elif not line.strip():
            if submit():
                return 1 if failed else 0
            continue
        elif line.lstrip().startswith(":"):  # a command is never part of a declaration: it ends one
            if submit():
                return 1 if failed else 0
            start = number
        buffer.append(line)
        text = "\n".join(buffer)
        indented_next = pending is not None and pending[:1] in (" ", "\t") and pending.strip() \
            and not pending.lstrip().startswith(":")
        if session.needs_more(text) or (indented_next and _starts_declaration(text) and open_brackets(text) == 0):
            continue
        if submit():
            return 1 if failed else 0
    if buffer and submit():
        return 1 if failed else 0
    return 1 if failed else 0


def _write(reply: Reply, stdout: TextIO, stderr: TextIO) -> None:
    for stream, text in reply.chunks:
        target = stdout if stream == "out" else stderr
        target.write(text)
        target.flush()


# ---------------------------------------------------------------- the interactive prompt


KEYWORDS = sorted(set(DECLARATION_KEYWORDS) | set(CLAUSE_KEYWORDS) | set(WORD_OPERATORS) | set(TYPE_NAMES)
                  | {"true", "false", "now", "points", "tier", "event", "half_life"})


def history_path() -> Path:
    """Where the prompt keeps its history: $WHUFFIE_HISTORY, else ~/.whuffie_history."""
    return Path(os.environ.get("WHUFFIE_HISTORY") or Path.home() / ".whuffie_history")


def make_completer(session: Session):
    """A prompt_toolkit completer for commands, keywords, schema names, subject ids and file names."""
    from prompt_toolkit.completion import Completer, Completion, PathCompleter
    from prompt_toolkit.document import Document

    paths = PathCompleter(expanduser=True)

    class SessionCompleter(Completer):
        def get_completions(self, document, complete_event):
            before = document.text_before_cursor
            line = document.current_line_before_cursor
            stripped = line.lstrip()
            if stripped.startswith(":"):
                parts = stripped[1:].split(" ")
                if len(parts) == 1:
                    word = parts[0]
                    for name in COMMAND_NAMES:
                        if name.startswith(word):
                            yield Completion(name, -len(word), display_meta="command")
                    return
                command, args = parts[0], parts[1:]
                if command in ("load", "events", "subjects", "save"):
                    sub = Document(args[-1], len(args[-1]))
                    yield from paths.get_completions(sub, complete_event)
                    return
                if command in ("explain", "ledger") and len(args) == 1:
                    yield from _words(args[0], {"subjects": session.names()["subjects"]})
                    return
                if command == "ledger" and len(args) == 2:
                    yield from _words(args[1], {"rules": session.names()["rules"]})
                    return
                if command in ("show", "drop"):
                    names = session.names()
                    yield from _words(args[-1], {k: v for k, v in names.items() if k not in ("subjects", "fields")})
                    return
                if command != "type":
                    return
            word = ""
            for ch in reversed(before):
                if not (ch.isalnum() or ch == "_"):
                    break
                word = ch + word
            ahead = before[:len(before) - len(word)]
            names = session.names()
            if ahead.endswith('"'):
                yield from _words(word, {"subjects": names["subjects"]})
                return
            if ahead.endswith("."):
                owner = ""
                for ch in reversed(ahead[:-1]):
                    if not (ch.isalnum() or ch == "_"):
                        break
                    owner = ch + owner
                fields = session.fields_of(owner) or names["fields"]
                yield from _words(word, {"field": fields})
                return
            if not word:
                return
            if ahead.rstrip().endswith(" of") or ahead.rstrip() == "of":
                yield from _words(word, {"subjects": names["subjects"]})
                return
            groups = {k: v for k, v in names.items()}
            groups["functions"] = [f for f in BUILTIN_FUNCTIONS]
            groups["keywords"] = KEYWORDS
            yield from _words(word, groups)

    def _words(word: str, groups: dict[str, list[str]]):
        seen: set[str] = set()
        for label, values in groups.items():
            for value in values:
                if value.startswith(word) and value not in seen and value != word:
                    seen.add(value)
                    yield Completion(value, -len(word), display_meta=label.rstrip("s") if label != "keywords"
                                     else "keyword")

    return SessionCompleter()


def run_interactive(session: Session, *, input=None, output=None, history: Path | None = None,
                    stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """The prompt: highlighting, completion, history, multi-line declarations; Ctrl-C cancels, Ctrl-D quits."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, InMemoryHistory
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.lexers import PygmentsLexer

    from .highlight import WhuffieLexer

    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    path = history or history_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
        store = FileHistory(str(path))
    except OSError:
        store = InMemoryHistory()
    bindings = KeyBindings()

    @bindings.add("enter")
    def _enter(event) -> None:
        buffer = event.current_buffer
        if buffer.complete_state is not None and buffer.complete_state.current_completion is not None:
            buffer.apply_completion(buffer.complete_state.current_completion)
            return
        at_end = not buffer.document.text_after_cursor.strip()
        if at_end and session.needs_more(buffer.text):
            buffer.insert_text("\n  " if open_brackets(buffer.text) or _starts_declaration(buffer.text) else "\n")
        else:
            buffer.validate_and_handle()

    @bindings.add("escape", "enter")
    def _newline(event) -> None:
        event.current_buffer.insert_text("\n")

    prompt = PromptSession(
        message="whuffie> ",
        multiline=True,
        prompt_continuation=lambda width, line_number, soft_wrap: "...".rjust(width - 1) + " ",
        lexer=PygmentsLexer(WhuffieLexer),
        completer=make_completer(session),
        complete_while_typing=False,
        history=store,
        key_bindings=bindings,
        input=input,
        output=output,
    )
    while True:
        try:
            text = prompt.prompt()
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        if not text.strip():
            continue
        try:
            reply = session.execute(text)
        except KeyboardInterrupt:  # a long :test or a large data file: stop it, keep the session
            stderr.write("interrupted\n")
            continue
        _write(reply, stdout, stderr)
        if reply.quit:
            break
    return 0

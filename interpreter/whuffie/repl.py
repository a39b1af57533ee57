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
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, TextIO
from zoneinfo import ZoneInfo

from . import diagnostics as diag
from . import nodes as n
from . import sourcelines
from . import types as ty
from .checker import check_expression
from .params import bind_expression
from .columns import PLAIN
from .diagnostics import Diagnostic, error
from .evaluator import Compiler, Env, Results, RuntimeFault, SubjectResult
from .evaluator import Scope as EvalScope
from .highlight import BUILTIN_FUNCTIONS, CLAUSE_KEYWORDS, DECLARATION_KEYWORDS, TYPE_NAMES, WORD_OPERATORS
from .parser import parse, parse_expression
# COMMANDS, declaration_key and describe stay importable from here, as before the split.
from .repl_commands import COMMAND_NAMES, COMMANDS, SessionCommands  # noqa: F401
from .repl_data import SessionData, _DataFile, _Derived, _SubjectProblem
from .repl_edits import SessionEdits, declaration_key, describe  # noqa: F401
from .conditions import inline_expression
from .symbols import Ruleset
from .testblocks import subject_env


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


def _lacks_clauses(item) -> bool:
    """True for a declaration whose required clauses have not all been typed yet."""
    if isinstance(item, n.RuleDecl):
        return any(item.first(kind) is None for kind in (n.By, n.Because, n.On, n.Award))
    if isinstance(item, (n.TierDecl, n.PrivilegeDecl, n.SharedCapDecl)):
        return item.first(n.By) is None
    return False


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
        self.result_scope = EvalScope("privilege", scores=frozenset(ruleset.scores),
                                      privileges=frozenset(ruleset.privileges))

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
        if name in rs.conditions:
            # a condition is read over one subject's results, as a test's `X of s` reads it
            body = self.expr(inline_expression(rs, target), self.result_scope)
            return lambda env: body(subject_env(rs, result_of(sid), {}, env.now))
        return lambda env: name in result_of(sid).privileges


# ---------------------------------------------------------------- the session


class Session(SessionData, SessionEdits, SessionCommands):
    """A REPL session: the rule set being explored, its data, and what has been computed from them.

    Split by concern: SessionData (repl_data: files, derived state, results),
    SessionEdits (repl_edits: declarations, :drop, :diff, :save, :check, :test),
    SessionCommands (repl_commands: the command table and the commands that show
    results); this class is the language itself (expressions, input, rendering).
    """

    def __init__(self, color: bool = False, precision: int = 2):
        self.color = color
        self.precision = precision
        self.rules_path: Path | None = None
        self.base: n.Program = n.Program(())
        self.edits: list[tuple[str, tuple, object]] = []
        self.sources: dict[str, str] = {}
        self.events_file: _DataFile | None = None
        self.subjects_file: _DataFile | None = None
        self.columns = PLAIN  # how the events file's own column names read (whuffie repl --columns …)
        self.param_overrides: dict[str, str] = {}  # :set NAME=VALUE
        self.as_of_text: str | None = None
        self.inputs = 0
        self._derived: _Derived | None = None
        self._results: dict[str, SubjectResult] = {}
        self._all: Results | None = None
        self._lines: dict[str, list[str]] = {}

    # -- names, for completion

    def names(self) -> dict[str, list[str]]:
        """Names for completion, by what they are."""
        items = self.items()
        out: dict[str, list[str]] = {k: [] for k in ("events", "fields", "rules", "scores", "measures", "tiers",
                                                     "privileges", "authors", "defs", "kinds", "subjects",
                                                     "conditions", "params")}
        table = {n.EventDecl: "events", n.RuleDecl: "rules", n.ScoreDecl: "scores", n.MeasureDecl: "measures",
                 n.TierDecl: "tiers", n.PrivilegeDecl: "privileges", n.AuthorDecl: "authors", n.DefDecl: "defs",
                 n.SubjectDecl: "kinds", n.SharedCapDecl: "rules", n.ConditionDecl: "conditions",
                 n.ParamDecl: "params"}
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
            self._evaluate(bind_expression(expr, self.derived().params), reply)
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
        program = d.bound if d.bound is not None else d.program  # parameters read as their values
        t, diags = check_expression(program, expr, subjects)
        own = self._bare_values(expr, program)
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
            d.name for d in program.items
        if isinstance(d, (n.ScoreDecl, n.MeasureDecl, n.PrivilegeDecl, n.ConditionDecl))}
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
                if command in ("explain", "ledger", "why-not") and len(args) == 1:
                    yield from _words(args[0], {"subjects": session.names()["subjects"]})
                    return
                if command == "why-not" and len(args) == 2:
                    names = session.names()
                    yield from _words(args[1], {"tiers": names["tiers"], "privileges": names["privileges"]})
                    return
                if command == "ledger" and len(args) == 2:
                    yield from _words(args[1], {"rules": session.names()["rules"]})
                    return
                if command == "set" and len(args) == 1:
                    yield from _words(args[0], {"params": session.names()["params"]})
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

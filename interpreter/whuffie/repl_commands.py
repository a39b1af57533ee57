"""The REPL's `:commands`: the table that names them, the dispatcher, and the commands that show results.

A command is a row of ``COMMANDS`` and a method ``cmd_<name>`` (dashes as
underscores) of the session; a command whose argument is an expression (like
`:type`) is marked ``raw`` and receives the rest of the line unsplit, with its
place in the input for diagnostics. ``SessionCommands`` is a mixin of
``repl.Session``.
"""

from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass

from .evaluator import SubjectResult
from .parser import parse_expression
from .repl_data import _SubjectProblem


@dataclass(frozen=True)
class Command:
    """One `:command`: how to call it and what it does."""

    name: str
    usage: str
    summary: str
    raw: bool = False  # takes the rest of the line as typed (an expression), not words split like a shell's

    @property
    def method(self) -> str:
        """The session's method that runs it: `cmd_` and the name, dashes as underscores."""
        return "cmd_" + self.name.replace("-", "_")


COMMANDS = [
    Command("load", ":load FILE", "load a rule file (the session's declarations start afresh)"),
    Command("reload", ":reload", "read the rule, events and subjects files again; typed declarations are kept"),
    Command("events", ":events FILE", "load events (JSONL, or CSV by the .csv suffix)"),
    Command("subjects", ":subjects FILE", "load subjects and their attributes"),
    Command("as-of", ":as-of [T|now|today|latest]", "evaluate at instant T (a date means its local midnight; now, today: the clock); no T: show it"),
    Command("explain", ":explain SUBJECT", "a subject's ledger, cuts, scores and the reasons that lowered them"),
    Command("why-not", ":why-not SUBJECT TARGET", "what a subject lacks for a tier or privilege, and the ways to it"),
    Command("ledger", ":ledger SUBJECT [RULE]", "every contribution to a subject's points (of one rule)"),
    Command("scores", ":scores", "the score table of every subject, as `whuffie score` prints it"),
    Command("authors", ":authors", "every author, what they own and their share of the points"),
    Command("type", ":type EXPR", "the type of an expression, without evaluating it", raw=True),
    Command("show", ":show NAME", "a declaration of the session's rule set, formatted, and where it comes from"),
    Command("test", ":test [SEED]", "run the rule set's test blocks and check its properties (seed 0 unless given)"),
    Command("check", ":check", "check the session's rule set and list every diagnostic"),
    Command("diff", ":diff", "what the session changed against the loaded file"),
    Command("drop", ":drop NAME", "remove a declaration from the session's rule set"),
    Command("save", ":save FILE", "write the session's rule set, formatted"),
    Command("set", ":set [NAME=VALUE|NAME]", "give a param another value for this session (NAME alone: back to "
            "the declared one); no argument: every param with its value"),
    Command("help", ":help", "this list"),
    Command("quit", ":quit", "leave (Ctrl-D does too)"),
]


COMMAND_NAMES = [c.name for c in COMMANDS]
COMMAND_ALIASES = {"q": "quit", "exit": "quit", "h": "help", "?": "help", "t": "type", "asof": "as-of"}


class SessionCommands:
    """Dispatching `:commands`, and the commands that render results (explain, ledger, scores, authors, type)."""

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
        command = COMMANDS[COMMAND_NAMES.index(name)]
        if command.raw:  # called with the text and its place, so that diagnostics point into the input
            getattr(self, command.method)(rest, reply, file, first_line, text)
            return
        try:
            args = shlex.split(rest)
        except ValueError:
            args = rest.split()
        getattr(self, command.method)(args, reply)

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

    def cmd_why_not(self, args: list[str], reply: Reply) -> None:
        """:why-not SUBJECT TARGET — the why-not module's answer, as `explain --why-not` prints it"""
        from .whynot import UnknownTarget, why_not
        from .whynot_render import why_not_text

        if not self._arity(args, 2, 2, ":why-not SUBJECT TARGET", reply):
            return
        result = self._subject_arg(args, reply)
        if result is None:
            return
        d = self.derived()
        history = [e for e in d.events if e.subject == result.subject]
        attrs = (d.subjects or {}).get(result.subject)
        try:
            found = why_not(d.ruleset, result, args[1], source=self.sources, history=history, attrs=attrs,
                            as_of=d.as_of)
        except UnknownTarget as exc:
            hint = f" (did you mean {', '.join(repr(c) for c in exc.close)}?)" if exc.close else ""
            reply.fail(f"unknown tier or privilege {args[1]!r}{hint}")
            return
        reply.out(why_not_text(found, self.precision))

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

    def cmd_set(self, args: list[str], reply: Reply) -> None:
        """:set [NAME=VALUE|NAME]: a param's value for this session (what `--set` is on the command line)."""
        from .params import bind, literal_text, parse_sets

        d = self.derived()
        if not args:
            if not d.params:
                reply.out("no params: declare one with `param NAME = VALUE by AUTHOR because \"…\"`")
            for p in d.params:
                how = f"set; declared {literal_text(p.declared)}" \
                    if p.overridden else "declared"
                reply.out(f"{p.name} = {p.shown()}  ({how}{f', by {p.by}' if p.by else ''})")
            return
        text = " ".join(args)
        if "=" not in text:
            if text not in self.param_overrides:
                reply.fail(f"error: {text} has no :set value (give :set {text}=VALUE)")
                return
            del self.param_overrides[text]
            self._invalidate()
            reply.out(f"{text} is back to its declared value")
            return
        found, problems = parse_sets([text], ":set")
        trial = {**self.param_overrides, **found}
        problems += [m.replace("--set ", ":set ") for m in bind(self.program(), trial).set_errors]
        if problems:
            reply.fail("error: " + "; ".join(problems))
            return
        self.param_overrides = trial
        self._invalidate()
        for p in self.derived().params:
            if p.name in found:
                reply.out(f"{p.name} = {p.shown()} for this session")

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
        from .params import bind_expression

        t = self._typed(bind_expression(expr, self.derived().params), reply)
        if t is not None:
            reply.out(str(t))

"""The REPL session's state and data: the rule set as loaded plus edits, its events and subjects,
and everything derived from them (checked ruleset, compiled program, validated data, results).

``SessionData`` is a mixin of ``repl.Session``: it reads and writes the
session's attributes (``base``, ``edits``, ``events_file`` …) set up there.
Everything derived is computed on first use and thrown away on any change.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from . import diagnostics as diag
from . import nodes as n
from .frontend import check_bound
from .diagnostics import Diagnostic
from .evaluator import EvaluationError, Program, Results, SubjectResult, compile_ruleset
from .evaluator import evaluate
from .datafiles import read_data_text
from .inputs import (OUT_OF_RANGE, DataError, Event, EventLoad, SubjectLoad, as_of_instant, parse_events,
                     parse_subjects, parse_time)
from .parser import parse, read_source
from .symbols import Ruleset
from .repl_edits import _apply, _kind_word


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)  # evaluate()'s as-of when there are no events


SHOWN_REJECTS = 5  # bad data lines listed before "and N more"


class _SubjectProblem(Exception):
    """A subject's results cannot be computed; the reply says why."""

    def __init__(self, diagnostics: list[Diagnostic] | None = None, message: str | None = None):
        super().__init__(message or "")
        self.diagnostics = diagnostics or []
        self.message = message


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
    bound: n.Program | None = None  # the program with every parameter's value in place (params.bind)
    params: list = field(default_factory=list)  # params.ParamValue, as this session uses them
    known: list[str] | None = None  # subject ids, once asked for

    @property
    def events(self) -> list[Event]:
        return self.event_load.events if self.event_load else []

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]


class SessionData:
    """Loading files, deriving what the session's state implies, and the results of subjects."""

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
        result, bound = check_bound(program, self.param_overrides)
        d = _Derived(program, list(result.diagnostics), result.ruleset)
        d.bound, d.params = bound.program, bound.params
        if bound.set_errors:
            d.problem = "; ".join(bound.set_errors).replace("--set ", ":set ")
            d.ruleset = None
            return d
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
        if self.events_file is not None and (mismatch := self.columns.problem(d.ruleset)) is not None:
            d.problem = mismatch
            return d
        if self.events_file is not None:
            try:
                d.event_load = parse_events(self.events_file.text, self.events_file.path, d.ruleset, d.subjects,
                                            d.compiled.reads_attributes, columns=self.columns)
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
        order = ["author", "event", "rule", "shared cap", "factor", "measure", "score", "tier", "privilege",
                 "condition", "test", "property"]
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

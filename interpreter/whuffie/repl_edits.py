"""The REPL session's edits: typed declarations, :drop, :show, :check, :test, :diff and :save.

``SessionEdits`` is a mixin of ``repl.Session``. A typed declaration replaces
the one of the same kind and name (``declaration_key``); the session's rule
set is the loaded file with the edits applied (``_apply``).
"""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path
from typing import Iterable

from . import diagnostics as diag
from . import nodes as n
from . import sourcelines
from .frontend import check_bound


def _kind_word(item) -> str:
    return n.KIND_WORDS[type(item)]


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


class SessionEdits:
    """Changing the session's rule set, and comparing it with the file it was loaded from."""

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
        candidate, _ = check_bound(self.program(_apply(self.base.items, edits)), self.param_overrides)
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

    def cmd_check(self, args: list[str], reply: Reply) -> None:
        """:check"""
        if not self._arity(args, 0, 0, ":check", reply):
            return
        d = self.derived()
        if d.diagnostics:
            (reply.fail if d.errors else reply.err)(self._render(d.diagnostics))
        detail = diag.summary(d.diagnostics) if d.diagnostics else "no problems"
        reply.out(f"session rule set ({self._counts(self.items())}): {detail}")

    def _four_fifths(self, decl, out: list[str]) -> bool | None:
        """A four-fifths property on the session's events and subjects; None when they cannot be scored."""
        from .audit_property import check_four_fifths, render_four_fifths
        from .repl_data import _SubjectProblem

        try:
            results = self.all_results()
        except _SubjectProblem:
            return None
        outcome = check_four_fifths(self.derived().ruleset, decl, results, self.derived().subjects)
        out.append(render_four_fifths(outcome))
        return outcome.passed

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
        passed = failed = skipped = 0
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
                if isinstance(decl.body, n.FourFifths) and d.events and d.subjects:
                    # a statement about the community's own events: checked on the session's
                    ok = self._four_fifths(decl, out)
                    if ok is not None:
                        passed, failed = passed + ok, failed + (not ok)
                        continue
                sources = _SourceMap(self.sources, decl.span.file)
                outcome = check_property(rs, decl, seed=seed, source=sources, program=program)
                out.append(render_property(outcome, rs, sources, rules, program, None))
                if outcome.skipped:
                    skipped += 1
                    continue
                passed, failed = passed + outcome.passed, failed + (not outcome.passed)
        if not rs.tests and not rs.properties:
            out.append("(no tests or properties)\n")
        summary = f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "") + f" (seed {seed})"
        if rules == "SESSION.whuf" and failed:
            summary += "; the replay commands name SESSION.whuf: :save SESSION.whuf to replay them"
        reply.out("".join(out) + summary)
        if failed:
            reply.ok = False

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
        from .diff_render import diff_text

        if not self._arity(args, 0, 0, ":diff", reply):
            return
        against = str(self.rules_path) if self.rules_path else "the empty rule set"
        if not self.changes():
            reply.out(f"no changes against {against}")
            return
        result, no_impact = self.rule_diff()
        reply.out(diff_text(result, self.precision, color=self.color).rstrip("\n"))
        if no_impact:
            reply.err(f"note: no impact shown: {no_impact}")
        before = self._format(self.base)
        after = self._format(self.program())
        name = str(self.rules_path) if self.rules_path else "(empty)"
        diff = difflib.unified_diff(sourcelines.split_keeping_ends(before), sourcelines.split_keeping_ends(after),
                                    fromfile=f"{name} (loaded)", tofile=f"{name} (session)")
        reply.out("".join(diff).rstrip("\n"))

    def rule_diff(self):
        """The session's rule set against the file as loaded (diff.RuleDiff), scored on the loaded events.

        Returns the diff and, when its impact cannot be shown, why (no
        events loaded, an error on either side, a run-time fault). Lines of
        the data files that neither side accepts are set aside, as the session
        does everywhere.
        """
        from .diff import diff_rulesets
        from .diff_inputs import parse_both
        from .evaluator import EvaluationError, compile_ruleset
        from .frontend import Loaded

        label = str(self.rules_path) if self.rules_path else "the empty rule set"
        old = Loaded(label, self.sources.get(label), self.base, check_bound(self.base, self.param_overrides)[0].ruleset)
        d = self.derived()
        new = Loaded("session", None, d.program, d.ruleset)
        if self.events_file is None:
            return diff_rulesets(old, new), None
        if old.ruleset is None or d.ruleset is None:
            side = (f"{self.rules_path}" if self.rules_path else "the empty rule set") if old.ruleset is None \
                else "the session's rule set"
            return diff_rulesets(old, new), f"{side} has errors (:check lists those of the session)"
        if d.problem:
            return diff_rulesets(old, new), d.problem
        try:
            old_compiled = compile_ruleset(old.ruleset)
        except EvaluationError:
            return diff_rulesets(old, new), "the loaded file cannot be compiled"
        if old_compiled.reads_attributes and self.subjects_file is None:
            return diff_rulesets(old, new), "the loaded file's rules read subject attributes; load :subjects FILE"
        subjects = (self.subjects_file.text, self.subjects_file.path) if self.subjects_file else None
        both = parse_both((self.events_file.text, self.events_file.path), subjects, old.ruleset, d.ruleset,
                          old_compiled.reads_attributes, d.compiled.reads_attributes)
        try:
            return diff_rulesets(old, new, (both.old_events.events, both.new_events.events),
                                 (both.old_subjects and both.old_subjects.subjects,
                                  both.new_subjects and both.new_subjects.subjects),
                                 d.as_of, engine="reference", schema=both.schema_effect()), None
        except EvaluationError as exc:
            return diff_rulesets(old, new), "a run-time fault:\n" + self._render(exc.diagnostics)

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
            from .repl import Reply

            self.load_rules(path, Reply(), keep_edits=False)

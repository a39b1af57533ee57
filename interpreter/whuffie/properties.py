"""Checking a rule file's ``property`` declarations against generated histories, with Hypothesis.

Entry point: ``check_property(ruleset, decl, ...)`` (and ``check_properties``
for all of them). Each property kind is a function from generated data to a
``Violation`` or None; Hypothesis searches for data that gives a violation and
shrinks it, and the minimal one is reported with the histories that show it
(ready to save as JSONL and feed to ``whuffie explain``) and the ledger of the
subject concerned.

Which scores a property looks at: the one named with ``for SCORE``; without
it, every score of the file (with no score at all, ``points``). ``monotone``
also requires the tier not to drop; ``independent`` (without ``for``) also
compares tiers and privileges.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from contextlib import contextmanager
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, Phase, Verbosity, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample, Unsatisfiable

from . import nodes as n
from . import testing
from .evaluator import EvaluationError, Program, RuntimeFault, SubjectResult, compile_ruleset, evaluate
from .inputs import Event
from .report import source_of
from .symbols import Ruleset
from .testblocks import TOLERANCE, ResultCompiler, actual_text, show, subject_env, value_parts

DEFAULT_MAX_EXAMPLES = 100


# ---------------------------------------------------------------- results


@dataclass
class Run:
    """One history a violation is shown on: a label, the file stem to save it as, and the history."""

    label: str
    stem: str
    history: testing.History


@dataclass
class Violation:
    """What a minimal counterexample shows: a sentence, the subject, and the histories to look at."""

    message: str
    subject: str
    runs: list[Run]
    fault: bool = False


@dataclass
class PropertyOutcome:
    """The result of checking one property."""

    decl: n.PropertyDecl
    violation: Violation | None = None
    skipped: str | None = None  # why it was not checked (a four-fifths property needs the community's events)

    @property
    def passed(self) -> bool:
        """True when no generated history broke the property."""
        return self.violation is None


def slug(name: str) -> str:
    """A file-name stem for a property name: lower case words joined by hyphens."""
    words = re.findall(r"[a-z0-9]+", name.lower())
    return "-".join(words)[:60] or "property"


def scores_of(ruleset: Ruleset, body) -> list[str]:
    """The scores a property is about: ``for SCORE``, else every score (``points`` when there is none)."""
    named = getattr(body, "score", None)
    if named is not None:
        return [named.name]
    return list(ruleset.scores) or ["points"]


def _value(result: SubjectResult, score: str):
    return result.points if score == "points" else result.scores[score]


def _rank(ruleset: Ruleset, result: SubjectResult) -> int:
    return ruleset.tier_rank(result.tier) if result.tier in ruleset.tiers else 0


def _num(x) -> str:
    """A number in a property's message: at most four decimals (the ledger has the rest)."""
    if isinstance(x, float):
        x = round(x, 4)
    return show(x)


def _pair(a, b) -> tuple[str, str]:
    """Two numbers for a message, with as many decimals as it takes to tell them apart."""
    for digits in (4, 6, 9, 12):
        left, right = (show(round(v, digits)) if isinstance(v, float) else show(v) for v in (a, b))
        if left != right:
            return left, right
    return show(a), show(b)


def _lower(a, b) -> bool:
    """True when b is lower than a beyond the tolerance."""
    return b < a - TOLERANCE


class _Checker:
    """The data strategy and the law of one property."""

    def __init__(self, ruleset: Ruleset, decl: n.PropertyDecl, program: Program, source: str | None):
        self.rs = ruleset
        self.decl = decl
        self.program = program
        self.source = source
        self.stem = slug(decl.name)
        self.scores = scores_of(ruleset, decl.body)
        self.tz = ZoneInfo(ruleset.timezone)

    def evaluate(self, history: testing.History, as_of: dt.datetime | None = None, only: str | None = None,
                 ledger: bool = False):
        return evaluate(self.rs, list(history.events), history.subjects, as_of or history.as_of,
                        ledger=ledger, only=only, program=self.program)

    def _fault(self, exc: EvaluationError, history: testing.History) -> Violation:
        d = exc.diagnostics[0]
        subject = next(iter(history.subjects), "s1")
        match = re.search(r"on event (e\d+)", d.message)
        if match:
            subject = next((e.subject for e in history.events if e.id == match.group(1)), subject)
        return Violation(f"the rules stop with a run-time fault: {d.span}: {d.code} {d.message}", subject,
                         [Run("history", self.stem, history)], fault=True)

    def check(self, data) -> Violation | None:
        try:
            return self.law(data)
        except EvaluationError as exc:
            return self._fault(exc, data[0] if isinstance(data, tuple) else data)

    # -- always
    def always_strategy(self):
        return testing.histories(self.rs)

    def always_setup(self):
        compiler = ResultCompiler(self.rs, self.tz)
        body = self.decl.body
        self.condition = compiler.condition(body.expr)
        names = {"points", "tier", *self.rs.scores, *self.rs.measures, *self.rs.privileges}
        self.parts = value_parts(body.expr, compiler, "always", names)

    def always_law(self, history: testing.History) -> Violation | None:
        results = self.evaluate(history)
        for r in results.subjects:
            env = subject_env(self.rs, r, history.subjects.get(r.subject, {}), results.as_of)
            try:
                held = self.condition(env)
            except RuntimeFault as exc:
                return Violation(f"`always` cannot be evaluated for {r.subject}: {exc.message}", r.subject,
                                 [Run("history", self.stem, history)], fault=True)
            if not held:
                text = source_of(self.decl.body.expr.span, self.source) or "the condition"
                actual = actual_text(self.decl.body.expr, self.source, self.parts, env)
                detail = f" (it reads {actual})" if actual else ""
                return Violation(f"always {text} is false for {r.subject}{detail}", r.subject,
                                 [Run("history", self.stem, history)])
        return None

    # -- independent of KIND.attr
    def independent_strategy(self):
        kind = self.rs.subject_kind
        attr = next(f for f in kind.fields if f.name == self.decl.body.attr.name)
        self.attr = attr

        @st.composite
        def build(draw):
            history = draw(testing.histories(self.rs))
            sid = draw(st.sampled_from(list(history.subjects)))
            old = history.subjects[sid].get(attr.name)
            new = draw(testing.value_strategy(attr, self.rs.timezone).filter(lambda v: v != old))
            return history, sid, new

        return build()

    def independent_law(self, data) -> Violation | None:
        history, sid, new = data
        name = self.attr.name
        changed_subjects = {k: dict(v) for k, v in history.subjects.items()}
        old = changed_subjects[sid].get(name)
        changed_subjects[sid][name] = new
        changed = history.with_subjects(changed_subjects)
        before = self.evaluate(history, only=sid).subjects[0]
        after = self.evaluate(changed, only=sid).subjects[0]
        differences = []
        for score in self.scores:
            a, b = _value(before, score), _value(after, score)
            if abs(a - b) > TOLERANCE:
                differences.append("{} from {} to {}".format(score, *_pair(a, b)))
        if self.decl.body.score is None:
            if before.tier != after.tier:
                differences.append(f"tier from {before.tier or 'none'} to {after.tier or 'none'}")
            gained = sorted(set(after.privileges) - set(before.privileges))
            lost = sorted(set(before.privileges) - set(after.privileges))
            if gained:
                differences.append("gains privilege " + ", ".join(gained))
            if lost:
                differences.append("loses privilege " + ", ".join(lost))
        if not differences:
            return None
        kind = self.rs.subject_kind.name
        return Violation(
            f"changing {kind}.{name} of {sid} from {show(old)} to {show(new)} changes " + "; ".join(differences),
            sid, [Run(f"with {name} = {show(old)}", self.stem, history),
                  Run(f"with {name} = {show(new)}", self.stem + ".changed", changed)])

    # -- monotone in EVENT / EVENT.field
    def monotone_strategy(self):
        body = self.decl.body
        etype = body.event.name
        self.field = None
        if body.field is not None:
            self.field = next(f for f in self.rs.events[etype].fields if f.name == body.field.name)
        plain = n.Field(self.field.name, self.field.type, False, self.field.range) if self.field else None

        @st.composite
        def build(draw):
            history = draw(testing.histories(self.rs))
            sid = draw(st.sampled_from(list(history.subjects)))
            extra = draw(testing.events(self.rs, etype, sid))
            if plain is None:
                return history, sid, extra, None
            a = draw(testing.value_strategy(plain, self.rs.timezone))
            b = draw(testing.value_strategy(plain, self.rs.timezone).filter(lambda v: v != a))
            return history, sid, extra, (min(a, b), max(a, b))

        return build()

    def monotone_law(self, data) -> Violation | None:
        history, sid, extra, raise_to = data
        etype = self.decl.body.event.name
        if raise_to is None:
            low_events = list(history.events)
            high_events = low_events + [extra]
            what = f"adding one {etype} event"
            low_label, high_label = f"without the extra {etype}", f"with one more {etype}"
            low_stem, high_stem = self.stem + ".without", self.stem
        else:
            name = self.field.name
            low_value, high_value = raise_to
            low_extra = Event(extra.subject, extra.type, extra.at, "", "", 0, {**extra.fields, name: low_value})
            high_extra = Event(extra.subject, extra.type, extra.at, "", "", 0, {**extra.fields, name: high_value})
            low_events = list(history.events) + [low_extra]
            high_events = list(history.events) + [high_extra]
            what = f"raising {etype}.{name} of one event from {show(low_value)} to {show(high_value)}"
            low_label, high_label = f"with {name} = {show(low_value)}", f"with {name} = {show(high_value)}"
            low_stem, high_stem = self.stem + ".lower", self.stem
        low = history.with_events(low_events)
        as_of = max(low.as_of, extra.at)
        low = history.with_events(low_events, as_of)
        high = history.with_events(high_events, as_of)
        before = self.evaluate(low, as_of, only=sid).subjects[0]
        after = self.evaluate(high, as_of, only=sid).subjects[0]
        drops = []
        for score in self.scores:
            a, b = _value(before, score), _value(after, score)
            if _lower(a, b):
                drops.append("{} from {} to {}".format(score, *_pair(a, b)))
        if _rank(self.rs, after) < _rank(self.rs, before):
            drops.append(f"tier from {before.tier or 'none'} to {after.tier or 'none'}")
        if not drops:
            return None
        return Violation(f"{what} for {sid} lowers " + "; ".join(drops), sid,
                         [Run(high_label, high_stem, high), Run(low_label, low_stem, low)])

    # -- gain per WINDOW <= N
    def gain_strategy(self):
        return testing.histories(self.rs)

    def _window_start(self, at: dt.datetime) -> dt.datetime:
        local = at.astimezone(self.tz)
        window = self.decl.body.window
        day = local.date()
        if window == "week":
            day -= dt.timedelta(days=day.weekday())
        elif window == "month":
            day = day.replace(day=1)
        elif window == "year":
            day = day.replace(month=1, day=1)
        return dt.datetime(day.year, day.month, day.day, tzinfo=self.tz).astimezone(dt.timezone.utc)

    def gain_law(self, history: testing.History) -> Violation | None:
        bound = self.decl.body.amount
        window = self.decl.body.window
        for sid in history.subjects:
            last_in_window: dict[dt.datetime, dt.datetime] = {}
            for e in history.events_of(sid):
                start = self._window_start(e.at)
                last_in_window[start] = max(last_in_window.get(start, e.at), e.at)
            for start, end in sorted(last_in_window.items()):
                before = self.evaluate(history, start - dt.timedelta(microseconds=1), only=sid).subjects[0]
                after = self.evaluate(history, end, only=sid).subjects[0]
                for score in self.scores:
                    a, b = _value(before, score), _value(after, score)
                    if b - a > bound + TOLERANCE:
                        local = start.astimezone(self.tz).date().isoformat()
                        label = {"day": "on", "week": "in the week of", "month": "in the month of",
                                 "year": "in the year of"}[window]
                        shown = history if history.latest == end else history.with_events(
                            [e for e in history.events if e.at <= end])
                        return Violation(
                            f"{sid} gains {_num(b - a)} {score} {label} {local} (from {_num(a)} to {_num(b)}), "
                            f"more than {show(bound)} per {window}", sid,
                            [Run("history", self.stem, shown)])
        return None

    # -- plumbing
    def prepare(self):
        body = self.decl.body
        kind = {n.Always: "always", n.Independent: "independent", n.Monotone: "monotone",
                n.GainBound: "gain"}[type(body)]
        if kind == "always":
            self.always_setup()
        self.law = getattr(self, f"{kind}_law")
        return getattr(self, f"{kind}_strategy")()


def _history_of(data) -> testing.History:
    return data[0] if isinstance(data, tuple) else data


def _with_history(data, history: testing.History):
    return (history, *data[1:]) if isinstance(data, tuple) else history


def _field_candidates(ruleset: Ruleset, event: Event) -> list[dict]:
    """The event's own fields, then each numeric field moved to either end of its declared range."""
    out = [event.fields]
    for f in ruleset.events[event.type].fields:
        if f.range is None or f.type.name not in ("int", "number"):
            continue
        for end in (f.range.high, f.range.low):
            value = int(end) if f.type.name == "int" else end
            if event.fields.get(f.name) != value:
                out.append({**event.fields, f.name: value})
    return out


def simplify(checker: "_Checker", data, budget: int = 300):
    """Make a shrunk counterexample shorter where Hypothesis cannot: fewer events in a burst, larger values.

    Hypothesis shrinks values towards 0 and cannot trade a longer burst for a
    larger value; this greedy pass tries exactly that (each burst cut down to
    its first few events, with numeric fields at either end of their ranges),
    then drops single events, keeping every change that still breaks the
    property. Deterministic, and bounded by ``budget`` checks.
    """
    tries = 0

    def breaks(candidate) -> bool:
        nonlocal tries
        tries += 1
        return checker.check(candidate) is not None

    improved = True
    while improved and tries < budget:
        improved = False
        events = list(_history_of(data).events)
        groups: dict[tuple, list[int]] = {}
        for i, e in enumerate(events):
            groups.setdefault((e.subject, e.type, repr(sorted(e.fields.items()))), []).append(i)
        for members in sorted(groups.values(), key=len, reverse=True):
            if len(members) < 2:
                break
            for values in _field_candidates(checker.rs, events[members[0]]):
                for keep in range(1, len(members)):
                    dropped = set(members[keep:])
                    kept = [Event(e.subject, e.type, e.at, e.id, e.line, e.position,
                                  dict(values) if i in members else e.fields)
                            for i, e in enumerate(events) if i not in dropped]
                    candidate = _with_history(data, _history_of(data).with_events(kept))
                    if tries >= budget:
                        return data
                    if breaks(candidate):
                        data, improved = candidate, True
                        break
                if improved:
                    break
            if improved:
                break
        if not improved:
            for i in range(len(events) - 1, -1, -1):
                if tries >= budget:
                    return data
                kept = events[:i] + events[i + 1:]
                candidate = _with_history(data, _history_of(data).with_events(kept))
                if breaks(candidate):
                    data, improved = candidate, True
                    break
    return data


@contextmanager
def _without_local_constants():
    """Hypothesis without the literals of whatever modules happen to be loaded.

    Hypothesis biases a few draws towards constants it finds in the source of
    "local" modules in sys.modules — whuffie's own when installed editable, and
    a test suite's. The same --seed then searched differently depending on what
    else the process had imported (examples/citizen shrank to 35 credit in a
    pytest session, 30.01 from the command line). A seed must mean one search:
    the pool of local constants is empty while whuffie searches. (A private
    hook of Hypothesis; where it is absent, nothing changes.)
    """
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:  # pragma: no cover - another Hypothesis layout
        yield
        return
    original = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if original is None or cache is None:  # pragma: no cover
        yield
        return
    empty = Constants()
    cache.cache.clear()
    providers._get_local_constants = lambda: empty
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.cache.clear()


def _settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        derandomize=False,
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.generate, Phase.shrink),
        report_multiple_bugs=False,
    )


def check_property(ruleset: Ruleset, decl: n.PropertyDecl, *, seed: int = 0,
                   max_examples: int = DEFAULT_MAX_EXAMPLES, source: str | None = None,
                   program: Program | None = None) -> PropertyOutcome:
    """Search for a history that breaks one property; return the shrunk violation, if any."""
    if isinstance(decl.body, n.FourFifths):  # a statement about given events (audit_property.py), not a law
        from .audit_property import NEEDS_EVENTS

        return PropertyOutcome(decl, skipped=NEEDS_EVENTS)
    program = program or compile_ruleset(ruleset)
    checker = _Checker(ruleset, decl, program, source)
    strategy = checker.prepare()
    try:
        with _without_local_constants():
            found = find(strategy, lambda data: checker.check(data) is not None,
                         settings=_settings(max_examples), random=random.Random(seed))
    except (NoSuchExample, Unsatisfiable):
        return PropertyOutcome(decl)
    violation = checker.check(simplify(checker, found))
    return PropertyOutcome(decl, violation)


def check_history(ruleset: Ruleset, decl: n.PropertyDecl, history: testing.History, *,
                  source: str | None = None, program: Program | None = None) -> Violation | None:
    """Whether one given history breaks an ``always`` or ``gain`` property (None when it holds)."""
    if not isinstance(decl.body, (n.Always, n.GainBound)):
        raise ValueError("only `always` and `gain` properties are laws about one history")
    checker = _Checker(ruleset, decl, program or compile_ruleset(ruleset), source)
    checker.prepare()
    return checker.check(history)


def check_properties(ruleset: Ruleset, *, seed: int = 0, max_examples: int = DEFAULT_MAX_EXAMPLES,
                     source: str | None = None, program: Program | None = None) -> list[PropertyOutcome]:
    """Check every property of a ruleset, in source order (each with the same seed)."""
    program = program or compile_ruleset(ruleset)
    return [check_property(ruleset, decl, seed=seed, max_examples=max_examples, source=source, program=program)
            for decl in ruleset.properties]


# ---------------------------------------------------------------- reporting


def _indent(text: str, by: str) -> str:
    return "".join(by + line + "\n" if line else "\n" for line in text.splitlines())


def _needs_subjects(program: Program, run: Run, subject: str) -> bool:
    return program.reads_attributes or not run.history.events_of(subject)


def explain_command(rules: str, run: Run, subject: str, program: Program, folder: str) -> str:
    """The ``whuffie explain`` command line that replays one run of a counterexample."""
    prefix = folder.rstrip("/") + "/" if folder else ""
    parts = ["whuffie explain", rules, f"{prefix}{run.stem}.jsonl", subject]
    if _needs_subjects(program, run, subject):
        parts.append(f"--subjects {prefix}{run.stem}.subjects.jsonl")
    if run.history.latest != run.history.as_of:
        parts.append(f"--as-of {testing.iso(run.history.as_of)}")
    return " ".join(parts)


def counterexample_files(outcome: PropertyOutcome, program: Program) -> dict[str, str]:
    """The files of a violation: file name -> content (events JSONL, and subjects JSONL when needed)."""
    files: dict[str, str] = {}
    v = outcome.violation
    if v is None:
        return files
    for run in v.runs:
        history = run.history.renamed(f"{run.stem}.jsonl")
        files[f"{run.stem}.jsonl"] = history.events_jsonl()
        if _needs_subjects(program, run, v.subject):
            files[f"{run.stem}.subjects.jsonl"] = history.subjects_jsonl()
    return files


def render_property(outcome: PropertyOutcome, ruleset: Ruleset, source: str | None, rules: str,
                    program: Program, folder: str | None = None) -> str:
    """The report of one property: a PASS line, or FAIL with the minimal history, how to replay it, and the ledger."""
    from .report import explain_text

    decl = outcome.decl
    head = f'property "{decl.name}" by {decl.by or "?"}  [{decl.span}]'
    if outcome.skipped:
        return f"SKIP {head}\n  {outcome.skipped}\n"
    if outcome.passed:
        return f"PASS {head}\n"
    v = outcome.violation
    out = [f"FAIL {head}\n"]
    body_text = source_of(decl.body.span, source)
    if body_text:
        out.append(f"  {body_text}\n")
    out.append(f"  counterexample: {v.message}\n")
    previous = None
    for run in v.runs:
        history = run.history.renamed(f"{run.stem}.jsonl")
        count = len(history.events)
        out.append(f"  {run.label}: {count} event{'s' * (count != 1)}, as of {testing.iso(history.as_of)} "
                   f"({run.stem}.jsonl)\n")
        # The same events under other ids would only repeat themselves: say so instead.
        events = [(e.subject, e.type, e.at, e.fields) for e in history.events]
        if events and events == previous:
            out.append("    (the same events as above)\n")
        else:
            out.append(_indent(history.events_jsonl() or "(no events)\n", "    "))
        previous = events
        if _needs_subjects(program, run, v.subject):
            out.append(f"    subjects ({run.stem}.subjects.jsonl):\n")
            out.append(_indent(history.subjects_jsonl(), "      "))
    where = folder if folder is not None else "DIR"
    out.append("  replay" + ("" if folder is not None else " (after --save-counterexamples DIR)") + ":\n")
    for run in v.runs:
        out.append(f"    {explain_command(rules, run, v.subject, program, where)}\n")
    first = v.runs[0].history.renamed(f"{v.runs[0].stem}.jsonl")
    try:
        results = evaluate(ruleset, list(first.events), first.subjects, first.as_of, only=v.subject,
                           program=program)
    except EvaluationError:
        results = None
    if results is not None and results.subjects:
        out.append(f"  ledger of {v.subject} ({v.runs[0].label}):\n")
        out.append(_indent(explain_text(results.subjects[0], ruleset, source, results.as_of), "    "))
    return "".join(out)

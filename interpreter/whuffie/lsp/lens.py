"""Results in the editor: a code lens over each rule (its points and firings on an events file) and
inlay values of each score for one subject.

The events file comes from the workspace settings (``whuffie.events``,
``whuffie.subjects``, ``whuffie.subject``) or from comments in the rule file
itself, which win: ``# whuffie-events: events.jsonl``, ``# whuffie-subjects:
subjects.jsonl``, ``# whuffie-subject: carol`` (paths relative to the rule
file). Scoring goes through ``engines.evaluate`` like `whuffie score`; a
problem with the inputs is shown as a lens on the first line, never raised.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from lsprotocol import types as lsp

from .. import nodes as n
from ..evaluator import EvaluationError, Results
from ..formatter import format_number
from .analysis import Analysis

_DIRECTIVE = re.compile(r"^\s*whuffie-(events|subjects|subject)\s*:\s*(\S.*?)\s*$")


@dataclass(frozen=True)
class Scored:
    """The results on the events file, and how many of its lines were rejected."""

    results: Results
    rejected: int = 0


@dataclass(frozen=True)
class LensSettings:
    """Where the events (and subjects) are, and whose scores to show inline."""

    events: str | None = None
    subjects: str | None = None
    subject: str | None = None
    base: str | None = None  # the folder relative paths of the settings start from


def settings_for(analysis: Analysis, workspace: LensSettings) -> LensSettings:
    """The workspace settings with the rule file's own comment directives over them."""
    found = {}
    for comment in analysis.program.comments if analysis.program else ():
        match = _DIRECTIVE.match(comment.text)
        if match:
            found[match.group(1)] = match.group(2)
    folder = str(Path(analysis.file).parent)
    settings = workspace
    if found:
        settings = LensSettings(
            events=_under(folder, found["events"]) if "events" in found else _under(workspace.base, workspace.events),
            subjects=_under(folder, found["subjects"]) if "subjects" in found
            else _under(workspace.base, workspace.subjects),
            subject=found.get("subject", workspace.subject), base=None)
    else:
        settings = replace(settings, events=_under(workspace.base, workspace.events),
                           subjects=_under(workspace.base, workspace.subjects), base=None)
    return settings


def _under(folder: str | None, path: str | None) -> str | None:
    if not path:
        return None
    return path if os.path.isabs(path) or folder is None else os.path.join(folder, path)


class ResultCache:
    """The last scoring of each document, kept until its text or its inputs change."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[tuple, Scored | str]] = {}

    def results(self, analysis: Analysis, settings: LensSettings) -> Scored | str | None:
        """The results on the events file, a message saying why there are none, or None without an events file."""
        if not settings.events:
            return None
        if analysis.checked is None:
            return "fix the errors in this file to see its results"
        key = (analysis.text, settings, _stamp(settings.events), _stamp(settings.subjects))
        cached = self._last.get(analysis.uri)
        if cached and cached[0] == key:
            return cached[1]
        outcome = score(analysis, settings)
        self._last[analysis.uri] = (key, outcome)
        return outcome


def _stamp(path: str | None):
    try:
        return os.stat(path).st_mtime_ns if path else None
    except OSError:
        return None


def score(analysis: Analysis, settings: LensSettings) -> Scored | str:
    """Score the events file with the document's ruleset, or say what went wrong."""
    from ..datafiles import DataError
    from ..engines import evaluate
    from ..inputs import load_events, load_subjects

    ruleset = analysis.checked
    try:
        subjects = load_subjects(settings.subjects, ruleset).subjects if settings.subjects else None
        loaded = load_events(settings.events, ruleset, subjects)
        return Scored(evaluate("auto", ruleset, loaded.events, subjects, ledger=True), len(loaded.rejects))
    except EvaluationError as exc:
        return f"scoring stopped: {exc}"
    except DataError as exc:
        return f"cannot read the inputs: {getattr(exc, 'where', '')}: {exc}"
    except (OSError, ValueError) as exc:
        return f"cannot read the inputs: {exc}"


def code_lenses(analysis: Analysis, scored: Scored | str | None) -> list[lsp.CodeLens]:
    """A lens over each rule: its total points and firings across all subjects (and one for rejected lines)."""
    if scored is None or analysis.program is None:
        return []
    top = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0))
    if isinstance(scored, str):
        return [lsp.CodeLens(range=top, command=lsp.Command(title=f"whuffie: {scored}", command=""))]
    results = scored.results
    lenses = []
    if scored.rejected:
        title = (f"whuffie: {scored.rejected} line{'s' * (scored.rejected != 1)} of the events rejected "
                 "(whuffie score says why)")
        lenses.append(lsp.CodeLens(range=top, command=lsp.Command(title=title, command="")))
    points: dict[str, int | float] = {}
    firings: dict[str, int] = {}
    for subject in results.subjects:
        for rule, value in subject.points_by_rule.items():
            points[rule] = points.get(rule, 0) + value
        for entry in subject.ledger:
            firings[entry.rule] = firings.get(entry.rule, 0) + 1
    for item in analysis.program.items:
        if isinstance(item, n.RuleDecl):
            fired = firings.get(item.name, 0)
            title = f"{format_number(points.get(item.name, 0))} points · {fired} firing{'s' * (fired != 1)}"
            lenses.append(lsp.CodeLens(range=analysis.lines.range(item.name_span),
                                       command=lsp.Command(title=title, command="")))
    return lenses


def inlay_values(analysis: Analysis, scored: Scored | str | None, subject: str | None) -> list[lsp.InlayHint]:
    """Each score's value for the chosen subject, at the end of the score's declaration."""
    if not isinstance(scored, Scored) or not subject or analysis.program is None:
        return []
    found = next((s for s in scored.results.subjects if s.subject == subject), None)
    if found is None:
        return []
    hints = []
    for item in analysis.program.items:
        if isinstance(item, n.ScoreDecl) and item.name in found.scores:
            value = found.scores[item.name]
            shown = format_number(value) if isinstance(value, (int, float)) else str(value)
            hints.append(lsp.InlayHint(position=analysis.lines.range(item.span).end,
                                       label=f" = {shown} for {subject}", padding_left=True))
    return hints

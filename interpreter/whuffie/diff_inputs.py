"""One history read by two versions of a rule set, each with its own schema.

Entry points: ``read_both(events_path, subjects_path, old_ruleset, new_ruleset)`` for files,
``parse_both`` for text already read (the REPL's loaded files).
An event line one version accepts and the other rejects is the visible effect
of a schema change; lines both reject are bad data, as they are for `score`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .columns import PLAIN, ColumnMap
from .inputs import EventLoad, Reject, SubjectLoad, load_events, load_subjects, parse_events, parse_subjects
from .symbols import Ruleset


@dataclass(frozen=True)
class SchemaEffect:
    """Event lines whose validity the change alters: rejected by only one side (first few kept as examples)."""

    read: int
    rejected_by_old_only: tuple[Reject, ...]
    rejected_by_new_only: tuple[Reject, ...]

    @property
    def any(self) -> bool:
        return bool(self.rejected_by_old_only or self.rejected_by_new_only)


@dataclass(frozen=True)
class BothSides:
    """The inputs as each side reads them."""

    old_events: EventLoad
    new_events: EventLoad
    old_subjects: SubjectLoad | None
    new_subjects: SubjectLoad | None

    @property
    def rejected_by_both(self) -> list[Reject]:
        """Lines no version accepts: bad data whichever rules apply."""
        new_places = {r.where for r in self.new_events.rejects}
        return [r for r in self.old_events.rejects if r.where in new_places]

    def schema_effect(self) -> SchemaEffect:
        old_places = {r.where for r in self.old_events.rejects}
        new_places = {r.where for r in self.new_events.rejects}
        return SchemaEffect(self.new_events.read,
                            tuple(r for r in self.old_events.rejects if r.where not in new_places),
                            tuple(r for r in self.new_events.rejects if r.where not in old_places))


def read_both(events_path: Path, subjects_path: Path | None, old: Ruleset, new: Ruleset,
              old_reads_attributes: bool = False, new_reads_attributes: bool = False,
              columns: ColumnMap = PLAIN) -> BothSides:
    """Read the subjects and the events once per version (inputs.DataError for an unreadable file)."""
    old_subjects = load_subjects(subjects_path, old) if subjects_path is not None else None
    new_subjects = load_subjects(subjects_path, new) if subjects_path is not None else None
    old_events = load_events(events_path, old, old_subjects.subjects if old_subjects else None,
                             old_reads_attributes, columns=columns)
    new_events = load_events(events_path, new, new_subjects.subjects if new_subjects else None,
                             new_reads_attributes, columns=columns)
    return BothSides(old_events, new_events, old_subjects, new_subjects)


def parse_both(events: tuple[str, Path], subjects: tuple[str, Path] | None, old: Ruleset, new: Ruleset,
               old_reads_attributes: bool = False, new_reads_attributes: bool = False) -> BothSides:
    """``read_both`` for inputs already in memory: (text, path) of the events and of the subjects."""
    old_subjects = parse_subjects(subjects[0], subjects[1], old) if subjects is not None else None
    new_subjects = parse_subjects(subjects[0], subjects[1], new) if subjects is not None else None
    old_events = parse_events(events[0], events[1], old, old_subjects.subjects if old_subjects else None,
                              old_reads_attributes)
    new_events = parse_events(events[0], events[1], new, new_subjects.subjects if new_subjects else None,
                              new_reads_attributes)
    return BothSides(old_events, new_events, old_subjects, new_subjects)

"""Column mapping for event tables that use their own names: ``--columns``, ``--extra``, ``--types``.

A real log names its columns ``user_id``, ``event_type``, ``ts``; holds integer
ids; carries columns the schema does not declare (a ``seq``); and often stores
the event type as a code. ``ColumnMap`` says how such a table reads as
whuffie's ``subject, type, at, id`` layout. Every command that reads events
parses its options here (``parse_options``), checks them against the rules
(``ColumnMap.problem``) and hands the map to the readers: inputs.py renames
each row with ``ColumnMap.apply`` before validating it, and sqlengine.py
renames in SQL with ``ColumnMap.source``. A rejected line is always the line
as it was in the file, never the renamed row.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path

EVENT_KEYS = ("subject", "type", "at", "id")
EXTRA_CHOICES = ("reject", "ignore")
EXTRA_HINT = "give --extra ignore to accept columns the rules do not declare"


class ColumnsError(ValueError):
    """A --columns, --extra or --types value that cannot be used (a usage error: exit 2)."""


@dataclass(frozen=True)
class ColumnMap:
    """How one events table's columns read as whuffie's; the default reads whuffie's own layout."""

    sources: dict[str, str] = field(default_factory=dict)  # whuffie key -> the table's column
    ignore_extra: bool = False
    type_codes: dict[str, str] = field(default_factory=dict)  # the table's code (as text) -> event type

    @property
    def plain(self) -> bool:
        """Whether the table is read as whuffie's own layout (nothing renamed, extras rejected, no codes)."""
        return not self.sources and not self.ignore_extra and not self.type_codes

    @property
    def integer_ids(self) -> bool:
        """Integer subject and event ids are read as their decimal text whenever a mapping is given.

        Without one the old rule stands (an id is text), so that whuffie's own
        files keep rejecting a number where an id was meant.
        """
        return not self.plain

    def source(self, key: str) -> str:
        """The table's column that holds whuffie's ``key`` (subject, type, at or id)."""
        return self.sources.get(key, key)

    def type_of(self, value):
        """An event type value as the rules name it: a code translated, anything else as it is."""
        if not self.type_codes or isinstance(value, bool):
            return value
        if isinstance(value, (int, str)):
            return self.type_codes.get(str(value).strip() if isinstance(value, str) else str(value), value)
        return value

    def header(self, names: list[str]) -> list[str]:
        """A CSV header as whuffie reads it: mapped columns under whuffie's names."""
        back = {src: key for key, src in self.sources.items()}
        return [back.get(name, name) for name in names]

    def apply(self, row: dict, fields_of) -> tuple[dict, list[str]]:
        """One row under whuffie's names, and the problems only the mapping can see.

        ``fields_of(type)`` is the set of declared field names of an event
        type (empty for an unknown one). Unmapped columns keep their names;
        with ``ignore_extra`` those that are no field of the row's type are
        dropped. A column named like a whuffie key that the mapping moved
        elsewhere is an extra column too.
        """
        if self.plain:
            return row, []
        out: dict = {}
        taken = set()
        for key in EVENT_KEYS:
            src = self.source(key)
            if src in row:
                out[key] = row[src]
                taken.add(src)
        if "type" in out:
            out["type"] = self.type_of(out["type"])
        for key in ("subject", "id"):
            value = out.get(key)
            if type(value) is int:
                out[key] = str(value)
        declared = fields_of(out.get("type")) if isinstance(out.get("type"), str) else set()
        problems = []
        for column, value in row.items():
            if column in taken:
                continue
            if column in EVENT_KEYS or (self.ignore_extra and column not in declared):
                if not self.ignore_extra:
                    problems.append(f"column {column}: --columns reads {column} from "
                                    f"{self.source(column)}; {EXTRA_HINT}")
                continue
            out[column] = value
        return out, problems

    # ---- the same mapping in SQL, for the DuckDB readers of Parquet files and tables

    def _dropped(self, table_columns: dict[str, str]) -> list[str]:
        """The table's columns named like a whuffie key that the mapping reads from elsewhere."""
        moved = [k for k in EVENT_KEYS if self.source(k) != k and k in table_columns]
        if moved and not self.ignore_extra:
            key = moved[0]
            raise ColumnsError(f"the table has a column {key} and --columns reads {key} from "
                               f"{self.source(key)}; {EXTRA_HINT}")
        return moved

    def sql_star(self, table_columns: dict[str, str], exclude: tuple[str, ...], quote, ident,
                 subject_optional: bool = False) -> str:
        """The select list of a table's columns as whuffie reads them, ending before ``__row``.

        Columns keep their own names (a rejected row is shown with them); the
        whuffie keys are added under their names, the type code translated in
        place when the type column keeps its name. ``__at`` is the time's column.
        """
        for key in ("type", "at") if subject_optional else ("subject", "type", "at"):
            if self.source(key) not in table_columns:
                shown = key if self.source(key) == key else f"{self.source(key)} (for {key})"
                raise ColumnsError(f"no column {shown!r} (columns: {', '.join(table_columns)})")
        dropped = self._dropped(table_columns)
        col = lambda name: f'"{ident(name)}"'  # noqa: E731
        type_sql = col(self.source("type"))
        if self.type_codes:
            text = f"trim(CAST({type_sql} AS VARCHAR))"
            whens = " ".join(f"WHEN '{quote(code)}' THEN '{quote(name)}'" for code, name in self.type_codes.items())
            type_sql = f"CASE {text} {whens} ELSE CAST({type_sql} AS VARCHAR) END"
        excluded = list(exclude) + dropped
        replaced = []
        added = []
        for key in ("subject", "type", "id"):
            src = self.source(key)
            sql = type_sql if key == "type" else col(src)
            if src == key:
                if key == "type" and self.type_codes:
                    replaced.append(f"{sql} AS type")
            elif src in table_columns:
                added.append(f"{sql} AS {key}")
        star = "*" + (f" EXCLUDE ({', '.join(col(c) for c in excluded)})" if excluded else "") \
            + (f" REPLACE ({', '.join(replaced)})" if replaced else "")
        if self.source("subject") not in table_columns:  # a log of role events only: no subject column
            added.append("CAST(NULL AS VARCHAR) AS subject")
        return ", ".join([star, *added, f"{col(self.source('at'))} AS __at"]) + ", "

    def added_columns(self, table_columns: dict[str, str], subject_optional: bool = False) -> list[str]:
        """The whuffie keys sql_star adds beside the table's own columns (left out of a rejected row)."""
        added = [k for k in ("subject", "type", "id") if self.source(k) != k and self.source(k) in table_columns]
        if self.source("subject") not in table_columns and "subject" not in added:
            added.append("subject")
        return added

    def renamed_types(self, table_columns: dict[str, str]) -> dict[str, str]:
        """The table's column types under whuffie's names, as the validating query sees the columns."""
        moved = {self.source(k): k for k in EVENT_KEYS if self.source(k) != k}
        out = {}
        for name, sql_type in table_columns.items():
            if name in EVENT_KEYS and self.source(name) != name:
                continue  # dropped by sql_star
            key = moved.get(name, name)
            out[key] = "VARCHAR" if key == "type" and self.type_codes else sql_type
        return out

    def problem(self, ruleset) -> str | None:
        """What makes this map unusable with these rules (a type code naming no event type), or None."""
        events = list(ruleset.events)
        for code, name in self.type_codes.items():
            if name not in ruleset.events:
                close = difflib.get_close_matches(name, events, n=1)
                return (f"--types {name}={code}: no event type {name}"
                        + (f" (did you mean {close[0]}?)" if close else f" (the rules declare {', '.join(events)})"))
        fields = {f.name for decl in ruleset.events.values() for f in decl.fields}
        for key, src in self.sources.items():
            if src in fields:
                return (f"--columns {key}={src}: {src} is a declared event field; "
                        "a column cannot be both")
        return None

    def describe(self) -> dict:
        """The mapping as outputs record it (JSON)."""
        return {"columns": dict(self.sources), "extra": "ignore" if self.ignore_extra else "reject",
                "types": dict(self.type_codes)}


PLAIN = ColumnMap()


def extra_hint(rejects) -> str | None:
    """How to accept undeclared columns, when some rejected line has one (said once, not per line)."""
    for r in rejects:
        if "unknown field" in r.message or "not a field of" in r.message:
            return EXTRA_HINT
    return None


def parse_options(columns: str | None = None, extra: str | None = None, types: str | None = None) -> ColumnMap:
    """The three options as one map; raises ColumnsError with a message for the usage line."""
    sources: dict[str, str] = {}
    for key, value in _pairs(columns, "--columns", "subject=user_id,type=event_type,at=ts,id=event_id"):
        if key not in EVENT_KEYS:
            close = difflib.get_close_matches(key, EVENT_KEYS, n=1)
            raise ColumnsError(f"--columns {key}={value}: {key} is not one of {', '.join(EVENT_KEYS)}"
                               + (f" (did you mean {close[0]}?)" if close else ""))
        if key in sources:
            raise ColumnsError(f"--columns names {key} twice")
        sources[key] = value
    targets = list(sources.values())
    for src in targets:
        if targets.count(src) > 1:
            raise ColumnsError(f"--columns reads two keys from the one column {src}")
    extra = (extra or "reject").strip().lower()
    if extra not in EXTRA_CHOICES:
        raise ColumnsError(f"--extra must be one of {', '.join(EXTRA_CHOICES)}, not {extra!r}")
    codes: dict[str, str] = {}
    for code, name in _type_pairs(types):
        if code in codes and codes[code] != name:
            raise ColumnsError(f"--types gives the code {code} twice ({codes[code]} and {name})")
        codes[code] = name
    return ColumnMap({k: v for k, v in sources.items() if v != k}, extra == "ignore", codes)


def _pairs(text: str | None, option: str, example: str):
    if text is None or not text.strip():
        return []
    found = []
    for part in text.split(","):
        key, eq, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not key or not value:
            raise ColumnsError(f"{option} takes NAME=VALUE pairs separated by commas, such as {example}; "
                               f"got {part.strip()!r}")
        found.append((key, value))
    return found


def _type_pairs(text: str | None):
    """``--types`` as (code, type) pairs: inline ``voted=2,...`` or a file of them (JSON object or lines)."""
    if text is None or not text.strip():
        return []
    if "=" not in text:
        path = Path(text)
        if not path.is_file():
            raise ColumnsError(f"--types {text}: neither TYPE=CODE pairs nor a mapping file")
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeError) as exc:
            raise ColumnsError(f"--types {text}: cannot read it ({exc})") from None
        if path.suffix.lower() == ".json":
            try:
                data = json.loads(content)
            except ValueError as exc:
                raise ColumnsError(f"--types {text}: not JSON ({exc})") from None
            if not isinstance(data, dict) or not all(isinstance(v, (str, int)) and not isinstance(v, bool)
                                                     for v in data.values()):
                raise ColumnsError(f'--types {text}: expected an object of TYPE: CODE, such as {{"voted": 2}}')
            return [(str(code), name) for name, code in data.items()]
        lines = [line.split("#", 1)[0].strip() for line in content.splitlines()]
        text = ",".join(line for line in lines if line)
        if not text:
            return []
    return [(code, name) for name, code in _pairs(text, "--types", "voted=2,answer_accepted=1")]

"""Shared by the tests of issue 14's constructs: a small rule file, events as dicts, every engine."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from whuffie import engines
from whuffie.frontend import load_text
from whuffie.inputs import parse_events, parse_time

HEADER = """ruleset t "time-aware test"
timezone "{tz}"
author ada "Ada"
subject member {{ joined: date }}
event returned {{ days_late: int in 0..3650, note: text? }}
event visited {{ minutes: number in 0..1440 }}
event suspension {{ until: date? }}
"""


def ruleset_of(body: str, tz: str = "UTC"):
    loaded = load_text(HEADER.format(tz=tz) + body, "t.whuf")
    errors = [f"{d.span}: {d.code} {d.message}" for d in loaded.diagnostics if d.is_error]
    assert not errors, errors
    return loaded.ruleset


def diagnostics_of(body: str, tz: str = "UTC") -> list[tuple[str, str]]:
    loaded = load_text(HEADER.format(tz=tz) + body, "t.whuf")
    return [(d.code, d.message) for d in loaded.diagnostics]


def ev(kind: str, at: str, subject: str = "s", **fields) -> dict:
    return {"subject": subject, "type": kind, "at": at, **fields}


def run_all(body: str, events: list[dict], tz: str = "UTC", as_of: str | None = None,
            engine_names=("reference", "codegen", "duckdb")):
    """Results by engine name; every engine's scores, tiers, privileges and measures must agree."""
    rs = ruleset_of(body, tz)
    text = "".join(json.dumps(e) + "\n" for e in events)
    load = parse_events(text, Path("events.jsonl"), rs)
    assert not load.rejects, [str(r) for r in load.rejects]
    instant = parse_time(as_of, dt.timezone.utc) if as_of else None
    out = {}
    for name in engine_names:
        out[name] = engines.evaluate(name, rs, load.events, None, instant, ledger=name != "duckdb",
                                     notes=lambda d: None)
    first = out[engine_names[0]]
    for name, results in out.items():
        mine = [(s.subject, s.scores, s.tier, s.privileges, s.measures, s.points) for s in results.subjects]
        theirs = [(s.subject, s.scores, s.tier, s.privileges, s.measures, s.points) for s in first.subjects]
        assert mine == theirs, f"{name} differs from {engine_names[0]}"
    return out


def subject(results, sid: str = "s"):
    return next(r for r in results.subjects if r.subject == sid)

"""Site-wide measures: ``measure site_topics = count topic_created across everyone within 100 days``.

A site-wide measure aggregates the events of every subject up to the as-of
instant (with the same aggregates, ``where`` and ``within`` as any measure)
into one value, the same for everyone. It is computed once per run, here,
with the reference evaluator's own accumulators over all events as if they
were one subject's; then the ruleset is *specialised*: every read of the
measure becomes its value as a literal (params.py's substitution) and the
declaration is dropped, so each engine scores a ruleset it already knows,
and the value is put back into every subject's measures for the outputs.

Entry points: ``site_measures(ruleset)`` and ``evaluate(run, ruleset, events,
subjects, as_of, **options)``, which the engines call when there are any;
``evaluate_columnar`` does the same for rows DuckDB holds, each site-wide
value one aggregate query there.
In a test block the test's own subjects are everyone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from . import nodes as n
from .diagnostics import error
from .symbols import Ruleset

EVERYONE = "(everyone)"  # the pseudo-subject that holds every event (named in a fault's message)
ALLOWED = ("count", "count_days", "count_distinct", "sum", "min", "max", "avg")


def site_measures(ruleset: Ruleset) -> list[n.MeasureDecl]:
    """The measures declared ``across everyone``, in declaration order."""
    return [m for m in ruleset.measures.values() if m.first(n.Across) is not None]


def site_values(ruleset: Ruleset, events, as_of: dt.datetime) -> dict[str, object]:
    """Each site-wide measure's value over every event at or before ``as_of`` (input order breaks ties)."""
    from . import evaluator

    program = evaluator.compile_ruleset(ruleset)
    names = {m.name for m in site_measures(ruleset)}
    measures = [m for m in program.measures if m.name in names]
    by_type: dict[str, list] = {}
    for m in measures:
        by_type.setdefault(m.event, []).append(m)
    only_site = dataclasses.replace(program, rules_by_type={}, measures_by_type=by_type, measures=measures,
                                    scores=[], tiers=[], privileges=[], bounds=None, memory=None)
    mine = [e for e in events if e.at <= as_of]
    mine.sort(key=lambda e: e.at)  # stable: ties keep input order
    result = evaluator._evaluate_subject(only_site, EVERYONE, mine, {}, as_of, False)
    return dict(result.measures)


def literal(value, span: n.Span):
    """A measure's value as the literal the specialised ruleset reads."""
    if isinstance(value, dt.timedelta):
        return n.Duration(value.total_seconds(), "seconds", span=span)
    if isinstance(value, dt.datetime):
        return n.DateTime(value, span=span)
    if isinstance(value, dt.date):
        return n.Date(value, span=span)
    return n.Number(value, span=span)


def specialise(ruleset: Ruleset, values: dict[str, object]) -> Ruleset:
    """The ruleset with each site-wide measure read as its value; raises EvaluationError if that fails to check."""
    from .checker import check
    from .evaluator import EvaluationError
    from .params import substitute

    literals = {name: literal(value, n.NO_SPAN) for name, value in values.items()}
    # tests and properties read the measure itself (`site_topics of u`): they are the original ruleset's
    items = tuple(substitute(item, literals) for item in ruleset.program.items
                  if not (isinstance(item, n.MeasureDecl) and item.name in values)
                  and not isinstance(item, (n.TestDecl, n.PropertyDecl)))
    checked = check(dataclasses.replace(ruleset.program, items=items))
    if checked.ruleset is None:
        raise EvaluationError([d for d in checked.diagnostics if d.is_error])
    return checked.ruleset


def evaluate(run, ruleset: Ruleset, events, subjects, as_of: dt.datetime | None, **options):
    """``run(ruleset, events, subjects, as_of, **options)`` on the specialised ruleset, site values put back."""
    instant = as_of if as_of is not None else max((e.at for e in events), default=None)
    if instant is None:
        instant = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    values = site_values(ruleset, events, instant.astimezone(dt.timezone.utc))
    results = run(specialise(ruleset, values), events, subjects, as_of, **options)
    for result in results.subjects:
        result.measures = {name: values[name] if name in values else result.measures[name]
                           for name in ruleset.measures}
    return results


def site_only(ruleset: Ruleset) -> Ruleset:
    """The ruleset of just the site-wide measures, as plain measures over the same schema (for one query)."""
    from .checker import check

    keep = (n.RulesetDecl, n.TimezoneDecl, n.AuthorDecl, n.SubjectDecl, n.EventDecl)
    names = {m.name for m in site_measures(ruleset)}
    items = [i for i in ruleset.program.items if isinstance(i, keep)]
    items += [dataclasses.replace(i, clauses=tuple(c for c in i.clauses if not isinstance(c, n.Across)))
              for i in ruleset.program.items if isinstance(i, n.MeasureDecl) and i.name in names]
    checked = check(dataclasses.replace(ruleset.program, items=tuple(items)))
    if checked.ruleset is None:
        from .engines.sqlexpr import SqlUnsupported

        raise SqlUnsupported("a site-wide measure on its own")
    return checked.ruleset


def evaluate_columnar(load, ruleset: Ruleset, subjects, as_of: dt.datetime | None, ledger_sink=None):
    """The rows DuckDB holds, scored on DuckDB with each site-wide value computed there as one aggregate.

    The site-wide measures run as one query over a view of every row as one
    pseudo-subject's (the same query the SQL engine makes for any measure,
    with one group); then the specialised ruleset is scored over the rows.
    Raises what sqlengine raises, for engines.on_duckdb to hand over.
    """
    from .engines import sqlengine
    from .plan import lower

    con = load.con
    if as_of is None:
        latest = con.execute("SELECT max(at_us) FROM events").fetchall()[0][0]
        as_of = sqlengine.EPOCH + dt.timedelta(microseconds=latest) if latest is not None else \
            dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    con.execute("ALTER TABLE events RENAME TO __all_events").fetchall()
    try:
        con.execute(f"CREATE TEMP VIEW events AS SELECT * REPLACE ('{EVERYONE}' AS subject) "
                    "FROM __all_events").fetchall()
        site = dataclasses.replace(load, plan=lower(site_only(ruleset)))
        [everyone] = [r for r in sqlengine.evaluate_columnar(site, {}, as_of).subjects if r.subject == EVERYONE]
        values = {m.name: everyone.measures[m.name] for m in site_measures(ruleset)}
    finally:
        con.execute("DROP VIEW IF EXISTS events").fetchall()
        con.execute("ALTER TABLE __all_events RENAME TO events").fetchall()
    rest = dataclasses.replace(load, plan=lower(specialise(ruleset, values)))
    results = sqlengine.evaluate_columnar(rest, subjects, as_of, ledger_sink=ledger_sink)
    for result in results.subjects:
        result.measures = {name: values[name] if name in values else result.measures[name]
                           for name in ruleset.measures}
    return results


def check_site_measure(m: n.MeasureDecl, kind_name: str | None) -> list:
    """What a site-wide measure may not do: read the one subject's attributes, or have no value for nothing."""
    found = []
    across = m.first(n.Across)
    if m.aggregate.kind in ("min", "max", "avg") and m.first(n.Default) is None:
        found.append(error("W035", f"site-wide measure {m.name} needs a `default`: `{m.aggregate.kind}` of no "
                                   "event has no value, and a site-wide value is read as a number", across.span,
                           "add e.g. `default 0`"))
    for where in m.clauses_of(n.Where):
        for node in n.walk(where.cond):
            if isinstance(node, n.Attribute) and isinstance(node.obj, n.Name) and node.obj.id == kind_name:
                found.append(error("W025", f"site-wide measure {m.name} reads {kind_name}.{node.name}: its events "
                                           "are everyone's, so there is no one subject to read", node.span,
                                   "drop `across everyone`, or the attribute"))
    return found

"""Hypothesis strategies for whuffie ASTs: every construct of the language.

The trees are syntactically valid (they may not type-check): names come
from a pool that avoids keywords, numbers in literal positions are never
negative (a minus sign is a ``Unary``), floats are finite, and spans are
left at their default, so ``parse(format_program(tree)) == tree`` is the law
the formatter must keep.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from whuffie import nodes as n

NAMES = ("alice", "bob", "x", "y", "z1", "standing", "hours_volunteered", "m", "returned", "points",
         "member", "ev_2", "_private", "Upper", "clamp", "reputation", "trust_level", "a" * 12)
UNITS = ("seconds", "minutes", "hours", "days", "weeks")
WINDOWS = ("day", "week", "month", "year")
# Keywords are fine as subject ids (they are quoted or bare as the grammar allows).
ID_WORDS = NAMES + ("in", "of", "at", "if", "expect", "true")

names = st.sampled_from(NAMES)
idents = names.map(n.Ident)
types = st.sampled_from(n.TYPE_NAMES + ("tier", "member")).map(n.TypeRef)
texts = st.text(max_size=12)
subject_ids = st.one_of(st.sampled_from(ID_WORDS), texts)
windows = st.sampled_from(WINDOWS)

counts = st.integers(min_value=0, max_value=10**20)
fractions = st.floats(min_value=0.0, allow_nan=False, allow_infinity=False).map(abs)
amounts = st.one_of(counts, fractions)
signed_amounts = st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False))

dates = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))
offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes)))
datetimes = st.one_of(
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
                 timezones=st.one_of(st.just(dt.timezone.utc), offsets)),
)
durations = st.builds(n.Duration, amounts, st.sampled_from(UNITS))
calendar_windows = st.builds(n.CalendarWithin, amounts, st.sampled_from(("months", "years")))
time_literals = st.one_of(dates.map(n.Date), datetimes.map(n.DateTime))

leaves = st.one_of(
    amounts.map(n.Number),
    durations,
    texts.map(n.String),
    st.booleans().map(n.Bool),
    time_literals,
    names.map(n.Name),
)


aggregates = st.one_of(
    st.builds(n.Aggregate, st.sampled_from(("count", "count_days")), idents),
    st.builds(n.Aggregate, st.sampled_from(("count_distinct", "sum", "min", "max", "avg", "last", "first")),
              idents, idents),
)


def _compound(inner: st.SearchStrategy) -> st.SearchStrategy:
    small = st.lists(inner, max_size=3).map(tuple)
    return st.one_of(
        st.builds(n.Attribute, inner, names),
        st.builds(n.Call, names, small),
        st.builds(n.Unary, st.sampled_from(("-", "not")), inner),
        st.builds(n.Binary, st.sampled_from(("+", "-", "*", "/", "%", "and", "or")), inner, inner),
        st.integers(min_value=2, max_value=4).flatmap(lambda k: st.builds(
            n.Compare, st.lists(inner, min_size=k, max_size=k).map(tuple),
            st.lists(st.sampled_from(("==", "!=", "<", "<=", ">", ">=")), min_size=k - 1,
                     max_size=k - 1).map(tuple))),
        st.builds(n.In, inner, small, st.booleans()),
        st.builds(n.Coalesce, inner, inner),
        st.builds(n.If, inner, inner, inner),
        st.builds(n.Of, inner, subject_ids),
        st.builds(n.Earlier, aggregates, st.lists(st.one_of(
            st.builds(n.Where, inner), st.builds(n.Within, durations), calendar_windows,
            st.builds(n.Default, inner)), max_size=3).map(tuple)),
    )


exprs = st.recursive(leaves, _compound, max_leaves=12)

# ---------------------------------------------------------------- clauses

provenance = st.one_of(
    st.builds(n.By, idents),
    st.builds(n.Because, texts),
    st.builds(n.Cites, texts),
)
rule_clauses = st.one_of(
    provenance,
    st.builds(n.On, idents),
    st.builds(n.Where, exprs),
    st.builds(n.Award, exprs),
    st.builds(n.Cap, amounts, st.one_of(st.none(), windows)),
    st.builds(n.Once, st.one_of(st.none(), windows)),
    st.builds(n.Decay, durations),
)
measure_clauses = st.one_of(
    provenance,
    st.builds(n.Where, exprs),
    st.builds(n.Within, durations),
    calendar_windows,
    st.builds(n.Default, exprs),
)
score_clauses = st.one_of(provenance, st.builds(n.Bound, st.sampled_from(("floor", "ceiling")), exprs))


def _clauses(kind: st.SearchStrategy, max_size: int = 4) -> st.SearchStrategy:
    return st.lists(kind, max_size=max_size).map(tuple)


fields = st.one_of(
    st.builds(
        n.Field, names, types, st.booleans(),
        st.one_of(st.none(), st.builds(n.Range, signed_amounts, signed_amounts)),
        st.booleans(),
    ),
    # an enumerated field: a list of values instead of a range (the grammar takes one or the other)
    st.builds(n.Field, names, types, st.booleans(), st.none(), st.booleans(),
              choices=st.builds(n.Choices, st.lists(texts, min_size=1, max_size=3).map(tuple))),
)
field_values = st.lists(st.builds(n.FieldValue, names, exprs), max_size=3).map(tuple)
test_statements = st.one_of(
    st.builds(n.TestSubject, idents, subject_ids, field_values),
    st.builds(n.TestEvent, time_literals, subject_ids, idents, field_values),
    st.builds(n.Expect, exprs),
    st.builds(n.AsOf, time_literals),
)
scores_for = st.one_of(st.none(), idents)
property_bodies = st.one_of(
    st.builds(n.Always, exprs),
    st.builds(n.Independent, idents, idents, scores_for),
    st.builds(n.Monotone, idents, st.one_of(st.none(), idents), scores_for),
    st.builds(n.GainBound, windows, amounts, scores_for),
)

declarations = st.one_of(
    st.builds(n.RulesetDecl, names, st.one_of(st.none(), texts)),
    st.builds(n.VersionDecl, texts),
    st.builds(n.TimezoneDecl, texts),
    st.builds(n.ImportDecl, texts),
    st.builds(n.AuthorDecl, names, st.one_of(st.none(), texts)),
    st.builds(n.SubjectDecl, names, st.lists(fields, max_size=4).map(tuple)),
    st.builds(n.EventDecl, names, st.lists(fields, max_size=4).map(tuple)),
    st.builds(n.RuleDecl, names, _clauses(rule_clauses, 7)),
    st.builds(n.SharedCapDecl, names, amounts, st.one_of(st.none(), windows),
              st.lists(idents, min_size=1, max_size=3).map(tuple), _clauses(provenance)),
    st.builds(n.FactorDecl, names, st.lists(idents, min_size=1, max_size=3).map(tuple), _clauses(provenance)),
    st.builds(n.MeasureDecl, names, aggregates, _clauses(measure_clauses)),
    st.builds(n.ScoreDecl, names, exprs, _clauses(score_clauses)),
    st.builds(n.TierDecl, names, st.one_of(st.none(), exprs), _clauses(st.one_of(
        provenance, st.builds(n.Keep, st.one_of(st.none(), exprs)), st.builds(n.Hold, durations)))),
    st.builds(n.ConditionDecl, names, exprs, _clauses(provenance)),
    st.builds(n.PrivilegeDecl, names, exprs, _clauses(provenance)),
    st.builds(n.DefDecl, names, st.lists(st.builds(n.Param, names, types), max_size=3).map(tuple), exprs,
              st.one_of(st.none(), types)),
    st.builds(n.TestDecl, texts, st.lists(test_statements, max_size=4).map(tuple)),
    st.builds(n.PropertyDecl, texts, _clauses(provenance, 3), property_bodies),
)

programs = st.lists(declarations, max_size=8).map(lambda items: n.Program(tuple(items)))

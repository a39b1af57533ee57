"""Raw event tables as the score query's ``events``: validation and staging as SQLGlot trees, for any dialect.

Entry points:

* ``stage(plan, raw, columns, *, subjects_relation, attributes_needed, dialect) -> Staging`` —
  three queries over a raw table (``RawTable``: a table or view with the
  events as they were written, in their own column names and types):

  - ``Staging.checked``: every raw row with its input position ``__row`` and
    ``__problem`` (NULL, or every reason it is rejected, joined by ``; ``,
    worded as inputs.py words them);
  - ``Staging.events``: the accepted rows in ``sqlengine.Layout`` form, reading
    the relation ``__checked`` (the rows of ``checked``): subject, type, pos,
    at_us, and only the columns asked for of id, line, the local calendar
    keys (in the ruleset's timezone, whatever the session's) and the fields;
  - ``Staging.rejects``: ``row``, ``message`` and ``record`` (the row as JSON
    text, in its own column names) of each rejected row, by row, reading
    ``__checked`` too;
  - ``Staging.clean``: every raw row as ``checked`` has it but with none of the
    checks computed (``__problem`` NULL): once ``rejects`` has found the bad rows,
    the others of these can be ``__checked`` for ``events`` (sqlengine.load_columnar).

* ``raw_query(plan, raw, columns, *, dialect, as_of_us, subjects_relation) -> str`` —
  one self-contained query: the staging above as CTEs, then the score query
  (``sqlengine.compile_query``), with readable output columns named after the
  rule file: ``subject``, each score, ``tier`` (its name), each privilege (a
  boolean), each measure. ``rejects_query`` is the query of the rejected rows.

Positions: ties in time are broken by the input position. ``RawTable.position``
names a column that holds it (1-based; any increasing integers will do: a
sequence number, or on Spark the row number within a file combined with the
file's order). Without one, DuckDB numbers a table's rows by ``rowid`` (its
insertion order); no other dialect has a row order, so they require it
(``SqlUnsupported``). When the rows come from several files, the position is
a combined number and ``RawTable.line`` names the column that says where
each row is (`part-2.parquet:17`); messages and ``events.line`` use it.

Times: an ``at`` column that is an instant (DuckDB ``TIMESTAMP WITH TIME ZONE``,
Spark ``TIMESTAMP``) is that instant; a naive timestamp, a date, or a text
without an offset is a local time in the ruleset's timezone (as inputs.py
reads it); a text with an offset or zone is that instant. None of it depends
on the session's TimeZone: the local calendar keys are computed with the
ruleset's zone named in the query.

The Spark engine calls ``stage`` with ``dialect="spark"`` and the column types
Spark reports (``STRING``, ``BIGINT``, ``INT``, ``TIMESTAMP``, ``TIMESTAMP_NTZ``,
``DOUBLE``, ``BOOLEAN``, ``DATE``, ``DECIMAL(p,s)``…, upper case): they are read
as their DuckDB counterparts, so the checks and the messages are one set.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from ..columns import EVENT_KEYS, EXTRA_HINT, PLAIN, ColumnMap, ColumnsError
from ..inputs import OUT_OF_RANGE
from ..plan import Plan
from .sqlexpr import SqlUnsupported

DAY_US = 86_400_000_000
FIRST_INSTANT_US = -62_135_596_800_000_000  # 0001-01-01T00:00:00Z: the instants inputs.py accepts
LAST_INSTANT_US = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z
INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT")
SQL_TYPES = {"int": "BIGINT", "number": "DOUBLE", "bool": "BOOLEAN", "text": "VARCHAR",
             "date": "BIGINT", "datetime": "BIGINT", "duration": "BIGINT"}
CALENDAR_COLUMNS = ("local_day", "local_week", "local_month", "local_year")
# a text time carries its own offset or zone: after the minutes or seconds, Z, ±HH[:MM] or a zone name
# (no backslashes: they are escapes in Spark's string literals)
ZONE_SUFFIX_RE = ":[0-9][0-9]([.][0-9]*)?[ ]*([zZ]|[+-][0-9][0-9]?(:?[0-9][0-9])?|[A-Za-z][A-Za-z0-9_/+-]*)[ ]*$"
SUPPORTED_DIALECTS = ("duckdb", "spark", "databricks")
# Spark's type names as DuckDB's: one set of checks for both
_SPARK_TYPES = {"STRING": "VARCHAR", "INT": "INTEGER", "LONG": "BIGINT", "SHORT": "SMALLINT", "BYTE": "TINYINT",
                "TIMESTAMP": "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_LTZ": "TIMESTAMP WITH TIME ZONE",
                "TIMESTAMP_NTZ": "TIMESTAMP", "REAL": "FLOAT"}


@dataclass(frozen=True)
class RawTable:
    """A raw events table as the SQL reads it."""

    relation: str  # table/view name the SQL reads
    column_types: dict[str, str]  # raw column -> its SQL type name as the engine reports it (upper case)
    label: str  # name in messages: "events.parquet" -> "events.parquet:17"
    position: str | None = None  # column holding the 1-based input row number (None: DuckDB's rowid + 1)
    # column naming each row as messages show it (`part-1.parquet:17`) when the rows come from several files,
    # so that a position across files (file rank and row) never shows in a message; None: label:position
    line: str | None = None


@dataclass(frozen=True)
class Staging:
    """The staging queries of one raw table (module docstring); ``layout`` describes ``events``."""

    checked: exp.Select
    # every row of ``checked`` with ``__problem`` NULL and none of the checks computed: once the rejected
    # rows are known (from ``rejects``), ``__checked`` can be the others of these
    clean: exp.Select
    events: exp.Select
    rejects: exp.Select
    layout: object  # sqlengine.Layout: the field columns of events, and which number columns hold ints
    read_columns: tuple[str, ...]  # the columns of a rejected row's record, in the table's order


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _lit(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def _num(value: int) -> exp.Expression:
    return exp.Literal.number(value) if value >= 0 else exp.Neg(this=exp.Literal.number(-value))


def _text(node: exp.Expression) -> exp.Expression:
    return exp.cast(node, exp.DataType.build("VARCHAR"))


def _try_cast(node: exp.Expression, to: str) -> exp.Expression:
    return exp.TryCast(this=node, to=exp.DataType.build(to), safe=True)


def _func(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _concat(*parts) -> exp.Expression:
    """Text parts joined with ``||`` (NULL when a part is NULL); a str part is a literal."""
    nodes = [_lit(p) if isinstance(p, str) else p for p in parts]
    out = nodes[0]
    for node in nodes[1:]:
        out = exp.DPipe(this=out, expression=node, safe=False)
    return out


def _and(*conditions: exp.Expression) -> exp.Expression:
    return exp.and_(*[exp.paren(c, copy=False) for c in conditions], copy=False)


def _or(*conditions: exp.Expression) -> exp.Expression:
    return exp.or_(*[exp.paren(c, copy=False) for c in conditions], copy=False)


def _in(node: exp.Expression, texts) -> exp.Expression:
    texts = list(texts)
    return exp.In(this=node, expressions=[_lit(t) for t in texts] if texts else [exp.null()])


def _case(condition: exp.Expression, then: exp.Expression) -> exp.Expression:
    return exp.Case(ifs=[exp.If(this=condition, true=then)])


def _floor_div(x: exp.Expression, divisor: int) -> exp.Expression:
    """floor(x / divisor) in exact integer arithmetic (x a column: it is read twice)."""
    d = exp.Literal.number(divisor)
    remainder = exp.Mod(this=exp.paren(exp.Add(this=exp.Mod(this=x.copy(), expression=d.copy()), expression=d.copy())),
                        expression=d.copy())
    return exp.IntDiv(this=exp.paren(exp.Sub(this=x.copy(), expression=remainder)), expression=d.copy())


def _finite(x: exp.Expression) -> exp.Expression:
    """x is a finite number (x - x is 0 for every finite x, NaN for inf and NaN): every dialect has it."""
    return exp.EQ(this=exp.Sub(this=x.copy(), expression=x.copy()), expression=exp.Literal.number(0))


class _Dialect:
    """The few operations whose SQL differs between engines: instants and local wall-clock time."""

    def __init__(self, dialect: str, timezone: str):
        if dialect not in SUPPORTED_DIALECTS:
            raise SqlUnsupported(f"reading a raw events table in the {dialect} dialect (it is written for "
                                 f"{', '.join(SUPPORTED_DIALECTS)})")
        self.spark = dialect != "duckdb"
        self.dialect = dialect
        self.tz = timezone

    def type_name(self, reported: str) -> str:
        reported = reported.upper()
        return _SPARK_TYPES.get(reported, reported) if self.spark else reported

    def epoch_us(self, instant: exp.Expression) -> exp.Expression:
        """Microseconds since the epoch of an instant (TIMESTAMPTZ / Spark TIMESTAMP)."""
        return _func("unix_micros" if self.spark else "epoch_us", instant)

    def local_instant_us(self, naive: exp.Expression) -> exp.Expression:
        """The epoch microseconds of a naive timestamp read as wall-clock time in the ruleset's zone."""
        if self.spark:  # a TIMESTAMP from naive text is its wall clock in the session zone: undo that, then read
            wall = _func("from_utc_timestamp", naive, _func("current_timezone"))  # the wall clock in the ruleset's
            return self.epoch_us(_func("to_utc_timestamp", wall, _lit(self.tz)))
        return self.epoch_us(_func("timezone", _lit(self.tz), naive))

    def naive(self, node: exp.Expression, safe: bool) -> exp.Expression:
        """A value as a timestamp without its zone (on Spark: read in the session's, undone by local_instant_us)."""
        return _try_cast(node, "TIMESTAMP") if safe else exp.cast(node, "TIMESTAMP")

    def instant_us(self, node: exp.Expression, ctype: str) -> exp.Expression:
        """The epoch microseconds of a time column's value, NULL when it is not a time."""
        if ctype in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
            return self.epoch_us(node)
        if ctype.startswith("TIMESTAMP") or ctype == "DATE":
            return self.local_instant_us(self.naive(node, safe=False))
        if ctype == "VARCHAR":
            zoned = self.epoch_us(_try_cast(node, "TIMESTAMPTZ"))
            local = self.local_instant_us(self.naive(node, safe=True))
            return exp.Case(ifs=[exp.If(this=exp.RegexpLike(this=node.copy(), expression=_lit(ZONE_SUFFIX_RE)),
                                        true=zoned)], default=local)
        return exp.cast(exp.null(), "BIGINT")

    def local_us(self, at_us: exp.Expression) -> exp.Expression:
        """The wall-clock microseconds in the ruleset's zone of an instant given in epoch microseconds."""
        if self.tz in ("UTC", "Etc/UTC"):  # the instant itself (the zone conversion: 0.15 CPU s per 1M rows)
            return at_us.copy()
        if self.spark:
            return _func("unix_micros", _func("from_utc_timestamp", _func("timestamp_micros", at_us), _lit(self.tz)))
        return _func("epoch_us", _func("timezone", _lit(self.tz), _func("make_timestamptz", at_us)))

    def date_us(self, date: exp.Expression) -> exp.Expression:
        """A DATE as the epoch microseconds of its local midnight."""
        return self.local_instant_us(exp.cast(date, "TIMESTAMP"))

    def json_text(self, names: list[str]) -> exp.Expression:
        """The row's columns as one JSON object, as text."""
        struct = exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(c, quoted=True), expression=_col(c))
                                         for c in names])
        return _text(_func("to_json", struct))


VALUE = "__V__"  # in the condition _value returns: the value itself, once it is bound to a column


def _value(src: exp.Expression, ctype: str, kind: str, d: _Dialect) -> tuple[exp.Expression | None, exp.Expression]:
    """(the value in the query's representation, "the value fits") or (None, _) when the column never fits.

    The condition reads the value as the column ``VALUE`` (``bound`` puts the value's own column there),
    so that the value is computed once.
    """
    true = exp.true()
    bound = _col(VALUE)
    # an integer beyond int64 (a UBIGINT or HUGEINT column, a huge whole double) is a bad row, not an error
    fits = exp.Not(this=exp.Is(this=bound.copy(), expression=exp.null()))
    numeric = ctype in ("DOUBLE", "FLOAT") or ctype.startswith("DECIMAL")
    if kind in ("int", "number") and ctype in INTEGER_TYPES:
        return _try_cast(src.copy(), "BIGINT"), fits
    if kind == "int" and numeric:
        whole = exp.EQ(this=src.copy(), expression=exp.Floor(this=src.copy()))
        return _try_cast(src.copy(), "BIGINT"), _and(_finite(exp.cast(src.copy(), "DOUBLE")), whole, fits)
    if kind == "number" and numeric:
        return exp.cast(src.copy(), "DOUBLE"), _finite(bound)
    if kind == "bool" and ctype == "BOOLEAN":
        return src.copy(), true
    if kind == "text" and ctype == "VARCHAR":
        return src.copy(), true
    if kind == "date" and ctype == "DATE":
        return d.date_us(src.copy()), true
    if kind == "date" and ctype == "VARCHAR":
        return d.date_us(_try_cast(src.copy(), "DATE")), fits
    if kind == "datetime" and (ctype.startswith("TIMESTAMP") or ctype == "VARCHAR"):
        return d.instant_us(src.copy(), ctype), fits
    if kind == "duration" and (ctype in INTEGER_TYPES or ctype in ("DOUBLE", "FLOAT")):
        micros = exp.Round(this=exp.Mul(this=exp.cast(src.copy(), "DOUBLE"), expression=exp.Literal.number(1000000)))
        return exp.cast(micros, "BIGINT"), true
    return None, true


def bound(condition: exp.Expression, value: exp.Expression) -> exp.Expression:
    """A condition of _value with ``value`` (a column, or the expression itself) in place of VALUE."""
    return condition.copy().transform(
        lambda node: value.copy() if isinstance(node, exp.Column) and node.name == VALUE else node, copy=False)


def read_columns(table_columns: dict[str, str], columns: ColumnMap, subject_optional: bool) -> tuple[list, list]:
    """(the table's own columns a rejected row shows, the whuffie keys read from other columns).

    Raises ColumnsError for a table that cannot be read with the mapping (the messages of columns.sql_star).
    """
    for key in ("type", "at") if subject_optional else ("subject", "type", "at"):
        if columns.source(key) not in table_columns:
            shown = key if columns.source(key) == key else f"{columns.source(key)} (for {key})"
            raise ColumnsError(f"no column {shown!r} (columns: {', '.join(table_columns)})")
    moved = [k for k in EVENT_KEYS if columns.source(k) != k and k in table_columns]
    if moved and not columns.ignore_extra:
        key = moved[0]
        raise ColumnsError(f"the table has a column {key} and --columns reads {key} from "
                           f"{columns.source(key)}; {EXTRA_HINT}")
    own = [c for c in table_columns if c not in moved]
    added = columns.added_columns(table_columns, subject_optional)
    return own, added


def stage(plan: Plan, raw: RawTable, columns: ColumnMap = PLAIN, *, subjects_relation: str | None,
          attributes_needed: bool, dialect: str, needed: set[str] | None = None,
          only: str | None = None) -> Staging:
    """The staging queries of a raw table (module docstring).

    ``subjects_relation``: a relation with an ``id`` column, the known subjects
    (with ``attributes_needed``, a row naming another subject is rejected).
    ``needed``: the ``events`` columns to compute beyond subject, type, pos and
    at_us (None: all of them). ``only``: read that subject's rows only.
    Raises ColumnsError (the table cannot be read with ``columns``) and
    SqlUnsupported (a dialect this module has no instants for).
    """
    from ..roles import SEPARATOR, input_types, roles_of
    from .sqlengine import layout_for

    d = _Dialect(dialect, plan.timezone)
    rs = plan.ruleset
    with_roles = roles_of(rs)
    table_columns = {c: d.type_name(t) for c, t in raw.column_types.items() if c not in (raw.position, raw.line)}
    own, added = read_columns(table_columns, columns, bool(with_roles))
    column_types = columns.renamed_types(table_columns)

    # 1. the table's rows under whuffie's names, their position, the time as epoch microseconds and
    # the known-subject look-ups
    t = "__t"
    src = lambda name: _col(name, t)  # noqa: E731
    type_source = src(columns.source("type"))
    if columns.type_codes:
        type_value = exp.Case(this=exp.Trim(this=_text(type_source.copy())),
                              ifs=[exp.If(this=_lit(code), true=_lit(name)) for code, name in columns.type_codes.items()],
                              default=_text(type_source.copy()))
    else:
        type_value = type_source
    items: list[exp.Expression] = []
    for c in own:
        items.append((type_value.copy() if c == "type" and columns.type_codes else src(c)).as_(c, quoted=True))
    for key in ("subject", "type", "id"):
        if key in added:
            if columns.source(key) in table_columns:
                value = type_value.copy() if key == "type" else src(columns.source(key))
            else:
                value = exp.cast(exp.null(), "VARCHAR")
            items.append(value.as_(key, quoted=True))
    at_column = columns.source("at")
    items.append(src(at_column).as_("__at", quoted=True))
    if raw.position is not None:  # a column, or an expression of the table's columns (Spark: _metadata.row_index + 1)
        items.append(exp.cast(_position(raw.position, dialect, t), "BIGINT").as_("__row", quoted=True))
    elif not d.spark:
        items.append(exp.Add(this=exp.column("rowid", table=t), expression=exp.Literal.number(1)).as_("__row"))
    else:
        raise SqlUnsupported("a raw table without a position column in the Spark dialect (a Spark table has no "
                             "row order: name one with --position)")
    if raw.line is not None:
        items.append(_text(src(raw.line)).as_("__line", quoted=True))
    subject_source = (src(columns.source("subject")) if columns.source("subject") in table_columns
                      else exp.cast(exp.null(), "VARCHAR"))
    items.append(_text(subject_source.copy()).as_("__subject"))
    items.append(_text(type_value.copy()).as_("__type"))
    items.append(d.instant_us(src(at_column), table_columns[at_column]).as_("__at_us"))
    source = exp.select(*items).from_(exp.alias_(_relation(raw.relation, dialect), t))
    role_columns = sorted({r for roles in with_roles.values() for r in roles if r in table_columns})
    if only is not None:
        named = [_text(subject_source.copy())] + [_text(src(r)) for r in role_columns]
        source = source.where(_or(*[exp.EQ(this=x, expression=_lit(only)) for x in named]))
    checking_subjects = attributes_needed and subjects_relation is not None
    lookups: list[tuple[str, exp.Expression]] = []
    if checking_subjects:
        lookups.append(("__known_subject", _text(subject_source.copy())))
        for base, roles in with_roles.items():
            for role in roles:
                if role in table_columns:
                    lookups.append((f"__known_{role}", _text(src(role))))
        for i, (name, key) in enumerate(lookups):
            alias = f"__k{i}"
            known = exp.select(_text(exp.column("id")).as_("__id")).from_(_relation(subjects_relation, dialect)).distinct()
            source = source.join(exp.alias_(exp.Subquery(this=known), alias), on=exp.EQ(
                this=key, expression=exp.column("__id", table=alias)), join_type="left")
            source = source.select(exp.column("__id", table=alias).as_(name, quoted=True), append=True)

    # 2. the problems of each row, as inputs.py words them
    problems: list[exp.Expression] = []

    def check(condition: exp.Expression, *message) -> None:
        problems.append(_case(condition, _concat(*message)))

    subject, etype = _col("__subject"), _col("__type")
    is_role_row = exp.Coalesce(this=_in(etype.copy(), with_roles), expressions=[exp.false()])
    check(_and(_or(exp.Is(this=subject.copy(), expression=exp.null()), exp.EQ(this=subject.copy(), expression=_lit(""))),
               exp.Not(this=is_role_row)), "missing subject")
    for base, roles in with_roles.items():
        check(_and(exp.Not(this=exp.Is(this=subject.copy(), expression=exp.null())),
                   exp.EQ(this=etype.copy(), expression=_lit(base))),
              f"subject: an event {base} names its subjects by role ({', '.join(roles)}), not in a subject column")
    known_types = list(input_types(rs))
    check(_or(exp.Is(this=etype.copy(), expression=exp.null()), exp.Not(this=_in(etype.copy(), known_types))),
          "unknown event type ", exp.Coalesce(this=_concat('"', etype.copy(), '"'), expressions=[_lit("none")]))
    at_us, at_raw = _col("__at_us"), _col("__at")
    check(exp.Is(this=at_us.copy(), expression=exp.null()),
          "at: expected an ISO 8601 datetime such as 2026-01-10T09:30:00Z, got ",
          exp.Coalesce(this=_text(at_raw.copy()), expressions=[_lit("none")]))
    # DuckDB holds instants past year 9999 that no engine may score: the same bad row as inputs.py's
    check(exp.Not(this=exp.Between(this=at_us.copy(), low=_num(FIRST_INSTANT_US), high=_num(LAST_INSTANT_US))),
          'at: "', _text(at_raw.copy()), f'" is {OUT_OF_RANGE}')
    has_id = "id" in column_types
    if has_id:
        check(_and(exp.Not(this=exp.Is(this=_col("id"), expression=exp.null())),
                   exp.EQ(this=_text(_col("id")), expression=_lit(""))), 'id: expected text, got ""')
    layout = layout_for(plan)
    field_values: dict[str, exp.Expression] = {}
    valued: dict[tuple, tuple[str, exp.Expression]] = {}  # (column, its type, field kind) -> (bound name, value)
    for ename, decl in rs.events.items():
        if SEPARATOR in ename:  # `voted as voter` reads the row of `voted`: its columns come below
            continue
        is_type = exp.EQ(this=etype.copy(), expression=_lit(ename))
        for f in decl.fields:
            column = layout.field_columns[(ename, f.name)]
            kind = f.type.name
            missing = f"missing required field {f.name} of {ename}"
            null_column = exp.cast(exp.null(), SQL_TYPES.get(kind, "VARCHAR"))
            if f.name not in column_types:
                if not f.optional:
                    check(is_type.copy(), missing)
                field_values[column] = null_column
                continue
            value_src = _col(f.name)
            ctype = column_types[f.name]
            is_role = f.name in with_roles.get(ename, ())
            if is_role and ctype in INTEGER_TYPES:  # an integer id is read as its decimal text
                value, valid = _text(value_src.copy()), exp.true()
                ctype = "VARCHAR"
            else:
                value, valid = _value(value_src, ctype, kind, d)
                if value is not None and not isinstance(value, exp.Column):  # computed once, in __valued
                    key = (f.name, ctype, kind)
                    if key not in valued:
                        valued[key] = (f"__v{len(valued)}", value)
                    value = _col(valued[key][0])
                if value is not None:
                    valid = bound(valid, value)
            present = exp.Not(this=exp.Is(this=value_src.copy(), expression=exp.null()))
            if not f.optional:  # also in a column of the wrong type: an empty cell is still a missing value
                check(_and(is_type.copy(), exp.Is(this=value_src.copy(), expression=exp.null())), missing)
            if value is None:
                check(_and(is_type.copy(), present.copy()), f"field {f.name}: expected {kind}, the column is {ctype}")
                field_values[column] = null_column
                continue
            always = valid == exp.true()  # the column's every value fits: no check, no condition
            if not always:
                check(_and(is_type.copy(), present.copy(), exp.Not(this=exp.paren(valid.copy()))),
                      f"field {f.name}: expected {kind}, got ", _text(value_src.copy()))
            if f.range is not None and kind in ("int", "number"):
                inside = exp.Between(this=value.copy(), low=exp.Literal.number(repr(f.range.low)),
                                     high=exp.Literal.number(repr(f.range.high)))
                check(_and(is_type.copy(), present.copy(), *([] if always else [valid.copy()]), exp.Not(this=inside)),
                      f"field {f.name}: expected {kind} in {f.range.low!r}..{f.range.high!r}, got ",
                      _text(value_src.copy()))
            if f.choices is not None and kind == "text":
                check(_and(is_type.copy(), present.copy(), *([] if always else [valid.copy()]),
                           exp.Not(this=_in(value.copy(), f.choices.values))),
                      f"field {f.name}: expected text in its declared values, got ", _text(value_src.copy()))
            field_values[column] = _case(is_type.copy() if always else _and(is_type.copy(), valid.copy()), value)
            if kind == "number" and ctype in INTEGER_TYPES:
                layout.int_numbers.add(column)
            if is_role:
                check(_and(is_type.copy(), exp.EQ(this=_text(value_src.copy()), expression=_lit(""))),
                      f"field {f.name}: expected the id of a {plan.subject_kind or 'subject'}, got \"\"")
    for ename in rs.events:  # each role's event reads the same columns as its event
        if SEPARATOR in ename:
            base = ename.split(SEPARATOR, 1)[0]
            for f in rs.events[base].fields:
                base_column = layout.field_columns[(base, f.name)]
                field_values[layout.field_columns[(ename, f.name)]] = field_values[base_column]
                if base_column in layout.int_numbers:
                    layout.int_numbers.add(layout.field_columns[(ename, f.name)])
    for column in column_types:  # a value in a column that is no field of the row's type
        if column in EVENT_KEYS or columns.ignore_extra:
            continue
        owners = [name for name, decl in rs.events.items() if any(f.name == column for f in decl.fields)]
        check(_and(exp.Not(this=exp.Is(this=_col(column), expression=exp.null())),
                   exp.Not(this=exp.Is(this=etype.copy(), expression=exp.null())),
                   exp.Not(this=_in(etype.copy(), owners)), _in(etype.copy(), known_types)),
              f"unknown field {column} for event ", etype.copy())
    if checking_subjects:
        kind_name = plan.subject_kind or "subject"
        check(_and(exp.Not(this=exp.Is(this=subject.copy(), expression=exp.null())),
                   exp.Is(this=_col("__known_subject"), expression=exp.null())),
              f'unknown {kind_name} "', subject.copy(), '": not in the subjects file')
        for base, roles in with_roles.items():
            for role in roles:
                if role in table_columns:
                    r = _text(_col(role))
                    check(_and(exp.EQ(this=etype.copy(), expression=_lit(base)),
                               exp.Not(this=exp.Is(this=r.copy(), expression=exp.null())),
                               exp.Is(this=_col(f"__known_{role}"), expression=exp.null())),
                          f'unknown {kind_name} "', r.copy(), '": not in the subjects file')
    message = exp.Nullif(this=_func("concat_ws", _lit("; "), *problems), expression=_lit(""))
    ctes = [("__source", source)]
    current = "__source"
    if valued:  # each field's value in the query's representation, once (the checks and the events read it)
        ctes.append(("__valued", exp.select(exp.Star(), *[v.as_(name) for name, v in valued.values()])
                     .from_(current)))
        current = "__valued"
    ctes.append(("__flagged", exp.select(exp.Star(), message.as_("__problem0")).from_(current)))

    # 3. an id given twice: every later row with it is rejected, as inputs.py does
    if has_id:
        first = exp.Window(this=exp.Min(this=_case(_and(exp.Is(this=_col("__problem0"), expression=exp.null()),
                                                        exp.Not(this=exp.Is(this=_col("id"), expression=exp.null()))),
                                                   _col("__row"))),
                           partition_by=[_text(_col("id"))])
        first_items = [first.as_("__first_row")]
        if raw.line is not None:  # where the first row is, in its own file
            first_items.append(exp.Window(this=exp.ArgMin(this=_col("__line"), expression=_case(
                _and(exp.Is(this=_col("__problem0"), expression=exp.null()),
                     exp.Not(this=exp.Is(this=_col("id"), expression=exp.null()))), _col("__row"))),
                partition_by=[_text(_col("id"))]).as_("__first_line"))
            first_at = [_text(_col("__first_line"))]
        else:
            first_at = [_lit(f"{raw.label}:"), _text(_col("__first_row"))]
        ctes.append(("__first", exp.select(exp.Star(), *first_items).from_("__flagged")))
        duplicate = _concat('duplicate id "', _text(_col("id")), '" (first at ', *first_at, ")")
        problem = exp.Case(ifs=[exp.If(this=_and(exp.Is(this=_col("__problem0"), expression=exp.null()),
                                                 exp.GT(this=_col("__row"), expression=_col("__first_row"))),
                                       true=duplicate)], default=_col("__problem0"))
        last = "__first"
    else:
        problem, last = _col("__problem0"), "__flagged"
    checked = exp.select(exp.Star(), problem.as_("__problem")).from_(last)
    clean = exp.select(exp.Star(), exp.cast(exp.null(), "VARCHAR").as_("__problem")).from_(
        "__valued" if valued else "__source")
    for name, select in ctes:
        checked = checked.with_(name, as_=select.copy(), copy=False)
        if name in ("__source", "__valued"):
            clean = clean.with_(name, as_=select, copy=False)

    events = _events(plan, d, layout, field_values, with_roles, role_columns, needed,
                     None if raw.line is not None else raw.label, has_id)
    record_columns = [c for c in own] + ["__row"]
    rejects = exp.select(_col("__row").as_("row"), _col("__problem").as_("message"),
                         d.json_text(record_columns).as_("record"),
                         *([_col("__line").as_("line")] if raw.line is not None else [])).from_("__checked").where(
        exp.Not(this=exp.Is(this=_col("__problem"), expression=exp.null()))).order_by(_col("__row"))
    return Staging(checked, clean, events, rejects, layout, tuple(record_columns))


def _events(plan: Plan, d: _Dialect, layout, field_values: dict[str, exp.Expression], with_roles, role_columns,
            needed: set[str] | None, label: str | None, has_id: bool) -> exp.Select:
    """The accepted rows of ``__checked`` as the score query's ``events`` (a role event's row once per role)."""
    want = (lambda c: True) if needed is None else (lambda c: c in needed)  # noqa: E731
    accepted = exp.Is(this=_col("__problem"), expression=exp.null())
    fields = [(c, v) for c, v in field_values.items() if want(c)]
    line = _col("__line") if label is None else _concat(f"{label}:", _text(_col("__row")))  # None: RawTable.line
    base = []
    if want("id"):
        base.append((exp.Coalesce(this=_text(_col("id")), expressions=[line.copy()]) if has_id else line.copy()).as_("id"))
    if want("line"):
        base.append(line.copy().as_("line"))
    base.append(_col("__at_us").as_("at_us"))
    base += [v.copy().as_(c) for c, v in fields]

    def branch(subject: exp.Expression, etype: exp.Expression, where: exp.Expression, index: None):
        return exp.select(subject.as_("subject"), etype.as_("type"), _col("__row").as_("pos"),
                          *[b.copy() for b in base]).from_("__checked").where(where)

    if with_roles:
        # a row of a role event is one event per role, for that role's subject: the rows are read once, joined
        # to the role numbers (0: the row as it is); pos keeps the input order and, within a row, the roles'
        # order (as inputs.py numbers them)
        i = _col("__i")
        bases = list(with_roles)
        subjects, types, picked = [exp.If(this=exp.EQ(this=i.copy(), expression=exp.Literal.number(0)),
                                          true=_col("__subject"))], [], []
        types.append(exp.If(this=subjects[0].this.copy(), true=_col("__type")))
        numbers = {0}
        for base_type, roles in with_roles.items():
            for index, role in enumerate(roles):
                if role in role_columns:
                    when = _and(exp.EQ(this=_col("__type"), expression=_lit(base_type)),
                                exp.EQ(this=i.copy(), expression=exp.Literal.number(index + 1)))
                    subjects.append(exp.If(this=when, true=_text(_col(role))))
                    types.append(exp.If(this=when.copy(), true=_lit(f"{base_type} as {role}")))
                    picked.append(when.copy())
                    numbers.add(index + 1)
        plain = _and(exp.EQ(this=i.copy(), expression=exp.Literal.number(0)), exp.Not(this=_in(_col("__type"), bases)))
        pos = exp.Add(this=exp.Mul(this=_col("__row"), expression=exp.Literal.number(16)), expression=exp.Case(
            ifs=[exp.If(this=exp.EQ(this=i.copy(), expression=exp.Literal.number(0)), true=exp.Literal.number(0))],
            default=exp.Sub(this=i.copy(), expression=exp.Literal.number(1))))
        role_numbers = exp.values([(k,) for k in sorted(numbers)], alias="__roles", columns=["__i"])
        rows = exp.select(exp.Case(ifs=subjects).as_("subject"), exp.Case(ifs=types).as_("type"), pos.as_("pos"),
                          *[b.copy() for b in base]).from_("__checked").join(role_numbers, join_type="cross") \
            .where(_and(accepted, _or(plain, *picked)))
    else:
        rows = branch(_col("__subject"), _col("__type"), accepted, None)
    kept = ["subject", "type", "pos"] + [c for c in ("id", "line") if want(c)] + ["at_us"] + [c for c, _ in fields]
    return with_calendar("__rows", kept, [c for c in CALENDAR_COLUMNS if want(c)], d, before=[("__rows", rows)])


def with_calendar(relation: str, kept: list[str], keys: list[str], d: _Dialect | None = None, *,
                  dialect: str | None = None, timezone: str | None = None, before=()) -> exp.Select:
    """The rows of ``relation`` (its ``kept`` columns, with ``at_us``) and the calendar ``keys`` asked for.

    The keys are of the wall-clock time in the ruleset's zone (``d``, or ``dialect`` and ``timezone``),
    by exact integer floor division, whatever the session's zone. ``before``: CTEs the relation is among.
    """
    d = d or _Dialect(dialect, timezone)
    ctes = list(before)
    current = relation
    if keys:
        ctes.append(("__local", exp.select(exp.Star(), d.local_us(_col("at_us")).as_("__local_us")).from_(current)))
        ctes.append(("__day", exp.select(exp.Star(), _floor_div(_col("__local_us"), DAY_US).as_("__local_day"))
                     .from_("__local")))
        date = exp.DateAdd(this=exp.cast(_lit("1970-01-01"), "DATE"), expression=exp.cast(_col("__local_day"), "INT"),
                           unit=exp.var("DAY"))
        ctes.append(("__date", exp.select(exp.Star(), date.as_("__local_date")).from_("__day")))
        current = "__date"
    day = _col("__local_day")
    calendar_sql = {
        "local_day": day,
        "local_week": exp.cast(exp.Floor(this=exp.Div(this=exp.paren(exp.Add(this=day.copy(), expression=exp.Literal.number(3))),
                                                      expression=exp.Literal.number("7.0"))), "BIGINT"),
        "local_month": exp.Add(this=exp.Mul(this=exp.Year(this=_col("__local_date")), expression=exp.Literal.number(12)),
                               expression=exp.Sub(this=exp.Month(this=_col("__local_date")), expression=exp.Literal.number(1))),
        "local_year": exp.Year(this=_col("__local_date")),
    }
    out = [_col(c) for c in kept if c in ("subject", "type", "pos", "id", "line", "at_us")]
    out += [exp.cast(calendar_sql[c].copy(), "BIGINT").as_(c) for c in keys]
    out += [_col(c) for c in kept if c not in ("subject", "type", "pos", "id", "line", "at_us")]
    events = exp.select(*out).from_(current)
    for name, select in ctes:
        events = events.with_(name, as_=select, copy=False)
    return events


# ---------------------------------------------------------------- one self-contained query from a raw table


def default_column_types(plan: Plan, columns: ColumnMap = PLAIN) -> dict[str, str]:
    """The raw table's columns and types when none are given: whuffie's own layout as DuckDB reads its files.

    subject, type and id are text, at an instant (TIMESTAMP WITH TIME ZONE; on Spark, TIMESTAMP), and each
    declared field is a column of its name: int BIGINT, number DOUBLE, bool BOOLEAN, text VARCHAR, date
    DATE, datetime an instant, duration DOUBLE (seconds). ``columns`` renames subject, type, at and id.
    """
    from ..roles import SEPARATOR

    kinds = {"int": "BIGINT", "number": "DOUBLE", "bool": "BOOLEAN", "text": "VARCHAR", "date": "DATE",
             "datetime": "TIMESTAMP WITH TIME ZONE", "duration": "DOUBLE"}
    out = {columns.source("subject"): "VARCHAR", columns.source("type"): "VARCHAR",
           columns.source("at"): "TIMESTAMP WITH TIME ZONE", columns.source("id"): "VARCHAR"}
    for name, decl in plan.ruleset.events.items():
        if SEPARATOR in name:
            continue
        for f in decl.fields:
            out.setdefault(f.name, kinds.get(f.type.name, "VARCHAR"))
    return out


def attributes_read(plan: Plan) -> list[str]:
    """The subject attributes some rule, measure, score, tier or privilege reads (never a protected one)."""
    from .. import nodes as n

    roots = [x for r in plan.rules for x in (r.where, r.award)] + [x for m in plan.measures for x in (m.where, m.default)]
    roots += [s.expr for s in plan.scores] + [t.condition for t in plan.tiers] + [p.condition for p in plan.privileges]
    found: set[str] = set()
    stack = [x for x in roots if x is not None]
    while stack:
        x = stack.pop()
        if isinstance(x, n.Attribute):
            found.add(x.name)
        stack.extend(n.children(x))
    kind = plan.ruleset.subject_kind
    declared = [f.name for f in kind.fields if not f.protected] if kind is not None else []
    return [a for a in declared if a in found]


def _subjects(plan: Plan, relation: str | None, types: dict[str, str] | None, attributes: list[str],
              layout, d: _Dialect) -> exp.Select:
    """The score query's ``subjects``: id and the attributes the rules read, in the query's representation."""
    kinds = {f.name: f.type.name for f in plan.ruleset.subject_kind.fields} if plan.ruleset.subject_kind else {}
    default = {"int": "BIGINT", "number": "DOUBLE", "bool": "BOOLEAN", "text": "VARCHAR", "date": "DATE",
               "datetime": "TIMESTAMP WITH TIME ZONE", "duration": "DOUBLE"}
    if relation is None:
        items = [exp.cast(exp.null(), "VARCHAR").as_("id")] + [
            exp.cast(exp.null(), SQL_TYPES.get(kinds[a], "VARCHAR")).as_(layout.attr_columns[a]) for a in attributes]
        return exp.select(*items).where(exp.false())
    items = [_text(_col("id")).as_("id")]
    for a in attributes:
        ctype = d.type_name((types or {}).get(a, default.get(kinds[a], "VARCHAR")))
        value, valid = _value(_col(a), ctype, kinds[a], d)
        if value is None:
            raise SqlUnsupported(f"attribute {a} read from a column of type {ctype} (expected {kinds[a]})")
        items.append((value if valid == exp.true() else _case(bound(valid, value), value)).as_(layout.attr_columns[a]))
    return exp.select(*items).from_(_relation(relation, d.dialect))


def _ctes(select: exp.Select) -> tuple[list[tuple[str, exp.Select]], exp.Select]:
    """A query's WITH items and the query without them."""
    body = select.copy()
    with_ = body.args.get("with_")
    body.set("with_", None)
    return ([(cte.alias, cte.this) for cte in with_.expressions] if with_ is not None else []), body


def renamed_relations(tree: exp.Expression, names: dict[str, str]) -> exp.Expression:
    """A copy of ``tree`` reading each relation of ``names`` under its new name; an unaliased read keeps the old
    name as its alias, so columns qualified by it still resolve (the score query's events and subjects, or a
    WITH layer that Spark runs as a view)."""
    def swap(node):
        if isinstance(node, exp.Table) and not node.args.get("db") and node.name in names:
            return exp.alias_(exp.to_table(names[node.name]), node.alias or node.name, table=True)
        return node
    return tree.transform(swap)


def _output(plan: Plan, d: _Dialect, compiled) -> list[exp.Expression]:
    """The score query's columns under the rule file's names, in their checked types."""
    rs = plan.ruleset
    as_type = {"int": "BIGINT", "number": "DOUBLE", "bool": "BOOLEAN", "text": "VARCHAR"}

    def typed(column: str, t) -> exp.Expression:
        base = getattr(t, "base", None)
        value = _col(column)
        if base in ("datetime", "date"):  # epoch microseconds: an instant (a date is its local midnight)
            return _func("timestamp_micros" if d.spark else "make_timestamptz", value)
        if base == "duration":  # microseconds: seconds
            return exp.Div(this=exp.cast(value, "DOUBLE"), expression=exp.Literal.number("1000000.0"))
        return exp.cast(value, as_type[base]) if base in as_type else value

    out: list[exp.Expression] = [_col("subject")]
    for name, column in compiled.score_columns.items():
        out.append(typed(column, rs.score_types.get(name)).as_(name, quoted=True))
    if plan.tiers:
        out.append(exp.Case(this=_col("tier_rank"), ifs=[exp.If(this=exp.Literal.number(t.rank), true=_lit(t.name))
                                                        for t in plan.tiers]).as_("tier", quoted=True))
    for name, column in compiled.privilege_columns.items():
        out.append(_col(column).as_(name, quoted=True))
    for i, m in enumerate(plan.measures):
        out.append(typed(f"m{i}", rs.measure_types.get(m.name)).as_(m.name, quoted=True))
    return out


def _position(text: str, dialect: str, table: str) -> exp.Expression:
    """The input position: a column of the raw table by name, or an SQL expression of its columns."""
    import sqlglot

    if text.isidentifier():
        return _col(text, table)
    try:
        return sqlglot.parse_one(text, read=dialect)
    except sqlglot.errors.ParseError:
        return _col(text, table)


def _relation(name: str, dialect: str) -> exp.Expression:
    """A relation as the user wrote it: a table (db.events), or a table function (read_parquet('f.parquet'))."""
    import sqlglot

    try:
        parsed = sqlglot.parse_one(f"SELECT * FROM {name}", read=dialect)
    except sqlglot.errors.ParseError:
        return exp.to_table(name)
    return parsed.args["from_"].this if parsed.args.get("from_") is not None else exp.to_table(name)


def raw_query(plan: Plan, raw: RawTable, columns: ColumnMap = PLAIN, *, dialect: str, as_of_us: int | None = None,
              subjects_relation: str | None = None, subjects_types: dict[str, str] | None = None,
              pretty: bool = False, rejects: bool = False) -> str:
    """One self-contained query from the raw table: staging, validation and the score query (module docstring).

    Rejected rows are left out; with ``rejects`` the query lists them instead (row, message, record).
    ``subjects_relation`` (columns ``id`` and each attribute by its name, of ``subjects_types`` or the
    declared types): every subject in it is scored, events or none, as with ``score --subjects``; when
    the rules read attributes, a row naming a subject it lacks is rejected.
    Raises SqlUnsupported (W091) for what the query cannot express, ColumnsError for a table the
    mapping cannot read.
    """
    from .sqlengine import _NO_ORDERED_AGGREGATES, _ordered_sum_as_fold, compile_query

    d = _Dialect(dialect, plan.timezone)
    attributes = attributes_read(plan)
    known = subjects_relation if attributes else None
    first = stage(plan, raw, columns, subjects_relation=known, attributes_needed=bool(attributes),
                  dialect=dialect)
    layout = first.layout
    layout.attr_columns = {a: c for a, c in layout.attr_columns.items() if a in attributes}
    layout.attr_types = {a: t for a, t in layout.attr_types.items() if a in attributes}
    if rejects:
        checked_ctes, checked = _ctes(first.checked)
        query = first.rejects.copy()
        for name, select in checked_ctes + [("__checked", checked)]:
            query = query.with_(name, as_=select, copy=False)
        return query.sql(dialect=dialect, pretty=pretty)
    compiled = compile_query(plan, as_of_us, layout, dialect=dialect)
    score = renamed_relations(compiled.query, {"events": "__events", "subjects": "__subjects"})
    read = {c.name for c in score.find_all(exp.Column)}
    staged = stage(plan, raw, columns, subjects_relation=known, attributes_needed=bool(attributes),
                   dialect=dialect, needed=read)
    checked_ctes, checked = _ctes(staged.checked)
    event_ctes, events = _ctes(staged.events)
    score_ctes, score_body = _ctes(score)
    last = score_body.args["from_"].this.name
    final = exp.select(*_output(plan, d, compiled)).from_(last).order_by(_col("subject"))
    ctes = checked_ctes + [("__checked", checked)] + event_ctes + [("__events", events)]
    ctes += [("__subjects", _subjects(plan, subjects_relation, subjects_types, attributes, layout, d))] + score_ctes
    for name, select in ctes:
        final = final.with_(name, as_=select, copy=False)
    if dialect in _NO_ORDERED_AGGREGATES:
        final = final.transform(_ordered_sum_as_fold)
    return final.sql(dialect=dialect, pretty=pretty)

"""The JSONL events reader of the DuckDB engine: a log read, validated and staged in SQL.

Entry point: ``read_text_log(path, plan, subjects, attributes_needed, con, columns)``
(sqlengine.load_text_log calls it), giving a ColumnarLoad with ``events``
registered, exactly as inputs.py would read the log.

Two passes. The fast one, one parallel DuckDB statement over the lines, reads
each line's JSON for the types and texts of the keys the plan knows and for
the number of its keys, and accepts, all in SQL, only the lines inputs.py's
quick path would accept with the same values (measured against reading the
values as JSON once and their types from those: slower; benchmarks/README.md).
It writes one table, ``__staged`` (a row per non-empty line, its values and
whether SQL accepted it, none of its text); ``events`` is a view of it, as the
Parquet path's is of its file. The second pass, only when there are other
lines (malformed, unusual, duplicate ids, unknown subjects…), hands them with
their line numbers to inputs.parse_events, so rejects carry inputs.py's exact
messages and what it accepts is scored.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from ..columns import PLAIN, ColumnMap
from ..plan import Plan
from .sqlengine import (_FIRST_INSTANT, _LAST_INSTANT, SQL_TYPES, ColumnarError, ColumnarLoad, Layout,
                        SqlUnsupported, _Values, _ident, _quote, _sql_texts, _subject_ids, _us, arrow_events,
                        layout_for)

# datetime.fromisoformat reads the same way. Anything else goes to inputs.py's careful path.
_AT_RE = r"\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{3}|\.\d{6})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)"
_AT_RE_NAIVE = r"\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{3}|\.\d{6})?"
_DATE_RE = r"\d{4}-\d{2}-\d{2}"


def read_text_log(spec: str, plan: Plan, subjects: dict[str, dict] | None, attributes_needed: bool,
                  con, columns: ColumnMap = PLAIN) -> ColumnarLoad:
    """Read a JSONL events log with DuckDB, validate it in SQL and register ``events`` (as load_columnar).

    The SQL pass accepts only lines that inputs.py's quick path would accept
    with the same values: a JSON object with a text subject, a known type, a
    plain ISO 8601 `at`, a unique text id (or none), exactly the type's fields
    with values of their declared types and ranges. Every other non-empty
    line (malformed, unusual, duplicate ids, unknown subjects…) is handed to
    inputs.parse_events with its line number, so rejects carry inputs.py's
    exact messages and what it accepts is scored. Lines are numbered as
    inputs.py numbers them; ``pos`` is the line number (input order).
    ``columns`` is read in SQL too: the JSON keys of the table's own names,
    integer ids as their text, type codes translated, extra keys skipped.
    """
    import duckdb

    from ..inputs import DataError, parse_events

    path = spec
    name = path.rsplit("/", 1)[-1]
    con.execute(f"SET TimeZone = '{_quote(plan.timezone)}'").fetchall()
    rs = plan.ruleset
    layout = layout_for(plan)
    try:
        con.execute(f"""CREATE TEMP TABLE __raw AS SELECT generate_subscripts(parts, 1) AS number,
            unnest(parts) AS raw FROM (SELECT string_split(content, chr(10)) AS parts
            FROM read_text('{_quote(path)}'))""").fetchall()
        # Python reads a lone carriage return as a line end too: leave such files to inputs.py
        lone_cr = con.execute("SELECT count(*) FROM __raw WHERE strpos(raw, chr(13)) BETWEEN 1 AND length(raw) - 1"
                              ).fetchall()[0][0]
    except duckdb.Error:
        lone_cr = None
    if lone_cr is None or lone_cr:
        return _text_log_in_python(spec, plan, subjects, attributes_needed, con, columns=columns)
    # Per line: the JSON types and the texts of every key the plan knows (subject, type, at, id and
    # each declared field) and the line's keys (the line end of a line handed to inputs.py is added to
    # those lines only). A trailing comma is valid to DuckDB's parser and not to Python's: Python reads
    # such a line.
    field_names = list(dict.fromkeys(f.name for decl in rs.events.values() for f in decl.fields))
    keys = list(EVENT_KEYS_SQL) + [f for f in field_names if f not in EVENT_KEYS_SQL]
    paths = ", ".join(f"'$.\"{_quote(_ident(columns.source(k) if k in EVENT_KEYS_SQL else k))}\"'" for k in keys)
    slot = {k: i + 1 for i, k in enumerate(keys)}
    last_line = con.execute("SELECT max(number) FROM __raw").fetchall()[0][0]
    # rtrim copies every string: only the first line (a byte-order mark) and CRLF lines need it
    line = ("CASE WHEN number = 1 OR ends_with(raw, chr(13)) THEN (CASE WHEN number = 1 AND "
            "starts_with(rtrim(raw, chr(13)), chr(65279)) THEN substr(rtrim(raw, chr(13)), 2) "
            "ELSE rtrim(raw, chr(13)) END) ELSE raw END")
    # The parse is a subquery of the one statement that stages the lines (no table of it: held, its
    # lists of texts cost more to store than to compute; as a view, DuckDB would put its JSON calls into
    # every condition that reads them, once per reference). k: the line's keys with --extra ignore (to
    # pick the known ones), else only their number. A valid line never makes the JSON functions fail;
    # should one, the statement is run again with try().
    keys_sql = "json_keys(line)" if columns.ignore_extra else "len(json_keys(line))"

    def parse(guard: str) -> str:
        return f"""SELECT number,
            CASE WHEN valid THEN {guard}(json_type(line, [{paths}])) END AS ty,
            CASE WHEN valid THEN {guard}(json_extract_string(line, [{paths}])) END AS sv,
            CASE WHEN valid THEN {guard}({keys_sql}) END AS k
        FROM (SELECT number, line, json_valid(line) AND NOT regexp_matches(line, ',\\s*[}}\\]]') AS valid
              FROM (SELECT number, {line} AS line FROM __raw) WHERE line <> '')"""

    def t(key: str) -> str:
        return f"ty[{slot[key]}]"

    def s(key: str) -> str:
        return f"sv[{slot[key]}]"

    # an integer id (with a column mapping) is read as its decimal text, as inputs.py reads it
    id_types = "('VARCHAR', 'BIGINT', 'UBIGINT')" if columns.integer_ids else "('VARCHAR')"

    def id_ok(key: str) -> str:
        return (f"{t(key)} IN {id_types} AND ({t(key)} = 'VARCHAR' OR "
                f"regexp_full_match({s(key)}, '0|-?[1-9][0-9]*'))")

    ty = s('type')
    type_types = "('VARCHAR')"
    if columns.type_codes:  # a code becomes its type's name; anything else stays as it is
        whens = " ".join(f"WHEN '{_quote(code)}' THEN '{_quote(name)}'" for code, name in columns.type_codes.items())
        ty = f"(CASE trim({s('type')}) {whens} ELSE {s('type')} END)"
        type_types = "('VARCHAR', 'BIGINT', 'UBIGINT')"
    utc = plan.timezone in ("UTC", "Etc/UTC")
    at_re = f"({_AT_RE}|{_AT_RE_NAIVE})" if utc else _AT_RE
    from ..roles import input_types, roles_of

    # a line of a role event (one event per role) and a line naming a per-role type go to inputs.py
    with_roles = roles_of(rs)
    known = ", ".join(f"'{_quote(x)}'" for x in input_types(rs) if x not in with_roles) or "NULL"
    good = [
        id_ok('subject'), f"{s('subject')} <> ''",
        f"{t('type')} IN {type_types}", f"{ty} IN ({known})",
        f"{t('at')} = 'VARCHAR'", f"regexp_full_match({s('at')}, '{at_re}')",
        # a time past the range Python's datetime holds (9999-12-31T23:00:00-05:00 is in year 10000
        # UTC) goes to inputs.py, which rejects it with its message
        f"TRY_CAST({s('at')} AS TIMESTAMPTZ) BETWEEN {_FIRST_INSTANT} AND {_LAST_INSTANT}",
        f"({t('id')} IS NULL OR ({id_ok('id')} AND {s('id')} <> ''))",
    ]
    if attributes_needed and subjects is not None:
        con.register("__known_subjects", _subject_ids(subjects))
        good.append(f"{s('subject')} IN (SELECT id FROM __known_subjects)")
    per_type = []
    field_values: dict[str, list[tuple[str, str]]] = {}  # column -> [(type, SQL value)]
    for etype, decl in rs.events.items():
        # as many keys as the allowed ones present: no other key, and none given twice. A key the other
        # checks require (subject, type, at, a required field SQL reads) counts 1 without a test
        own_keys = list(dict.fromkeys(list(EVENT_KEYS_SQL) + [f.name for f in decl.fields]))
        required = {"subject", "type", "at"} | {f.name for f in decl.fields if not f.optional and
                                                _json_value(t(f.name), s(f.name), f)[0] is not None}
        present = " + ".join([str(sum(1 for key in own_keys if key in required))] +
                             [f"CASE WHEN {t(key)} IS NULL THEN 0 ELSE 1 END" for key in own_keys
                              if key not in required])
        allowed = ", ".join(f"'{_quote(columns.source(key) if key in EVENT_KEYS_SQL else key)}'" for key in own_keys)
        # extra keys (with --extra ignore) are not counted; a key given twice still is
        checks = [f"len(list_filter(k, lambda x: x IN ({allowed}))) = {present}" if columns.ignore_extra
                  else f"k = {present}"]
        for f in decl.fields:
            column = layout.field_columns[(etype, f.name)]
            value, valid = _json_value(t(f.name), s(f.name), f)
            if value is None:  # a kind the SQL reader leaves to Python: only an absent optional value passes
                checks.append(f"({t(f.name)} IS NULL OR {t(f.name)} = 'NULL')" if f.optional else "false")
                continue
            # a required field's value checks require its JSON type: absent or null, it fails them
            checks.append(f"(({t(f.name)} IS NULL OR {t(f.name)} = 'NULL') OR ({valid}))" if f.optional
                          else f"({valid})")
            for part, sql in value.items():
                field_values.setdefault(column + part, []).append((etype, sql))
        per_type.append(f"WHEN {ty} = '{_quote(etype)}' THEN {' AND '.join(checks)}")
    good.append(f"CASE {' '.join(per_type)} ELSE false END" if per_type else "false")
    staged = _staging_columns(layout)
    # Every non-empty line is a row of __staged, with `ok` saying whether SQL accepted it (one pass, no
    # filter: a filter would be pushed into the parse and repeat its JSON calls), holding no text of the
    # line: id is the line's own id (the text of an id of an id type, else NULL), and the id and line
    # labels are made by the events view from pos. A rejected line's values are never read: TRY_CAST.
    select = ["number AS pos", f"{s('subject')} AS subject", f"{ty} AS type",
              f"CASE WHEN {t('id')} IN {id_types} THEN {s('id')} END AS id",
              f"epoch_us(TRY_CAST({s('at')} AS TIMESTAMPTZ)) AS at_us"]
    for column, sql_type in staged.items():
        branches = " ".join(f"WHEN {ty} = '{_quote(et)}' THEN {sql}" for et, sql in field_values.get(column, []))
        select.append(f"CAST({f'CASE {branches} END' if branches else 'NULL'} AS {sql_type}) AS {column}")
    select.append(f"coalesce(ty IS NOT NULL AND sv IS NOT NULL AND k IS NOT NULL AND {' AND '.join(good)}, false) "
                  "AS ok")
    try:
        con.execute(f"CREATE TEMP TABLE __staged AS SELECT {', '.join(select)} FROM ({parse('')})").fetchall()
    except duckdb.Error:
        con.execute(f"CREATE OR REPLACE TEMP TABLE __staged AS SELECT {', '.join(select)} FROM ({parse('try')})"
                    ).fetchall()
    # an id given twice, or also on a line SQL did not accept: every row with it goes to Python,
    # which keeps the first and rejects the rest
    con.execute("""UPDATE __staged SET ok = false WHERE ok AND id IN (SELECT id FROM __staged WHERE ok
        AND id IS NOT NULL GROUP BY id HAVING count(*) > 1)""").fetchall()
    lines, sql_read = con.execute("SELECT count(*), count_if(ok) FROM __staged").fetchall()[0]
    rest = []
    if lines != sql_read:
        con.execute("UPDATE __staged SET ok = false WHERE ok AND id IN (SELECT id FROM __staged WHERE NOT ok)"
                    ).fetchall()
        # the rest, through inputs.py in line order: exact messages, and whatever it accepts; each line
        # as inputs.py sees it, its line end included (a rejected line is written back verbatim)
        rest = con.execute(f"""SELECT number, CASE WHEN number = 1 AND starts_with(raw, chr(65279))
            THEN substr(raw, 2) ELSE raw END || CASE WHEN number < {last_line} THEN chr(10) ELSE '' END
            FROM __raw WHERE number IN (SELECT pos FROM __staged WHERE NOT ok) ORDER BY number""").fetchall()
        con.execute("DELETE FROM __staged WHERE NOT ok").fetchall()
        sql_read = con.execute("SELECT count(*) FROM __staged").fetchall()[0][0]
    con.execute("DROP TABLE __raw").fetchall()
    if not rest:  # every line accepted in SQL: no second pass
        _finish_staged(con, plan, layout, name, expanded=False)
        return ColumnarLoad(con, plan, layout, name, sql_read, [], sql_read)
    try:
        careful = parse_events(iter(rest), Path(path), rs, subjects, attributes_needed, numbered=True,
                               columns=columns)
    except DataError as exc:
        raise ColumnarError(str(exc)) from None
    if _shares_explicit_id(con, careful, name, columns):  # inputs.py's order of first sightings decides
        con.execute("DROP TABLE __staged").fetchall()
        return _text_log_in_python(spec, plan, subjects, attributes_needed, con, columns=columns)
    if careful.events:
        try:
            con.register("__careful", _staging_arrow(plan, layout, staged, careful.events))
        except (SqlUnsupported, UnicodeError) as exc:  # beyond 64 bits, a lone surrogate: Python scores it all
            exc = exc if isinstance(exc, SqlUnsupported) else _NOT_UNICODE
            con.execute("DROP TABLE __staged").fetchall()
            return _text_log_in_python(spec, plan, subjects, attributes_needed, con, exc, columns=columns)
        con.execute("INSERT INTO __staged SELECT * FROM __careful").fetchall()
    _finish_staged(con, plan, layout, name, expanded=careful.expanded > 0)
    accepted = sql_read + len(careful.events)
    return ColumnarLoad(con, plan, layout, name, sql_read + careful.read, careful.rejects, accepted,
                        expanded=careful.expanded)


def number_counts(layout: Layout, relation: str) -> str | None:
    """The query counting each staged number column's floats and ints (for typed_number_columns), or None."""
    numbers = [c for key, c in layout.field_columns.items() if layout.field_types[key] == "number"]
    return ("SELECT " + ", ".join(f"count({c}_d), count({c}_i)" for c in numbers) + f" FROM {relation}"
            if numbers else None)


def typed_number_columns(layout: Layout, counts) -> tuple[list[str], list[str]]:
    """(select items, their names) of the staged field columns, numbers typed as the in-memory path types them:
    all whole, integers; else doubles, with a float flag (``_f``) when ints and floats mix. ``counts`` is the
    row of number_counts; the layout learns which columns hold ints and which mix (SQL dialect-neutral text)."""
    select, names, at = [], [], 0
    for key, column in layout.field_columns.items():
        names.append(column)
        if layout.field_types[key] != "number":
            select.append(column)
            continue
        floats, ints = counts[at], counts[at + 1]
        at += 2
        if not floats:
            layout.int_numbers.add(column)
            select.append(f"{column}_i AS {column}")
            continue
        select.append(f"coalesce(CAST({column}_i AS DOUBLE), {column}_d) AS {column}")
        if ints:
            layout.mixed_numbers.add(column)
            names.append(f"{column}_f")
            select.append(f"CASE WHEN {column}_d IS NOT NULL THEN true WHEN {column}_i IS NOT NULL "
                          f"THEN false END AS {column}_f")
    return select, names


EVENT_KEYS_SQL = ("subject", "type", "at", "id")
_NOT_UNICODE = SqlUnsupported("a text value that is not valid Unicode (a lone surrogate escape)")


def _shares_explicit_id(con, careful, name: str, columns: ColumnMap = PLAIN) -> bool:
    """Whether a line read by inputs.py names an id that a line accepted in SQL names too."""
    import json

    ids = {e.id for e in careful.events if e.id != e.line}
    for r in careful.rejects:
        try:
            row = json.loads(r.text)
        except (ValueError, RecursionError):
            continue
        if isinstance(row, dict):
            row, _ = columns.apply(row, lambda etype: ())
            if isinstance(row.get("id"), str):
                ids.add(row["id"])
    if not ids:
        return False
    import pyarrow as pa

    con.register("__careful_ids", pa.table({"id": pa.array(sorted(ids), pa.string())}))
    return con.execute(f"SELECT count(*) FROM __staged WHERE id IN (SELECT id FROM __careful_ids) "
                       f"AND id <> '{_quote(name)}:' || pos").fetchall()[0][0] > 0


def _json_value(type_sql: str, text_sql: str, f) -> tuple[dict[str, str] | None, str]:
    """({staging column suffix: SQL value}, SQL for "the JSON value is what inputs.py's quick path accepts")."""
    kind = f.type.name
    rng = f.range
    in_range = (lambda v: f" AND {v} BETWEEN {rng.low!r} AND {rng.high!r}") if rng is not None else (lambda v: "")
    if kind == "int":
        v = f"TRY_CAST({text_sql} AS BIGINT)"
        return {"": v}, f"{type_sql} IN ('BIGINT', 'UBIGINT') AND {v} IS NOT NULL" + in_range(v)
    if kind == "number":
        i = f"TRY_CAST({text_sql} AS BIGINT)"
        d = f"TRY_CAST({text_sql} AS DOUBLE)"
        # a JSON number is a Python float exactly when it is written with a point or an exponent
        is_float = f"({type_sql} = 'DOUBLE' AND regexp_matches({text_sql}, '[.eE]'))"
        return ({"_i": f"CASE WHEN {type_sql} IN ('BIGINT', 'UBIGINT') THEN {i} END",
                 "_d": f"CASE WHEN {is_float} THEN {d} END"},
                f"(({type_sql} IN ('BIGINT', 'UBIGINT') AND {i} IS NOT NULL{in_range(i)}) OR "
                f"({is_float} AND isfinite({d}){in_range(d)}))")
    if kind == "bool":
        return {"": f"TRY_CAST({text_sql} AS BOOLEAN)"}, f"{type_sql} = 'BOOLEAN'"
    if kind == "text" and f.choices is not None:  # another value goes to inputs.py, which rejects it
        return {"": text_sql}, f"{type_sql} = 'VARCHAR' AND {text_sql} IN ({_sql_texts(f.choices.values)})"
    if kind == "text":
        return {"": text_sql}, f"{type_sql} = 'VARCHAR'"
    if kind == "date":
        return ({"": f"epoch_us(CAST(TRY_CAST({text_sql} AS DATE) AS TIMESTAMPTZ))"},
                f"{type_sql} = 'VARCHAR' AND regexp_full_match({text_sql}, '{_DATE_RE}') "
                f"AND TRY_CAST({text_sql} AS DATE) IS NOT NULL")
    if kind == "datetime":
        return ({"": f"epoch_us(TRY_CAST({text_sql} AS TIMESTAMPTZ))"},
                f"{type_sql} = 'VARCHAR' AND regexp_full_match({text_sql}, '{_AT_RE}') "
                f"AND TRY_CAST({text_sql} AS TIMESTAMPTZ) IS NOT NULL")
    return None, ""


def _staging_columns(layout: Layout) -> dict[str, str]:
    """The field columns of the staged rows: a number field as an integer and a float column."""
    out = {}
    for key, column in layout.field_columns.items():
        kind = layout.field_types[key]
        if kind == "number":
            out[column + "_i"] = "BIGINT"
            out[column + "_d"] = "DOUBLE"
        else:
            out[column] = SQL_TYPES.get(kind, "VARCHAR")
    return out


def _staging_arrow(plan: Plan, layout: Layout, staged: dict[str, str], events):
    """Events accepted by inputs.py as rows of the staging table (pos = line number)."""
    import pyarrow as pa

    values = _Values(ZoneInfo(plan.timezone))
    data: dict[str, list] = {k: [] for k in ("pos", "subject", "type", "id", "at_us")}
    data.update({c: [] for c in staged})
    by_type: dict[str, dict[str, tuple[str, str]]] = {}
    for (etype, fname), column in layout.field_columns.items():
        by_type.setdefault(etype, {})[column] = (fname, layout.field_types[(etype, fname)])
    for e in events:
        data["pos"].append(int(e.line.rsplit(":", 1)[1]))  # the view makes the line "file:pos" again
        data["subject"].append(e.subject)
        data["type"].append(e.type)
        data["id"].append(e.id)
        data["at_us"].append(_us(e.at))
        own = by_type.get(e.type, {})
        for column in layout.field_columns.values():
            fname, kind = own.get(column, (None, None))
            value = values.to_sql(e.fields.get(fname), kind) if fname is not None else None
            if column + "_i" in staged:
                data[column + "_i"].append(value if isinstance(value, int) else None)
                data[column + "_d"].append(value if isinstance(value, float) else None)
            else:
                data[column].append(value)
    arrow_types = {"BIGINT": pa.int64(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(), "VARCHAR": pa.string()}
    schema = {"pos": pa.int64(), "subject": pa.string(), "type": pa.string(), "id": pa.string(),
              "at_us": pa.int64()}
    schema.update({c: arrow_types[t] for c, t in staged.items()})
    data["ok"] = [True] * len(data["pos"])
    schema["ok"] = pa.bool_()
    return pa.table({k: pa.array(v, schema[k]) for k, v in data.items()})


def _finish_staged(con, plan: Plan, layout: Layout, name: str, expanded: bool) -> None:
    """Make ``events`` a view of the staged rows: the id and line labels, the calendar keys in the ruleset's
    zone (staging.with_calendar, as for Parquet) and the number columns typed as the in-memory path types
    them (all whole: integers; mixed: doubles with a float flag). A view, not a table: each reader computes
    only the columns it reads (the score query's ``ev`` reads the keys, no query but ``explain`` the labels),
    and a scan of the staged table is cheap beside the copy a table would be."""
    from .staging import CALENDAR_COLUMNS, with_calendar

    # a line of a role event stages one row per role, all at the line's number: as load_columnar does,
    # each gets its own position, in the order inputs.py gave them (the queries break ties by position)
    # (a window over a million rows costs a sort: without role events every line is one row)
    position = "pos * 16 + row_number() OVER (PARTITION BY pos ORDER BY rowid) - 1" if expanded else "pos * 16"
    label = f"'{_quote(name)}:' || pos"
    select = ["subject", "type", f"{position} AS pos", f"coalesce(id, {label}) AS id", f"{label} AS line", "at_us"]
    kept = ["subject", "type", "pos", "id", "line", "at_us"]
    counts = number_counts(layout, "__staged")
    fields, field_names = typed_number_columns(layout, con.execute(counts).fetchall()[0] if counts else ())
    select += fields
    kept += field_names
    import sqlglot

    rows = sqlglot.parse_one(f"SELECT {', '.join(select)} FROM __staged", read="duckdb")
    view = with_calendar("__rows", kept, list(CALENDAR_COLUMNS), dialect="duckdb", timezone=plan.timezone,
                         before=[("__rows", rows)])
    con.execute(f"CREATE TEMP VIEW events AS {view.sql('duckdb')}").fetchall()


def _text_log_in_python(spec: str, plan: Plan, subjects, attributes_needed: bool, con,
                        unsupported: SqlUnsupported | None = None, columns: ColumnMap = PLAIN) -> ColumnarLoad:
    """The whole log through inputs.py (a file DuckDB cannot split as Python does, or beyond 64 bits)."""
    from ..inputs import DataError, load_events

    try:
        load = load_events(spec, plan.ruleset, subjects, attributes_needed, columns=columns)
    except DataError as exc:
        raise ColumnarError(str(exc)) from None
    layout = layout_for(plan)
    if unsupported is None:
        try:
            con.register("events", arrow_events(plan, load.events, layout))
        except SqlUnsupported as exc:
            unsupported = exc
        except UnicodeError:
            unsupported = _NOT_UNICODE
    name = spec.rsplit("/", 1)[-1]
    return ColumnarLoad(con, plan, layout, name, load.read, load.rejects, len(load.events),
                        python_events=load.events if unsupported is not None else None, unsupported=unsupported,
                        expanded=load.expanded)



"""Hand-written baselines for bench_engines.py's rules, run as their own process.

    python benchmarks/baselines.py sql    EVENTS.parquet OUT.csv   # one DuckDB query
    python benchmarks/baselines.py python EVENTS.parquet OUT.csv   # pyarrow load + sort + a Python loop

Both compute exactly what ``whuffie score --format csv`` prints for
bench_engines.RULES (reputation, tier, privileges, accepted, active_days) and
write it in the same CSV shape, so the benchmark can compare the files byte
for byte. They are what a careful engineer would write by hand for these
rules only: the awards, the caps and the floor are spelled out, not derived.

The semantics they hard-code (docs/language.md, "Evaluation"):

* events in (time, input position) order; T, the as-of instant, is the latest event;
* ``suggested_edit``'s own ``cap 1000 total``: awards are all 2, so the first
  500 edits of a subject pass and the rest give 0;
* the shared cap of 200 a (UTC) day over five rules whose awards are all
  >= 0: the capped running sum of a day is min(200, raw running sum);
* ``floor 1 per event`` over a balance starting at 1: the final balance is
  1 + P_n + max(0, -min_k P_k) over the prefix sums P of the capped
  contributions (P_0 = 0).

Like whuffie, both refuse input they would silently drop: a row with no
subject, no time, an unknown type or a missing field the rules read makes
them exit 1.
"""

from __future__ import annotations

import sys

TYPES = ("question_voted", "answer_voted", "answer_accepted", "edit_approved", "bounty_won", "spam_flagged",
         "comment_voted", "tag_wiki_edited")
DAY_US = 86_400_000_000
WITHIN_US = 30 * DAY_US

# one query: the floor is applied to per-(subject, day) aggregates, so only one window runs over all rows
# (the day's running sums, both in one window); the per-subject window runs over one row per active day
HAND_SQL = f"""
WITH ev AS (
    SELECT subject, type, epoch_us("at") AS at_us, file_row_number AS pos, up, self_answer, amount
    FROM read_parquet($path, file_row_number = true)
), edits AS (  -- own cap 1000 total on 2-point edits: the first 500 of a subject pass
    SELECT pos, row_number() OVER (PARTITION BY subject ORDER BY at_us, pos) <= 500 AS edit_passes
    FROM ev WHERE type = 'edit_approved'
), awards AS (
    SELECT ev.subject, ev.at_us // {DAY_US} AS day, ev.at_us, ev.pos,
        CASE WHEN type IN ('question_voted', 'answer_voted') AND up THEN 10
             WHEN type = 'edit_approved' AND edit_passes THEN 2
             WHEN type = 'comment_voted' THEN 1
             WHEN type = 'tag_wiki_edited' THEN 2 ELSE 0 END AS shared,
        CASE WHEN type IN ('question_voted', 'answer_voted') AND NOT up THEN -2
             WHEN type = 'answer_accepted' AND NOT self_answer THEN 15
             WHEN type = 'bounty_won' THEN amount
             WHEN type = 'spam_flagged' THEN -100 ELSE 0 END AS other
    FROM ev LEFT JOIN edits USING (pos)
), running AS (  -- within a day: the capped shared sum plus the rest, after each event
    SELECT subject, day, shared, other,
        least(200, sum(shared) OVER w) + sum(other) OVER w AS day_balance
    FROM awards
    WINDOW w AS (PARTITION BY subject, day ORDER BY at_us, pos ROWS UNBOUNDED PRECEDING)
), days AS (
    SELECT subject, day, least(200, sum(shared)) + sum(other) AS day_total, min(day_balance) AS day_low
    FROM running GROUP BY subject, day
), lows AS (
    SELECT subject,
        coalesce(sum(day_total) OVER before, 0) + day_low AS low, day_total
    FROM days
    WINDOW before AS (PARTITION BY subject ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
), scored AS (
    SELECT subject, 1 + sum(day_total) + greatest(0, -least(0, min(low))) AS reputation
    FROM lows GROUP BY subject
), measures AS (
    SELECT subject,
        count(*) FILTER (WHERE type = 'answer_accepted' AND NOT self_answer) AS accepted,
        count(DISTINCT at_us // {DAY_US}) FILTER (
            WHERE type = 'answer_voted' AND at_us > (SELECT max(at_us) FROM ev) - {WITHIN_US}) AS active_days
    FROM ev GROUP BY subject
)
SELECT subject, reputation,
    CASE WHEN reputation >= 1000 THEN 'established' WHEN reputation >= 15 THEN 'member' ELSE 'new' END AS tier,
    CASE WHEN reputation >= 15 THEN 'vote_up' ELSE '' END AS privileges, accepted, active_days
FROM scored JOIN measures USING (subject) ORDER BY subject
"""

BAD_ROWS_SQL = f"""
SELECT count(*) FROM read_parquet($path)
WHERE subject IS NULL OR "at" IS NULL OR type IS NULL OR type NOT IN {TYPES!r}
   OR (type IN ('question_voted', 'answer_voted') AND up IS NULL)
   OR (type = 'answer_accepted' AND self_answer IS NULL)
   OR (type = 'bounty_won' AND (amount IS NULL OR amount NOT BETWEEN 50 AND 500))
"""


def tier_of(reputation: int) -> str:
    return "established" if reputation >= 1000 else "member" if reputation >= 15 else "new"


def write_csv(out: str, rows) -> None:
    """rows: (subject, reputation, accepted, active_days), sorted by subject as whuffie sorts them."""
    with open(out, "w") as f:
        f.write("subject,reputation,tier,privileges,accepted,active_days\n")
        for subject, reputation, accepted, active_days in rows:
            privileges = "vote_up" if reputation >= 15 else ""
            f.write(f"{subject},{reputation}.00,{tier_of(reputation)},{privileges},{accepted},{active_days}\n")


def hand_sql(path: str, out: str) -> None:
    import duckdb

    con = duckdb.connect()
    if con.execute(BAD_ROWS_SQL, {"path": path}).fetchone()[0]:
        sys.exit("bad rows in the input")
    rows = con.execute(HAND_SQL, {"path": path}).fetchall()
    write_csv(out, [(s, int(r), a, d) for s, r, _t, _p, a, d in rows])


def hand_python(path: str, out: str) -> None:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    n = table.num_rows
    if n == 0:
        write_csv(out, [])
        return
    table = table.append_column("pos", __import__("pyarrow").array(range(n)))
    at_us = pc.cast(table["at"], "int64")
    table = table.set_column(table.schema.get_field_index("at"), "at", at_us)
    order = pc.sort_indices(table, sort_keys=[("subject", "ascending"), ("at", "ascending"), ("pos", "ascending")])
    table = table.take(order)
    subjects = table["subject"].to_pylist()
    types = table["type"].to_pylist()
    ats = table["at"].to_pylist()
    ups = table["up"].to_pylist()
    selfs = table["self_answer"].to_pylist()
    amounts = table["amount"].to_pylist()
    latest = max(ats)
    since = latest - WITHIN_US
    known = set(TYPES)
    rows = []
    current = None
    for i in range(n):
        subject, kind, at = subjects[i], types[i], ats[i]
        if subject is None or at is None or kind not in known:
            sys.exit(f"bad row {i}")
        if subject != current:
            if current is not None:
                rows.append((current, balance, accepted, len(days)))
            current, balance, edits, day, day_shared, accepted, days = subject, 1, 0, None, 0, 0, set()
        shared = other = 0
        if kind == "question_voted" or kind == "answer_voted":
            up = ups[i]
            if up is None:
                sys.exit(f"bad row {i}")
            if up:
                shared = 10
            else:
                other = -2
            if kind == "answer_voted" and at > since:
                days.add(at // DAY_US)
        elif kind == "answer_accepted":
            if selfs[i] is None:
                sys.exit(f"bad row {i}")
            if not selfs[i]:
                other = 15
                accepted += 1
        elif kind == "edit_approved":
            edits += 1
            shared = 2 if edits <= 500 else 0
        elif kind == "bounty_won":
            other = amounts[i]
            if other is None or not 50 <= other <= 500:
                sys.exit(f"bad row {i}")
        elif kind == "spam_flagged":
            other = -100
        elif kind == "comment_voted":
            shared = 1
        else:
            shared = 2
        if shared:
            this_day = at // DAY_US
            if this_day != day:
                day, day_shared = this_day, 0
            shared = max(0, min(shared, 200 - day_shared))
            day_shared += shared
        award = shared + other
        if award < 0:
            award = max(award, min(0, 1 - balance))
        balance += award
    rows.append((current, balance, accepted, len(days)))
    write_csv(out, rows)


if __name__ == "__main__":
    method, events, output = sys.argv[1:4]
    {"sql": hand_sql, "python": hand_python}[method](events, output)

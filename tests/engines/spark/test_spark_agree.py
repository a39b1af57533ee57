"""The engine-equality generator's rule sets and histories on Spark: the same results as DuckDB, no hand-over.

The rule sets of engine_strategies reach every step of the pipeline (own and
shared caps in every window, `once`, floors and ceilings, decay, every kind
of measure, tiers and privileges); each is scored by ``engines.evaluate`` on
DuckDB and on a local Spark session, in process. Spark must give DuckDB's
numbers and types (or the same error), and must not hand the run over (W091):
a hand-over would compare generated Python with itself.

A few examples in `make test` (Spark plans each query in seconds); `make
fuzz` runs many more with fresh seeds. Each example has a time limit, so a
query whose plan grows out of bounds fails with its rule file instead of
stalling the suite (a layer reading one layer twice once doubled Spark's
plan at every cap: sqlengine's ``_INLINES_EVERY_CTE``).
"""

from __future__ import annotations

import shutil
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
from engine_strategies import histories, rule_sets
from fuzz.budget import fuzz_settings
from hypothesis import given
from hypothesis import strategies as st
from test_engines_agree import _outcome, _run_all, same_numbers, same_types

from whuffie import engines

pytest.importorskip("pyspark", reason="PySpark is not installed (pip install 'whuffie[spark]')")
if shutil.which("java") is None:
    pytest.skip("PySpark needs Java (java is not on PATH)", allow_module_level=True)

SECONDS_PER_EXAMPLE = 300  # a loaded 2-core machine plans the largest generated queries in well under a minute


class TooSlow(Exception):
    pass


@contextmanager
def time_limit(seconds: int, what: str):
    """Raise TooSlow (naming ``what``) in this thread after ``seconds``: a blocked py4j call is a socket read."""
    def expired(signum, frame):
        raise TooSlow(f"Spark took over {seconds} s on:\n{what}")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@fuzz_settings(4)
@given(data=st.data())
def test_generated_rule_sets_score_on_spark_as_on_duckdb(spark, data) -> None:
    generated = data.draw(rule_sets())
    events_text, subjects_text = data.draw(histories(generated))
    rs, events, subjects = _run_all(generated.text, events_text, subjects_text)
    duck_notes, spark_notes = [], []
    duck, duck_error = _outcome(lambda: engines.evaluate("duckdb", rs, events, subjects, ledger=False,
                                                         notes=duck_notes.append))
    with time_limit(SECONDS_PER_EXAMPLE, generated.text + events_text):
        on_spark, spark_error = _outcome(lambda: engines.evaluate("spark", rs, events, subjects, ledger=False,
                                                                  notes=spark_notes.append))
    assert duck_notes == [], [d.message for d in duck_notes]
    assert spark_notes == [], [d.message for d in spark_notes]  # Spark ran the query itself
    assert spark_error == duck_error
    if duck_error is None:
        assert same_numbers(duck, on_spark) == [], generated.text + events_text
        assert same_types(duck, on_spark) == [], generated.text + events_text
        assert [s.subject for s in on_spark.subjects] == [s.subject for s in duck.subjects]


# Ten barrier levels and a floor: ~80 layers, past the 100 passes Spark's analyzer takes to resolve one query
# (and before the layers stopped reading themselves twice, a plan that doubled at every cap).
MANY_LEVELS = """ruleset deep "Many caps"
timezone "Europe/London"
author ada "Ada"
subject member { level: int in 0..10 }
event post { n: int?, m: int in 0..4 }
event vote { up: bool }
rule base by ada because "r" on post award max(n ?? 0, 18) decay half_life 59 days
rule steady by ada because "r" on post where event.at <= now - 11 days award 2.75 cap 37 per year cap 43 per month
rule minus by ada because "r" on post award (n ?? 0) - 18 cap 11 per month cap 26 per week
rule some by ada because "r" on post award m once per week cap 18 total cap 4 total
rule half by ada because "r" on post award 0.5 once per week cap 3 per day cap 9 total
rule liked by ada because "r" on vote where up award 1 cap 5 per day
shared cap daily 6 per day over steady, liked by ada
shared cap yearly 69 per year over some, steady, minus, base, half by ada
measure posts = count post
score standing = 13 + points floor 13 per event
tier high when standing >= 40 by ada
tier low otherwise by ada
"""


def test_a_rule_set_with_ten_caps_and_a_floor_scores_on_spark(spark) -> None:
    import json

    from whuffie.frontend import load_text
    from whuffie.inputs import parse_events

    rows = [{"subject": f"s{i % 3}", "type": "post" if i % 4 else "vote", "at": f"2026-0{1 + i % 3}-{10 + i % 9}T0{i % 10}:00:00Z",
             **({"m": i % 5, **({"n": i * 7 % 40} if i % 3 else {})} if i % 4 else {"up": i % 8 == 0})}
            for i in range(60)]
    rs = load_text(MANY_LEVELS, "deep.whuf").ruleset
    events = parse_events("".join(json.dumps(r) + "\n" for r in rows), Path("e.jsonl"), rs).events
    notes = []
    duck = engines.evaluate("duckdb", rs, events, ledger=False)
    on_spark = engines.evaluate("spark", rs, events, ledger=False, notes=notes.append)
    assert notes == [], [d.message for d in notes]
    assert same_numbers(duck, on_spark) == []
    assert {s.tier for s in duck.subjects} == {"high", "low"}  # the rules make both tiers: the floor and caps bite

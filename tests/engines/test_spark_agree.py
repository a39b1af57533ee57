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


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    from whuffie.engines import spark as spark_engine

    session = (SparkSession.builder.master("local[2]").appName("whuffie-agree")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "2").config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.codegen.wholeStage", "false").config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
               .config("spark.sql.adaptive.enabled", "false")
               .config("spark.sql.optimizer.excludedRules", "org.apache.spark.sql.catalyst.optimizer.CollapseProject")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    spark_engine.use_session(session)
    yield session
    spark_engine.use_session(None)
    session.stop()


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

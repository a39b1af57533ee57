"""Fixtures of the engine tests: ``spark``, one local SparkSession per test module that asks for it.

Starting a session costs seconds, so a module shares one; scoring with
``--engine spark`` in process uses it (``spark.use_session``). The settings are
those of engines/spark/__init__.py's default session that keep small local runs quick,
on two cores and two shuffle partitions. The modules that use it skip
themselves where PySpark or Java is missing.
"""

from __future__ import annotations

import os
import sys

import pytest


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    from whuffie.engines import spark as spark_engine

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the Python workers import whuffie
    session = (SparkSession.builder.master("local[2]").appName("whuffie-test")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "2").config("spark.sql.session.timeZone", "UTC")
               # small inputs, wide plans: compiling Java for each stage costs more than it saves
               .config("spark.sql.codegen.wholeStage", "false").config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
               .config("spark.sql.adaptive.enabled", "false")
               .config("spark.sql.optimizer.excludedRules", "org.apache.spark.sql.catalyst.optimizer.CollapseProject")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    spark_engine.use_session(session)
    yield session
    spark_engine.use_session(None)
    session.stop()

"""The Spark target's one local SparkSession per process.

`method: session` (profiles.yml) runs Spark inside the process, with an embedded Derby
metastore that only one JVM may open at a time. So everything onboard does on Spark —
load and dbt — shares this process's one session: dbt runs in-process
(onboard/core/dbt.py) and its adapter's `SparkSession.builder.getOrCreate()` finds the
session made here, with the same settings (the profile's server_side_parameters).

"""

from __future__ import annotations

import os
import sys
from typing import Any

from onboard.core.errors import UsageError
from onboard.core.targets import Target

#: Spark's driver binds here unless the user says otherwise (no network interface needed).
LOCAL_IP = "127.0.0.1"


def session(target: Target) -> Any:
    """This process's SparkSession for the target (created on first use)."""
    os.environ.setdefault("SPARK_LOCAL_IP", LOCAL_IP)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(
            "the spark target needs pyspark: run `make spark-install` and use .venv-spark/bin/onboard"
        ) from None
    target.spark_dir.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for name, value in (target.settings.get("server_side_parameters") or {}).items():
        builder = builder.config(str(name), str(value))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark

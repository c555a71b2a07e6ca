"""One local[2] SparkSession for every Spark test of a pytest worker.

pyspark is imported unguarded: without it (CI installs requirements.lock) these
tests fail rather than skip.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """A local[2] session (UI off, 4 shuffle partitions), its files in a temporary folder."""
    import pyspark  # noqa: F401  (a missing pyspark is a failure, not a skip)

    from vrdp.engines import spark_session, stop_spark_session

    session = spark_session("local[2]", tmp_path_factory.mktemp("spark"))
    yield session
    stop_spark_session()

"""Execution engines: DuckDB on one machine (the default) or Apache Spark (``VRDP_ENGINE``)."""

from vrdp.engines.spark import spark_conf, spark_session, stop_spark_session

__all__ = ["spark_conf", "spark_session", "stop_spark_session"]

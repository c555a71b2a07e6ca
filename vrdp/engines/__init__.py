"""Execution engines: DuckDB on one machine (the default) or Apache Spark (``VRDP_ENGINE``)."""

from vrdp.engines.spark import (
    prepare_dbt_session,
    spark_conf,
    spark_session,
    stop_spark_session,
)

__all__ = ["spark_conf", "spark_session", "stop_spark_session", "prepare_dbt_session"]

"""The engine setting and the Spark session helper."""

from __future__ import annotations

import pytest

from config.settings import settings


def test_engine_setting_defaults_to_duckdb_and_parses_spark(monkeypatch):
    monkeypatch.delenv("VRDP_ENGINE", raising=False)
    monkeypatch.delenv("VRDP_SPARK_MASTER", raising=False)
    s = settings()
    assert (s.engine, s.spark_master) == ("duckdb", "local[2]")
    monkeypatch.setenv("VRDP_ENGINE", "spark")
    monkeypatch.setenv("VRDP_SPARK_MASTER", "spark://head:7077")
    s = settings()
    assert (s.engine, s.spark_master) == ("spark", "spark://head:7077")
    monkeypatch.setenv("VRDP_ENGINE", "flink")
    with pytest.raises(ValueError, match="VRDP_ENGINE"):
        settings()


def test_session_is_local_utc_and_has_the_splink_jar(spark):
    conf = spark.sparkContext.getConf()
    assert conf.get("spark.master") == "local[2]"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    # out of heap, the JVM ends (the step fails) instead of leaving Python waiting
    assert "-XX:+ExitOnOutOfMemoryError" in conf.get("spark.driver.extraJavaOptions")
    assert conf.get("spark.jars").endswith("_spark4.x.jar")
    # The jar's classes load: Splink registers its similarity functions from them.
    from pyspark.sql.types import DoubleType

    spark.udf.registerJavaFunction(
        "jaro_winkler", "uk.gov.moj.dash.linkage.JaroWinklerSimilarity", DoubleType()
    )
    got = spark.sql("select jaro_winkler('martha', 'marhta') as j").collect()[0]["j"]
    assert got == pytest.approx(0.9611, abs=1e-4)

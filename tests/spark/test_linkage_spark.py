"""Splink linkage on Spark scores and clusters like the DuckDB run, with the same model."""

from __future__ import annotations

import pandas as pd
import pytest
from linkage.linkage_records import people  # the linkage tests' seeded population

from vrdp.linkage.run import cluster_links, latest_model, link_records, score_pairs, train_model

THRESHOLD = 0.9


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    records = people()
    folder = tmp_path_factory.mktemp("models")
    train_model(records, folder, seed=42, max_pairs=1e5)
    return records, latest_model(folder)


def _partition(clusters: pd.DataFrame) -> set[frozenset[str]]:
    return {frozenset(g["record_uid"]) for _, g in clusters.groupby("cluster_id")}


def test_same_pairs_bounded_probabilities_identical_clusters(spark, model):
    records, path = model
    n_duck, e_duck = score_pairs(records, path, 0.5, "duckdb")
    n_spark, e_spark = score_pairs(records, path, 0.5, "spark")
    # The same blocking rules: the same pairs scored.
    assert n_spark == n_duck > 500
    m = e_duck.merge(e_spark, on=["record_uid_l", "record_uid_r"], how="outer", indicator=True)
    both = m[m["_merge"] == "both"]
    # The same model (prior, m, u): probabilities differ only where the engines'
    # Jaro-Winkler functions do (DuckDB's and Splink's Scala UDF round differently
    # near a level's boundary); measured 0.017 at most on these records.
    diff = (both["match_probability_x"] - both["match_probability_y"]).abs()
    assert diff.max() < 0.05, diff.max()
    assert len(both) >= 0.99 * max(len(e_duck), len(e_spark))
    links_duck = e_duck[e_duck["match_probability"] >= THRESHOLD]
    links_spark = e_spark[e_spark["match_probability"] >= THRESHOLD]
    c_duck = cluster_links(records["record_uid"], links_duck, "duckdb")
    c_spark = cluster_links(records["record_uid"], links_spark, "spark")
    assert len(c_spark) == len(c_duck) == len(records)
    # The same people: an identical partition of the records (cluster ids may differ).
    assert _partition(c_spark) == _partition(c_duck)
    assert c_duck["cluster_id"].nunique() < len(records)


def test_an_unknown_engine_is_refused(model):
    records, path = model
    with pytest.raises(ValueError, match="engine"):
        link_records(records, path.parent, THRESHOLD, engine="flink")


def test_splink_reads_its_inputs_from_files_not_from_the_driver(spark, model):
    """Records, nodes and edges reach Splink as Parquet scans, not local relations:
    a local relation's rows sit in the driver's plans and the optimizer copies them
    into every plan that reads them, which ran the driver out of heap on the
    medium world's 80k records (a whole make run on Spark hung there)."""
    from vrdp.linkage.run import _register, _spark_table

    records, _ = model
    frame = _register(records, "spark")
    plan = spark.table(frame.physical_name)._jdf.queryExecution().optimizedPlan().toString()
    assert "LocalRelation" not in plan and "parquet" in plan.lower()
    edges = _spark_table(spark, pd.DataFrame({"a": ["1", "2"], "b": ["2", "3"]}), "probe")
    assert "LocalRelation" not in edges._jdf.queryExecution().optimizedPlan().toString()
    assert sorted(map(tuple, edges.toPandas().to_numpy())) == [("1", "2"), ("2", "3")]

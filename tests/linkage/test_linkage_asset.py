"""The person linkage asset, materialized in-process over a temporary warehouse.

The restricted database holds only ``intermediate.int_person_records_unioned`` (the hand-made
population of conftest.py); a truth folder for the same records stands in for the
demo world's, so the asset reports its simulated-world quality figures.
"""

import json
import shutil

import dagster as dg
import duckdb
import pytest
from linkage_records import uid

from assets.warehouse.linkage import PERSON_LINKS_KEY, person_linkage
from config.resources import PlatformConfig
from vrdp.governance.permissions import attach_restricted
from vrdp.linkage.review import append_decision, decisions_path
from vrdp.linkage.run import latest_model, model_meta

UNIONED_COLUMNS = [
    "record_uid",
    "agency",
    "forename",
    "surname",
    "date_of_birth",
    "postcode",
    "pnc_id",
    "nhs_number",
    "upn",
    "crn",
]


@pytest.fixture
def warehouse(data_root, records, trained_model_dir, monkeypatch):
    monkeypatch.setenv("VRDP_WORLD_SCALE", "small")
    monkeypatch.setenv("VRDP_WORLD_SEED", "7")
    truth = data_root / "world" / "small-seed7" / "truth"
    truth.mkdir(parents=True)
    (truth / "world.json").write_text(json.dumps({"seed": 7}))
    records[["agency", "dataset", "record_id", "person_id"]].to_parquet(
        truth / "person_records.parquet"
    )
    (data_root / "warehouse").mkdir(parents=True)
    con = duckdb.connect(str(data_root / "warehouse" / "vrdp.duckdb"))
    attach_restricted(con, data_root / "restricted" / "identity.duckdb", read_only=False)
    con.register("r", records[UNIONED_COLUMNS])
    con.execute("create schema restricted.intermediate")
    con.execute(
        "create table restricted.intermediate.int_person_records_unioned as select * from r"
    )
    con.close()
    shutil.copytree(trained_model_dir, data_root / "linkage" / "models")
    return data_root


def _materialize(instance, **config):
    return dg.materialize(
        [person_linkage],
        instance=instance,
        resources={"platform": PlatformConfig()},
        run_config={"ops": {"linkage__person_record_links": {"config": config}}},
        raise_on_error=False,
    )


def _read(root, sql):
    con = duckdb.connect(str(root / "warehouse" / "vrdp.duckdb"), read_only=True)
    attach_restricted(con, root / "restricted" / "identity.duckdb", read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def _meta(instance):
    rec = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=PERSON_LINKS_KEY), limit=1
    ).records[0]
    return {k: v.value for k, v in rec.asset_materialization.metadata.items()}


def test_review_decisions_quality_and_model_reuse_through_the_asset(warehouse, records):
    instance = dg.DagsterInstance.ephemeral()
    assert _materialize(instance).success
    meta = _meta(instance)
    assert "simulated-world evaluation" in meta["quality_evaluation"]
    for k in ("precision", "recall", "f1", "cluster_purity"):
        assert 0.9 <= meta[f"quality_{k}"] <= 1.0, (k, meta[f"quality_{k}"])
    assert meta["quality_records"] == len(records) == meta["records"]
    assert meta["quality_clusters"] == meta["persons"]
    assert meta["quality_comparisons_per_record"] == meta["comparisons_per_record"] > 0
    assert meta["model_trained_this_run"] is False and meta["model_reason"].startswith("reused")
    assert meta["model_seed"] == 42
    queue = _read(warehouse, "select * from restricted.identity.linkage_review_queue")
    assert len(queue) == meta["review_pairs_pending"] > 0
    assert {"surname_l", "surname_r", "date_of_birth_l"} <= set(queue.columns)
    model = latest_model(warehouse / "linkage" / "models")
    card = json.loads(model.with_name(model.stem + ".model_card.json").read_text())
    assert card["parameters"]["threshold"] and card["accuracy"]["persons"] == meta["persons"]

    links1 = _read(warehouse, "select record_uid, person_key from linkage.person_record_links")
    key1 = links1.set_index("record_uid")["person_key"]
    # nothing it reads changed: the links are reused, not recomputed (assets.reuse)
    assert meta["reused"] is False
    assert _materialize(instance).success
    again = _meta(instance)
    assert again["reused"] is True and again["persons"] == meta["persons"]
    assert again["input_sha256"] == meta["input_sha256"]
    changes = _read(warehouse, "select count(*) as n from linkage.cluster_changes")
    assert changes["n"].iloc[0] == meta["persons_new"]  # no second run's changes logged
    a1, a3 = uid(records, "A1"), uid(records, "A3")
    assert key1[a1] == key1[a3]
    append_decision(decisions_path(warehouse), a1, a3, "non-match", "J. Smith", "twins")
    assert _materialize(instance).success
    meta2 = _meta(instance)
    assert meta2["decisions_applied"] == 1 and meta2["cluster_splits"] == 1
    key2 = _read(
        warehouse, "select record_uid, person_key from linkage.person_record_links"
    ).set_index("record_uid")["person_key"]
    assert key2[a1] == key1[a1] != key2[a3]
    assert (key2.drop(a3) == key1.drop(a3)).all()  # nobody else's key moved
    log = _read(warehouse, "select * from linkage.review_decisions_applied")
    assert log[["record_uid_l", "status"]].values.tolist() == [[a1, "applied"]]
    assert "reason" not in log.columns  # free text stays in the restricted file

    assert _materialize(instance, retrain=True).success
    meta3 = _meta(instance)
    assert meta3["model_trained_this_run"] is True and meta3["model_reason"] == "retrain requested"
    newest = latest_model(warehouse / "linkage" / "models")
    assert newest.name == "person_linkage_v0002.json" and model_meta(newest)["seed"] == 42


def test_a_bad_decisions_file_fails_the_run_naming_the_line(warehouse):
    path = decisions_path(warehouse)
    path.parent.mkdir(parents=True)
    path.write_text(
        "record_uid_l,record_uid_r,decision,reviewer,reason,decided_at\n"
        "a,b,perhaps,J,x,2026-11-23T09:00:00\n"
    )
    result = _materialize(dg.DagsterInstance.ephemeral())
    assert not result.success
    failure = result.get_step_failure_events()[0].event_specific_data.error.message
    assert "line 2: decision 'perhaps' is not one of match, non-match" in failure
    assert str(path) in failure


def test_no_truth_no_quality_figures(warehouse, monkeypatch):
    monkeypatch.setenv("VRDP_WORLD_SCALE", "none")
    instance = dg.DagsterInstance.ephemeral()
    assert _materialize(instance).success
    assert not any(k.startswith("quality_") for k in _meta(instance))

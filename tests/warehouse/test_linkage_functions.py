"""Pure functions of person linkage: keys, stable ids and the change log, metrics, settings."""

import pandas as pd
import pytest

from vrdp.linkage.keys import DEMO_SECRET, MissingSecretError, person_key, pseudonym_secret
from vrdp.linkage.metrics import pairwise_scores
from vrdp.linkage.model import LINK_COLUMNS, PREDICTION_BLOCKING_RULES, splink_settings
from vrdp.linkage.stable_ids import assign_stable_ids


def test_person_key_is_a_keyed_hmac():
    a = person_key("P000000001", b"one")
    assert len(a) == 64 and a == person_key("P000000001", b"one")
    assert a != person_key("P000000001", b"two") != person_key("P000000002", b"one")


def test_missing_secret_fails_with_a_clear_message():
    with pytest.raises(MissingSecretError, match="VRDP_PSEUDONYM_SECRET"):
        pseudonym_secret({})
    with pytest.raises(MissingSecretError):
        pseudonym_secret({"VRDP_PSEUDONYM_SECRET": "  "})
    assert pseudonym_secret({"VRDP_PSEUDONYM_SECRET": DEMO_SECRET}) == DEMO_SECRET.encode()


def _clusters(pairs):
    return pd.DataFrame(pairs, columns=["record_uid", "cluster_id"])


def test_first_run_mints_ids_and_logs_new_persons():
    ids, log = assign_stable_ids(_clusters([("a", "x"), ("b", "x"), ("c", "y")]), None)
    assert ids.set_index("record_uid")["person_id"].to_dict() == {
        "a": "P000000001",
        "b": "P000000001",
        "c": "P000000002",
    }
    assert log["change"].tolist() == ["new", "new"]


def test_a_person_keeps_their_id_when_records_arrive():
    before, _ = assign_stable_ids(_clusters([("a", 1), ("b", 1), ("c", 2)]), None)
    # cluster labels change between runs; ids must not
    ids, log = assign_stable_ids(
        _clusters([("a", 9), ("b", 9), ("d", 9), ("c", 5)]), before[["record_uid", "person_id"]]
    )
    got = ids.set_index("record_uid")["person_id"]
    assert got["a"] == got["b"] == got["d"] == "P000000001" and got["c"] == "P000000002"
    assert log.empty


def test_merges_and_splits_are_logged():
    before = pd.DataFrame(
        {"record_uid": list("abcde"), "person_id": ["P000000001"] * 3 + ["P000000002"] * 2}
    )
    # a,b stay; c splits off; d,e join a,b (merge)
    ids, log = assign_stable_ids(
        _clusters([("a", 1), ("b", 1), ("d", 1), ("e", 1), ("c", 2)]), before
    )
    got = ids.set_index("record_uid")["person_id"]
    assert got["a"] == "P000000001" and got["c"] == "P000000003"
    changes = {(r.change, r.person_id, r.other_person_id) for r in log.itertuples()}
    assert changes == {("merge", "P000000001", "P000000002"), ("split", "P000000003", "P000000001")}


def test_pairwise_scores():
    s = pairwise_scores(pd.Series([1, 1, 1, 2]), pd.Series(["a", "a", "b", "b"]))
    assert s["predicted_pairs"] == 3 and s["true_pairs"] == 2 and s["true_positive_pairs"] == 1
    assert s["precision"] == pytest.approx(1 / 3) and s["recall"] == pytest.approx(0.5)


def test_settings_compare_every_identifier_and_block_on_link_columns():
    settings = splink_settings().get_settings("duckdb").as_dict()
    compared = {c["output_column_name"] for c in settings["comparisons"]}
    assert compared == {
        "forename",
        "surname",
        "date_of_birth",
        "postcode",
        "pnc_id",
        "nhs_number",
        "upn",
        "crn",
    }
    names = next(c for c in settings["comparisons"] if c["output_column_name"] == "surname")
    assert any(lvl.get("tf_adjustment_column") for lvl in names["comparison_levels"])
    for rule in PREDICTION_BLOCKING_RULES:
        for part in rule:
            assert any(col in part for col in LINK_COLUMNS)


def test_no_prediction_blocking_rule_is_names_alone():
    """Names repeat: a block of one common name (and a few letters of another) holds
    thousands of people, and on the large world such rules made 118 of 192 million
    pairs, most of them false matches. Each rule also needs an identifier, a date of
    birth or part of one, or a postcode."""
    names = ("forename", "surname")
    for rule in PREDICTION_BLOCKING_RULES:
        assert not all(any(n in part for n in names) for part in rule), rule

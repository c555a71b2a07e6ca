from datetime import date

import pandas as pd

from quality.contracts.base import Contract, Expectation, Field
from quality.ge import validate_frame
from vrdp.ingest.contract import apply_contract
from vrdp.ingest.landing import RawBatch, quarantine_frame

CONTRACT = Contract(
    source="nhs.istv_assaults",
    fields=(
        Field("ref", "str", required=True),
        Field("method", "str", codes=("knife", "blunt", "body")),
        Field("age", "int", min=0, max=120),
    ),
    key="ref",
)


def test_contract_expectations_pass_on_a_clean_batch_and_fail_on_a_dirty_one():
    rows = pd.DataFrame(
        {
            "ref": ["a", "b", "c", "c"],
            "method": ["knife", "gun", "", "body"],
            "age": ["30", "40", "200", "5"],
        }
    )
    rows.insert(0, "row_number", range(1, 5))
    batch = RawBatch(rows, quarantine_frame("nhs.istv_assaults", "f.csv", []), 4)
    result = apply_contract(batch, CONTRACT, source_file="f.csv", delivered_on=date(2025, 1, 1))
    assert list(result.loaded["ref"]) == ["a"]  # b: bad code, c: bad age, c again: dup key
    clean = validate_frame(result.loaded, CONTRACT.expectations(), "istv")
    assert clean.success and clean.failed == 0 and clean.evaluated == 5

    dirty = pd.DataFrame(
        {
            "ref": ["a", "a", None],
            "method": ["knife", "gun", None],
            "age": [30, 500, None],
            "source_file": ["f.csv"] * 3,
        }
    )
    summary = validate_frame(dirty, CONTRACT.expectations(), "istv")
    assert not summary.success
    failed = {(o.type, o.column): o.unexpected_count for o in summary.outcomes if not o.success}
    assert failed == {
        ("expect_column_values_to_not_be_null", "ref"): 1,
        ("expect_column_values_to_be_in_set", "method"): 1,
        ("expect_column_values_to_be_between", "age"): 1,
        ("expect_compound_columns_to_be_unique", None): 2,  # ref "a" twice in f.csv
    }
    meta = summary.as_metadata()
    assert meta["expectations_failed"] == 4 and len(meta["results"]) == 5


def test_hand_written_expectations_work_too():
    df = pd.DataFrame({"share": [0.1, 0.3]})
    summary = validate_frame(
        df,
        [Expectation("ExpectColumnMaxToBeBetween", {"column": "share", "max_value": 0.2})],
        "shares",
    )
    assert not summary.success


def _deliveries(**frames):
    return {
        d: pd.DataFrame({"delivery": d, "source_file": "f.csv", **cols})
        for d, cols in frames.items()
    }


def test_stacked_validation_gives_each_delivery_its_own_result():
    from quality.ge import validate_frames

    expectations = CONTRACT.expectations()
    clean = {"ref": ["a", "b"], "method": ["knife", "body"], "age": [30, 40]}
    # the same key in two deliveries is not a repeat: uniqueness is within a delivery
    frames = _deliveries(d1=clean, d2=clean)
    results = validate_frames(frames, expectations, "istv", by="delivery")
    assert set(results) == {"d1", "d2"}
    assert all(r.success and r.failed == 0 for r in results.values())
    assert results["d1"].evaluated == validate_frame(frames["d1"], expectations, "x").evaluated

    frames = _deliveries(
        d1=clean, d2={"ref": ["a", "a"], "method": ["gun", "body"], "age": [30, 500]}
    )
    results = validate_frames(frames, expectations, "istv", by="delivery")
    assert results["d1"].success
    d2 = results["d2"].outcomes
    failed = {(o.type, o.column): o.unexpected_count for o in d2 if not o.success}
    assert failed == {
        ("expect_column_values_to_be_in_set", "method"): 1,
        ("expect_column_values_to_be_between", "age"): 1,
        ("expect_compound_columns_to_be_unique", None): 2,
    }


def test_deliveries_with_other_columns_are_validated_one_by_one():
    from quality.ge import validate_frames

    clean = {"ref": ["a"], "method": ["knife"], "age": [30]}
    frames = _deliveries(d1=clean, d2={"ref": ["b"], "method": ["knife"]})  # no age column
    results = validate_frames(frames, CONTRACT.expectations(), "istv", by="delivery")
    assert results["d1"].success and not results["d2"].success

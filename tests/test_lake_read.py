"""vrdp.lake.read_deliveries: every delivery of a dataset as one frame, whatever their types."""

import pandas as pd

from vrdp.lake import read_deliveries, write_parquet_atomic


def _deliver(lake, name, frame):
    write_parquet_atomic(frame, lake / "police" / "calls" / name / "part-0.parquet")


def test_deliveries_are_read_in_order_with_types_merged(tmp_path):
    _deliver(tmp_path, "2025-01", pd.DataFrame({"ref": ["a"], "n": [1], "note": [None]}))
    _deliver(tmp_path, "2025-02", pd.DataFrame({"ref": ["b", "c"], "n": [2.5, 3.0], "note": "x"}))
    _deliver(tmp_path, "2025-03", pd.DataFrame({"ref": [], "n": [], "note": []}))
    df = read_deliveries(tmp_path, "police", "calls")
    assert df["ref"].tolist() == ["a", "b", "c"]
    assert df["n"].tolist() == [1.0, 2.5, 3.0]  # an integer day and a decimal one
    assert df["note"].isna().tolist() == [True, False, False]
    assert list(df.index) == [0, 1, 2]
    assert read_deliveries(tmp_path, "police", "none", ["ref"]).columns.tolist() == ["ref"]


def test_types_arrow_cannot_merge_are_read_as_pandas_would(tmp_path):
    naive = pd.Timestamp("2025-01-01 10:00")
    _deliver(tmp_path, "2025-01", pd.DataFrame({"ts": [naive]}))
    _deliver(tmp_path, "2025-02", pd.DataFrame({"ts": [naive.tz_localize("UTC")]}))
    df = read_deliveries(tmp_path, "police", "calls")
    assert len(df) == 2 and df["ts"].iloc[0] == naive

import gzip
import json
from datetime import date

import pandas as pd
import pytest
from support import THAMES_VALLEY_BOX

from quality.contracts.base import Contract, Field
from vrdp.errors import SourceFileError
from vrdp.ingest.contract import REASONS, load_file

CONTRACT = Contract(
    source="police.occurrences",
    fields=(
        Field("ref", "str", required=True, pattern=r"OCC\d{4}"),
        Field("recorded_at", "datetime", required=True, not_future=True),
        Field("offence_code", "str", codes=("8N", "34B")),
        Field("victims", "int", min=0, max=50),
        Field("domestic", "bool"),
        Field("easting", "str"),
        Field("northing", "str"),
    ),
    key="ref",
    coordinates=("easting", "northing"),
)
HEADER = "ref,recorded_at,offence_code,victims,domestic,easting,northing"
GOOD = "OCC0001,2025-03-01T22:15:00,8N,1,true,451300,206200"


def write(tmp_path, name, text, gz=False):
    data = text.encode() if isinstance(text, str) else text
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_every_fault_is_quarantined_once_with_its_reason(tmp_path):
    lines = [
        GOOD,  # 1
        "OCC0002,2025-03-01T23:00:00,34B,0,no,206200,451300",  # 2 swapped BNG: fixed, loaded
        ",2025-03-01T23:00:00,8N,1,true,451300,206200",  # 3 missing ref
        "OCC0004,yesterday,8N,1,true,451300,206200",  # 4 bad datetime
        "OCC0005,2025-03-01T23:00:00,99Z,1,true,451300,206200",  # 5 unknown code
        "OCC0006,2025-03-01T23:00:00,8N,500,true,451300,206200",  # 6 out of range
        "OCC7,2025-03-01T23:00:00,8N,1,true,451300,206200",  # 7 bad format
        "OCC0008,2031-01-01T00:00:00,8N,1,true,451300,206200",  # 8 future
        "OCC0009,2025-03-01T23:00:00,8N,1,maybe,451300,206200",  # 9 bad bool
        "OCC0010,2025-03-01T23:00:00,8N,1,true,9999999,9999999",  # 10 outside UK
        GOOD,  # 11 exact repeat of row 1: collapses into it
        "OCC0013,2025-03-02T01:00:00,8N,1,true,451300,206200",  # 12 row 13's id, other content
        "OCC0013,2025-03-01T23:00:00,8N,1.5,true,451300,206200",  # 13 not an int
        "OCC0014,2025-03-01T23:00:00,,,,,",  # 14 optional fields empty: loaded, unlocated
        "OCC0015,2025-03-01T23:00:00,8N,1,true",  # 15 wrong field count
    ]
    path = write(tmp_path, "occurrences_2025-03.csv", HEADER + "\n" + "\n".join(lines) + "\n")
    result = load_file(path, CONTRACT, delivered_on=date(2025, 3, 31), area=THAMES_VALLEY_BOX)
    assert result.rows_in == 15
    assert len(result.loaded) + len(result.quarantine) + result.collapsed == 15
    assert result.collapsed == 1
    reasons = dict(zip(result.quarantine["row_number"], result.quarantine["reason"], strict=True))
    assert reasons == {
        3: "missing_required",
        4: "bad_type",
        5: "unknown_code",
        6: "out_of_range",
        7: "bad_format",
        8: "future_date",
        9: "bad_type",
        10: "bad_coordinates",
        12: "duplicate_key",
        13: "bad_type",
        15: "wrong_field_count",
    }
    assert set(reasons.values()) <= set(REASONS)
    loaded = result.loaded.set_index("row_number")
    assert list(loaded.index) == [1, 2, 14]
    assert loaded["copies_in_file"].tolist() == [2, 1, 1]
    assert loaded.loc[2, "coordinate_fault"] == "swapped_fixed"
    assert loaded.loc[2, "easting_m"] == 451300 and loaded.loc[2, "northing_m"] == 206200
    assert bool(loaded.loc[2, "domestic"]) is False
    assert pd.isna(loaded.loc[14, "easting_m"]) and loaded.loc[14, "coordinate_fault"] == "missing"
    assert loaded.loc[1, "recorded_at"] == pd.Timestamp("2025-03-01 22:15")
    assert str(loaded["victims"].dtype) == "Int64"
    q = result.quarantine.set_index("row_number")
    assert "offence_code" in q.loc[5, "detail"]
    assert q.loc[4, "raw_row"].startswith("OCC0004,yesterday")
    # both rows of the conflicting id are in quarantine, each with its raw text
    assert "duplicate_key:ref" in q.loc[13, "detail"] and "rows 12, 13" in q.loc[12, "detail"]
    assert q.loc[12, "raw_row"].startswith("OCC0013,2025-03-02T01")


def test_detail_lists_every_fault_of_a_row(tmp_path):
    path = write(tmp_path, "o.csv", HEADER + "\n,soon,99Z,-1,true,451300,206200\n")
    (row,) = load_file(path, CONTRACT, delivered_on=date(2025, 3, 31)).quarantine.itertuples()
    assert row.reason == "missing_required"
    for part in (
        "missing_required:ref",
        "bad_type:recorded_at",
        "unknown_code:offence_code",
        "out_of_range:victims",
    ):
        assert part in row.detail


def test_non_utf8_row_is_quarantined_and_the_rest_load(tmp_path):
    body = (
        HEADER + "\n" + GOOD + "\n"
    ).encode() + b"OCC0002,2025-03-01T23:00:00,8N,1,true,45\xff,1\n"
    path = write(tmp_path, "o.csv.gz", body, gz=True)
    result = load_file(path, CONTRACT, delivered_on=date(2025, 3, 31))
    assert len(result.loaded) == 1
    assert result.quarantine["reason"].tolist() == ["invalid_utf8"]
    assert "\\xff" in result.quarantine["raw_row"].iloc[0]


def test_missing_column_fails_the_file_with_its_name(tmp_path):
    path = write(tmp_path, "o.csv", HEADER.replace(",victims", "") + "\n")
    with pytest.raises(SourceFileError, match=r"missing column\(s\) \['victims'\]") as err:
        load_file(path, CONTRACT, delivered_on=date(2025, 3, 31))
    assert str(path) in str(err.value)


def test_json_lines_and_parquet_follow_the_same_contract(tmp_path):
    good = {
        "ref": "OCC0001",
        "recorded_at": "2025-03-01T22:15:00",
        "offence_code": "8N",
        "victims": 1,
        "domestic": True,
        "easting": 451300,
        "northing": 206200,
    }
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({"ref": "OCC0002"}),
        json.dumps({**good, "ref": "OCC0003", "victims": 99}),
    ]
    path = write(tmp_path, "o.jsonl", "\n".join(lines) + "\n")
    result = load_file(path, CONTRACT, delivered_on=date(2025, 3, 31))
    assert result.rows_in == 4 and len(result.loaded) == 1
    assert result.quarantine["reason"].tolist() == [
        "invalid_json",
        "missing_required",
        "out_of_range",
    ]
    pq_path = tmp_path / "o.parquet"
    pd.DataFrame([good, {**good, "ref": "OCC0002", "offence_code": "XX"}]).to_parquet(pq_path)
    result = load_file(pq_path, CONTRACT, delivered_on=date(2025, 3, 31))
    assert len(result.loaded) == 1 and result.quarantine["reason"].tolist() == ["unknown_code"]


def test_a_large_batch_reconciles(tmp_path):
    n = 200_000
    df = pd.DataFrame(
        {
            "ref": [f"OCC{i % 10000:04d}" for i in range(n)],
            "recorded_at": "2025-03-01T22:15:00",
            "offence_code": "8N",
            "victims": "1",
            "domestic": "true",
            "easting": "451300",
            "northing": "206200",
        }
    )
    path = tmp_path / "big.csv"
    df.to_csv(path, index=False)
    result = load_file(path, CONTRACT, delivered_on=date(2025, 3, 31))
    assert len(result.loaded) == 10_000 and result.quarantine.empty
    assert result.collapsed == n - 10_000 and set(result.loaded["copies_in_file"]) == {20}


def test_nul_bytes_are_stripped_and_flagged_where_the_contract_says_so(tmp_path):
    from dataclasses import replace

    body = (
        HEADER + "\n" + GOOD.replace("OCC0001", "OCC0\x00001") + "\n" + GOOD.replace("1,", "2,", 1)
    )
    path = write(tmp_path, "o.csv", body + "\n")
    quarantined = load_file(path, CONTRACT, delivered_on=date(2025, 3, 31))
    assert quarantined.quarantine["reason"].tolist() == ["nul_byte"]
    stripped = load_file(path, replace(CONTRACT, nul_bytes="strip"), delivered_on=date(2025, 3, 31))
    assert stripped.quarantine.empty
    assert stripped.loaded["ref"].tolist() == ["OCC0001", "OCC0002"]
    assert stripped.loaded["nul_stripped"].tolist() == [True, False]


def test_a_contract_naming_an_unknown_field_is_refused():
    from quality.contracts.base import OrderRule

    with pytest.raises(ValueError, match=r"unknown field\(s\) \['closed_at'\]"):
        Contract(
            "x.y",
            (Field("opened_at", "datetime"),),
            order_rules=(OrderRule("opened_at", "closed_at"),),
        )


def test_an_unexpected_error_names_the_file(tmp_path):
    # a nested column where the contract wants text: pyarrow cannot cast it, and the
    # error leaves ingestion as a SourceFileError naming the file, not a bare ArrowError
    path = tmp_path / "nested.parquet"
    good = dict(zip(HEADER.split(","), GOOD.split(","), strict=True))
    pd.DataFrame([{**good, "offence_code": {"a": 1}}]).to_parquet(path)
    with pytest.raises(SourceFileError, match="could not be validated") as err:
        load_file(path, CONTRACT, delivered_on=date(2025, 3, 31))
    assert str(path) in str(err.value)


def test_typed_columns_keep_their_parquet_type_when_every_value_is_empty(tmp_path):
    # A delivery whose date column is empty in every row (the small world's one-row
    # voluntary referrals of 2024-04, no date of birth) must be written with the same
    # Parquet type as a delivery that has dates: Spark refuses a lake table whose
    # files disagree (date32 in one, timestamp in another).
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vrdp.lake import write_parquet_atomic

    contract = Contract(
        source="community.referrals",
        fields=(
            Field("ref", "str", required=True),
            Field("dob", "date", not_future=True),
            Field("seen_at", "datetime"),
            Field("sent_at", "datetime_tz"),
            Field("age", "int"),
            Field("score", "float"),
            Field("open", "bool"),
            Field("note", "str"),
        ),
        key="ref",
    )
    header = "ref,dob,seen_at,sent_at,age,score,open,note"
    bodies = {
        "some": "R1,2001-02-03,2025-03-01T10:00:00,2025-03-01T10:00:00Z,23,1.5,true,x\nR2,,,,,,,",
        "empty": "R1,,,,,,,\nR2,,,,,,,",
        "none_loaded": "R1,not a date,,,,,,\n,,,,,,,",  # every row quarantined
    }
    types = {}
    for name, body in bodies.items():
        path = write(tmp_path, f"{name}.csv", header + "\n" + body + "\n")
        loaded = load_file(path, contract, delivered_on=date(2025, 3, 31)).loaded
        out = write_parquet_atomic(loaded, tmp_path / f"{name}.parquet")
        types[name] = pq.read_schema(out)
    assert len(types["none_loaded"]) and all(
        types[name].field("dob").type == pa.date32() for name in bodies
    )
    for field in ("seen_at", "sent_at", "age", "score", "open", "note"):
        assert len({str(types[name].field(field).type) for name in bodies}) == 1, field
    some = load_file(
        write(tmp_path, "again.csv", header + "\n" + bodies["some"] + "\n"),
        contract,
        delivered_on=date(2025, 3, 31),
    ).loaded
    assert some["dob"].tolist()[0] == date(2001, 2, 3) and some["dob"].isna().tolist() == [
        False,
        True,
    ]

"""One test per fault for four sources: quarantine rows or a clear error, rows conserved.

Each case starts from a clean delivery of the simulated world (CSV: CAD incidents and
RMS occurrences; JSON lines: intelligence logs; Parquet: GPS pings), plants exactly one
fault and checks how the source's contract handles it.
"""

import csv
import gzip
import io
import json
from datetime import date

import pandas as pd
import pytest
from support import THAMES_VALLEY_BOX

from quality.contracts.agencies import agency_contracts
from vrdp.errors import SourceFileError
from vrdp.ingest.contract import load_file

SOURCES = {
    "police.cad_incidents": ("csv", "incident_ref", "call_received_at", "easting", "northing"),
    "police.occurrences": ("csv", "occurrence_ref", "recorded_at", "easting", "northing"),
    "police.intelligence": ("jsonl", "log_id", "created_at", None, None),
    "patrol.gps": ("parquet", None, "ts", "lon", "lat"),
}
ON = date(2026, 1, 31)
N = 12


def _sample(world, source):
    agency, dataset = source.split(".")
    path = sorted((world / "landing" / agency / dataset).glob("*/*"))[-1]
    contract = agency_contracts()[source]
    clean = load_file(path, contract, delivered_on=ON, area=THAMES_VALLEY_BOX)
    good = set(clean.loaded["row_number"])
    if path.suffix == ".parquet":
        df = pd.read_parquet(path)
        rows = [r for i, r in enumerate(df.to_dict("records"), 1) if i in good][:N]
        return rows, "parquet"
    if path.suffix == ".jsonl":
        lines = path.read_text().splitlines()
        return [json.loads(x) for i, x in enumerate(lines, 1) if i in good][:N], "jsonl"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return [r for i, r in enumerate(df.to_dict("records"), 1) if i in good][:N], "csv"


def _write(tmp_path, fmt, rows, name="batch"):
    path = tmp_path / f"{name}.{fmt}"
    if fmt == "parquet":
        pd.DataFrame(rows).to_parquet(path, index=False)
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        path.write_text(buf.getvalue())
    return path


@pytest.fixture(scope="module")
def samples(small_world):
    return {s: _sample(small_world, s) for s in SOURCES}


def _load(path, source):
    return load_file(path, agency_contracts()[source], delivered_on=ON, area=THAMES_VALLEY_BOX)


def _one_bad_row(result, reason, row=3):
    assert result.rows_in == N == len(result.loaded) + len(result.quarantine)
    assert result.quarantine["row_number"].tolist() == [row]
    assert result.quarantine["reason"].tolist() == [reason]


@pytest.mark.parametrize("source", SOURCES)
def test_clean_sample_loads_whole(tmp_path, samples, source):
    rows, fmt = samples[source]
    result = _load(_write(tmp_path, fmt, rows), source)
    assert (result.rows_in, len(result.loaded), len(result.quarantine)) == (N, N, 0)


@pytest.mark.parametrize("source", SOURCES)
def test_missing_column_is_a_clear_error(tmp_path, samples, source):
    rows, fmt = samples[source]
    _, _key_or_none, when, *_ = SOURCES[source]
    path = _write(tmp_path, fmt, [{k: v for k, v in r.items() if k != when} for r in rows])
    if fmt == "jsonl":  # each JSON line is its own record: every line is quarantined
        result = _load(path, source)
        assert result.loaded.empty and (result.quarantine["reason"] == "missing_required").all()
        assert len(result.quarantine) == result.rows_in == N
        return
    with pytest.raises(SourceFileError, match=rf"missing column\(s\) \['{when}'\]") as err:
        _load(path, source)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("source", SOURCES)
def test_extra_column_is_a_clear_error(tmp_path, samples, source):
    rows, fmt = samples[source]
    path = _write(tmp_path, fmt, [{**r, "new_field": "x"} for r in rows])
    if fmt == "jsonl":
        result = _load(path, source)
        assert result.loaded.empty and (result.quarantine["reason"] == "unexpected_field").all()
        assert len(result.quarantine) == result.rows_in == N
        return
    with pytest.raises(SourceFileError, match=r"unexpected column\(s\) \['new_field'\]"):
        _load(path, source)


@pytest.mark.parametrize("source", ["police.cad_incidents", "police.occurrences", "patrol.gps"])
def test_wrong_type(tmp_path, samples, source):
    rows, fmt = samples[source]
    rows = [dict(r) for r in rows]
    col = {"patrol.gps": "speed_mps"}.get(source, SOURCES[source][3])
    rows[2][col] = "fast" if fmt != "parquet" else None
    if fmt == "parquet":  # a text column where the contract wants a number
        df = pd.DataFrame(rows).astype({col: "object"})
        df.loc[2, col] = "fast"
        df[col] = df[col].astype(str)
        path = tmp_path / "batch.parquet"
        df.to_parquet(path, index=False)
    else:
        path = _write(tmp_path, fmt, rows)
    result = _load(path, source)
    _one_bad_row(result, "bad_type" if col != "easting" else "bad_coordinates")


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    ("value", "reason"),
    [("2025-02-30T10:00:00", "bad_type"), ("2099-01-01T00:00:00", "future_date")],
)
def test_unparseable_and_future_dates(tmp_path, samples, source, value, reason):
    rows, fmt = samples[source]
    rows = [dict(r) for r in rows]
    when = SOURCES[source][2]
    if fmt == "parquet":
        df = pd.DataFrame(rows).astype({when: "object"})
        df.loc[2, when] = value
        df[when] = df[when].astype(str)
        path = tmp_path / "batch.parquet"
        df.to_parquet(path, index=False)
    else:
        rows[2][when] = value
        path = _write(tmp_path, fmt, rows)
    _one_bad_row(_load(path, source), reason)


@pytest.mark.parametrize("source", ["police.cad_incidents", "police.occurrences", "patrol.gps"])
def test_out_of_area_and_swapped_coordinates_are_flagged(tmp_path, samples, source):
    rows, fmt = samples[source]
    rows = [dict(r) for r in rows]
    _, _, _, x, y = SOURCES[source]
    if fmt == "parquet":
        rows[2][x] -= 3.0  # 3 degrees west: Wales, outside the force
        rows[4][x], rows[4][y] = rows[4][y], rows[4][x]
    else:
        rows[2][x] = str(int(rows[2][x]) - 200_000)
        rows[4][x], rows[4][y] = rows[4][y], rows[4][x]
    result = _load(_write(tmp_path, fmt, rows), source)
    assert len(result.loaded) == N and result.quarantine.empty
    loaded = result.loaded.set_index("row_number")
    assert not loaded.loc[3, "in_area"]
    assert loaded.loc[5, "coordinate_fault"] == "swapped_fixed" and loaded.loc[5, "in_area"]


@pytest.mark.parametrize(
    "source", ["police.cad_incidents", "police.occurrences", "police.intelligence"]
)
def test_duplicate_ids(tmp_path, samples, source):
    rows, fmt = samples[source]
    key = SOURCES[source][1]
    rows = [dict(r) for r in rows]
    rows[2][key] = rows[0][key]
    result = _load(_write(tmp_path, fmt, rows), source)
    # both rows of the conflicting id are held back, each with its raw text
    assert result.rows_in == N == len(result.loaded) + len(result.quarantine)
    assert result.quarantine["row_number"].tolist() == [1, 3]
    assert set(result.quarantine["reason"]) == {"duplicate_key"}


@pytest.mark.parametrize("source", SOURCES)
def test_empty_file(tmp_path, samples, source):
    fmt = samples[source][1]
    path = tmp_path / f"empty.{fmt}"
    path.write_bytes(b"")
    if fmt == "jsonl":  # JSON lines have no header: an empty file is an empty delivery
        result = _load(path, source)
        assert (result.rows_in, len(result.loaded), len(result.quarantine)) == (0, 0, 0)
        return
    with pytest.raises(SourceFileError) as err:
        _load(path, source)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("source", SOURCES)
def test_truncated_file(tmp_path, samples, source):
    rows, fmt = samples[source]
    path = _write(tmp_path, fmt, rows)
    data = path.read_bytes()
    last_row = data.rstrip(b"\n").rfind(b"\n") + 1
    cut = last_row + (len(data) - last_row) // 3  # the last row loses two thirds
    path.write_bytes(data[:cut])
    if fmt == "parquet":
        with pytest.raises(SourceFileError, match="not a readable Parquet file"):
            _load(path, source)
        return
    result = _load(path, source)
    assert result.rows_in == N == len(result.loaded) + len(result.quarantine)
    assert result.quarantine["row_number"].tolist() == [N]


@pytest.mark.parametrize(
    "source", ["police.cad_incidents", "police.occurrences", "police.intelligence"]
)
def test_non_utf8_bytes(tmp_path, samples, source):
    rows, fmt = samples[source]
    path = _write(tmp_path, fmt, rows)
    lines = path.read_bytes().split(b"\n")
    target = 3 if fmt == "csv" else 2  # third data row (CSV has a header)
    lines[target] = lines[target].replace(b"T", b"\xff", 1)
    path.write_bytes(gzip.decompress(gzip.compress(b"\n".join(lines))))
    _one_bad_row(_load(path, source), "invalid_utf8")


@pytest.mark.parametrize(
    "source", ["police.cad_incidents", "police.occurrences", "police.intelligence"]
)
def test_a_one_megabyte_field(tmp_path, samples, source):
    rows, fmt = samples[source]
    rows = [dict(r) for r in rows]
    col = {"police.intelligence": "text"}.get(source, "location_text")
    rows[2][col] = "x" * 1_000_000
    _one_bad_row(_load(_write(tmp_path, fmt, rows), source), "field_too_large")

"""data.police.uk stop and search: one test per fault, ids, local time, asset, checks, sensor.

Faults are planted in the shipped real 40-row Thames Valley sample; each ends in
quarantine rows or a clear error naming the file, with the row count conserved.
"""

import csv
import io
import json
import shutil
from datetime import date

import dagster as dg
import pandas as pd
import pytest
from support import DEMO_WORLD_DISTRICTS, PUBLIC, THAMES_VALLEY_BOX

from assets.sources.police_uk_stop_search import (
    STOP_SEARCH_MONTHS,
    STOP_SEARCH_QUARANTINE_KEY,
    STOP_SEARCHES_KEY,
    stop_search_lake_paths,
)
from config.resources import PlatformConfig
from orchestration.definitions import build_defs
from quality.contracts.stop_search import STOP_SEARCH_COLUMNS
from sensors.landing import police_uk_stop_search_sensor
from vrdp.errors import SourceFileError
from vrdp.ingest.stop_search import (
    find_stop_search_files,
    parse_stop_search_file,
    stop_search_refs,
)
from vrdp.lake import sha256_file

SAMPLE = (
    PUBLIC
    / "police_uk"
    / "thames_valley"
    / "stop_and_search"
    / "2022-01-thames-valley-stop-and-search.sample40.csv"
)
ON = date(2026, 1, 31)
N = 40
NAME = "2022-01-thames-valley-stop-and-search.csv"


def _rows():
    with open(SAMPLE, newline="") as f:
        return list(csv.DictReader(f))


def _write(tmp_path, rows, columns=None):
    path = tmp_path / NAME
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns or list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue())
    return path


def _parse(path):
    return parse_stop_search_file(
        path, validated_on=ON, month="2022-01", force="thames-valley", area=THAMES_VALLEY_BOX
    )


def _one_bad_row(result, reason, row=3):
    assert result.rows_in == N == len(result.loaded) + len(result.quarantine)
    assert result.quarantine["row_number"].tolist() == [row]
    assert result.quarantine["reason"].tolist() == [reason]
    assert result.quarantine["source_file"].tolist() == [NAME]


def _located(rows, i):
    """Index of the i-th row that has a point (the sample has unlocated rows)."""
    return [k for k, r in enumerate(rows) if r["Latitude"]][i]


def test_the_real_sample_loads_whole_and_typed():
    result = _parse(SAMPLE)
    assert (result.rows_in, len(result.loaded), len(result.quarantine)) == (N, N, 0)
    loaded = result.loaded
    assert loaded["stop_search_ref"].is_unique
    assert str(loaded["searched_at"].dtype) == "datetime64[ms]"
    assert loaded["part_of_policing_operation"].dropna().isin([True, False]).all()
    assert set(loaded["search_type"]) <= {
        "Person search",
        "Person and Vehicle search",
        "Vehicle search",
    }


def test_missing_column_is_a_clear_error(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "Gender"} for r in _rows()]
    path = _write(tmp_path, rows)
    with pytest.raises(SourceFileError, match=r"missing column\(s\) \['Gender'\]") as err:
        _parse(path)
    assert str(path) in str(err.value)


def test_extra_column_is_a_clear_error(tmp_path):
    path = _write(tmp_path, [{**r, "new_field": "x"} for r in _rows()])
    with pytest.raises(SourceFileError, match=r"unexpected column\(s\) \['new_field'\]"):
        _parse(path)


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("Part of a policing operation", "maybe", "bad_type"),
        ("Outcome linked to object of search", "2", "bad_type"),
        ("Gender", "Mal", "unknown_code"),
        ("Age range", "18-25", "unknown_code"),
        ("Type", "Dog search", "unknown_code"),
    ],
)
def test_wrong_type_or_code(tmp_path, column, value, reason):
    rows = _rows()
    rows[2][column] = value
    _one_bad_row(_parse(_write(tmp_path, rows)), reason)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2022-01-32T10:00:00+00:00", "bad_type"),  # impossible day
        ("2022-01-05 10:00", "bad_type"),  # no offset: ambiguous local time
        ("yesterday", "bad_type"),
        ("2099-01-01T00:00:00+00:00", "future_date"),
    ],
)
def test_unparseable_and_future_dates(tmp_path, value, reason):
    rows = _rows()
    rows[2]["Date"] = value
    _one_bad_row(_parse(_write(tmp_path, rows)), reason)


def test_out_of_area_is_flagged_outside_uk_quarantined_and_swaps_fixed(tmp_path):
    rows = _rows()
    a, b, c = _located(rows, 0), _located(rows, 1), _located(rows, 2)
    rows[a]["Longitude"] = "-3.18"  # Cardiff: in the UK, outside the force
    rows[a]["Latitude"] = "51.48"
    rows[b]["Longitude"], rows[b]["Latitude"] = rows[b]["Latitude"], rows[b]["Longitude"]
    rows[c]["Longitude"] = "12.5"  # Rome
    rows[c]["Latitude"] = "41.9"
    result = _parse(_write(tmp_path, rows))
    assert result.rows_in == N == len(result.loaded) + len(result.quarantine)
    assert result.quarantine["reason"].tolist() == ["bad_coordinates"]
    assert result.quarantine["row_number"].tolist() == [c + 1]
    loaded = result.loaded.set_index("row_number")
    assert not loaded.loc[a + 1, "in_area"] and loaded.loc[a + 1, "coordinate_fault"] is pd.NA
    assert loaded.loc[b + 1, "coordinate_fault"] == "swapped_fixed" and loaded.loc[b + 1, "in_area"]
    assert 51 < loaded.loc[b + 1, "latitude"] < 53


def test_identical_rows_are_separate_searches_with_distinct_stable_ids(tmp_path):
    """There are no ids in the release; repeats are real (the sample holds one pair)."""
    rows = _rows()
    rows[2] = dict(rows[0])
    result = _parse(_write(tmp_path, rows))
    assert (len(result.loaded), len(result.quarantine)) == (N, 0)
    loaded = result.loaded.set_index("row_number")
    assert loaded["stop_search_ref"].is_unique
    assert loaded.loc[3, "repeat_in_file"] and not loaded.loc[1, "repeat_in_file"]
    # Re-ordering the file gives the same ids.
    again = _parse(_write(tmp_path, rows[::-1]))
    assert set(again.loaded["stop_search_ref"]) == set(loaded["stop_search_ref"])


def test_empty_file_is_a_clear_error_and_a_header_only_file_is_an_empty_month(tmp_path):
    path = tmp_path / NAME
    path.write_bytes(b"")
    with pytest.raises(SourceFileError) as err:
        _parse(path)
    assert str(path) in str(err.value)
    path.write_text(",".join(STOP_SEARCH_COLUMNS) + "\n")
    result = _parse(path)
    assert (result.rows_in, len(result.loaded), len(result.quarantine)) == (0, 0, 0)


def test_truncated_file(tmp_path):
    path = _write(tmp_path, _rows())
    data = path.read_bytes()
    last_row = data.rstrip(b"\n").rfind(b"\n") + 1
    path.write_bytes(data[: last_row + (len(data) - last_row) // 3])
    result = _parse(path)
    assert result.rows_in == N == len(result.loaded) + len(result.quarantine)
    assert result.quarantine["row_number"].tolist() == [N]
    assert result.quarantine["reason"].tolist() == ["wrong_field_count"]


def test_non_utf8_bytes(tmp_path):
    path = _write(tmp_path, _rows())
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b"search", b"s\xffarch", 1)
    path.write_bytes(b"\n".join(lines))
    _one_bad_row(_parse(path), "invalid_utf8")


def test_a_one_megabyte_field(tmp_path):
    rows = _rows()
    rows[2]["Policing operation"] = "x" * 1_000_000
    _one_bad_row(_parse(_write(tmp_path, rows)), "field_too_large")


def test_local_time_follows_the_offset_across_british_summer_time(tmp_path):
    rows = _rows()[:2]
    rows[0]["Date"] = "2022-01-10T12:00:00+00:00"
    rows[1]["Date"] = "2021-07-01T00:30:00+01:00"  # BST: still 30 June in UTC
    result = parse_stop_search_file(
        _write(tmp_path, rows), validated_on=ON, month="2022-01", force="thames-valley"
    )
    got = result.loaded.set_index("row_number")
    assert str(got.loc[1, "searched_at"]) == "2022-01-10 12:00:00"
    assert str(got.loc[2, "searched_at"]) == "2021-07-01 00:30:00"
    assert str(got.loc[2, "searched_at_utc"]) == "2021-06-30 23:30:00"


def test_refs_do_not_depend_on_row_order():
    rows = pd.DataFrame({"a": ["x", "y", "x"]})
    refs, _ = stop_search_refs(rows, force="f", month="2025-01")
    back, _ = stop_search_refs(rows.iloc[::-1].reset_index(drop=True), force="f", month="2025-01")
    assert sorted(refs) == sorted(back)


def test_file_names(tmp_path):
    for name in (NAME, "2022-02-thames-valley-stop-and-search.csv.gz", "2022-01-other-street.csv"):
        (tmp_path / name).write_text("x")
    assert sorted(find_stop_search_files(tmp_path, "thames-valley")) == ["2022-01", "2022-02"]
    (tmp_path / "2022-01-thames-valley-stop-and-search.csv.gz").write_text("x")
    with pytest.raises(SourceFileError, match="a second file for 2022-01"):
        find_stop_search_files(tmp_path, "thames-valley")


# --- the Dagster asset, its checks and its sensor -------------------------------------


@pytest.fixture
def tv_root(data_root, monkeypatch):
    monkeypatch.setenv("VRDP_POLICE_UK_FORCE", "thames-valley")
    monkeypatch.setenv("VRDP_FORCE_DISTRICTS", DEMO_WORLD_DISTRICTS)
    landing = data_root / "landing" / "police_uk" / "stop_and_search"
    landing.mkdir(parents=True)
    return data_root, landing


def _tick(instance, cursor):
    ctx = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"platform": PlatformConfig()}
    )
    return police_uk_stop_search_sensor()(ctx)


def _materialize(defs, instance, month):
    return dg.materialize(
        [*defs.assets, *defs.asset_checks],
        selection=dg.AssetSelection.assets(STOP_SEARCHES_KEY, STOP_SEARCH_QUARANTINE_KEY),
        partition_key=month,
        instance=instance,
        resources=defs.resources,
        raise_on_error=False,
    )


def test_sensor_asset_and_checks_on_a_simulated_month(tv_root, small_world):
    root, landing = tv_root
    src = sorted((small_world / "landing" / "police_uk" / "stop_and_search").glob("*.csv"))[-2:]
    for f in src:
        shutil.copy(f, landing / f.name)
    instance = dg.DagsterInstance.ephemeral()
    first = _tick(instance, None)
    months = [f.name[:7] for f in src]
    assert [r.partition_key for r in first.run_requests] == months
    assert first.dynamic_partitions_requests[0].partition_keys == months
    assert _tick(instance, first.cursor).run_requests == []
    instance.add_dynamic_partitions(STOP_SEARCH_MONTHS.name, months)

    defs = build_defs()
    month = months[-1]
    result = _materialize(defs, instance, month)
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "rows_reconcile": True,
        "contract": True,
        "quarantine_share": True,
        "located_in_force_area": True,
    }
    meta = result.asset_materializations_for_node("police_uk_stop_searches")[0].metadata
    loaded_path, q_path = stop_search_lake_paths(root / "lake", month)
    loaded, quarantined = pd.read_parquet(loaded_path), pd.read_parquet(q_path)
    assert meta["rows_in"].value == len(loaded) + len(quarantined) > 0
    assert {"h3_cell", "lsoa21_code", "ward_code", "in_force_area"} <= set(loaded.columns)

    # Re-materializing the same file rewrites the same bytes (idempotent).
    before = sha256_file(loaded_path)
    assert _materialize(defs, instance, month).success
    assert sha256_file(loaded_path) == before


def test_a_unit_of_two_forces_loads_both_files_of_a_month(data_root, monkeypatch, small_world):
    """A VRU covering two forces: each force's file of the month lands in one partition."""
    monkeypatch.setenv("VRDP_POLICE_UK_FORCE", "thames-valley,city-of-london")
    monkeypatch.setenv("VRDP_FORCE_DISTRICTS", DEMO_WORLD_DISTRICTS + ",E09000001")
    landing = data_root / "landing" / "police_uk" / "stop_and_search"
    landing.mkdir(parents=True)
    src = sorted((small_world / "landing" / "police_uk" / "stop_and_search").glob("*.csv"))[-1]
    month = src.name[:7]
    shutil.copy(src, landing / src.name)
    # the second force's file of the same month (its rows: the first 30 of the other)
    other = landing / f"{month}-city-of-london-stop-and-search.csv"
    other.write_text("".join(src.read_text().splitlines(keepends=True)[:31]))
    instance = dg.DagsterInstance.ephemeral()
    first = _tick(instance, None)
    assert [r.partition_key for r in first.run_requests] == [month]  # one run for the month
    instance.add_dynamic_partitions(STOP_SEARCH_MONTHS.name, [month])
    result = _materialize(build_defs(), instance, month)
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["rows_reconcile"] and checks["contract"]
    loaded_path, q_path = stop_search_lake_paths(data_root / "lake", month)
    loaded, quarantined = pd.read_parquet(loaded_path), pd.read_parquet(q_path)
    rows = sum(len(f.read_text().splitlines()) - 1 for f in (landing / src.name, other))
    assert len(loaded) + len(quarantined) == rows
    # ids carry the force, so the same search in two forces' files stays two searches
    forces = loaded["stop_search_ref"].str.split(":").str[0].value_counts()
    assert set(forces.index) == {"thames-valley", "city-of-london"}
    assert loaded["stop_search_ref"].is_unique
    # a changed file of one force asks for the month again, and only that month
    other.write_text("".join(src.read_text().splitlines(keepends=True)[:21]))
    again = _tick(instance, first.cursor)
    assert [r.partition_key for r in again.run_requests] == [month]


def test_unreadable_month_is_rejected_with_its_name(tv_root):
    root, landing = tv_root
    bad = landing / NAME
    bad.write_text("Type,Date\nPerson search,2022-01-01T00:00:00+00:00\n")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(STOP_SEARCH_MONTHS.name, ["2022-01"])
    result = _materialize(build_defs(), instance, "2022-01")
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert str(bad) in failure.step_failure_data.error.message
    assert (root / "rejected" / "police_uk" / "stop_and_search" / NAME).exists()


def test_provenance_marks_simulated_files(tmp_path):
    from assets.sources.police_uk_stop_search import PROVENANCE_FILE, file_origin

    f = tmp_path / NAME
    f.write_text("x")
    assert file_origin(f) == "delivered"
    (tmp_path / PROVENANCE_FILE).write_text(json.dumps({NAME: "simulated world (w), not real"}))
    assert file_origin(f) == "simulated world (w), not real"

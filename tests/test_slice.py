"""The foundation slice end to end, in-process, on real City of London data.

Eleven months are landed (July 2025 held back, as in the Thames Valley
release), then the same code path as ``make run`` materializes everything into
a temporary warehouse with an ephemeral Dagster instance.
"""

import json

import dagster as dg
import geopandas as gpd
import pandas as pd
import pytest
from support import COL_STREET, REPO, land

from assets.sources.police_uk import STREET_CRIMES_KEY
from config.settings import settings
from orchestration.main import run_all
from vrdp.lake import sha256_file

SEEDS = REPO / "dbt_project" / "seeds"
MONTHS = [f"2025-{m:02d}" for m in range(1, 13) if m != 7]


@pytest.fixture(scope="module")
def slice_run(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("slice") / "data"
    mp.setenv("VRDP_DATA_ROOT", str(root))
    mp.setenv("VRDP_POLICE_UK_FORCE", "city-of-london")
    mp.setenv("HOME", str(root.parent / "home"))
    mp.delenv("DAGSTER_HOME", raising=False)
    land(root, *[COL_STREET / f"{m}-city-of-london-street.csv.gz" for m in MONTHS])
    instance = dg.DagsterInstance.ephemeral()
    outcome = run_all(instance, settings(), log=lambda *_: None)
    yield {"root": root, "instance": instance, "outcome": outcome, "settings": settings()}
    mp.undo()


def _latest_meta(instance, key, partition=None):
    flt = dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition else None)
    (record,) = instance.fetch_materializations(flt, limit=1).records
    return {k: v.value for k, v in record.asset_materialization.metadata.items()}


def test_missing_month_is_reported_not_invented(slice_run):
    assert slice_run["outcome"]["months"] == MONTHS
    assert slice_run["outcome"]["missing"] == ["2025-07"]
    lake = slice_run["settings"].lake_dir / "police_uk" / "street_crimes"
    assert sorted(p.name for p in lake.iterdir()) == [m for m in MONTHS]
    meta = _latest_meta(slice_run["instance"], STREET_CRIMES_KEY, "2025-08")
    assert meta["months_missing"] == "2025-07"


@pytest.mark.parametrize("month", MONTHS)
def test_input_rows_equal_loaded_plus_quarantined(slice_run, month):
    src = COL_STREET / f"{month}-city-of-london-street.csv.gz"
    rows_in = len(pd.read_csv(src, dtype=str))
    lake = slice_run["settings"].lake_dir
    loaded = pd.read_parquet(lake / "police_uk/street_crimes" / month)
    quarantined = pd.read_parquet(lake / "quarantine/police_uk_street_crimes" / month)
    collapsed = int((loaded["copies_in_file"] - 1).sum())  # exact repeats folded into a row
    assert rows_in == len(loaded) + len(quarantined) + collapsed
    assert len(quarantined) > 0 and set(quarantined["reason"]) == {"no_location"}
    meta = _latest_meta(slice_run["instance"], STREET_CRIMES_KEY, month)
    assert (meta["rows_in"], meta["rows_loaded"]) == (rows_in, len(loaded))


def test_asset_checks_ran_and_blocking_ones_passed(slice_run):
    instance = slice_run["instance"]
    for name in ("rows_reconcile", "contract"):
        key = dg.AssetCheckKey(STREET_CRIMES_KEY, name)
        records = instance.event_log_storage.get_asset_check_execution_history(key, limit=50)
        assert len(records) == len(MONTHS)
        assert all(r.evaluation.passed for r in records)


def test_export_harm_equals_sum_over_its_events(slice_run):
    """Recompute harm per cell from the lake and the seed CSVs, independently of dbt."""
    s = slice_run["settings"]
    latest = s.exports_dir / "latest"
    export = pd.read_csv(latest / "top_harm_cells.csv")
    events = pd.read_parquet(s.lake_dir / "police_uk" / "street_crimes")
    weights = pd.read_csv(SEEDS / "cchi_harm_weights.csv").set_index("crime_type")
    types = pd.read_csv(SEEDS / "police_uk_crime_types.csv").set_index("crime_type")
    window = events[pd.to_datetime(events["month"]) >= "2025-10-01"]
    window = window[~window["crime_type"].map(types["is_police_generated"])]
    # a cell with no crime inside the force area is not one of its hot spots
    inside = window.groupby("h3_cell")["in_force_area"].any()
    assert (~inside).any()  # the City's file holds crimes located outside the City
    window = window[window["h3_cell"].map(inside)]
    harm = window["crime_type"].map(weights["harm_weight_days"])
    per_cell = harm.groupby(window["h3_cell"]).sum()
    counts = window.groupby("h3_cell").size()
    assert len(export) == min(50, len(per_cell))
    for row in export.itertuples():
        assert row.harm_days == pytest.approx(per_cell[row.h3_cell], rel=1e-9)
        assert row.events == counts[row.h3_cell]
    # the export holds the top cells: nothing left out has more harm than the last one
    left_out = per_cell.drop(export["h3_cell"])
    assert left_out.empty or left_out.max() <= export["harm_days"].min()
    assert export["share_of_harm"].sum() == pytest.approx(
        export["harm_days"].sum() / per_cell.sum(),
        abs=1e-4,  # CSV keeps 6 decimals
    )


def test_export_files_manifest_and_geojson(slice_run):
    latest = slice_run["settings"].exports_dir / "latest"
    manifest = json.loads((latest / "manifest.json").read_text())
    assert manifest["version"] == latest.resolve().name
    assert {f["name"] for f in manifest["files"]} == {
        "top_harm_cells.parquet",
        "top_harm_cells.csv",
        "top_harm_cells.geojson",
    }
    for f in manifest["files"]:
        assert sha256_file(latest / f["name"]) == f["sha256"]
    geo = gpd.read_file(latest / "top_harm_cells.geojson")
    parquet = pd.read_parquet(latest / "top_harm_cells.parquet")
    assert len(geo) == len(parquet) == manifest["files"][0]["rows"]
    assert geo.crs.to_epsg() == 4326
    assert geo.geometry.geom_type.eq("Polygon").all()
    centres = gpd.GeoSeries(gpd.points_from_xy(geo["longitude"], geo["latitude"]), crs=4326)
    assert geo.geometry.contains(centres).all()
    assert manifest["parameters"]["exclude_police_generated"] is True


def test_second_run_changes_nothing(slice_run):
    s = slice_run["settings"]
    before = sorted(p.name for p in s.exports_dir.iterdir())
    lake_file = s.lake_dir / "police_uk/street_crimes/2025-01/part-0.parquet"
    digest = sha256_file(lake_file)
    outcome = run_all(slice_run["instance"], s, log=lambda *_: None)
    assert outcome["skipped"] == MONTHS
    assert sorted(p.name for p in s.exports_dir.iterdir()) == before
    assert sha256_file(lake_file) == digest


def test_warehouse_has_the_mart_and_it_matches_the_lake(slice_run):
    import duckdb

    s = slice_run["settings"]
    con = duckdb.connect(str(s.warehouse_path), read_only=True)
    try:
        mart_events = con.execute("select sum(events) from marts.fct_cell_monthly_harm").fetchone()[
            0
        ]
        quarantined = con.execute("select count(*) from staging.stg_police_uk__quarantined_rows")
        quarantined = quarantined.fetchone()[0]
    finally:
        con.close()
    lake = s.lake_dir
    assert mart_events == len(pd.read_parquet(lake / "police_uk/street_crimes"))
    assert quarantined == len(pd.read_parquet(lake / "quarantine/police_uk_street_crimes"))


def test_city_of_london_runs_with_its_own_boundaries(slice_run):
    """A second real force end to end: its area inferred, its wards on events and hot spots."""
    from assets.hotspots.analysis import BACKTEST_KEY, CELL_HARM_WINDOWS_KEY

    s = slice_run["settings"]
    area = json.loads((s.lake_dir / "geography" / "force_area.json").read_text())
    assert area["districts"] == ["E09000001"] and area["wards"] == 25
    events = pd.read_parquet(s.lake_dir / "police_uk" / "street_crimes")
    inside = events["in_force_area"]
    # most City crimes lie in the City; some are mapped to points in the neighbouring
    # boroughs (their own reported LSOA is mostly a neighbour's too)
    assert inside.mean() > 0.9 and events.loc[inside, "ward_code"].notna().all()
    lsoas = set(
        gpd.read_parquet(s.lake_dir / "geography" / "lsoa21_boundaries.parquet")["LSOA21CD"]
    )
    assert events.loc[~inside, "reported_lsoa_code"].isin(lsoas).mean() < 0.5
    meta = _latest_meta(slice_run["instance"], STREET_CRIMES_KEY, "2025-03")
    month = events[pd.to_datetime(events["month"]) == "2025-03-01"]
    both = month["reported_lsoa_code"].notna() & month["lsoa21_code"].notna()
    disagree = int((both & (month["reported_lsoa_code"] != month["lsoa21_code"])).sum())
    assert meta["lsoa_disagreements"] == disagree < 0.05 * len(month)
    assert meta["rows_with_ward"] == int(month["ward_code"].notna().sum())
    # hot spots: the grid is the force outline, the export names wards
    grid = _latest_meta(slice_run["instance"], CELL_HARM_WINDOWS_KEY)
    assert "force outline" in grid["grid_rule"]
    outline = gpd.read_parquet(s.lake_dir / "geography" / "force_outline.parquet").union_all()
    hot = pd.read_parquet(s.lake_dir / "hotspots" / "hotspot_list.parquet")
    hot = hot[hot["selected"]]
    centres = gpd.GeoSeries(gpd.points_from_xy(hot["longitude"], hot["latitude"]))
    in_city = centres.within(outline).to_numpy()
    assert in_city.sum() >= 5 and hot.loc[in_city, "ward_name"].notna().all()
    # the export ranks the City's cells and its neighbours'; the City's are named
    export = pd.read_csv(s.exports_dir / "latest" / "top_harm_cells.csv")
    export_in = (
        gpd.GeoSeries(gpd.points_from_xy(export["longitude"], export["latitude"]))
        .within(outline)
        .to_numpy()
    )
    assert export_in.sum() >= 10 and export.loc[export_in, "ward_name"].notna().all()
    # accuracy on both stated study areas, beside every baseline
    bt = _latest_meta(slice_run["instance"], BACKTEST_KEY)
    for method in ("forecast", "previous_period", "all_periods", "ewm", "kde"):
        assert f"pai_at_5pct_{method}" in bt and f"pai_at_5pct_{method}_active_cells" in bt
    assert "force area" in bt["study_areas"]
    summary = pd.read_parquet(s.lake_dir / "hotspots" / "backtest.parquet")
    assert set(summary["study_area"]) == {"force_area", "active_cells"}

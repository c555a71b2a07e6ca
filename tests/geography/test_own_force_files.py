"""A force's own files dropped into landing (plain or gzipped), one force or several."""

import gzip
import shutil

import dagster as dg
import pandas as pd
import pytest
from support import COL_STREET

from assets.geography.boundaries import boundary_assets
from assets.sources.police_uk import (
    POLICE_UK_MONTHS,
    STREET_CRIMES_KEY,
    STREET_QUARANTINE_KEY,
    police_uk_street_crimes,
)
from config.resources import PlatformConfig
from config.settings import settings
from orchestration.demo_data import land_demo_data


def _drop_plain(landing, month, force, source_month=None):
    """A user's own file: the plain CSV data.police.uk serves, under its own name."""
    landing.mkdir(parents=True, exist_ok=True)
    src = COL_STREET / f"{source_month or month}-city-of-london-street.csv.gz"
    dest = landing / f"{month}-{force}-street.csv"
    with gzip.open(src, "rb") as fin, open(dest, "wb") as fout:
        shutil.copyfileobj(fin, fout)
    return dest


def test_a_force_that_ships_nothing_needs_its_files_and_says_where(data_root, monkeypatch):
    monkeypatch.setenv("VRDP_POLICE_UK_FORCE", "my-force")
    with pytest.raises(SystemExit, match=r"landing/police_uk/street.*YYYY-MM-<force>-street"):
        land_demo_data(settings())
    landing = data_root / "landing" / "police_uk" / "street"
    dropped = [_drop_plain(landing, m, "my-force") for m in ("2025-01", "2025-02")]
    assert land_demo_data(settings()) == dropped


def test_a_dropped_month_wins_over_the_shipped_one(data_root):
    landing = data_root / "landing" / "police_uk" / "street"
    mine = _drop_plain(landing, "2025-03", "city-of-london", source_month="2025-04")
    landed = land_demo_data(settings())
    assert len(landed) == 12 and mine in landed
    assert not (landing / "2025-03-city-of-london-street.csv.gz").exists()


def _load(month):
    instance = dg.DagsterInstance.ephemeral()
    assets = [*boundary_assets(), police_uk_street_crimes]
    resources = {"platform": PlatformConfig()}
    assert dg.materialize(assets, selection=dg.AssetSelection.groups("geography"),
                          instance=instance, resources=resources).success  # fmt: skip
    instance.add_dynamic_partitions(POLICE_UK_MONTHS.name, [month])
    result = dg.materialize(
        assets,
        selection=dg.AssetSelection.assets(STREET_CRIMES_KEY, STREET_QUARANTINE_KEY),
        partition_key=month,
        instance=instance,
        resources=resources,
    )
    assert result.success
    meta = instance.get_latest_materialization_event(STREET_CRIMES_KEY).asset_materialization
    return pd.read_parquet(settings().lake_dir / "police_uk/street_crimes" / month), meta.metadata


def test_several_forces_load_into_one_month(data_root, monkeypatch):
    """A unit covering two forces: both forces' files of a month, one partition, one area."""
    monkeypatch.setenv("VRDP_POLICE_UK_FORCE", "city-of-london,my-force")
    landing = data_root / "landing" / "police_uk" / "street"
    landing.mkdir(parents=True)
    shutil.copy(COL_STREET / "2025-01-city-of-london-street.csv.gz", landing)
    # the second force's file: the same January rows under its own name (a file's rows
    # must be of its month)
    _drop_plain(landing, "2025-01", "my-force")
    rows, meta = _load("2025-01")
    rows_in = 2 * len(pd.read_csv(COL_STREET / "2025-01-city-of-london-street.csv.gz", dtype=str))
    assert meta["rows_in"].value == rows_in
    counted = ("rows_loaded", "rows_quarantined", "rows_collapsed")  # repeats fold (#20)
    assert sum(meta[k].value for k in counted) == rows_in
    assert set(rows["event_id"].str.split(":").str[0]) == {"city-of-london", "my-force"}
    assert rows["event_id"].is_unique
    assert rows.loc[rows["in_force_area"], "ward_code"].notna().all()
    assert meta["lsoa_disagreements"].value < 0.05 * len(rows)


def test_the_sensor_requests_one_run_per_month_for_several_forces(data_root, monkeypatch):
    import json

    from sensors.landing import police_uk_street_sensor

    monkeypatch.setenv("VRDP_POLICE_UK_FORCE", "city-of-london,my-force")
    landing = data_root / "landing" / "police_uk" / "street"
    landing.mkdir(parents=True)
    shutil.copy(COL_STREET / "2025-01-city-of-london-street.csv.gz", landing)
    _drop_plain(landing, "2025-01", "my-force", source_month="2025-02")
    _drop_plain(landing, "2025-02", "my-force")
    instance = dg.DagsterInstance.ephemeral()
    ctx = dg.build_sensor_context(instance=instance, resources={"platform": PlatformConfig()})
    tick = police_uk_street_sensor()(ctx)
    assert [r.partition_key for r in tick.run_requests] == ["2025-01", "2025-02"]
    assert tick.run_requests[0].run_key.count("+") == 1  # both forces' files of January
    assert set(json.loads(tick.cursor)) == {
        "2025-01:city-of-london",
        "2025-01:my-force",
        "2025-02:my-force",
    }

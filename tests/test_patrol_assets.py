"""Patrol assets on the small simulated world: trial design, dosage, effect, tasking export."""

import shutil
import time
from datetime import date

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from assets.patrol import patrol_assets
from assets.patrol.common import (
    DAILY_DOSAGE_KEY,
    TASKING_EXPORT_KEY,
    TRIAL_ALLOCATION_KEY,
    TRIAL_EFFECT_KEY,
    VISITS_KEY,
)
from assets.patrol.tasking import EXPORT_SUBDIR, scan_export
from assets.sources.agencies import LANDING_SOURCES, agency_lake_paths
from config.resources import PlatformConfig
from vrdp.geo import h3_cells

#: agency sources the patrol assets read, and the months of them to land
SOURCES = (
    "places.pois",
    "police.occurrences",
    "police.cad_incidents",
    "patrol.gps",
    "patrol.activity",
    "patrol.teams",
    "patrol.team_officers",
)
MONTHS = ("2025-06", "2025-07", "2025-08", "2025-09", "2025-10", "2025-11", "2025-12", "2026-01")


def _load_sources(world, root):
    """Land and load the deliveries with the source assets' loader (fast, no Dagster runs)."""
    from support import THAMES_VALLEY_BOX

    from quality.contracts.agencies import agency_contracts
    from vrdp.ingest.deliveries import load_delivery
    from vrdp.lake import write_parquet_atomic

    contracts = agency_contracts()
    for spec in (s for s in LANDING_SOURCES if s.source in SOURCES):
        src = world / "landing" / spec.agency / spec.dataset
        for folder in sorted(p for p in src.iterdir() if p.is_dir()):
            if spec.agency == "police" and folder.name not in MONTHS:
                continue
            dest = root / "landing" / spec.agency / spec.dataset / folder.name
            shutil.copytree(folder, dest)
            result = load_delivery(
                sorted(dest.glob(spec.file_glob)),
                contracts[spec.source],
                delivery=folder.name,
                validated_on=date.today(),
                area=THAMES_VALLEY_BOX,
            )
            loaded, _ = agency_lake_paths(root / "lake", spec, folder.name)
            write_parquet_atomic(result.loaded, loaded)
    for dataset in ("trial_units", "trial_allocation"):
        shutil.copytree(
            world / "landing" / "patrol" / dataset, root / "landing" / "patrol" / dataset
        )


def _hotspot_list(root):
    """A stand-in hot spot list (the busiest cells of the RMS), as hotspots/hotspot_list."""
    occ = pd.read_parquet(root / "lake" / "police" / "occurrences")
    cells = h3_cells(occ["latitude"].to_numpy(float), occ["longitude"].to_numpy(float), 9)
    top = pd.Series(cells).value_counts().head(40).index
    hl = pd.DataFrame(
        {
            "rank": np.arange(1, len(top) + 1),
            "h3_cell": top,
            "selected": True,
            "hotspot_category": "persistent hotspot",
        }
    )
    (root / "lake" / "hotspots").mkdir(parents=True, exist_ok=True)
    hl.to_parquet(root / "lake" / "hotspots" / "hotspot_list.parquet")


def _materialize(instance, **kw):
    return dg.materialize(
        patrol_assets(), instance=instance, resources={"platform": PlatformConfig()}, **kw
    )


@pytest.fixture(scope="module")
def patrol_run(small_world, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("patrol") / "data"
    mp.setenv("VRDP_DATA_ROOT", str(root))
    mp.setenv("HOME", str(root.parent / "home"))
    mp.delenv("DAGSTER_HOME", raising=False)
    mp.delenv("VRDP_PSEUDONYM_SECRET", raising=False)
    mp.setenv("VRDP_ALLOW_DEMO_SECRET", "1")
    mp.setenv("VRDP_TRIAL_SOURCE", "import")  # the world's crimes follow its own schedule
    t0 = time.perf_counter()
    _load_sources(small_world, root)
    _hotspot_list(root)
    t1 = time.perf_counter()
    instance = dg.DagsterInstance.ephemeral()
    result = _materialize(instance)
    t2 = time.perf_counter()
    print(f"load {t1 - t0:.1f}s, patrol assets {t2 - t1:.1f}s")
    yield {"root": root, "instance": instance, "result": result, "world": small_world}
    mp.undo()


def _meta(run, key):
    (mat,) = [
        e.materialization
        for e in run["result"].get_asset_materialization_events()
        if e.asset_key == key
    ]
    return {k: v.value for k, v in mat.metadata.items()}


def test_every_patrol_asset_materializes_and_the_pii_check_passes(patrol_run):
    result = patrol_run["result"]
    assert result.success
    (check,) = result.get_asset_check_evaluations()
    assert check.passed, check.metadata


def test_effect_ci_contains_the_planted_irr(patrol_run):
    truth = pd.read_parquet(patrol_run["world"] / "truth" / "trial_effect.parquet")
    true_irr = float(truth["true_irr"].iloc[0])
    meta = _meta(patrol_run, TRIAL_EFFECT_KEY)
    print(
        {
            k: meta[k]
            for k in (
                "irr",
                "irr_ci_low",
                "irr_ci_high",
                "did_irr",
                "harm_ratio",
                "wdq",
                "wdd",
                "roi",
            )
        }
    )
    assert meta["irr_ci_low"] < true_irr < meta["irr_ci_high"]


def test_effect_metadata_carries_displacement_rings_power_and_roi(patrol_run):
    meta = _meta(patrol_run, TRIAL_EFFECT_KEY)
    est = meta["estimates"]
    disp = est["displacement"]
    assert meta["displacement_note"] == "rings 0-100 m"
    assert set(disp["counts"]) == {"A", "B", "C", "D"}  # hot spots and their rings
    assert disp["wdd"]["wdd"] == meta["wdd"] and "se" in disp["wdd"]
    assert est["power"]["unit_days_per_arm_needed"] == meta["unit_days_per_arm_needed"] > 0
    roi = est["return_on_investment"]
    assert roi["cost_per_patrol_hour"] > 0 and meta["roi"] == round(roi["roi"], 4)
    assert meta["patrol_hours"] > 0
    # the dose-response beside the ITT effect: fewer crimes per 15 minutes delivered
    dose = est["dose_response_per_15_min"]
    assert dose["irr"] == pytest.approx(meta["irr_per_15_min_delivered"], abs=1e-4)
    assert dose["ci_low"] < dose["irr"] < dose["ci_high"] and dose["irr"] < 1


def test_dosage_minutes_follow_the_true_visits(patrol_run):
    root, world = patrol_run["root"], patrol_run["world"]
    dosage = pd.read_parquet(root / "lake" / "patrol" / "daily_dosage.parquet")
    assert dosage["officer"].str.startswith("OF-").all()
    truth = pd.read_parquet(world / "truth" / "patrol_visits.parquet")
    t = truth.groupby(["unit_id", "date"])["minutes"].sum().rename("true")
    d = dosage.groupby(["hotspot_id", "date"])[["dosage_minutes", "confirmed_minutes"]].sum()
    d.index = d.index.set_names(["unit_id", "date"])
    alloc = pd.read_parquet(root / "lake" / "patrol" / "trial_design" / "trial_allocation.parquet")
    both = alloc.set_index(["unit_id", "date"])[[]].join(t).join(d).fillna(0.0)
    r = both.corr()["true"]
    ratio = both.sum() / both["true"].sum()
    print(f"dosage r = {r.round(3).to_dict()}, ratio to truth = {ratio.round(3).to_dict()}")
    # Presence in the tasked polygon is an upper bound of the true Koper stays, the
    # app-confirmed minutes a lower bound; both follow the truth unit-day by unit-day.
    assert r["dosage_minutes"] > 0.9 and r["confirmed_minutes"] > 0.9
    assert both["confirmed_minutes"].sum() < both["true"].sum() < both["dosage_minutes"].sum()
    meta = _meta(patrol_run, DAILY_DOSAGE_KEY)
    assert meta["visits"] > 0 and 0 < meta["koper_band_share"] <= 1


def test_gps_and_app_clocks_are_read_as_london_time(patrol_run):
    visits_meta = _meta(patrol_run, VISITS_KEY)
    assert visits_meta["time_zone"] == "Europe/London"
    # The simulated shifts end at 01:00 on 26 Oct 2025, the first instant of the
    # repeated hour: the logout is ambiguous, and read as the first pass (BST).
    clock = visits_meta["activity_clock"]
    assert clock["ambiguous"] >= 1 and clock["ambiguous_assumed_first"] == clock["ambiguous"]
    visits = pd.read_parquet(patrol_run["root"] / "lake" / "patrol" / "visits.parquet")
    assert str(visits["arrive"].dt.tz) == "UTC"
    assert str(visits["arrive_local"].dt.tz) == "Europe/London"
    # Shifts run 15:00-23:00 or 17:00-01:00 local time, in summer time and in winter time.
    hours = visits["arrive_local"].dt.hour
    assert (hours.between(15, 23) | (hours == 0)).all()


def test_dosage_is_measured_on_the_polygon_the_tasking_export_gives_the_officer(patrol_run):
    import shapely

    from assets.patrol.dosage import geofence_units
    from vrdp.dosage import geofences_from_h3

    latest = patrol_run["root"] / "exports" / EXPORT_SUBDIR / "latest"
    tasking = pd.read_parquet(latest / "tasking.parquet")
    assert len(tasking) > 0
    # The dosage geofences a hot spot by its cell's polygon, whichever list it comes from.
    units, source = geofence_units(patrol_run["root"] / "lake")
    assert source.startswith("trial_units + tasking_history")
    assert set(tasking["h3_cell"]) <= set(units["h3_cell"])  # every tasked spot is measured
    exported_units = pd.DataFrame({"unit_id": tasking["hotspot_id"], "h3_cell": tasking["h3_cell"]})
    fences = geofences_from_h3(exported_units).to_crs("EPSG:4326").set_index("hotspot_id")
    for row in tasking.itertuples():
        exported = shapely.from_wkt(row.geofence_wkt)
        used = fences.geometry[row.hotspot_id]
        # the export rounds to 1e-6 degrees (about 0.1 m)
        assert exported.symmetric_difference(used).area < 1e-3 * used.area


def test_pii_scan_fails_on_a_planted_surname_column(patrol_run, tmp_path):
    latest = (patrol_run["root"] / "exports" / EXPORT_SUBDIR / "latest").resolve()
    assert scan_export(latest) == []
    planted = tmp_path / "planted"
    shutil.copytree(latest, planted)
    df = pd.read_parquet(planted / "tasking.parquet")
    df.assign(surname="Smith").to_parquet(planted / "tasking.parquet")
    found = scan_export(planted)
    assert any("surname" in f for f in found)


def test_personal_data_stops_the_export_before_it_is_published(patrol_run, monkeypatch):
    import assets.patrol.tasking as tasking

    real = tasking.tasking_export_files
    latest = patrol_run["root"] / "exports" / tasking.EXPORT_SUBDIR / "latest"
    before = latest.resolve()

    def leaky(table, briefs):
        return real(table.assign(officer_id="PC4001"), briefs)

    monkeypatch.setattr(tasking, "tasking_export_files", leaky)
    monkeypatch.setattr(tasking, "EXPORT_COLUMNS", [*tasking.EXPORT_COLUMNS, "officer_id"])
    result = dg.materialize(
        patrol_assets(),
        selection=dg.AssetSelection.assets(TASKING_EXPORT_KEY),
        instance=patrol_run["instance"],
        resources={"platform": PlatformConfig()},
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "export not published" in failure.step_failure_data.error.message
    assert "officer" in failure.step_failure_data.error.message
    assert latest.resolve() == before  # the published version did not move


def test_allocation_lock_refuses_a_change_to_a_started_day(patrol_run):
    root = patrol_run["root"]
    landed = next((root / "landing" / "patrol" / "trial_allocation").glob("*/*.csv"))
    before = landed.read_text()
    stored = root / "lake" / "patrol" / "trial_design" / "trial_allocation.parquet"
    stored_bytes = stored.read_bytes()
    df = pd.read_csv(landed, dtype=str)
    df.loc[0, "arm"] = "control" if df.loc[0, "arm"] == "patrol" else "patrol"
    df.to_csv(landed, index=False, lineterminator="\n")
    try:
        result = dg.materialize(
            patrol_assets(),
            selection=dg.AssetSelection.assets(TRIAL_ALLOCATION_KEY),
            instance=patrol_run["instance"],
            resources={"platform": PlatformConfig()},
            raise_on_error=False,
        )
    finally:
        landed.write_text(before)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "is locked" in failure.step_failure_data.error.message
    assert stored.read_bytes() == stored_bytes


def test_missing_pseudonym_secret_fails_clearly(patrol_run, monkeypatch):
    monkeypatch.delenv("VRDP_ALLOW_DEMO_SECRET")
    from assets.patrol.common import pseudonym_secret

    with pytest.raises(dg.Failure, match="VRDP_PSEUDONYM_SECRET"):
        pseudonym_secret()


def test_the_offline_map_is_written_with_each_tasking_export(patrol_run):
    import json
    import re

    from assets.patrol.tasking import EXPORT_SUBDIR

    latest = patrol_run["root"] / "exports" / EXPORT_SUBDIR / "latest"
    manifest = json.loads((latest / "manifest.json").read_text())
    assert "map.html" in {f["name"] for f in manifest["files"]}
    html = (latest / "map.html").read_text()
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()  # works offline
    assert "L.map" in html or "leaflet" in html.lower()
    data = json.loads(re.search(r'id="vrdp-data">(.*?)</script>', html, re.S).group(1))
    tasking = pd.read_parquet(latest / "tasking.parquet")
    assert len(tasking) > 0 and str(tasking["hotspot_id"].iloc[0]) in json.dumps(data)


def test_every_tasked_spot_day_gets_a_dosage_figure_controls_included(patrol_run):
    from assets.patrol.common import COMPLIANCE_KEY
    from assets.patrol.compliance import tasked_spot_days

    lake = patrol_run["root"] / "lake"
    spot_days = pd.read_parquet(lake / "patrol" / "tasked_dosage.parquet")
    tasked = tasked_spot_days(lake)
    last = pd.to_datetime(pd.read_parquet(lake / "patrol" / "daily_dosage.parquet")["date"]).max()
    assert len(spot_days) == int((tasked["date"] <= last).sum()) > 0
    assert spot_days["dosage_minutes"].notna().all()
    assert set(spot_days["arm"]) == {"patrol", "control"}
    by_arm = spot_days.groupby("arm")["dosage_minutes"].mean()
    assert by_arm["patrol"] > 3 * by_arm["control"]  # the simulated officers follow the arms
    meta = _meta(patrol_run, COMPLIANCE_KEY)
    assert meta["tasked_spot_days"] == len(spot_days)
    # the static world's officers give ~30 of the 90 target minutes: few days meet it
    assert 0 <= meta["patrol_target_met_share"] < 0.5


def test_compliance_is_per_team_pseudonymised_officer_and_day(patrol_run):
    lake = patrol_run["root"] / "lake" / "patrol"
    od = pd.read_parquet(lake / "compliance_officer_day.parquet")
    assert {"team", "officer", "date", "delivered_minutes", "target_minutes"} <= set(od.columns)
    assert len(od) and od["team"].notna().all()
    # every officer's team from the delivered roster, joined on the pseudonym
    teams = pd.read_csv(next((patrol_run["world"] / "landing/patrol/teams").glob("*/teams.csv")))
    assert set(od["team"]) <= set(teams["team_id"])
    assert not od["officer"].astype(str).str.match(r"^PC\d+$").any()  # pseudonyms only
    sup = pd.read_parquet(lake / "supervisor" / "officer_dosage.parquet")
    assert sup["rank"].tolist() == list(range(1, len(sup) + 1))
    assert sup["delivered_minutes"].is_monotonic_decreasing
    assert set(sup["officer"]) == set(od["officer"])


def test_the_supervisor_table_is_in_no_officer_facing_export(patrol_run):
    exports = patrol_run["root"] / "exports"
    sup = pd.read_parquet(
        patrol_run["root"] / "lake" / "patrol" / "supervisor" / "officer_dosage.parquet"
    )
    pseudonyms = set(sup["officer"])
    for path in exports.rglob("*"):
        if path.is_file() and path.suffix in (".parquet", ".csv", ".json", ".geojson", ".html"):
            text = path.read_bytes().decode("utf-8", "replace")
            assert not any(p in text for p in pseudonyms), path
            if path.suffix == ".parquet":
                assert not [c for c in pd.read_parquet(path).columns if "officer" in c], path


def test_the_tasking_export_has_no_null_where_a_value_is_known(patrol_run):
    latest = patrol_run["root"] / "exports" / EXPORT_SUBDIR / "latest"
    tasking = pd.read_parquet(latest / "tasking.parquet")
    known = ["hotspot_id", "h3_cell", "date", "centre_latitude", "centre_longitude", "rank",
             "harm_days", "main_crime_types", "arm", "target_minutes", "briefing",
             "geofence_wkt", "place", "street", "ward", "team", "team_label", "base_station",
             "shift", "shift_hours", "patrol_windows", "waypoints"]  # fmt: skip
    assert tasking[known].notna().all().all(), tasking[known].isna().sum()
    assert sorted(tasking["rank"]) == list(range(1, len(tasking) + 1))
    assert (tasking["harm_days"] >= 0).all() and tasking["main_crime_types"].str.len().gt(0).all()

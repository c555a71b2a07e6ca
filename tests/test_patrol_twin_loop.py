"""The loop closed on the patrol slice: the platform randomises, publishes a tasking,
the twin answers it, the day lands, and dosage and compliance follow the allocation."""

import json
import shutil
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from assets.patrol import patrol_assets
from assets.patrol.common import TRIAL_ALLOCATION_KEY
from assets.patrol.tasking import EXPORT_SUBDIR
from assets.sources.agencies import LANDING_SOURCES, agency_lake_paths
from config.resources import PlatformConfig
from vrdp.geo import h3_cells

sys.path.insert(0, str(Path(__file__).parent / "serving"))
from api_server import TOKENS, Server, write_ward_layer

SOURCES = ("places.pois", "police.occurrences", "police.cad_incidents", "patrol.gps",
           "patrol.teams", "patrol.team_officers")  # fmt: skip
DAY = "2026-01-01"  # the day after the small world ends


def _load(world, root, only=None):
    """Land and load deliveries with the source assets' loader (no Dagster runs)."""
    from support import THAMES_VALLEY_BOX

    from quality.contracts.agencies import agency_contracts
    from vrdp.ingest.deliveries import load_delivery
    from vrdp.lake import write_parquet_atomic

    contracts = agency_contracts()
    for spec in (s for s in LANDING_SOURCES if s.source in (*SOURCES, "patrol.activity")):
        src = world / "landing" / spec.agency / spec.dataset
        for folder in sorted(p for p in src.iterdir() if p.is_dir()):
            if only is not None and folder.name != only:
                continue
            if only is None and spec.agency == "police" and folder.name < "2025-06":
                continue
            dest = root / "landing" / spec.agency / spec.dataset / folder.name
            shutil.copytree(folder, dest, dirs_exist_ok=True)
            result = load_delivery(
                sorted(dest.glob(spec.file_glob)),
                contracts[spec.source],
                delivery=folder.name,
                validated_on=date.today(),
                area=THAMES_VALLEY_BOX,
            )
            loaded, _ = agency_lake_paths(root / "lake", spec, folder.name)
            write_parquet_atomic(result.loaded, loaded)


@pytest.fixture(scope="module")
def loop(small_world, tmp_path_factory):
    from synthetic.twin import step

    mp = pytest.MonkeyPatch()
    base = tmp_path_factory.mktemp("loop")
    root = base / "data"
    world = base / "world"
    for rel in ("truth/world.json", "truth/events.parquet", "truth/event_records.parquet"):
        (world / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(small_world / rel, world / rel)
    for rel in ("places/pois", "police/occurrences", "police/cad_incidents", "patrol/gps",
                "patrol/activity", "patrol/teams", "patrol/team_officers",
                "nhs/istv_assaults"):  # fmt: skip
        shutil.copytree(small_world / "landing" / rel, world / "landing" / rel)
    mp.setenv("VRDP_DATA_ROOT", str(root))
    mp.setenv("HOME", str(base / "home"))
    mp.delenv("DAGSTER_HOME", raising=False)
    mp.setenv("VRDP_ALLOW_DEMO_SECRET", "1")
    mp.delenv("VRDP_PSEUDONYM_SECRET", raising=False)
    mp.setenv("VRDP_TRIAL_SOURCE", "platform")
    mp.setenv("VRDP_TRIAL_START", DAY)
    mp.setenv("VRDP_TRIAL_DAYS", "2")
    mp.setenv("VRDP_TRIAL_UNITS", "10")
    _load(world, root)
    write_ward_layer(root)
    occ = pd.read_parquet(root / "lake" / "police" / "occurrences")
    cells = pd.Series(
        h3_cells(occ["latitude"].to_numpy(float), occ["longitude"].to_numpy(float), 9)
    )
    top = cells.value_counts().head(40)
    hl = pd.DataFrame({"rank": range(1, 41), "h3_cell": top.index, "selected": True,
                       "risk_score": top.to_numpy(float), "hot_periods": 3})  # fmt: skip
    (root / "lake" / "hotspots").mkdir(parents=True)
    hl.to_parquet(root / "lake" / "hotspots" / "hotspot_list.parquet")
    instance = dg.DagsterInstance.ephemeral()
    res = {"platform": PlatformConfig()}
    first = dg.materialize(patrol_assets(), instance=instance, resources=res)
    latest = (root / "exports" / EXPORT_SUBDIR / "latest").resolve()
    summary = step(world, DAY, latest)
    _load(world, root, only=DAY)
    second = dg.materialize(patrol_assets(), instance=instance, resources=res)
    yield {"root": root, "world": world, "first": first, "second": second, "summary": summary,
           "export": latest}  # fmt: skip
    mp.undo()


def _meta(result, key):
    (m,) = [e.materialization for e in result.get_asset_materialization_events()
            if e.asset_key == key]  # fmt: skip
    return {k: v.value for k, v in m.metadata.items()}


def test_the_published_tasking_is_the_platform_allocation(loop):
    tasking = pd.read_parquet(loop["export"] / "tasking.parquet")
    alloc = pd.read_parquet(
        loop["root"] / "lake" / "patrol" / "trial_design" / "trial_allocation.parquet"
    )
    today = alloc[pd.to_datetime(alloc["date"]) == DAY]
    assert set(tasking["hotspot_id"]) == set(today.loc[today["arm"] == "patrol", "unit_id"])
    assert set(tasking["date"].astype(str).str[:10]) == {DAY}
    meta = _meta(loop["first"], TRIAL_ALLOCATION_KEY)
    assert meta["source"] == "platform" and meta["seed"] == 15
    again = _meta(loop["second"], TRIAL_ALLOCATION_KEY)
    assert again["allocation_digest"] == meta["allocation_digest"]  # locked, unchanged


def test_dosage_on_the_twin_day_follows_the_platform_arms(loop):
    spot_days = pd.read_parquet(loop["root"] / "lake" / "patrol" / "tasked_dosage.parquet")
    day = spot_days[spot_days["date"] == pd.Timestamp(DAY)]
    assert set(day["arm"]) == {"patrol", "control"} and len(day) == 10
    patrol = day.loc[day["arm"] == "patrol", "dosage_minutes"]
    control = day.loc[day["arm"] == "control", "dosage_minutes"]
    assert patrol.mean() > 5 * max(control.mean(), 0.1)
    truth = pd.read_parquet(loop["world"] / "truth" / "twin" / DAY / "visits.parquet")
    assert patrol.sum() == pytest.approx(truth.loc[~truth["wrong_spot"], "minutes"].sum(), rel=0.5)
    od = pd.read_parquet(loop["root"] / "lake" / "patrol" / "compliance_officer_day.parquet")
    assert (od["date"] == pd.Timestamp(DAY)).any()


def test_the_next_tasking_is_for_the_next_day(loop):
    tasking = pd.read_parquet(loop["root"] / "lake" / "patrol" / "daily_tasking.parquet")
    assert set(tasking["date"].astype(str).str[:10]) == {"2026-01-02"}
    assert (
        json.loads((loop["world"] / "truth" / "twin" / DAY / "summary.json").read_text())["crimes"]
        == loop["summary"]["crimes"]
    )


def test_the_effect_waits_for_two_observed_days(loop):
    from assets.patrol.common import TRIAL_EFFECT_KEY

    meta = _meta(loop["second"], TRIAL_EFFECT_KEY)
    assert meta["unit_days_observed"] == 10 and "no estimate yet" in meta["note"]


def test_the_officer_flow_in_three_calls_at_the_real_date(loop):
    """nearby -> random (position and team) -> briefing, against a real server serving
    the platform's own published tasking, on the real clock (the tasking is then older
    than today, and every answer says so)."""
    tasking = pd.read_parquet(
        loop["root"] / "exports" / EXPORT_SUBDIR / "latest" / "tasking.parquet"
    )
    lat = float(tasking["centre_latitude"].iloc[0]) + 0.001
    lon = float(tasking["centre_longitude"].iloc[0])
    team = str(tasking["team"].iloc[0])
    tokens = {k: (v | {"team": team} if v["role"] == "officer" else v) for k, v in TOKENS.items()}
    srv = Server(loop["root"], {"VRDP_API_TODAY": "", "VRDP_API_TOKENS": json.dumps(tokens)})
    try:
        with srv.client("officer") as c:
            near = c.get("/v1/hotspots/nearby", params={"lat": lat, "lon": lon, "radius_m": 5000})
            rnd = c.get("/v1/taskings/random", params={"lat": lat, "lon": lon},
                        headers={"X-Request-ID": "flow-1"})  # fmt: skip
            assert near.status_code == 200 and rnd.status_code == 200, (near.text, rnd.text)
            brief = c.get(rnd.json()["briefing_url"])
    finally:
        srv.stop()
    near, rnd = near.json(), rnd.json()
    assert near["count"] >= 1 and rnd["hotspot"]["id"] in rnd["candidates"]
    # random draws among the officer's own team's spots (the teams reference)
    own = set(tasking.loc[tasking["team"] == team, "hotspot_id"])
    assert rnd["team"] == team and set(rnd["candidates"]) <= own
    assert rnd["hotspot"]["team"] == team and rnd["hotspot"]["shift_hours"]
    assert near["served_date"] == rnd["served_date"] == "2026-01-02"
    assert near["stale"] is rnd["stale"] is True and near["today"] > "2026-01-02"
    b = brief.json()
    assert brief.status_code == 200 and b["hotspot"]["id"] == rnd["hotspot"]["id"]
    assert b["hotspot"]["ward_name"] and b["hotspot"]["harm_days"] is not None
    assert b["hotspot"]["main_crime_types"]
    assert b["hotspot"]["waypoints"] and b["briefing"]["waypoints"] == b["hotspot"]["waypoints"]


def test_every_tasking_row_has_its_team_shift_and_windows(loop):
    tasking = pd.read_parquet(loop["export"] / "tasking.parquet")
    cols = ["team", "team_label", "base_station", "shift", "shift_hours", "patrol_windows"]
    assert tasking[cols].notna().all().all() and (tasking[cols] != "").all().all()
    teams = pd.read_csv(next((loop["world"] / "landing/patrol/teams").glob("*/teams.csv")))
    assert set(tasking["team"]) <= set(teams["team_id"])
    ref = teams.set_index("team_id")
    rows = zip(tasking["team"], tasking["shift_hours"], tasking["shift"], strict=True)
    for team, hours, shift in rows:
        assert f"{shift} {hours}" in ref.loc[team, "shift_pattern"]
    # covered by the team whose wards hold the spot (the ward layer is present here)
    lake = pd.read_parquet(loop["root"] / "lake" / "patrol" / "daily_tasking.parquet")
    assert lake["team_basis"].str.startswith("ward ").mean() > 0.5


def test_the_twins_officers_patrol_their_own_teams_spots(loop):
    tasking = pd.read_parquet(loop["export"] / "tasking.parquet")
    roster = pd.read_csv(
        next((loop["world"] / "landing/patrol/team_officers").glob("*/team_officers.csv"))
    )
    visits = pd.read_parquet(loop["world"] / "truth" / "twin" / DAY / "visits.parquet")
    v = visits[~visits["wrong_spot"]].merge(roster, on="officer_id")
    spot_team = dict(zip(tasking["hotspot_id"], tasking["team"], strict=True))
    assert len(v) and (v["unit_id"].map(spot_team) == v["team_id"]).all()


def test_each_tasking_carries_waypoints_inside_its_geofence(loop):
    import shapely

    tasking = pd.read_parquet(loop["export"] / "tasking.parquet")
    wps = {h: json.loads(w) for h, w in zip(tasking["hotspot_id"], tasking["waypoints"],
                                             strict=True)}  # fmt: skip
    assert sum(len(w) for w in wps.values()) >= len(tasking)  # most spots have several
    for h, fence in zip(tasking["hotspot_id"], tasking["geofence_wkt"], strict=True):
        poly = shapely.from_wkt(fence)
        assert 1 <= len(wps[h]) <= 3, h
        for w in wps[h]:
            assert poly.covers(shapely.Point(w["longitude"], w["latitude"])), (h, w)
            assert w["label"] and w["what_happened"][0].isdigit()
    briefs = json.loads((loop["export"] / "briefings.json").read_text())
    assert all(b["waypoints"] == wps[b["hotspot_id"]] for b in briefs)
    page = (loop["export"] / "map.html").read_text()
    first = next(w for w in wps.values() if w)[0]
    assert json.dumps(first["label"])[1:-1] in page and "Stand at: " in page


def test_make_run_knows_every_dataset_a_twin_day_delivers(loop):
    """make run builds what reads these datasets once, after the twin days
    (orchestration.twin_days.TWIN_SOURCES); what reads a dataset missing there
    would be built before them as well, and thrown away."""
    from orchestration.twin_days import TWIN_SOURCES

    landing = loop["world"] / "landing"
    delivered = {
        f"{agency.name}.{dataset.name}"
        for agency in landing.iterdir()
        for dataset in agency.iterdir()
        if (dataset / DAY).is_dir()
    }
    assert delivered == set(TWIN_SOURCES)

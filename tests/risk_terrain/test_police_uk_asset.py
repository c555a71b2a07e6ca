"""The police.uk risk terrain model on a second real force: the City of London.

Crimes are the real data.police.uk City of London files shipped with the
repository, located against the City's boundaries cut from the national pack.
The points of interest are MADE UP for this test (no real POI delivery of the City
ships): a few dozen pubs, bars, bus stops and cash machines, the licensed premises
placed near the City's busiest real street-crime points, the rest at seeded random
points inside the City. They go through the real ``places.pois`` source asset.
"""

import sys
from pathlib import Path

import dagster as dg
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from support import COL_STREET, land

from assets.sources.agencies import LANDING_SOURCES, source_keys
from assets.sources.police_uk import ingest_street_month
from config.settings import settings
from orchestration.definitions import build_defs

RTM = dg.AssetKey(["risk_terrain", "police_uk_rtm"])  # the police.uk model
MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
CITY = "E09000001"
POIS = next(s for s in LANDING_SOURCES if s.source == "places.pois")
#: file names of the demo's inputs no run on another force may open
DEMO_INPUTS = ("thames_valley", "oxford_centre")

#: every file opened while ``_OPENED`` is a list (an audit hook cannot be removed, so
#: it records only while a test asks it to)
_OPENED: list | None = None


def _audit(event, args):
    if _OPENED is not None and event == "open" and args and isinstance(args[0], (str, Path)):
        _OPENED.append(str(args[0]))


sys.addaudithook(_audit)


def made_up_pois(crimes: pd.DataFrame, city: gpd.GeoDataFrame, seed: int = 3) -> pd.DataFrame:
    """Made-up POIs in the places.pois delivery format (not real places of the City)."""
    rng = np.random.default_rng(seed)
    busiest = (
        crimes.groupby(["easting_m", "northing_m"]).size().sort_values(ascending=False).index[:14]
    )
    xy_licensed = np.array(busiest.tolist()) + rng.uniform(-20, 20, (len(busiest), 2))
    shape = city.to_crs("EPSG:27700").union_all()
    x0, y0, x1, y1 = shape.bounds
    random_pts = []
    while len(random_pts) < 24:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if shape.contains(gpd.points_from_xy([x], [y])[0]):
            random_pts.append((x, y))
    rows = [("pub" if i % 2 else "bar", x, y) for i, (x, y) in enumerate(xy_licensed)]
    rows += [("bus_stop" if i % 2 else "atm", x, y) for i, (x, y) in enumerate(random_pts)]
    out = pd.DataFrame(rows, columns=["category", "easting", "northing"])
    pts = gpd.GeoSeries(gpd.points_from_xy(out.easting, out.northing), crs=27700).to_crs(4326)
    return out.assign(
        poi_id=[f"MADEUP{i:03d}" for i in range(len(out))],
        osm_key="amenity",
        osm_value=out["category"],
        name=[f"Made-up place {i}" for i in range(len(out))],
        easting=out["easting"].round(1),
        northing=out["northing"].round(1),
        longitude=pts.x.round(6),
        latitude=pts.y.round(6),
        lsoa_code="",
        street="",
        postcode="",
    )[
        ["poi_id", "category", "osm_key", "osm_value", "name", "easting", "northing",
         "longitude", "latitude", "lsoa_code", "street", "postcode"]
    ]  # fmt: skip


@pytest.fixture(scope="module")
def city_lake(tmp_path_factory):
    """A City of London data root: boundaries, six located months, made-up POIs."""
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("rtm_city") / "data"
    mp.setenv("VRDP_DATA_ROOT", str(root))
    mp.setenv("HOME", str(root.parent / "home"))
    mp.setenv("VRDP_POLICE_UK_FORCE", "city-of-london")
    for name in ("VRDP_FORCE_DISTRICTS", "VRDP_WORLD_SCALE", "VRDP_RTM_STUDY_AREA", "DAGSTER_HOME"):
        mp.delenv(name, raising=False)
    land(root, *(COL_STREET / f"{m}-city-of-london-street.csv.gz" for m in MONTHS))
    defs = build_defs()
    instance = dg.DagsterInstance.ephemeral()
    geo = dg.materialize(
        defs.assets,
        selection=dg.AssetSelection.groups("geography"),
        instance=instance,
        resources=defs.resources,
    )
    assert geo.success
    s = settings()
    layers = {
        n: gpd.read_parquet(s.lake_dir / "geography" / f"{n}_boundaries.parquet")
        for n in ("lsoa21", "lsoa11", "wards")
    }
    crimes = []
    for m in MONTHS[:3]:
        _, located = ingest_street_month(
            COL_STREET / f"{m}-city-of-london-street.csv.gz",
            month=m,
            lake_dir=s.lake_dir,
            h3_resolution=s.h3_resolution,
            **layers,
        )
        crimes.append(located)
    for m in MONTHS[3:]:
        ingest_street_month(
            COL_STREET / f"{m}-city-of-london-street.csv.gz",
            month=m,
            lake_dir=s.lake_dir,
            h3_resolution=s.h3_resolution,
            **layers,
        )
    # model-period crimes only: the made-up POIs know nothing of the validation months
    crimes = pd.concat(crimes).dropna(subset=["easting_m"])
    pois = made_up_pois(crimes[crimes["in_force_area"]], layers["lsoa21"])
    delivery = root / "landing" / "places" / "pois" / "2025-06"
    delivery.mkdir(parents=True)
    pois.to_csv(delivery / "pois.csv", index=False)
    instance.add_dynamic_partitions(f"{POIS.slug}_deliveries", ["2025-06"])
    loaded = dg.materialize(
        defs.assets,
        selection=dg.AssetSelection.assets(*source_keys(POIS)[:2]),
        partition_key="2025-06",
        instance=instance,
        resources=defs.resources,
    )
    assert loaded.success
    yield {"root": root, "defs": defs, "instance": instance, "layers": layers, "pois": pois}
    mp.undo()


def _run(city_lake, **env):
    """Materialize the police.uk RTM with ``env`` set; return (result, metadata, files opened)."""
    global _OPENED
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    _OPENED = []
    try:
        defs = city_lake["defs"]
        result = dg.materialize(
            [*defs.assets, *defs.asset_checks],  # with the model's "converged" check
            selection=dg.AssetSelection.assets(RTM),
            instance=city_lake["instance"],
            resources=defs.resources,
        )
        opened, _OPENED = _OPENED, None
    finally:
        _OPENED = None
        mp.undo()
    assert result.success
    (ev,) = [e for e in result.get_asset_materialization_events() if e.asset_key == RTM]
    return result, ev.materialization.metadata, opened


@pytest.fixture(scope="module")
def default_run(city_lake):
    """The run with the default study area; its outputs kept aside from later runs'."""
    import shutil

    result, md, opened = _run(city_lake)
    out = city_lake["root"] / "lake" / "risk_terrain"
    kept = city_lake["root"].parent / "default_run"
    shutil.copytree(out, kept)
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    return {"md": md, "opened": opened, "out": kept / "police_uk", "checks": checks}


def test_city_rtm_runs_on_its_own_pois_over_the_default_study_area(city_lake, default_run):
    md = default_run["md"]
    assert md["skipped"].value is False
    assert md["poi_source"].value.startswith("delivered")
    assert md["poi_delivery"].value == "2025-06"
    assert md["pois_in_force_area_share"].value == 1.0  # located by the places.pois source
    # the default rule, computed and recorded: the City is the district with most crimes
    assert md["study_area"].value == f"{CITY} (district)"
    assert "most located street crimes" in md["study_area_rule"].value
    assert md["crimes_by_district"].value[0]["district"] == CITY
    assert md["model_months"].value == "2025-01, 2025-02, 2025-03"
    assert md["next_months"].value == "2025-04, 2025-05, 2025-06"
    # the same category mapping as the simulated world's model: pub + bar = licensed premises
    per_factor = md["pois_per_factor"].value
    assert per_factor == {"licensed_premises": 14, "atm": 12, "bus_stop": 12}
    assert "none" in md["exposure"].value
    for k in ("rtm/family", "validation", "rtm/rtm_pai_5pct", "rtm/hotspot_pai_5pct",
              "priority_places", "selected_factors"):  # fmt: skip
        assert k in md, k
    assert "hot spot baseline" in md["validation"].value


def test_city_rtm_cells_carry_only_city_lsoas_and_wards(city_lake, default_run):
    md, out = default_run["md"], default_run["out"]
    cells = gpd.read_parquet(out / "cells.parquet")
    layers = city_lake["layers"]
    city_lsoas = set(layers["lsoa21"].loc[layers["lsoa21"]["LAD_CD"] == CITY, "LSOA21CD"])
    city_wards = set(layers["wards"].loc[layers["wards"]["LAD25CD"] == CITY, "WD25CD"])
    assert len(cells) == md["rtm/n_cells"].value
    # 2.9 km2 of 50 m cells: every cell centre in a City LSOA
    assert 900 < len(cells) < 1400
    assert cells["lsoa21_code"].notna().all() and set(cells["lsoa21_code"]) <= city_lsoas
    assert cells["ward_code"].notna().mean() > 0.99
    assert set(cells["ward_code"].dropna()) <= city_wards
    assert md["wards_in_study_area"].value == len(set(cells["ward_code"].dropna())) >= 20
    # the cells lie where the City is (WGS84 centre of the City, about -0.092, 51.515)
    assert cells["longitude"].between(-0.115, -0.07).all()
    assert cells["latitude"].between(51.50, 51.53).all()


def test_city_rtm_factors_are_selected_or_honestly_none(city_lake, default_run):
    md, out = default_run["md"], default_run["out"]
    ft = pd.read_parquet(out / "factor_table.parquet")
    assert md["rtm/n_selected"].value == len(ft)
    if ft.empty:
        assert md["selected_factors"].value == "_no factor selected_"
    else:
        assert set(ft["factor"]) <= {"licensed_premises", "atm", "bus_stop"}
        for f in ft["factor"]:
            assert f"| {f} " in md["selected_factors"].value
    card = (out.parent / "police_uk.model_card.json").read_text()
    assert '"seed"' in card
    # the model's check reads the folder this run wrote (not the demo's)
    check = default_run["checks"]["converged"]
    assert check.passed == (len(ft) > 0)
    assert "missing" not in check.metadata


def test_city_rtm_reads_no_demo_input(city_lake, default_run):
    """Nothing of the demo force (its Oxford POIs, census, boundaries) is read.

    The audit hook sees files Python opens (CSV such as the demo census, JSON,
    pickles), not those native readers (pyarrow, GDAL) open: the report's record of
    its inputs covers those.
    """
    import json

    opened = default_run["opened"]
    assert any("/.report.json." in p for p in opened)  # the recorder does record
    bad = [p for p in opened if any(name in p for name in DEMO_INPUTS)]
    assert not bad, bad
    assert not (default_run["out"].parent / "oxford").exists()
    report = json.loads((default_run["out"] / "report.json").read_text())
    assert report["data"]["poi_source"] == "delivered places.pois"
    assert report["data"]["exposure"] is None
    text = json.dumps(report).lower()
    assert "oxford" not in text and "thames" not in text and "census" not in text


def test_city_rtm_study_area_is_configuration(city_lake):
    wards = city_lake["layers"]["wards"]
    picked = sorted(wards.loc[wards["LAD25CD"] == CITY, "WD25CD"])[:6]
    _, md, _ = _run(city_lake, VRDP_RTM_STUDY_AREA=",".join(picked))
    assert md["study_area_rule"].value == "configured (VRDP_RTM_STUDY_AREA)"
    assert md["study_area"].value.count("(ward ") == 6
    cells = gpd.read_parquet(
        city_lake["root"] / "lake" / "risk_terrain" / "police_uk" / "cells.parquet"
    )
    assert set(cells["ward_code"].dropna()) <= set(picked)
    assert md["study_area_km2"].value < 2.9


def test_city_rtm_refuses_a_study_area_code_the_force_does_not_hold(city_lake):
    defs = city_lake["defs"]
    mp = pytest.MonkeyPatch()
    mp.setenv("VRDP_RTM_STUDY_AREA", "E07000178")  # a district of another force
    try:
        result = dg.materialize(
            defs.assets,
            selection=dg.AssetSelection.assets(RTM),
            instance=city_lake["instance"],
            resources=defs.resources,
            raise_on_error=False,
        )
    finally:
        mp.undo()
    assert not result.success
    failure = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "E07000178" in str(failure[0].event_specific_data.error)


def _made_up_gazetteer(city: gpd.GeoDataFrame, n: int, seed: int) -> np.ndarray:
    """``n`` seeded random points inside the City (BNG): made-up addresses or streets."""
    rng = np.random.default_rng(seed)
    shape = city.to_crs("EPSG:27700").union_all()
    x0, y0, x1, y1 = shape.bounds
    pts = []
    while len(pts) < n:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if shape.contains(gpd.points_from_xy([x], [y])[0]):
            pts.append((round(x, 1), round(y, 1)))
    return np.array(pts)


def test_city_rtm_with_delivered_gazetteers_estimates_the_exposure(city_lake):
    """Last in this file: it delivers MADE-UP address and street gazetteers to the lake."""
    root, defs, instance = city_lake["root"], city_lake["defs"], city_lake["instance"]
    city = city_lake["layers"]["lsoa21"]
    addr = _made_up_gazetteer(city, 600, seed=11)
    streets = _made_up_gazetteer(city, 80, seed=12)
    tables = {
        "addresses": pd.DataFrame(
            {
                "uprn": [str(100000 + i) for i in range(len(addr))],
                "address_line": [f"{i} Made-up Street" for i in range(len(addr))],
                "town": "LONDON",
                "postcode": "",
                "classification_code": "RD04",
                "easting": addr[:, 0],
                "northing": addr[:, 1],
                "longitude": "",
                "latitude": "",
                "lsoa_code": "",
            }
        ),
        "streets": pd.DataFrame(
            {
                "usrn": [str(2000 + i) for i in range(len(streets))],
                "street_name": [f"Made-up Lane {i}" for i in range(len(streets))],
                "town": "LONDON",
                "postcode": "",
                "easting": streets[:, 0],
                "northing": streets[:, 1],
                "longitude": "",
                "latitude": "",
                "lsoa_code": "",
            }
        ),
    }
    for dataset, table in tables.items():
        spec = next(s for s in LANDING_SOURCES if s.source == f"places.{dataset}")
        folder = root / "landing" / "places" / dataset / "2025-06"
        folder.mkdir(parents=True)
        table.to_csv(folder / f"{dataset}.csv", index=False)
        instance.add_dynamic_partitions(f"{spec.slug}_deliveries", ["2025-06"])
        loaded = dg.materialize(
            defs.assets,
            selection=dg.AssetSelection.assets(*source_keys(spec)[:2]),
            partition_key="2025-06",
            instance=instance,
            resources=defs.resources,
        )
        assert loaded.success
    _, md, _ = _run(city_lake)
    assert md["skipped"].value is False
    assert "gazetteers" in md["exposure"].value and md["rtm/exposure_offset"].value is True
    em = md["exposure_model"].value
    for cls in ("address", "street", "bus_stop", "atm"):
        assert f"| {cls} " in em, cls
    out = root / "lake" / "risk_terrain" / "police_uk"
    cells = gpd.read_parquet(out / "cells.parquet")
    # study cells: those of the City holding a made-up address, street or POI
    assert 300 < len(cells) < 1153
    report = pd.read_json(out / "report.json", typ="series")
    # those inside the study cells (a few near the edge lie in cells centred outside)
    assert 550 < report["data"]["candidate_locations"]["address"] <= 600
    ft = pd.read_parquet(out / "factor_table.parquet")
    if len(ft):  # each selected factor with its venues' attraction and combined RR
        assert "combined_relative_risk" in md
    card = (out.parent / "police_uk.model_card.json").read_text()
    assert "candidate locations" in card

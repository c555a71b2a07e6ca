"""Daily tasking: which hot spots to patrol on a day, and its versioned export for the app."""

from typing import Optional

import dagster as dg

from assets.hotspots.analysis import FORCE_HOTSPOT_LIST_KEY
from assets.patrol.common import (
    DAILY_DOSAGE_KEY,
    DAILY_TASKING_KEY,
    GROUP,
    HOTSPOT_LIST_KEY,
    TASKING_EXPORT_KEY,
    TEAMS_KEY,
    TRIAL_ALLOCATION_KEY,
    TRIAL_UNITS_KEY,
    read_hotspot_list,
)
from config.resources import PlatformConfig

__all__ = [
    "TaskingConfig",
    "read_hotspot_list",
    "daily_tasking_asset",
    "patrol_tasking_export",
    "tasking_pii_check",
]

EXPORT_SUBDIR = "patrol_tasking"


class TaskingConfig(dg.Config):
    """Tasking day (default: the day after the latest GPS day) and Koper dosage targets."""

    date: Optional[str] = None  # noqa: UP045 (dagster config)
    visit_minutes: float = 15.0
    visits_per_shift: int = 2
    patrol_cap_visits: Optional[int] = None  # noqa: UP045
    #: outside a trial: how many listed hot spots the day's risk-weighted draw tasks
    draw_hotspots: int = 20


def _default_date(lake_dir):
    import pandas as pd

    root = lake_dir / "patrol" / "gps"
    days = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.exists() else []
    if days:
        return pd.Timestamp(days[-1]) + pd.Timedelta(days=1), "day after latest GPS day"
    return pd.Timestamp.now().normalize(), "today (no GPS data)"


@dg.asset(
    key=DAILY_TASKING_KEY,
    deps=[
        FORCE_HOTSPOT_LIST_KEY,
        HOTSPOT_LIST_KEY,
        TRIAL_ALLOCATION_KEY,
        TRIAL_UNITS_KEY,
        DAILY_DOSAGE_KEY,
        TEAMS_KEY,
    ],
    group_name=GROUP,
    kinds={"python", "parquet"},
    code_version="1",
)
def daily_tasking_asset(
    context: dg.AssetExecutionContext, config: TaskingConfig, platform: PlatformConfig
) -> dg.MaterializeResult:
    """One day's tasking: patrol-arm (or all) hot spots, geofences, windows, targets, briefings."""
    import json

    import pandas as pd

    from assets.patrol.common import harm_weights, trial_events
    from assets.patrol.design import trial_design_dir
    from vrdp.dosage import geofences_from_h3
    from vrdp.geo import h3_cells
    from vrdp.hotspots.temporal import patrol_windows
    from vrdp.lake import write_parquet_atomic
    from vrdp.needs.community import community_context, lake_reports
    from vrdp.tasking import briefing, daily_tasking, risk_weighted_draw
    from vrdp.tasking.waypoints import waypoints_json

    s = platform.resolve()
    if config.date:
        day, basis = pd.Timestamp(config.date).normalize(), "configured"
    else:
        day, basis = _default_date(s.lake_dir)
    design = trial_design_dir(s.lake_dir)
    alloc_path = design / "trial_allocation.parquet"
    alloc = pd.read_parquet(alloc_path) if alloc_path.exists() else pd.DataFrame()
    today = alloc[pd.to_datetime(alloc["date"]) == day] if len(alloc) else alloc
    hl, hl_source, hl_path = read_hotspot_list(s.lake_dir)
    if "selected" in hl:
        hl = hl[hl["selected"]]
    if len(today):
        units = today[["unit_id", "h3_cell"]].drop_duplicates("unit_id")
        source, allocation = "trial_allocation", today
    else:
        # Outside a trial: a seeded draw weighted by forecast risk spreads dosage over the list.
        draw = risk_weighted_draw(hl, day, k=config.draw_hotspots, seed=s.trial_seed)
        drawn = draw[draw["drawn"]]
        units = pd.DataFrame({"unit_id": drawn["h3_cell"], "h3_cell": drawn["h3_cell"]})
        source, allocation = "risk_weighted_draw", None
    units = units.reset_index(drop=True)
    fences = geofences_from_h3(units)
    events = trial_events(s.lake_dir)
    events = events[events["occurred_at"] < day]
    events["h3_cell"] = h3_cells(
        events["latitude"].to_numpy(float), events["longitude"].to_numpy(float), s.h3_resolution
    )
    cell_to_id = dict(zip(units["h3_cell"], units["unit_id"], strict=True))
    ev = events[events["h3_cell"].isin(cell_to_id)].assign(
        hotspot_id=lambda d: d["h3_cell"].map(cell_to_id)
    )
    recent = ev[ev["occurred_at"] >= day - pd.Timedelta(days=365)]
    windows = patrol_windows(recent, units["unit_id"].tolist(), group_col="hotspot_id")
    dosage = pd.read_parquet(s.lake_dir / "patrol" / "daily_dosage.parquet")
    table = daily_tasking(
        fences,
        day,
        windows=windows,
        allocation=allocation,
        delivered=dosage if len(dosage) else None,
        visit_minutes=config.visit_minutes,
        visits_per_shift=config.visits_per_shift,
        patrol_cap_visits=config.patrol_cap_visits,
    )
    record_tasking_history(s.lake_dir, table, units)
    table = table[table["arm"] == "patrol"].reset_index(drop=True)
    centres = fences.geometry.centroid.to_crs("EPSG:4326") if len(fences) else None
    if centres is not None:
        lookup = dict(
            zip(fences["hotspot_id"], zip(centres.y, centres.x, strict=True), strict=True)
        )
        table["centre_latitude"] = table["hotspot_id"].map(lambda h: round(lookup[h][0], 6))
        table["centre_longitude"] = table["hotspot_id"].map(lambda h: round(lookup[h][1], 6))
    trend = dict(zip(hl["h3_cell"], hl.get("hotspot_category", pd.Series(dtype=str)), strict=False))
    table["h3_cell"] = table["hotspot_id"].map(
        dict(zip(units["unit_id"], units["h3_cell"], strict=True))
    )
    table["tasking_source"] = source
    if source == "risk_weighted_draw":
        w = dict(zip(draw["h3_cell"], draw["draw_weight"], strict=True))
        table["draw_weight"] = table["h3_cell"].map(w).round(6)
        table["draw_seed"] = s.trial_seed
        draw_meta = {
            "draw_seed": s.trial_seed,
            "draw_hotspots": len(drawn),
            "draw_from": len(draw),
        }
    else:
        draw_meta = {}
    table["hotspot_list_source"] = hl_source
    weights = harm_weights()
    factors, rtm_model = _risk_factors(s.lake_dir, fences, table["hotspot_id"])
    # public reports of feeling unsafe in the 90 days before the day: context, never crime
    community = community_context(
        lake_reports(s.lake_dir, before=day), as_of=day - pd.Timedelta(days=1)
    )
    community_text = dict(zip(community["h3_cell"], community["context_text"], strict=True))
    briefs = []
    for hid, cell in zip(table["hotspot_id"], table["h3_cell"], strict=True):
        b = briefing(
            hid,
            ev.loc[ev["hotspot_id"] == hid, ["crime_type", "occurred_at"]],
            as_of=day,
            harm_weights=weights,
            trend_class=trend.get(cell),
            risk_factors=factors.get(hid) if factors is not None else None,
            patrol_windows=windows[windows["hotspot_id"] == hid],
            community=community_text.get(cell),
        )
        briefs.append(json.loads(json.dumps(b, default=str)))
    table["briefing"] = [b["text"] for b in briefs]
    # What an officer's app shows without opening the briefing: the year's harm, the
    # crime types that drive it, and the rank by harm among the day's tasked spots.
    table["harm_days"] = [round(float(b["harm"].get("365d", 0.0)), 1) for b in briefs]
    table["main_crime_types"] = [_main_types(b) for b in briefs]
    table["rank"] = table["harm_days"].rank(ascending=False, method="first").astype(int)
    names = _place_names(s.lake_dir, fences, table["hotspot_id"])
    for c in ("street", "ward", "place"):
        table[c] = names[c].to_numpy()
    teams_meta = _teams_and_shifts(s.lake_dir, fences, table, windows)
    wp, wp_meta = _waypoints(s, fences, recent, table, weights)
    table["waypoints"] = [waypoints_json(wp, h) for h in table["hotspot_id"]]
    for b in briefs:
        b["waypoints"] = json.loads(waypoints_json(wp, b["hotspot_id"]))
    table["patrol_windows"] = table["patrol_windows"].replace("", NO_WINDOW)
    out = s.lake_dir / "patrol" / "daily_tasking.parquet"
    write_parquet_atomic(table, out, metadata={"vrdp.tasking_date": str(day.date())})
    (out.parent / "briefings.json").write_text(json.dumps(briefs, indent=1) + "\n")
    return dg.MaterializeResult(
        metadata={
            "tasking_date": str(day.date()),
            "date_basis": basis,
            "source": source,
            "hotspot_list_source": hl_source,
            "hotspot_list_path": str(hl_path) if hl_path else "none",
            "risk_terrain_model": rtm_model,
            **draw_meta,
            "hotspots_with_community_reports": int(table["h3_cell"].isin(community_text).sum()),
            "hotspots_tasked": int(table["tasked"].sum()),
            "hotspots_listed": len(table),
            "target_minutes_per_hotspot": float(table["target_minutes"].max())
            if len(table)
            else 0.0,
            "patrol_cap_visits": int(table["patrol_cap_visits"].max()) if len(table) else 0,
            **teams_meta,
            **wp_meta,
            "dagster/row_count": len(table),
            "path": dg.MetadataValue.path(str(out)),
        }
    )


def _waypoints(s, fences, recent, table, weights):
    """Up to three waypoints per tasked spot (harm by venue or street), analysts' overrides.

    Written to ``lake/patrol/waypoints.parquet`` with the override's reason and analyst.
    """
    import pandas as pd

    from assets.patrol.common import read_lake_dataset
    from vrdp.hotspots.override_log import read_waypoint_overrides
    from vrdp.lake import write_parquet_atomic
    from vrdp.tasking.waypoints import apply_waypoint_overrides, waypoints

    pois = read_lake_dataset(
        s.lake_dir, "places", "pois", ["category", "name", "street", "easting_m", "northing_m"]
    )
    pois = pois[pois["category"] != "police_station"]
    streets = read_lake_dataset(
        s.lake_dir, "places", "streets", ["street_name", "easting_m", "northing_m"]
    )
    tasked = fences[fences["hotspot_id"].isin(table["hotspot_id"])]
    computed = waypoints(recent, tasked, pois=pois, streets=streets, harm_weights=weights)
    cells = pd.Series(table["h3_cell"].to_numpy(), index=table["hotspot_id"].to_numpy())
    overrides = read_waypoint_overrides(s.data_root / "overrides" / "waypoint_overrides.csv")
    wp = apply_waypoint_overrides(computed, overrides, cells)
    write_parquet_atomic(wp, s.lake_dir / "patrol" / "waypoints.parquet")
    per_spot = wp.groupby("hotspot_id").size().reindex(table["hotspot_id"], fill_value=0)
    return wp, {
        "waypoints": len(wp),
        "spots_without_waypoint": int((per_spot == 0).sum()),
        "waypoints_by_analyst": int((wp["source"] == "analyst").sum()),
        "waypoint_examples": dg.MetadataValue.json(
            (wp["label"] + ": " + wp["what_happened"]).head(5).tolist()
        ),
    }


#: ``patrol_windows`` of a hot spot with no timed event in the last year.
NO_WINDOW = "no timed events in the last year"


def latest_teams_reference(lake_dir):
    """The latest delivery of the teams reference (``patrol/teams``), or None."""
    import pandas as pd

    root = lake_dir / "patrol" / "teams"
    parts = sorted(root.glob("*/part-0.parquet")) if root.exists() else []
    for part in reversed(parts):
        t = pd.read_parquet(part)
        if len(t):
            return t, part.parent.name
    return None, None


def _teams_and_shifts(lake_dir, fences, table, windows) -> dict:
    """Add team, its base and shift (name, hours) to each tasking row; metadata.

    The team covering the hot spot's ward in the delivered teams reference (else
    the nearest base station); the team's shift covering most of the spot's patrol
    windows. Without a delivered reference the columns say so.
    """
    import geopandas as gpd

    from vrdp.tasking import assign_teams, shift_for_windows

    ref, delivery = latest_teams_reference(lake_dir)
    if ref is None or not len(table):
        for c in ("team", "team_label", "base_station", "shift", "shift_hours", "team_basis"):
            table[c] = None
        return {"teams_reference": "none delivered (teams and shifts unknown)"}
    wpath = lake_dir / "geography" / "wards_boundaries.parquet"
    wards = gpd.read_parquet(wpath) if wpath.exists() else None
    c = fences.set_index("hotspot_id").geometry.centroid.loc[list(table["hotspot_id"])]
    t = assign_teams(c.x.to_numpy(), c.y.to_numpy(), ref, wards)
    for col in ("team", "team_label", "base_station", "team_basis"):
        table[col] = t[col].to_numpy()
    shifts = [
        shift_for_windows(pattern, windows[windows["hotspot_id"] == hid])
        for hid, pattern in zip(table["hotspot_id"], t["shift_pattern"], strict=True)
    ]
    table["shift"] = [x[0] for x in shifts]
    table["shift_hours"] = [x[1] for x in shifts]
    return {
        "teams_reference": f"patrol/teams delivery {delivery} ({len(ref)} teams)",
        "teams_tasked": dg.MetadataValue.json(table["team"].value_counts().to_dict()),
        "team_by_nearest_base": int((table["team_basis"] == "nearest base station").sum()),
    }


def _place_names(lake_dir, fences, ids):
    """Nearest street (street gazetteer) and ward (boundaries) of each tasked spot's centre."""
    import geopandas as gpd
    import pandas as pd

    from assets.patrol.common import read_lake_dataset
    from vrdp.tasking import place_names

    streets = read_lake_dataset(
        lake_dir, "places", "streets", ["street_name", "town", "easting_m", "northing_m"]
    )
    wpath = lake_dir / "geography" / "wards_boundaries.parquet"
    wards = gpd.read_parquet(wpath) if wpath.exists() else None
    if not len(fences):
        return pd.DataFrame(columns=["street", "ward", "place"])
    c = fences.set_index("hotspot_id").geometry.centroid.loc[list(ids)]
    return place_names(c.x.to_numpy(), c.y.to_numpy(), streets, wards)


def _main_types(brief: dict, n: int = 3) -> str:
    """The ``n`` crime types with most events in the briefing's longest window."""
    counts = brief.get("counts", {})
    if not counts:
        return "no recorded events in the last year"
    w = max(next(iter(counts.values())), key=lambda k: int(k.rstrip("d")))
    top = sorted(counts, key=lambda c: (-counts[c][w], c))[:n]
    return "; ".join(top)


def _risk_factors(lake_dir, fences, ids):
    """RTM factors at each tasked hot spot's centre (simulated world, force's POIs, Oxford).

    Returns ``({hotspot_id: [labels]}, model name)``, or ``(None, "none")`` when no
    risk terrain model has been built (briefings then say nothing about factors).
    """
    from vrdp.risk_terrain.outputs import load_risk_terrain_model
    from vrdp.tasking import risk_factors_at

    for name in ("simulated_world", "police_uk", "oxford"):
        path = lake_dir / "risk_terrain" / name / "model.pkl"
        if path.exists() and len(fences):
            model = load_risk_terrain_model(path)
            c = fences.set_index("hotspot_id").geometry.centroid
            c = c.loc[list(ids)]
            return dict(zip(c.index, risk_factors_at(model, c.x, c.y), strict=True)), name
    return None, "none"


def tasking_history_path(lake_dir):
    """``<lake>/patrol/tasking_history.parquet``: every tasked day's hot spots, controls too."""
    return lake_dir / "patrol" / "tasking_history.parquet"


def record_tasking_history(lake_dir, table, units) -> None:
    """Replace the day's rows of the tasking history (patrol and control hot spot-days).

    Dosage is measured on every geofence of every tasked day (the visits asset reads
    this history), so no tasked spot goes without a dosage figure.
    """
    import pandas as pd

    from vrdp.lake import write_parquet_atomic

    cols = ["date", "hotspot_id", "h3_cell", "arm", "tasked", "target_visits", "target_minutes"]
    day = table.assign(
        h3_cell=table["hotspot_id"].map(dict(zip(units["unit_id"], units["h3_cell"], strict=True)))
    )[cols]
    path = tasking_history_path(lake_dir)
    if path.exists():
        old = pd.read_parquet(path)
        old = (
            old[pd.to_datetime(old["date"]) != pd.to_datetime(day["date"]).iloc[0]]
            if len(day)
            else old
        )
        day = pd.concat([old, day], ignore_index=True)
    day = day.sort_values(["date", "hotspot_id"]).reset_index(drop=True)
    write_parquet_atomic(day, path)


EXPORT_COLUMNS = [
    "hotspot_id",
    "h3_cell",
    "date",
    "day_start_at",
    "day_end_at",
    "centre_latitude",
    "centre_longitude",
    "patrol_windows",
    "team",
    "team_label",
    "base_station",
    "shift",
    "shift_hours",
    "waypoints",
    "rank",
    "place",
    "street",
    "ward",
    "harm_days",
    "main_crime_types",
    "arm",
    "tasked",
    "target_visit_minutes",
    "target_visits",
    "target_minutes",
    "patrol_cap_visits",
    "visits_so_far",
    "tasking_source",
    "draw_weight",
    "draw_seed",
    "briefing",
    "geofence_wkt",
]


def tasking_export_files(table, briefs):
    """Parquet, CSV, GeoJSON (WGS84 geofences) and briefings JSON of a tasking table."""
    import json

    import shapely

    from exports.format import ExportFile
    from exports.tasking import DICTIONARY, write_tasking_geoparquet

    typed = table[[c for c in EXPORT_COLUMNS if c in table]].copy()
    df = typed.copy()  # text for the CSV and GeoJSON; the GeoParquet keeps types
    for c in ("date", "day_start_at", "day_end_at"):
        df[c] = df[c].astype(str)

    def geojson(path):
        feats = []
        for row in df.to_dict("records"):
            geom = shapely.geometry.mapping(shapely.from_wkt(row["geofence_wkt"]))
            props = {k: v for k, v in row.items() if k != "geofence_wkt"}
            props = {k: (v.item() if hasattr(v, "item") else v) for k, v in props.items()}
            feats.append({"type": "Feature", "properties": props, "geometry": geom})
        doc = {"type": "FeatureCollection", "name": "patrol_tasking", "features": feats}
        path.write_text(json.dumps(doc, separators=(",", ":"), default=str) + "\n")

    return [
        ExportFile(
            "tasking.parquet", len(df), lambda p: write_tasking_geoparquet(typed, p), DICTIONARY
        ),
        ExportFile(
            "tasking.csv",
            len(df),
            lambda p: df.to_csv(p, index=False, lineterminator="\n"),
            DICTIONARY,
        ),
        ExportFile("tasking.geojson", len(df), geojson, DICTIONARY),
        ExportFile(
            "briefings.json",
            len(briefs),
            lambda p: p.write_text(json.dumps(briefs, indent=1, sort_keys=True) + "\n"),
        ),
    ]


def map_export_file(day: str, rows: int):
    """The offline map (Leaflet inlined) of the staged export, written last.

    It reads the tasking files staged before it, so it shows exactly this version;
    its title names the tasking day, not the folder, so identical content gives an
    identical file (and the same export version).
    """
    from dataclasses import replace

    from exports.format import ExportFile

    def write(path):
        from config.settings import settings
        from exports.map import render_map
        from exports.snapshot import load_snapshot

        snap = replace(load_snapshot(path.parent), version=f"tasking {day}")
        path.write_text(render_map(snap, settings(), day=day, static_prefix=None))

    return ExportFile("map.html", rows, write)


@dg.asset(
    key=TASKING_EXPORT_KEY,
    deps=[DAILY_TASKING_KEY],
    group_name=GROUP,
    kinds={"python", "parquet", "csv", "geojson"},
    code_version="1",
)
def patrol_tasking_export(
    context: dg.AssetExecutionContext, platform: PlatformConfig
) -> dg.MaterializeResult:
    """Versioned tasking export for the patrol app (exports/patrol_tasking/<version>, latest)."""
    import json

    import pandas as pd

    from exports.format import ExportRejected, publish_export
    from vrdp.governance.register import bases_for, load_register

    s = platform.resolve()
    table = pd.read_parquet(s.lake_dir / "patrol" / "daily_tasking.parquet")
    briefs = json.loads((s.lake_dir / "patrol" / "briefings.json").read_text())
    day = str(pd.Timestamp(table["date"].iloc[0]).date()) if len(table) else "empty"
    try:
        # The personal-data scan runs on the staged files, before publication; the
        # asset check below repeats it on what was published.
        published = publish_export(
            s.exports_dir / EXPORT_SUBDIR,
            [*tasking_export_files(table, briefs), map_export_file(day, len(table))],
            as_of=day,
            parameters={
                "tasking_date": day,
                "source": sorted(set(table.get("tasking_source", []))),
                "hotspot_list_source": sorted(set(table.get("hotspot_list_source", []))),
            },
            check=scan_export,
            lawful_bases=bases_for(load_register(s.governance_dir), "patrol_tasking"),
        )
    except ExportRejected as exc:
        raise dg.Failure(str(exc), metadata={"findings": exc.findings[:20]}) from exc
    return dg.MaterializeResult(
        metadata={
            "version": published.version,
            "created_new_version": published.created,
            "tasking_date": day,
            "hotspot_list_source": ", ".join(sorted(set(table.get("hotspot_list_source", []))))
            or "none",
            "path": dg.MetadataValue.path(str(published.path)),
            "latest": dg.MetadataValue.path(str(s.exports_dir / EXPORT_SUBDIR / "latest")),
            "files": dg.MetadataValue.json(published.manifest["files"]),
            "dagster/row_count": len(table),
        }
    )


def scan_export(version_dir) -> list[str]:
    """Personal-data findings in every file of a tasking export version."""
    import json
    from pathlib import Path

    import geopandas as gpd
    import pandas as pd

    from exports.pii import personal_data_findings

    d = Path(version_dir)
    found = personal_data_findings(pd.read_parquet(d / "tasking.parquet"), table="tasking.parquet")
    found += personal_data_findings(pd.read_csv(d / "tasking.csv", dtype=str), table="tasking.csv")
    gj = gpd.read_file(d / "tasking.geojson")
    found += personal_data_findings(
        pd.DataFrame(gj.drop(columns="geometry")), table="tasking.geojson"
    )
    briefs = json.loads((d / "briefings.json").read_text())
    keys = sorted({k for b in briefs for k in _keys(b)})
    found += personal_data_findings(
        pd.DataFrame({k.replace(" ", "_"): [] for k in keys}), table="briefings.json"
    )
    found += personal_data_findings(
        pd.DataFrame({"value": [str(v) for b in briefs for v in _values(b)] + keys}),
        table="briefings.json",
    )
    return found


def _values(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _values(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _values(v)
    else:
        yield obj


def _keys(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield str(k)
            yield from _keys(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _keys(v)


@dg.asset_check(asset=TASKING_EXPORT_KEY, name="no_personal_data", blocking=True)
def tasking_pii_check(platform: PlatformConfig) -> dg.AssetCheckResult:
    """Every column name and value of the published tasking export is free of personal data."""
    s = platform.resolve()
    latest = (s.exports_dir / EXPORT_SUBDIR / "latest").resolve()
    found = scan_export(latest)
    return dg.AssetCheckResult(
        passed=not found,
        metadata={
            "version": latest.name,
            "findings": len(found),
            "examples": dg.MetadataValue.json(found[:20]),
        },
    )

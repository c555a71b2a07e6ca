"""Waypoints: where inside a hot spot's geofence the harm concentrates.

They tell an officer where to stand.
Each located event inside a geofence is put at a place an officer recognises: the
venue or transport stop it happened at (the nearest point of interest within
``poi_radius_m``), else the street (the nearest street of the gazetteer). Places
are ranked by harm (CCHI days; counts when no weights are given); the top
``max_waypoints`` are the waypoints, each with what happened there
(``"Bus stop, Queen Street: 4 Robbery"``). Free-text event locations are never
used: they can hold a victim's home address.

Analysts add or remove waypoints through an append-only audit table
(:func:`apply_waypoint_overrides`; the CLI is ``python -m vrdp.hotspots.override_log
waypoint``).
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

__all__ = ["WAYPOINT_COLUMNS", "waypoints", "apply_waypoint_overrides", "waypoints_json"]

WAYPOINT_COLUMNS = [
    "hotspot_id",
    "waypoint_rank",
    "label",
    "what_happened",
    "events",
    "harm_days",
    "easting_m",
    "northing_m",
    "latitude",
    "longitude",
    "source",
]


def _category_label(category: str) -> str:
    return str(category).replace("_", " ").capitalize()


def _venue_label(category: str, name: str, street: str) -> str:
    cat = _category_label(category)
    name, street = str(name or "").strip(), str(street or "").strip()
    if not name or name.lower().endswith(cat.lower()):
        # generic names ("Kennet Road Bus Stop"): the category and the street say it
        return f"{cat}, {street}" if street else cat
    return f"{cat}, {name}, {street}" if street else f"{cat}, {name}"


def waypoints(
    events: pd.DataFrame,
    geofences: gpd.GeoDataFrame,
    *,
    pois: pd.DataFrame | None = None,
    streets: pd.DataFrame | None = None,
    harm_weights: dict[str, float] | None = None,
    id_col: str = "hotspot_id",
    max_waypoints: int = 3,
    poi_radius_m: float = 40.0,
    street_radius_m: float = 150.0,
) -> pd.DataFrame:
    """Up to ``max_waypoints`` places per geofence where its events' harm concentrates.

    Parameters
    ----------
    events
        ``crime_type``, ``easting``, ``northing`` (BNG metres), any hot spot.
    geofences
        ``id_col`` and polygons (any CRS); only events inside a polygon count for it.
    pois
        Venues and stops: ``category``, ``name``, ``street``, ``easting_m``, ``northing_m``.
    streets
        The street gazetteer: ``street_name``, ``easting_m``, ``northing_m``.
    harm_weights
        Crime type -> CCHI days (unlisted types weigh 0); None ranks by counts.

    Returns
    -------
    pandas.DataFrame
        :data:`WAYPOINT_COLUMNS`; the point is the venue's (when inside the
        geofence) or else the place's event nearest its events' mean, so every
        waypoint lies inside its geofence. ``source`` is ``"events"``.

    Examples
    --------
    >>> fence = gpd.GeoDataFrame({"hotspot_id": ["h"]},
    ...     geometry=[shapely.box(0, 0, 200, 200)], crs="EPSG:27700")
    >>> ev = pd.DataFrame({"crime_type": ["Robbery"] * 4 + ["Shoplifting"],
    ...     "easting": [10, 12, 11, 9, 150], "northing": [10, 11, 9, 12, 150]})
    >>> stops = pd.DataFrame({"category": ["bus_stop"], "name": ["Queen Street Bus Stop"],
    ...     "street": ["Queen Street"], "easting_m": [15.0], "northing_m": [15.0]})
    >>> w = waypoints(ev, fence, pois=stops)
    >>> w[["label", "what_happened"]].values.tolist()
    [['Bus stop, Queen Street', '4 Robbery'], ['Unnamed place', '1 Shoplifting']]
    """
    if not len(geofences) or not len(events):
        return pd.DataFrame(columns=WAYPOINT_COLUMNS)
    gf = geofences.to_crs("EPSG:27700") if geofences.crs is not None else geofences
    ev = events.dropna(subset=["easting", "northing"]).reset_index(drop=True)
    pts = gpd.GeoDataFrame(
        ev[["crime_type"]],
        geometry=gpd.points_from_xy(ev["easting"], ev["northing"]),
        crs="EPSG:27700",
    )
    hit = gpd.sjoin(pts, gf[[id_col, "geometry"]], how="inner", predicate="within")
    if not len(hit):
        return pd.DataFrame(columns=WAYPOINT_COLUMNS)
    x = ev.loc[hit.index, "easting"].to_numpy(float)
    y = ev.loc[hit.index, "northing"].to_numpy(float)
    key = np.full(len(hit), "", dtype=object)
    label = np.full(len(hit), "Unnamed place", dtype=object)
    venue_xy = {}
    if pois is not None and len(pois):
        p = pois.dropna(subset=["easting_m", "northing_m"]).reset_index(drop=True)
        d, i = cKDTree(p[["easting_m", "northing_m"]].to_numpy(float)).query(np.c_[x, y])
        near = d <= poi_radius_m
        for k in np.flatnonzero(near):
            r = p.iloc[int(i[k])]
            key[k] = f"poi:{int(i[k])}"
            label[k] = _venue_label(r["category"], r.get("name"), r.get("street"))
            venue_xy[key[k]] = (float(r["easting_m"]), float(r["northing_m"]))
    if streets is not None and len(streets):
        s = streets.dropna(subset=["easting_m", "northing_m", "street_name"]).reset_index(drop=True)
        d, i = cKDTree(s[["easting_m", "northing_m"]].to_numpy(float)).query(np.c_[x, y])
        for k in np.flatnonzero((key == "") & (d <= street_radius_m)):
            name = str(s["street_name"].iloc[int(i[k])])
            key[k] = f"street:{name}"
            label[k] = name
    blank = key == ""
    key[blank] = "unnamed"
    w = (
        hit["crime_type"].map(harm_weights).fillna(0.0).to_numpy(float)
        if harm_weights is not None
        else np.ones(len(hit))
    )
    df = pd.DataFrame(
        {
            id_col: hit[id_col].to_numpy(),
            "key": key,
            "label": label,
            "crime_type": hit["crime_type"].to_numpy(),
            "x": x,
            "y": y,
            "w": w,
        }
    )
    rows = []
    for (hid, k), g in df.groupby([id_col, "key"], sort=True):
        counts = g["crime_type"].value_counts()
        counts = counts.sort_index().sort_values(ascending=False, kind="stable")
        what = ", ".join(f"{n} {t}" for t, n in counts.head(2).items())
        mx, my = g["x"].mean(), g["y"].mean()
        j = int(np.argmin(np.hypot(g["x"] - mx, g["y"] - my)))
        px, py = float(g["x"].iloc[j]), float(g["y"].iloc[j])
        fence = gf.loc[gf[id_col] == hid, "geometry"].iloc[0]
        if k in venue_xy and fence.contains(shapely.Point(*venue_xy[k])):
            px, py = venue_xy[k]
        rows.append(
            {
                id_col: hid,
                "label": g["label"].iloc[0],
                "what_happened": what,
                "events": len(g),
                "harm_days": round(float(g["w"].sum()), 1),
                "easting_m": round(px, 1),
                "northing_m": round(py, 1),
                "_h": float(g["w"].sum()) if harm_weights is not None else 0.0,
            }
        )
    out = pd.DataFrame(rows)
    out = out.sort_values([id_col, "_h", "events", "label"], ascending=[True, False, False, True])
    out["waypoint_rank"] = out.groupby(id_col).cumcount() + 1
    out = out[out["waypoint_rank"] <= max_waypoints].reset_index(drop=True)
    wgs = gpd.GeoSeries(
        gpd.points_from_xy(out["easting_m"], out["northing_m"]), crs="EPSG:27700"
    ).to_crs("EPSG:4326")
    out["latitude"] = wgs.y.round(6).to_numpy()
    out["longitude"] = wgs.x.round(6).to_numpy()
    out["source"] = "events"
    if id_col != "hotspot_id":
        out = out.rename(columns={id_col: "hotspot_id"})
    return out[WAYPOINT_COLUMNS]


def apply_waypoint_overrides(
    computed: pd.DataFrame,
    overrides: pd.DataFrame,
    cells: pd.Series,
    *,
    max_waypoints: int = 3,
) -> pd.DataFrame:
    """Computed waypoints with the analysts' additions and removals applied.

    Parameters
    ----------
    computed
        :func:`waypoints` output.
    overrides
        The audit table: ``h3_cell``, ``action`` (``add``/``remove``), ``label``,
        ``latitude``, ``longitude``, ``reason``, ``analyst``, ``created_at``. The
        latest row per cell and label wins.
    cells
        ``hotspot_id`` -> ``h3_cell`` of the day's tasking.

    Returns
    -------
    pandas.DataFrame
        :data:`WAYPOINT_COLUMNS` plus ``reason`` and ``analyst`` (blank for
        computed ones): analysts' waypoints first (``source`` ``"analyst"``), then
        the computed ones not removed, re-ranked, at most ``max_waypoints`` each.
    """
    out = computed.assign(reason="", analyst="")
    if overrides is None or not len(overrides):
        return out
    ov = overrides.sort_values("created_at", kind="stable")
    ov = ov.drop_duplicates(["h3_cell", "label"], keep="last")
    by_cell = {c: h for h, c in cells.items()}
    removed = {
        (by_cell[c], lab)
        for c, lab, a in zip(ov["h3_cell"], ov["label"], ov["action"], strict=True)
        if a == "remove" and c in by_cell
    }
    keep = [(h, lab) not in removed for h, lab in zip(out["hotspot_id"], out["label"], strict=True)]
    out = out[keep]
    add = ov[(ov["action"] == "add") & ov["h3_cell"].isin(by_cell)]
    if len(add):
        lat = pd.to_numeric(add["latitude"]).to_numpy(float)
        lon = pd.to_numeric(add["longitude"]).to_numpy(float)
        bng = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs("EPSG:27700")
        extra = pd.DataFrame(
            {
                "hotspot_id": add["h3_cell"].map(by_cell).to_numpy(),
                "waypoint_rank": 0,
                "label": add["label"].to_numpy(),
                "what_happened": "added by an analyst: " + add["reason"].astype(str).to_numpy(),
                "events": 0,
                "harm_days": 0.0,
                "easting_m": bng.x.round(1).to_numpy(),
                "northing_m": bng.y.round(1).to_numpy(),
                "latitude": lat.round(6),
                "longitude": lon.round(6),
                "source": "analyst",
                "reason": add["reason"].to_numpy(),
                "analyst": add["analyst"].to_numpy(),
            }
        )
        out = pd.concat([extra, out], ignore_index=True)
    out = out.assign(_o=(out["source"] != "analyst").astype(int))
    out = out.sort_values(["hotspot_id", "_o", "waypoint_rank"], kind="stable")
    out["waypoint_rank"] = out.groupby("hotspot_id").cumcount() + 1
    return out[out["waypoint_rank"] <= max_waypoints].drop(columns="_o").reset_index(drop=True)


def waypoints_json(wp: pd.DataFrame, hotspot_id: str) -> str:
    """One hot spot's waypoints as the export's JSON text (``[]`` when it has none)."""
    rows = wp[wp["hotspot_id"] == hotspot_id].sort_values("waypoint_rank")
    return json.dumps(
        [
            {
                "rank": int(r.waypoint_rank),
                "label": r.label,
                "what_happened": r.what_happened,
                "latitude": float(r.latitude),
                "longitude": float(r.longitude),
                "source": r.source,
            }
            for r in rows.itertuples()
        ],
        separators=(",", ":"),
    )

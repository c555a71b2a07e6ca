"""The offline HTML map: hot spots with briefings, risk terrain, today's taskings, wards.

Leaflet 1.9.4 (BSD-2, ``static/leaflet/LICENSE``) is bundled: the API serves it
from ``/map/static/leaflet/``; :func:`write_map` inlines it so the exported
``map.html`` opens from disk on a closed network. No CDN. A basemap comes from
the force's own tile server when ``VRDP_MAP_TILE_URL`` is set; offline, a
street layer is drawn from shipped street data (OSM central Reading) and the
named places of the lake's gazetteer. Data is embedded in the page as GeoJSON;
each layer's SVG paths carry a class (``vrdp-ward``, ``vrdp-risk``,
``vrdp-hotspot``, ``vrdp-tasking``, ``vrdp-street``). The first view fits the
force (its wards); every hot spot popup names the ward and the nearest named
places; a tasking dot opens its hot spot's briefing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import h3

__all__ = ["STATIC_DIR", "render_map", "write_map", "make_ticket", "check_ticket"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: The force's ward layer in the lake, written by the ``geography/wards_boundaries`` asset.
WARDS = Path("geography") / "wards_boundaries.parquet"
STREETS = Path("osm") / "reading_centre_street_network_edges.geojson"
POIS = Path("osm") / "oxford_centre_pois_2015.geojson"
#: plain names of the risk terrain layers the lake may hold
RISK_NAMES = {
    "oxford": "central Oxford (real crimes and places)",
    "police_uk": "the force's study area (its own places, real crimes)",
    "simulated_world": "the simulated force area",
}
#: how far (metres) a named place may be to describe a hot spot
PLACE_RADIUS_M = 300.0
#: fewest public reports of feeling unsafe (90 days) for a cell to be drawn
MIN_COMMUNITY_REPORTS = 3


def make_ticket(secret: bytes, user: str, ttl_s: int = 300) -> str:
    """A signed, expiring map link token (not a bearer token)."""
    payload = f"{user}|{int(time.time()) + ttl_s}"
    sig = hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()[:32]
    return base64.urlsafe_b64encode(f"{payload}|{sig}".encode()).decode().rstrip("=")


def check_ticket(secret: bytes, ticket: str) -> bool:
    """Whether ``ticket`` was made with ``secret`` and has not expired."""
    try:
        raw = base64.urlsafe_b64decode(ticket + "=" * (-len(ticket) % 4)).decode()
        user, expires, sig = raw.rsplit("|", 2)
    except (ValueError, UnicodeDecodeError):
        return False
    good = hmac.new(secret, f"{user}|{expires}".encode(), hashlib.sha256).hexdigest()[:32]
    return hmac.compare_digest(good, sig) and int(expires) >= time.time()


_WARD_LAYERS: dict[tuple[str, int], dict] = {}


def _wards(lake_dir: Path) -> dict:
    """The configured force's wards as WGS84 GeoJSON (name and authority).

    Empty before the geography assets have run; cached by the file's modification time.
    """
    path = lake_dir / WARDS
    if not path.exists():
        return {"type": "FeatureCollection", "features": []}
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _WARD_LAYERS:
        import geopandas as gpd

        wards = gpd.read_parquet(path).to_crs(4326)
        out = gpd.GeoDataFrame(
            {"name": wards["WD25NM"], "authority": wards["LAD25NM"]},
            geometry=wards.geometry.simplify(0.00005),
            crs=4326,
        )
        _WARD_LAYERS.clear()
        _WARD_LAYERS[key] = json.loads(out.to_json(drop_id=True))
    return _WARD_LAYERS[key]


#: the most risk terrain cells drawn (the highest risk first); more would make
#: the page heavy on an officer's device
MAX_RISK_CELLS = 4000
_PARSED: dict[tuple[str, int], dict] = {}


def _read_geojson(path: Path) -> dict:
    """Parsed GeoJSON, cached by path and modification time (lake layers are large)."""
    key = (str(path), path.stat().st_mtime_ns)
    doc = _PARSED.get(key)
    if doc is None:
        doc = json.loads(path.read_text())
        while len(_PARSED) >= 4:  # a few layers per process at most
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[key] = doc
    return doc


def _coverage(doc: dict, resolution: int = 7) -> set[str]:
    """H3 cells (about 5 km² at resolution 7) holding a vertex of a layer's cells."""
    out = set()
    for f in doc.get("features", []):
        geom = f.get("geometry") or {}
        if geom.get("type") == "Polygon" and geom["coordinates"][0]:
            x, y = geom["coordinates"][0][0]
            out.add(h3.latlng_to_cell(y, x, resolution))
    return out


def risk_layer(snap, lake_dir: Path, points: list[tuple[float, float]]) -> tuple[dict, dict]:
    """The risk terrain layer to draw, and where it came from.

    The export's own ``risk_terrain.geojson`` when it has one; otherwise the
    lake's risk terrain layer (``risk_terrain/<area>/cells.geojson``) covering
    the most of ``points`` (the hot spots, ``(lat, lon)``; "covering": a cell
    of the layer in the same H3 resolution-7 cell, about 5 km²). Only elevated
    cells (flagged high risk, or relative risk score above 1) are kept, at most
    :data:`MAX_RISK_CELLS` of them: high-risk cells first, then by score.

    Returns
    -------
    (GeoJSON FeatureCollection, info)
        ``info`` names the source and counts the cells shown and available.
    """
    from exports.snapshot import RISK_TERRAIN_FILE

    path = snap.file(RISK_TERRAIN_FILE)
    candidates = [("export", path)] if path is not None else []
    if not candidates:
        found = sorted((lake_dir / "risk_terrain").glob("*/cells.geojson"))
        candidates = [(f"lake:{p.parent.name}", p) for p in found]
    best = None
    for source, p in candidates:
        doc = _read_geojson(p)
        covered = _coverage(doc)
        hits = sum(1 for lat, lon in points if h3.latlng_to_cell(lat, lon, 7) in covered)
        if best is None or hits > best[0]:
            best = (hits, source, doc)
    if best is None:
        return {"type": "FeatureCollection", "features": []}, {"source": "none"}
    hits, source, doc = best
    keep = ("rrs", "high_risk", "event_count")
    cells = []
    for f in doc.get("features", []):
        props = f.get("properties") or {}
        rrs = props.get("rrs")
        if not (props.get("high_risk") or (isinstance(rrs, int | float) and rrs > 1)):
            continue
        geom = f["geometry"]
        if geom.get("type") == "Polygon":
            ring = [[round(x, 6), round(y, 6)] for x, y in geom["coordinates"][0]]
            geom = {"type": "Polygon", "coordinates": [ring]}
        cells.append(
            {"type": "Feature", "properties": {k: props.get(k) for k in keep}, "geometry": geom}
        )
    cells.sort(key=lambda f: (not f["properties"]["high_risk"], -(f["properties"]["rrs"] or 0)))
    shown = cells[:MAX_RISK_CELLS]
    info = {
        "source": source,
        "cells_total": len(doc.get("features", [])),
        "cells_elevated": len(cells),
        "cells_shown": len(shown),
        "hotspots_inside": hits,
    }
    return {"type": "FeatureCollection", "features": shown}, info


def _streets(public_data: Path) -> dict:
    """The shipped street network (OSM central Reading) as light GeoJSON lines."""
    path = public_data / STREETS
    if not path.exists():
        return {"type": "FeatureCollection", "features": []}
    feats = []
    for f in _read_geojson(path).get("features", []):
        geom = f.get("geometry") or {}
        if geom.get("type") != "LineString":
            continue
        coords = [[round(x, 5), round(y, 5)] for x, y in geom["coordinates"]]
        feats.append(
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "LineString", "coordinates": coords},
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def named_places(public_data: Path, lake_dir: Path):
    """Named places (name, kind, easting, northing in BNG metres) to describe hot spots by.

    The lake's gazetteer (the force's POIs, streets and located places) when it
    has been built, plus the shipped OSM points of interest of central Oxford.
    """
    import numpy as np
    import pandas as pd

    frames = []
    gaz = lake_dir / "places" / "gazetteer" / "gazetteer.parquet"
    if gaz.exists():
        g = pd.read_parquet(gaz, columns=["name", "kind", "easting_m", "northing_m"])
        frames.append(g.dropna())
    pois = public_data / POIS
    if pois.exists():
        from pyproj import Transformer

        rows = []
        for f in _read_geojson(pois).get("features", []):
            name = (f.get("properties") or {}).get("name")
            geom = f.get("geometry") or {}
            if name and geom.get("type") == "Point":
                rows.append((name, "poi", *geom["coordinates"][:2]))
        if rows:
            to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
            lon = np.array([r[2] for r in rows])
            lat = np.array([r[3] for r in rows])
            x, y = to_bng.transform(lon, lat)
            frames.append(
                pd.DataFrame(
                    {"name": [r[0] for r in rows], "kind": "poi", "easting_m": x, "northing_m": y}
                )
            )
    if not frames:
        return pd.DataFrame(columns=["name", "kind", "easting_m", "northing_m"])
    return pd.concat(frames, ignore_index=True)


def nearest_names(places, lat: float, lon: float, k: int = 3) -> list[str]:
    """Up to ``k`` distinct names of places within :data:`PLACE_RADIUS_M`, nearest first."""
    import numpy as np
    from pyproj import Transformer

    if len(places) == 0:
        return []
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(lon, lat)
    d = np.hypot(places["easting_m"].to_numpy(float) - x, places["northing_m"].to_numpy(float) - y)
    out: list[str] = []
    for i in np.argsort(d, kind="stable"):
        if d[i] > PLACE_RADIUS_M or len(out) >= k:
            break
        name = str(places["name"].iloc[i]).strip()
        if name and name.lower() not in {n.lower() for n in out}:
            out.append(name)
    return out


def ward_lookup(wards: dict):
    """A function (lat, lon) -> ward name from the wards GeoJSON (None outside)."""
    import shapely
    from shapely.geometry import shape

    polys = [shape(f["geometry"]) for f in wards.get("features", [])]
    names = [f["properties"].get("name") for f in wards.get("features", [])]
    tree = shapely.STRtree(polys) if polys else None

    def find(lat: float, lon: float):
        if tree is None:
            return None
        hits = tree.query(shapely.Point(lon, lat), predicate="within")
        return names[int(hits[0])] if len(hits) else None

    return find


def _hex(cell: str) -> dict:
    ring = [[round(lng, 6), round(lat, 6)] for lat, lng in h3.cell_to_boundary(cell)]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def community_layer(lake_dir: Path, day: str, min_reports: int = MIN_COMMUNITY_REPORTS) -> dict:
    """Cells with public reports of feeling unsafe in the 90 days before ``day``.

    A layer of its own (StreetSafe-style reports are context, never crime counts):
    per H3 cell the number of reports, the most reported concern and the briefing's
    sentence, never a report's text or time; cells with fewer than ``min_reports``
    reports are left out (one report can point at one doorstep).
    """
    import pandas as pd

    from vrdp.needs.community import community_context, lake_reports

    reports = lake_reports(lake_dir, before=day)
    ctx = community_context(reports, as_of=pd.Timestamp(day) - pd.Timedelta(days=1))
    ctx = ctx[ctx["reports_90d"] >= min_reports]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"reports": int(n), "top_category": top, "text": text},
                "geometry": _hex(cell),
            }
            for cell, n, top, text in zip(
                ctx["h3_cell"],
                ctx["reports_90d"],
                ctx["top_category"],
                ctx["context_text"],
                strict=True,
            )
        ],
    }


def _layers(snap, settings, day: str) -> dict:
    from exports.snapshot import allocation as allocation_for

    tasked = [h for h in snap.hotspots if h.arm is None or h.arm == "patrol"]
    wards = _wards(settings.lake_dir)
    ward_of = ward_lookup(wards)
    places = named_places(settings.public_data, settings.lake_dir)
    hotspots = []
    for h in tasked:  # control-arm cells are never shown (the map is officer-facing)
        b = snap.briefings.get(h.id, {})
        near = nearest_names(places, h.latitude, h.longitude)
        ward = h.ward_name or ward_of(h.latitude, h.longitude)
        where = " near ".join(x for x in (ward, ", ".join(near)) if x)
        props = {
            "id": h.id,
            "rank": h.rank,
            "ward": ward,
            "places": near,
            "harm_days": h.harm_days,
            "title": b.get("title")
            or (f"Hot spot {h.rank}" if h.rank else "Hot spot") + (f": {where}" if where else ""),
            "summary": b.get("summary") or b.get("text") or (h.main_crime_types or ""),
            "windows": h.patrol_windows if isinstance(h.patrol_windows, str) else None,
            "waypoints": [
                {k: w.get(k) for k in ("label", "what_happened", "latitude", "longitude")}
                for w in (h.waypoints if isinstance(h.waypoints, list) else [])
            ],
        }
        geom = h.geofence if isinstance(h.geofence, dict) and "type" in h.geofence else None
        hotspots.append(
            {"type": "Feature", "properties": props, "geometry": geom or _hex(h.h3_cell)}
        )
    shown_day, note = day, None
    allocated = allocation_for(snap, None, day)
    dated = sorted({str(h.date)[:10] for h in tasked if h.date is not None})
    if not allocated and dated:
        # no tasking for the day asked: show the latest published one, and say so
        shown_day = dated[-1]
        allocated = allocation_for(snap, None, shown_day)
        note = f"no tasking for {day}; showing the latest published tasking ({shown_day})"
    taskings = [
        {
            "type": "Feature",
            "properties": {"id": h.id, "rank": h.rank, "team": h.team},
            "geometry": {"type": "Point", "coordinates": [h.longitude, h.latitude]},
        }
        for h in allocated
    ]
    risk, risk_info = risk_layer(
        snap, settings.lake_dir, [(h.latitude, h.longitude) for h in tasked]
    )
    source = risk_info["source"]
    area = source.split(":", 1)[-1]
    risk_name = RISK_NAMES.get(area, area.replace("_", " ")) if source != "none" else "none"
    tiles = getattr(settings, "map_tile_url", None)
    if tiles is None:  # the API's settings: the platform setting names the tile server
        from config.settings import settings as platform_settings

        ps = platform_settings()
        tiles, attribution = ps.map_tile_url, ps.map_tile_attribution
    else:
        attribution = getattr(settings, "map_tile_attribution", "")
    return {
        "meta": {
            "export_version": snap.version,
            "tasking_source": snap.tasking_source,
            "note": "; ".join(n for n in (snap.note, note) if n) or None,
            "date": shown_day,
            "risk_source": source,
            "risk_name": risk_name,
            "risk": risk_info,
            "tiles": tiles or None,
            "tiles_attribution": attribution or "",
        },
        "streets": _streets(settings.public_data),
        "wards": wards,
        "risk": risk,
        "community": community_layer(settings.lake_dir, shown_day),
        "hotspots": {"type": "FeatureCollection", "features": hotspots},
        "taskings": {"type": "FeatureCollection", "features": taskings},
    }


def render_map(snap, settings, *, day: str, static_prefix: str | None) -> str:
    """The map page; ``static_prefix=None`` inlines Leaflet (for a file on disk)."""
    data = json.dumps(_layers(snap, settings, day), separators=(",", ":"), default=str)
    data = data.replace("</", "<\\/")
    leaflet = STATIC_DIR / "leaflet"
    if static_prefix is None:
        css = f"<style>{(leaflet / 'leaflet.css').read_text()}</style>"
        js = f"<script>{(leaflet / 'leaflet.js').read_text()}</script>"
    else:
        css = f'<link rel="stylesheet" href="{static_prefix}/leaflet/leaflet.css">'
        js = f'<script src="{static_prefix}/leaflet/leaflet.js"></script>'
    script = (STATIC_DIR / "vrdp_map.js").read_text()
    page_css = (STATIC_DIR / "vrdp_map.css").read_text()
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vrdp hot spots {snap.version}</title>
{css}
<style>{page_css}</style>
</head><body><div id="meta">vrdp map</div><div id="map"></div>
<script type="application/json" id="vrdp-data">{data}</script>
{js}
<script>{script}</script>
</body></html>
"""


def write_map(version_dir: Path, out: Path | None = None, *, day: str | None = None) -> Path:
    """Write a self-contained ``map.html`` for an export version (Leaflet inlined)."""
    from datetime import date

    from config.settings import settings
    from exports.snapshot import MAP_FILE, load_snapshot

    snap = load_snapshot(Path(version_dir))
    out = out or Path(version_dir) / MAP_FILE
    html = render_map(snap, settings(), day=day or date.today().isoformat(), static_prefix=None)
    out.write_text(html)
    return out

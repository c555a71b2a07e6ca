"""The offline HTML map: hot spots with briefings, risk terrain, today's taskings, wards.

Leaflet 1.9.4 (BSD-2, ``static/leaflet/LICENSE``) is bundled: the API serves it
from ``/map/static/leaflet/``; :func:`write_map` inlines it so the exported
``map.html`` opens from disk on a closed network. No tiles, no CDN. Data is
embedded in the page as GeoJSON; each layer's SVG paths carry a class
(``vrdp-ward``, ``vrdp-risk``, ``vrdp-hotspot``, ``vrdp-tasking``).
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
WARDS = Path("boundaries") / "thames_valley" / "thames_valley_wards_2025.geojson"


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


def _wards(public_data: Path) -> dict:
    path = public_data / WARDS
    if not path.exists():
        return {"type": "FeatureCollection", "features": []}
    doc = json.loads(path.read_text())
    for f in doc["features"]:
        p = f["properties"]
        f["properties"] = {"name": p.get("WD25NM"), "authority": p.get("LAD25NM")}
    return doc


def _risk(snap, lake_dir: Path) -> tuple[dict, str]:
    from serving.api.reader import RISK_TERRAIN_FILE

    path = snap.file(RISK_TERRAIN_FILE)
    source = "export"
    if path is None:  # not exported yet: the latest risk terrain layers in the lake
        found = sorted((lake_dir / "risk_terrain").glob("*/cells.geojson"))
        path, source = (found[0], "lake") if found else (None, "none")
    if path is None:
        return {"type": "FeatureCollection", "features": []}, source
    doc = json.loads(path.read_text())
    doc.pop("crs", None)
    keep = ("rrs", "high_risk", "event_count")
    for f in doc["features"]:
        f["properties"] = {k: f["properties"].get(k) for k in keep}
    return doc, source


def _hex(cell: str) -> dict:
    ring = [[round(lng, 6), round(lat, 6)] for lat, lng in h3.cell_to_boundary(cell)]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _layers(snap, settings, day: str) -> dict:
    from serving.api.app import _allocation

    hotspots = []
    for h in snap.hotspots:
        b = snap.briefings.get(h.id, {})
        props = {
            "id": h.id,
            "rank": h.rank,
            "ward": h.ward_name,
            "harm_days": h.harm_days,
            "title": b.get("title") or f"Hot spot {h.id}",
            "summary": b.get("summary") or b.get("text") or "",
        }
        geom = h.geofence if isinstance(h.geofence, dict) and "type" in h.geofence else None
        hotspots.append(
            {"type": "Feature", "properties": props, "geometry": geom or _hex(h.h3_cell)}
        )
    taskings = [
        {
            "type": "Feature",
            "properties": {"id": h.id, "rank": h.rank, "team": h.team},
            "geometry": {"type": "Point", "coordinates": [h.longitude, h.latitude]},
        }
        for h in _allocation(snap, None, day)
    ]
    risk, risk_source = _risk(snap, settings.lake_dir)
    return {
        "meta": {
            "export_version": snap.version,
            "tasking_source": snap.tasking_source,
            "note": snap.note,
            "date": day,
            "risk_source": risk_source,
        },
        "wards": _wards(settings.public_data),
        "risk": risk,
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

    from serving.api.reader import MAP_FILE, load_snapshot
    from serving.api.settings import api_settings

    snap = load_snapshot(Path(version_dir))
    out = out or Path(version_dir) / MAP_FILE
    html = render_map(snap, api_settings(), day=day or date.today().isoformat(), static_prefix=None)
    out.write_text(html)
    return out

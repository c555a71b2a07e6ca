"""The one place that knows the export's file names; loads immutable snapshots.

The API never reads the warehouse. Each request resolves ``<exports>/latest``
once (a symlink swapped atomically by :func:`exports.format.publish_export`)
and uses the :class:`Snapshot` of that version for the whole request, so a
new export version is picked up by the next request and no request ever mixes
two versions. Versions are immutable, so loaded snapshots are cached by the
link's target.

Officers' endpoints serve the patrol tasking export
(``<exports>/patrol_tasking/latest``: ``tasking.parquet`` + ``briefings.json``)
when one is published. Otherwise every cell of the hot spot export
(``<exports>/latest``, ``top_harm_cells.parquet``) is treated as tasked, with a
briefing generated from its row; responses say so through
``Snapshot.tasking_source``.

Each snapshot precomputes what ``/v1/hotspots/nearby`` needs: per-cell
candidate lists (:class:`exports.geo.CandidateIndex`) and each hot spot's
JSON-ready fields, so a request does one H3 lookup and a few distances.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import h3

from exports import geo

__all__ = [
    "HOTSPOT_CELLS_FILE",
    "TASKING_FILE",
    "BRIEFINGS_FILE",
    "RISK_TERRAIN_FILE",
    "MAP_FILE",
    "TASKING_EXPORT_SUBDIR",
    "Hotspot",
    "Snapshot",
    "NoExportError",
    "SnapshotReader",
    "allocation",
    "serving_day",
]

HOTSPOT_CELLS_FILE = "top_harm_cells.parquet"
TASKING_FILE = "tasking.parquet"
BRIEFINGS_FILE = "briefings.json"
RISK_TERRAIN_FILE = "risk_terrain.geojson"
MAP_FILE = "map.html"
#: sub-folder of the exports holding the patrol tasking export's versions
TASKING_EXPORT_SUBDIR = "patrol_tasking"

FALLBACK_NOTE = (
    "tasking export absent: every hot spot of top_harm_cells is treated as tasked "
    "and briefings are generated from its row"
)


class NoExportError(RuntimeError):
    """No published export version (``latest`` missing or broken)."""


@dataclass(frozen=True)
class Hotspot:
    """One tasked hot spot as officers' endpoints return it (no personal data)."""

    id: str
    h3_cell: str
    latitude: float
    longitude: float
    rank: int | None
    team: str | None
    arm: str | None
    date: str | None
    ward_name: str | None
    harm_days: float | None
    main_crime_types: str | None
    patrol_windows: object
    target_dosage_minutes: float | None
    geofence: object
    place: str | None = None
    team_label: str | None = None
    base_station: str | None = None
    shift: str | None = None
    shift_hours: str | None = None
    waypoints: object = None

    def public(self) -> dict:
        """JSON-ready fields."""
        return {
            "id": self.id,
            "h3_cell": self.h3_cell,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "rank": self.rank,
            "team": self.team,
            "arm": self.arm,
            "date": self.date,
            "ward_name": self.ward_name,
            "harm_days": self.harm_days,
            "main_crime_types": self.main_crime_types,
            "patrol_windows": self.patrol_windows,
            "target_dosage_minutes": self.target_dosage_minutes,
            "geofence": self.geofence,
            "place": self.place,
            "team_label": self.team_label,
            "base_station": self.base_station,
            "shift": self.shift,
            "shift_hours": self.shift_hours,
            "waypoints": self.waypoints,
        }


def _clean(value):
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def _first(row: dict, *names: str):
    for n in names:
        if n in row and _clean(row[n]) is not None:
            return _clean(row[n])
    return None


def _json_maybe(value):
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _wkt_geojson(wkt):
    """GeoJSON geometry of a WKT string (the tasking export's geofences), else None."""
    if not isinstance(wkt, str) or not wkt:
        return None
    import shapely

    try:
        return shapely.geometry.mapping(shapely.from_wkt(wkt))
    except shapely.errors.ShapelyError:
        return None


@dataclass
class Snapshot:
    """One export version, loaded into memory and indexed by H3 cell."""

    version: str
    path: Path
    manifest: dict
    tasking_source: str  # "tasking" or "fallback:top_harm_cells"
    hotspots: list[Hotspot]
    briefings: dict[str, dict]
    resolution: int
    by_cell: dict[str, list[Hotspot]] = field(init=False)
    by_id: dict[str, Hotspot] = field(init=False)
    meta: dict = field(init=False)
    _indexes: dict = field(init=False, repr=False)
    _public: dict = field(init=False, repr=False)
    _tasked: list = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_cell, self.by_id = {}, {}
        for h in self.hotspots:
            self.by_cell.setdefault(h.h3_cell, []).append(h)
            self.by_id.setdefault(h.id, h)
        self.meta = {"export_version": self.version, "tasking_source": self.tasking_source}
        if self.note:
            self.meta["note"] = self.note
        if self.manifest.get("lawful_bases"):  # every officer answer carries them (issue 19)
            self.meta["lawful_bases"] = self.manifest["lawful_bases"]
        # nearby serves tasked hot spots only: control-arm cells are never sent
        self._tasked = [h for h in self.hotspots if h.arm is None or h.arm == "patrol"]
        self._public = {id(h): h.public() for h in self._tasked}
        self._indexes = {}

    def _index(self, radius_m: float) -> geo.CandidateIndex:
        bucket = next((b for b in geo.RADIUS_BUCKETS_M if b >= radius_m), None)
        # beyond the largest bucket: powers of two, so few indexes are ever built
        bucket = bucket or float(2 ** math.ceil(math.log2(radius_m)))
        index = self._indexes.get(bucket)
        if index is None:  # built once per bucket; a racing duplicate build is harmless
            points = [(h.latitude, h.longitude) for h in self._tasked]
            index = self._indexes[bucket] = geo.CandidateIndex(points, bucket)
        return index

    def nearby(self, lat: float, lon: float, radius_m: float, limit: int) -> list[dict]:
        """Tasked hot spots within ``radius_m`` of the point, nearest first (ties by id).

        Each item is the hot spot's public fields plus ``distance_m``,
        ``bearing_deg`` and ``compass``.
        """
        found = []
        for i, d in self._index(radius_m).within(lat, lon, radius_m):
            h = self._tasked[i]
            found.append((d, h.id, h))
        found.sort(key=lambda t: (t[0], t[1]))
        items = []
        for d, _, h in found[:limit]:
            b = geo.bearing_deg(lat, lon, h.latitude, h.longitude)
            item = dict(self._public[id(h)])
            item["distance_m"] = round(d, 1)
            item["bearing_deg"] = round(b, 1)
            item["compass"] = geo.compass(b)
            items.append(item)
        return items

    @property
    def note(self) -> str | None:
        """Caveat to show in responses when serving the fallback."""
        return None if self.tasking_source == "tasking" else FALLBACK_NOTE

    def file(self, name: str) -> Path | None:
        """Path of an export file if this version holds it."""
        p = self.path / name
        return p if p.is_file() else None


def _fallback(path: Path) -> tuple[list[Hotspot], dict[str, dict]]:
    import pandas as pd

    df = pd.read_parquet(path / HOTSPOT_CELLS_FILE)
    hotspots, briefings = [], {}
    for row in df.to_dict("records"):
        cell = str(row["h3_cell"])
        h = Hotspot(
            id=cell,
            h3_cell=cell,
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
            rank=_first(row, "rank"),
            team=None,
            arm=None,
            date=None,
            ward_name=_first(row, "ward_name"),
            harm_days=_first(row, "harm_days"),
            main_crime_types=_first(row, "main_crime_types"),
            patrol_windows=None,
            target_dosage_minutes=None,
            geofence=None,
        )
        hotspots.append(h)
        where = f"in {h.ward_name}" if h.ward_name else "in an unnamed ward"
        briefings[cell] = {
            "hotspot_id": cell,
            "generated": True,
            "title": f"Hot spot #{h.rank} {where}",
            "summary": (
                f"{_first(row, 'events')} recorded crimes carrying {h.harm_days} harm-days "
                f"between {_first(row, 'window_start')} and {_first(row, 'window_end')}; "
                f"main crime types: {h.main_crime_types}."
            ),
            "main_crime_types": h.main_crime_types,
            "ward_name": h.ward_name,
        }
    return hotspots, briefings


def _day(value) -> str | None:
    """A tasking day as ``YYYY-MM-DD`` text (the GeoParquet holds a typed date)."""
    return None if value is None else str(value)[:10]


def _tasking(path: Path) -> tuple[list[Hotspot], dict[str, dict]]:
    import pandas as pd

    df = pd.read_parquet(path / TASKING_FILE)
    hotspots = []
    for row in df.to_dict("records"):
        cell = str(row["h3_cell"])
        lat = _first(row, "latitude", "centre_latitude", "lat")
        lon = _first(row, "longitude", "centre_longitude", "lon")
        if lat is None or lon is None:
            lat, lon = h3.cell_to_latlng(cell)
        hotspots.append(
            Hotspot(
                id=str(_first(row, "hotspot_id", "id") or cell),
                h3_cell=cell,
                latitude=float(lat),
                longitude=float(lon),
                rank=_first(row, "rank"),
                team=_first(row, "team"),
                arm=_first(row, "arm"),
                date=_day(_first(row, "date", "tasking_date")),
                ward_name=_first(row, "ward_name", "ward"),
                harm_days=_first(row, "harm_days"),
                main_crime_types=_first(row, "main_crime_types"),
                patrol_windows=_json_maybe(_first(row, "patrol_windows")),
                place=_first(row, "place"),
                team_label=_first(row, "team_label"),
                base_station=_first(row, "base_station"),
                shift=_first(row, "shift"),
                shift_hours=_first(row, "shift_hours"),
                waypoints=_json_maybe(_first(row, "waypoints")),
                target_dosage_minutes=_first(
                    row, "target_dosage_minutes", "target_minutes", "target_dosage"
                ),
                geofence=_json_maybe(_first(row, "geofence", "geofence_geojson"))
                or _wkt_geojson(_first(row, "geofence_wkt")),
            )
        )
    briefings: dict[str, dict] = {}
    bpath = path / BRIEFINGS_FILE
    if bpath.is_file():
        raw = json.loads(bpath.read_text())
        if isinstance(raw, dict) and "briefings" in raw:
            raw = raw["briefings"]
        items = raw.items() if isinstance(raw, dict) else ((b.get("hotspot_id"), b) for b in raw)
        briefings = {str(k): v for k, v in items if k is not None}
    return hotspots, briefings


def load_snapshot(version_dir: Path) -> Snapshot:
    """Read one export version."""
    # A folder being staged for publication has no manifest yet (the map written
    # into each export reads the staged files).
    manifest_path = version_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    if (version_dir / TASKING_FILE).is_file():
        hotspots, briefings = _tasking(version_dir)
        source = "tasking"
    else:
        hotspots, briefings = _fallback(version_dir)
        source = "fallback:top_harm_cells"
    res = h3.get_resolution(hotspots[0].h3_cell) if hotspots else 9
    return Snapshot(
        version=manifest.get("version", version_dir.name),
        path=version_dir,
        manifest=manifest,
        tasking_source=source,
        hotspots=hotspots,
        briefings=briefings,
        resolution=res,
    )


class SnapshotReader:
    """Resolves ``latest`` on every call and caches loaded versions by link target.

    The tasking export (``<exports>/patrol_tasking/latest``) wins over the hot
    spot export (``<exports>/latest``) when both are published.
    """

    def __init__(self, exports_dir: Path, keep: int = 3) -> None:
        self.exports_dir = Path(exports_dir)
        tasking = self.exports_dir / TASKING_EXPORT_SUBDIR
        self._links = [
            (tasking, tasking / "latest"),
            (self.exports_dir, self.exports_dir / "latest"),
        ]
        self._cache: OrderedDict[tuple[str, str], Snapshot] = OrderedDict()
        self._lock = threading.Lock()
        self._keep = keep

    def _target(self) -> tuple[Path, str]:
        for folder, link in self._links:
            try:
                return folder, os.readlink(link)
            except OSError:
                continue
        raise NoExportError(f"no published export under {self.exports_dir}")

    def cached(self) -> Snapshot | None:
        """The current snapshot if already loaded (two ``readlink`` calls, no I/O else)."""
        folder, name = self._target()
        return self._cache.get((str(folder), name))

    def current(self) -> Snapshot:
        """The snapshot ``latest`` points to now (loaded on first use of a version)."""
        folder, name = self._target()
        key = (str(folder), name)
        with self._lock:
            snap = self._cache.get(key)
            if snap is not None:
                self._cache.move_to_end(key)
                return snap
        try:
            target = (folder / name).resolve(strict=True)
        except OSError as exc:
            raise NoExportError(f"export {folder / name} is missing") from exc
        snap = load_snapshot(target)  # immutable version: safe to load outside the lock
        with self._lock:
            self._cache[key] = snap
            while len(self._cache) > self._keep:
                self._cache.popitem(last=False)
        return snap


def allocation(snap: Snapshot, team: str | None, today: str) -> list:
    """Today's tasked hot spots for ``team`` (patrol arm only; controls are never sent)."""
    out = []
    for h in snap.hotspots:
        if h.arm is not None and h.arm != "patrol":
            continue
        if h.date is not None and str(h.date)[:10] != today:
            continue
        if team is not None and h.team is not None and h.team != team:
            continue
        out.append(h)
    return sorted(out, key=lambda h: (h.rank if h.rank is not None else 10**9, h.id))


def serving_day(snap: Snapshot, today: str) -> tuple[str, bool]:
    """The tasking day the officer endpoints serve for ``today``, and whether it is stale.

    Today's tasking when the export holds it; otherwise the latest tasking day of
    the export (stale when it is older than today). An export without dates (the
    fallback) serves ``today``, not stale.
    """
    days = sorted({str(h.date)[:10] for h in snap.hotspots if h.date is not None})
    if not days or today in days:
        return today, False
    past = [d for d in days if d <= today]
    day = past[-1] if past else days[0]
    return day, day < today

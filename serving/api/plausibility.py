"""How far a patrol post is trusted: who posts it, where and when it can have happened.

- **Who**: the officer of a GPS or activity post is the token's user; a body
  ``officer_id`` that names someone else is refused (403) and audited by the app.
- **Where**: a position more than ``AREA_MARGIN_M`` outside the force area box
  (the configured force's outline bounds plus 2 km, written by the
  ``geography/force_area`` asset to ``lake/geography/force_area.json``; before
  that asset has run, Great Britain's bounds) is refused: a ping at (0, 0) or in
  another county is a device fault, not a patrol.
- **When**: a time more than ``MAX_CLOCK_SKEW`` from the server's clock is refused
  (in either direction), so no landing folder is created for a day outside the
  tasking horizon (yesterday and today on the server's clock).
- **What**: activity types come from the ``patrol.activity`` contract's code list
  (what officers record: engagement, stop and search, arrest, intelligence
  submitted, incident attended, community contact, problem-solving, other), less
  the app's own lifecycle events; anything else is a clear 422.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from quality.contracts.agencies import agency_contracts
from vrdp.coords import AreaBox
from vrdp.geo import to_bng

__all__ = [
    "AREA_MARGIN_M",
    "MAX_CLOCK_SKEW",
    "APP_EVENTS",
    "activity_types",
    "outside_area",
    "off_clock",
]

#: How far outside the force area box a position may lie (metres).
AREA_MARGIN_M = 10_000.0
#: How far from the server's clock a ping or visit time may lie.
MAX_CLOCK_SKEW = timedelta(days=1)
#: Events the app writes itself around a visit; officers do not post them as activities.
APP_EVENTS = ("login", "logout", "shift_start", "shift_end", "hotspot_arrive", "hotspot_depart")


def activity_types() -> tuple[str, ...]:
    """Activity types an officer may record (the contract's codes less app events).

    >>> "arrest" in activity_types() and "hotspot_arrive" not in activity_types()
    True
    """
    (field,) = [f for f in agency_contracts()["patrol.activity"].fields if f.name == "event"]
    return tuple(c for c in field.codes if c not in APP_EVENTS)


def force_box(lake_dir=None) -> AreaBox | None:
    """The force's area box from the lake (``geography/force_area.json``), or None."""
    import json
    from pathlib import Path

    if lake_dir is None:
        from config.settings import settings

        lake_dir = settings().lake_dir
    path = Path(lake_dir) / "geography" / "force_area.json"
    if not path.exists():
        return None
    return AreaBox(**json.loads(path.read_text())["box_bng"])


def _great_britain() -> AreaBox:
    from quality.contracts.police_uk import UK_BOUNDS_WGS84 as b

    e, n = to_bng([b["lon_min"], b["lon_max"]], [b["lat_min"], b["lat_max"]])
    return AreaBox(float(min(e)), float(max(e)), float(min(n)), float(max(n)))


def outside_area(
    lat, lon, margin_m: float = AREA_MARGIN_M, box: AreaBox | None = None
) -> np.ndarray:
    """True where a WGS84 position lies more than ``margin_m`` outside the force area.

    ``box`` defaults to the configured force's (:func:`force_box`), else Great
    Britain's bounds.

    >>> tv = AreaBox(e_min=420000, e_max=500000, n_min=150000, n_max=260000)
    >>> # Oxford, (0, 0), Manchester
    >>> outside_area([51.752, 0.0, 53.48], [-1.2577, 0.0, -2.24], box=tv).tolist()
    [False, True, True]
    """
    lat = np.asarray(lat, float)
    lon = np.asarray(lon, float)
    e, n = to_bng(lon, lat)
    b = box or force_box() or _great_britain()
    inside = (
        np.isfinite(e)
        & np.isfinite(n)
        & (e >= b.e_min - margin_m)
        & (e <= b.e_max + margin_m)
        & (n >= b.n_min - margin_m)
        & (n <= b.n_max + margin_m)
    )
    return ~inside


def off_clock(ts: datetime, now: datetime, skew: timedelta = MAX_CLOCK_SKEW) -> bool:
    """True when ``ts`` lies more than ``skew`` before or after ``now`` (both naive local).

    >>> now = datetime(2026, 12, 3, 12, 0)
    >>> off_clock(datetime(1990, 1, 1), now), off_clock(datetime(2026, 12, 2, 13, 0), now)
    (True, False)
    """
    return abs(ts - now) > skew

"""Normalise point coordinates from agency extracts: BNG or WGS84, swapped or not.

Agencies send British National Grid easting/northing (metres, EPSG:27700) or
WGS84 longitude/latitude, and extracts sometimes swap the two columns. This
module decides per row which system a pair is in, fixes swaps it can prove,
and returns both systems so that distances are computed in metres and outputs
are served in WGS84.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from pyproj import Transformer

from quality.contracts.police_uk import UK_BOUNDS_WGS84

__all__ = ["BNG_BOUNDS", "AreaBox", "normalise_coordinates"]

#: The extent of the British National Grid (metres).
BNG_BOUNDS = {"e_min": 0.0, "e_max": 700_000.0, "n_min": 0.0, "n_max": 1_300_000.0}


@dataclass(frozen=True)
class AreaBox:
    """A force area's bounding box in BNG metres (with a margin), to flag strays."""

    e_min: float
    e_max: float
    n_min: float
    n_max: float

    def contains(self, e: np.ndarray, n: np.ndarray) -> np.ndarray:
        """True where (e, n) lies inside the box."""
        return (e >= self.e_min) & (e <= self.e_max) & (n >= self.n_min) & (n <= self.n_max)


@lru_cache(maxsize=1)
def _transformers() -> tuple[Transformer, Transformer]:
    # Building a pyproj Transformer costs tens of milliseconds: build them once.
    return (
        Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True),
        Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True),
    )


def _in_uk_wgs84(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    b = UK_BOUNDS_WGS84
    return (
        (lon >= b["lon_min"])
        & (lon <= b["lon_max"])
        & (lat >= b["lat_min"])
        & (lat <= b["lat_max"])
    )


def _in_bng(e: np.ndarray, n: np.ndarray) -> np.ndarray:
    b = BNG_BOUNDS
    return (e > b["e_min"]) & (e <= b["e_max"]) & (n > b["n_min"]) & (n <= b["n_max"])


def normalise_coordinates(
    x: pd.Series | np.ndarray,
    y: pd.Series | np.ndarray,
    *,
    system: str = "auto",
    area: AreaBox | None = None,
) -> pd.DataFrame:
    """Work out each point's system, fix provable swaps, and return both systems.

    Parameters
    ----------
    x, y
        The pair as delivered: (easting, northing) or (longitude, latitude).
    system
        ``"bng"``, ``"wgs84"`` or ``"auto"`` (decide per row from the ranges:
        WGS84 values are small degrees, BNG values are metres in the thousands).
    area
        The force's box (:func:`vrdp.force_area.outline_box` of its outline); a
        pair is called swapped only when the swap lands it inside the box and
        the pair as given does not. ``None`` (the default) disables this, and
        ``in_area`` is then true for every usable point.

    Returns
    -------
    pandas.DataFrame
        ``longitude``, ``latitude``, ``easting_m``, ``northing_m`` (NaN when no
        usable point), ``coordinate_system`` (``bng``/``wgs84``/None),
        ``coordinate_fault`` (None, ``missing``, ``unparseable``, ``outside_uk``,
        ``swapped_fixed``) and ``in_area`` (inside ``area``; False when unknown).

    Examples
    --------
    >>> from config.demo import DEMO_WORLD_BOX_BNG
    >>> box = AreaBox(**DEMO_WORLD_BOX_BNG)
    >>> out = normalise_coordinates([451_300, 51.752, 206_200], [206_200, -1.2577, 451_300],
    ...                             area=box)
    >>> out["coordinate_system"].tolist(), out["coordinate_fault"].fillna("-").tolist()
    (['bng', 'wgs84', 'bng'], ['-', 'swapped_fixed', 'swapped_fixed'])
    >>> out["easting_m"].round(-2).tolist()
    [451300.0, 451300.0, 451300.0]
    """
    xv = pd.to_numeric(pd.Series(np.asarray(x, dtype=object)), errors="coerce").to_numpy(float)
    yv = pd.to_numeric(pd.Series(np.asarray(y, dtype=object)), errors="coerce").to_numpy(float)
    raw_x = pd.Series(np.asarray(x, dtype=object)).astype("string").str.strip()
    raw_y = pd.Series(np.asarray(y, dtype=object)).astype("string").str.strip()
    missing = (raw_x.isna() | (raw_x == "")).to_numpy() & (raw_y.isna() | (raw_y == "")).to_numpy()
    finite = np.isfinite(xv) & np.isfinite(yv)

    looks_wgs = (np.abs(xv) <= 90) & (np.abs(yv) <= 90)
    is_wgs = np.full(len(xv), system == "wgs84") if system != "auto" else looks_wgs
    is_bng = (~is_wgs) if system != "wgs84" else np.zeros(len(xv), bool)

    e = np.full(len(xv), np.nan)
    n = np.full(len(xv), np.nan)
    lon = np.full(len(xv), np.nan)
    lat = np.full(len(xv), np.nan)
    fault = np.full(len(xv), None, dtype=object)
    to_bng, to_wgs = _transformers()

    # WGS84: (lon, lat) as given, or swapped when (lat, lon) is what lies in the UK.
    w = is_wgs & finite
    direct = w & _in_uk_wgs84(xv, yv)
    swapped = w & ~direct & _in_uk_wgs84(yv, xv)
    lon[direct], lat[direct] = xv[direct], yv[direct]
    lon[swapped], lat[swapped] = yv[swapped], xv[swapped]
    fault[swapped] = "swapped_fixed"
    fault[w & ~direct & ~swapped] = "outside_uk"
    ok_w = direct | swapped
    if ok_w.any():
        e[ok_w], n[ok_w] = to_bng.transform(lon[ok_w], lat[ok_w])

    # BNG: a swap is only provable against the force area box.
    b = is_bng & finite
    b_direct = b & _in_bng(xv, yv)
    b_swapped = np.zeros(len(xv), bool)
    if area is not None:
        inside_as_given = area.contains(xv, yv)
        inside_swapped = area.contains(yv, xv)
        b_swapped = b & ~inside_as_given & inside_swapped
        b_direct &= ~b_swapped
    e[b_direct], n[b_direct] = xv[b_direct], yv[b_direct]
    e[b_swapped], n[b_swapped] = yv[b_swapped], xv[b_swapped]
    fault[b_swapped] = "swapped_fixed"
    fault[b & ~b_direct & ~b_swapped] = "outside_uk"
    ok_b = b_direct | b_swapped
    if ok_b.any():
        lon[ok_b], lat[ok_b] = to_wgs.transform(e[ok_b], n[ok_b])

    fault[~finite] = "unparseable"
    fault[missing] = "missing"
    system_out = np.where(ok_w, "wgs84", np.where(ok_b, "bng", None)).astype(object)
    in_area = area.contains(e, n) & np.isfinite(e) if area is not None else np.isfinite(e)
    return pd.DataFrame(
        {
            "longitude": lon,
            "latitude": lat,
            "easting_m": e,
            "northing_m": n,
            "coordinate_system": pd.array(system_out, dtype="string"),
            "coordinate_fault": pd.array(fault, dtype="string"),
            "in_area": in_area,
        }
    )

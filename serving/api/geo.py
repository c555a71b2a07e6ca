"""Distances, bearings and the H3 ring lookup behind ``/v1/hotspots/nearby``."""

from __future__ import annotations

import math

import h3

__all__ = ["haversine_m", "bearing_deg", "compass", "ring_cells"]

EARTH_RADIUS_M = 6_371_008.8
_POINTS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres.

    >>> round(haversine_m(51.75, -1.25, 51.76, -1.25))
    1112
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial bearing from point 1 to point 2, degrees clockwise from true north.

    >>> round(bearing_deg(51.75, -1.25, 51.76, -1.25))
    0
    >>> round(bearing_deg(51.75, -1.25, 51.75, -1.26))
    270
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return (math.degrees(math.atan2(x, y)) + 360) % 360


def compass(bearing: float) -> str:
    """Eight-point compass name of a bearing.

    >>> compass(10), compass(100), compass(350)
    ('N', 'E', 'N')
    """
    return _POINTS[int((bearing + 22.5) // 45) % 8]


def ring_cells(lat: float, lon: float, radius_m: float, resolution: int) -> set[str]:
    """Cells whose centres may lie within ``radius_m`` of the point (a superset).

    Adjacent cell centres are about ``sqrt(3) * edge`` apart; the ring size adds
    one cell for the point's offset from its own cell centre and a 20 % margin
    for H3's size distortion.
    """
    edge = h3.average_hexagon_edge_length(resolution, unit="m")
    k = math.ceil((radius_m + edge) / (math.sqrt(3) * edge * 0.8)) + 1
    return set(h3.grid_disk(h3.latlng_to_cell(lat, lon, resolution), k))

"""Distances, bearings and the H3 ring lookup behind ``/v1/hotspots/nearby``."""

from __future__ import annotations

import math

import h3

__all__ = [
    "haversine_m",
    "bearing_deg",
    "compass",
    "ring_cells",
    "CandidateIndex",
    "RADIUS_BUCKETS_M",
]

#: radius buckets for which :class:`CandidateIndex` instances are built (a query
#: uses the smallest bucket at least as large as its radius)
RADIUS_BUCKETS_M = (100.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0)

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


def ring_k(radius_m: float, resolution: int) -> int:
    """Grid distance covering every cell within ``radius_m`` of a cell's points.

    Adjacent cell centres are about ``sqrt(3) * edge`` apart; the ring size adds
    one cell for the point's offset from its own cell centre and a 20 % margin
    for H3's size distortion.

    >>> ring_k(1000, 9)
    6
    """
    edge = h3.average_hexagon_edge_length(resolution, unit="m")
    return math.ceil((radius_m + edge) / (math.sqrt(3) * edge * 0.8)) + 1


def ring_cells(lat: float, lon: float, radius_m: float, resolution: int) -> set[str]:
    """Cells whose centres may lie within ``radius_m`` of the point (a superset)."""
    k = ring_k(radius_m, resolution)
    return set(h3.grid_disk(h3.latlng_to_cell(lat, lon, resolution), k))


def index_resolution(radius_m: float) -> int:
    """The H3 resolution whose average edge is closest to ``radius_m / 4`` (0..15).

    Finer cells make tighter candidate lists but more of them per point; a
    quarter of the radius keeps both small (about 90 cells per point, and
    candidates within roughly 2.5 radii of the query).

    >>> index_resolution(1000), index_resolution(5000), index_resolution(100)
    (9, 7, 11)
    """
    target = math.log(radius_m / 4)
    return min(
        range(16),
        key=lambda r: abs(math.log(h3.average_hexagon_edge_length(r, unit="m")) - target),
    )


class CandidateIndex:
    """Per-cell candidate lists for "points within a radius" queries.

    Every point is registered in each cell of the ring around its own cell
    that :func:`ring_k` says may hold a query point within ``radius_m`` of it,
    so a query reads one list (one ``latlng_to_cell`` call, no ring expansion)
    and computes exact distances for the few candidates in it. Valid for any
    radius up to ``radius_m``.

    Parameters
    ----------
    points
        ``(lat, lon)`` pairs; results refer to them by position.
    radius_m
        Largest query radius the index answers.

    Examples
    --------
    >>> idx = CandidateIndex([(51.752, -1.2577), (51.80, -1.2577)], 1000)
    >>> [(i, round(d)) for i, d in idx.within(51.755, -1.2577, 1000)]
    [(0, 334)]
    """

    def __init__(self, points: list[tuple[float, float]], radius_m: float) -> None:
        self.radius_m = float(radius_m)
        self.resolution = index_resolution(self.radius_m)
        k = ring_k(self.radius_m, self.resolution)
        self.points = [
            (math.radians(lat), math.radians(lon), math.cos(math.radians(lat)))
            for lat, lon in points
        ]
        cells: dict[str, list[int]] = {}
        for i, (lat, lon) in enumerate(points):
            for c in h3.grid_disk(h3.latlng_to_cell(lat, lon, self.resolution), k):
                cells.setdefault(c, []).append(i)
        self.cells = {c: tuple(v) for c, v in cells.items()}

    def candidates(self, lat: float, lon: float) -> tuple[int, ...]:
        """Positions of the points that may lie within ``radius_m`` (a superset)."""
        return self.cells.get(h3.latlng_to_cell(lat, lon, self.resolution), ())

    def within(self, lat: float, lon: float, radius_m: float) -> list[tuple[int, float]]:
        """``(position, distance_m)`` of the points within ``radius_m`` (unordered)."""
        if radius_m > self.radius_m:
            raise ValueError(f"radius {radius_m} m exceeds the index's {self.radius_m} m")
        p1, l1 = math.radians(lat), math.radians(lon)
        c1 = math.cos(p1)
        sin, asin, sqrt = math.sin, math.asin, math.sqrt
        out = []
        for i in self.candidates(lat, lon):
            p2, l2, c2 = self.points[i]
            a = sin((p2 - p1) / 2) ** 2 + c1 * c2 * sin((l2 - l1) / 2) ** 2
            d = 2 * EARTH_RADIUS_M * asin(sqrt(a))
            if d <= radius_m:
                out.append((i, d))
        return out

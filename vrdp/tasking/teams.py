"""Teams and shifts of a tasking, from the force's delivered teams reference.

A teams reference row is a neighbourhood team: ``team_id``, ``team_name``, the
``wards`` it covers (ward codes, ``;``-separated), its ``base_station`` (with
``base_easting``/``base_northing``, BNG metres) and its ``shift_pattern``
(``"<name> HH:MM-HH:MM"`` shifts separated by ``"; "``).
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

__all__ = ["parse_shift_pattern", "assign_teams", "shift_for_windows"]

_SHIFT = re.compile(r"([a-z]+) (\d\d):(\d\d)-(\d\d):(\d\d)")


def parse_shift_pattern(pattern: str) -> list[tuple[str, float, float]]:
    """Shifts of a pattern as ``(name, start_hour, hours)``.

    >>> parse_shift_pattern("late 15:00-23:00; night 23:00-07:00")
    [('late', 15.0, 8.0), ('night', 23.0, 8.0)]
    """
    out = []
    for part in str(pattern).split(";"):
        m = _SHIFT.fullmatch(part.strip())
        if not m:
            raise ValueError(f"not a shift '<name> HH:MM-HH:MM': {part.strip()!r}")
        start = int(m[2]) + int(m[3]) / 60
        end = int(m[4]) + int(m[5]) / 60
        out.append((m[1], start, (end - start) % 24 or 24.0))
    return out


def assign_teams(
    easting_m,
    northing_m,
    teams: pd.DataFrame,
    wards: gpd.GeoDataFrame | None,
    *,
    ward_code_col: str = "WD25CD",
) -> pd.DataFrame:
    """The team of each point: the team covering its ward, else the nearest base.

    Parameters
    ----------
    easting_m, northing_m
        Points in BNG metres (e.g. hot spot centres).
    teams
        The teams reference (``team_id``, ``team_name``, ``wards``, ``base_station``,
        ``base_easting``, ``base_northing``, ``shift_pattern``).
    wards
        Ward polygons with ``ward_code_col`` (any CRS), or None.

    Returns
    -------
    pandas.DataFrame
        ``team``, ``team_label``, ``base_station``, ``shift_pattern`` and
        ``team_basis`` (``"ward <code>"`` or ``"nearest base station"`` when the
        point's ward is covered by no team or unknown), one row per point.

    Examples
    --------
    >>> t = pd.DataFrame({"team_id": ["A", "B"], "team_name": ["North", "South"],
    ...     "wards": ["E05000001", "E05000002"], "base_station": ["N", "S"],
    ...     "base_easting": [0.0, 0.0], "base_northing": [1000.0, 0.0],
    ...     "shift_pattern": ["late 15:00-23:00"] * 2})
    >>> assign_teams([10.0], [900.0], t, None)[["team", "team_basis"]].values.tolist()
    [['A', 'nearest base station']]
    """
    x = np.asarray(easting_m, float)
    y = np.asarray(northing_m, float)
    t = teams.reset_index(drop=True)
    if not len(t):
        raise ValueError("the teams reference has no team")
    ward_of = pd.Series([None] * len(x), dtype=object)
    if wards is not None and len(wards) and len(x):
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs="EPSG:27700")
        hit = gpd.sjoin(pts, wards[[ward_code_col, "geometry"]].to_crs("EPSG:27700"), how="left")
        hit = hit[~hit.index.duplicated(keep="first")]
        ward_of = hit[ward_code_col].reset_index(drop=True)
    cover = {}
    for i, ws in enumerate(t["wards"].fillna("").astype(str)):
        for w in ws.split(";"):
            cover.setdefault(w.strip(), i)
    _, nearest = cKDTree(t[["base_easting", "base_northing"]].to_numpy(float)).query(np.c_[x, y])
    idx, basis = [], []
    for k, w in enumerate(ward_of):
        if w is not None and not pd.isna(w) and w in cover:
            idx.append(cover[w])
            basis.append(f"ward {w}")
        else:
            idx.append(int(nearest[k]))
            basis.append("nearest base station")
    pick = t.iloc[idx].reset_index(drop=True)
    return pd.DataFrame(
        {
            "team": pick["team_id"].astype(str),
            "team_label": pick["team_name"].astype(str),
            "base_station": pick["base_station"].astype(str),
            "shift_pattern": pick["shift_pattern"].astype(str),
            "team_basis": basis,
        }
    )


def shift_for_windows(pattern: str, windows: pd.DataFrame | None) -> tuple[str, str, str]:
    """The shift of ``pattern`` that covers most of a hot spot's patrol windows.

    Parameters
    ----------
    pattern
        A team's shift pattern.
    windows
        The hot spot's rows of :func:`vrdp.hotspots.temporal.patrol_windows`
        (``start_hour_of_week``, ``window_hours``); None or empty when it has none.

    Returns
    -------
    (shift, hours, basis)
        E.g. ``("late", "15:00-23:00", "covers 3 of 3 window hours")``; the
        pattern's first shift when there is no window to cover.

    Examples
    --------
    >>> w = pd.DataFrame({"start_hour_of_week": [24 * 4 + 23], "window_hours": [3]})
    >>> shift_for_windows("late 15:00-23:00; evening 17:00-01:00", w)
    ('evening', '17:00-01:00', 'covers 2 of 3 window hours')
    """
    shifts = parse_shift_pattern(pattern)

    def hhmm(h: float) -> str:
        return f"{int(h):02d}:{round(h % 1 * 60):02d}"

    def label(s):
        _, start, hours = s
        return f"{hhmm(start)}-{hhmm((start + hours) % 24)}"

    w = None if windows is None else windows.dropna(subset=["start_hour_of_week"])
    if w is None or not len(w):
        return shifts[0][0], label(shifts[0]), "no patrol window: the team's first shift"
    hours = np.concatenate(
        [
            (int(s) + np.arange(int(n))) % 24
            for s, n in zip(w["start_hour_of_week"], w["window_hours"], strict=True)
        ]
    )
    cover = []
    for _name, start, n in shifts:
        on = (hours - int(start)) % 24 < n
        cover.append(int(on.sum()))
    best = int(np.argmax(cover))  # first maximum: the pattern's order breaks ties
    return (
        shifts[best][0],
        label(shifts[best]),
        f"covers {cover[best]} of {len(hours)} window hours",
    )

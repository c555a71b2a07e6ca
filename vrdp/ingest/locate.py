"""Locate an agency delivery's loaded rows: BNG, WGS84, H3 cell, LSOA and ward.

Every agency lake table with coordinates carries the same location columns as
the police.uk street crimes table (:data:`vrdp.geo.LOCATION_COLUMNS`), null
where a row has no usable point. How a dataset gets its point differs:

``"contract"``
    The contract's coordinate pair, already normalised by
    :func:`vrdp.coords.normalise_coordinates` (occurrences, CAD, POIs).
``"first_location"``
    The first entry of a JSON ``locations`` array with ``easting``/``northing``
    (intelligence logs); the pair is normalised here, faults are flagged on the
    row (``coordinate_fault``), never quarantined (the log itself is valid).
``"gazetteer"``
    Free location text matched against a gazetteer of places (ISTV A&E
    attendances); see :mod:`vrdp.ingest.gazetteer`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from vrdp.coords import AreaBox, normalise_coordinates
from vrdp.geo import AreaLayers, locate_optional_points

__all__ = [
    "LOCATE_MODES",
    "GEOCODE_COLUMNS",
    "first_location_points",
    "locate_delivery",
    "read_area_layers",
]

LOCATE_MODES = ("contract", "first_location", "gazetteer")

#: Columns a gazetteer-located table adds besides the location columns.
GEOCODE_COLUMNS = ("geocode_kind", "geocode_match", "geocode_score", "is_located")


def read_area_layers(lsoa21: Path, lsoa11: Path, wards: Path) -> AreaLayers:
    """Read the three boundary layers (GeoParquet or any format geopandas reads).

    Parameters
    ----------
    lsoa21, lsoa11, wards
        Files with ``LSOA21CD``, ``LSOA11CD`` and ``WD25CD`` code columns.
    """
    import geopandas as gpd

    def read(path: Path) -> gpd.GeoDataFrame:
        path = Path(path)
        return gpd.read_parquet(path) if path.suffix == ".parquet" else gpd.read_file(path)

    return AreaLayers(read(lsoa21), read(lsoa11), read(wards))


def first_location_points(locations: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Easting and northing of the first entry of each JSON ``locations`` array.

    Returns raw values as objects (``None`` when absent or unparseable), for
    :func:`vrdp.coords.normalise_coordinates` to judge.

    >>> e, n = first_location_points(pd.Series(
    ...     ['[{"easting": 451300, "northing": 206200, "text": "x"}]',
    ...      '[{"easting": null, "northing": null}]', "[]", None, "not json"]))
    >>> e.tolist(), n.tolist()
    ([451300, None, None, None, None], [206200, None, None, None, None])
    """
    east = np.full(len(locations), None, dtype=object)
    north = np.full(len(locations), None, dtype=object)
    for i, text in enumerate(locations.tolist()):
        if not isinstance(text, str) or not text.startswith("["):
            continue
        try:
            items = json.loads(text)
        except ValueError:
            continue
        if items and isinstance(items[0], dict):
            east[i] = items[0].get("easting")
            north[i] = items[0].get("northing")
    return east, north


def _empty_geocode(df: pd.DataFrame) -> pd.DataFrame:
    n = len(df)
    out = df.copy()
    out["longitude"] = np.full(n, np.nan)
    out["latitude"] = np.full(n, np.nan)
    out["geocode_kind"] = pd.array([None] * n, dtype="string")
    out["geocode_match"] = pd.array([None] * n, dtype="string")
    out["geocode_score"] = np.full(n, np.nan)
    return out


def locate_delivery(
    loaded: pd.DataFrame,
    mode: str,
    *,
    layers: AreaLayers,
    h3_resolution: int,
    area: AreaBox | None = None,
    gazetteer=None,
) -> pd.DataFrame:
    """Add the location columns to a delivery's loaded rows.

    Parameters
    ----------
    loaded
        Rows from :func:`vrdp.ingest.deliveries.load_delivery`.
    mode
        One of :data:`LOCATE_MODES` (see the module docstring).
    layers
        Boundary layers, read once per run (:func:`read_area_layers`).
    h3_resolution
        H3 resolution of ``h3_cell``.
    area
        Force area box, for flagging and swap detection in ``"first_location"``.
    gazetteer
        A :class:`vrdp.ingest.gazetteer.Gazetteer` for ``"gazetteer"``; without
        one every row is kept unlocated.

    Returns
    -------
    pandas.DataFrame
        ``loaded`` with :data:`vrdp.geo.LOCATION_COLUMNS` (and, for
        ``"gazetteer"``, :data:`GEOCODE_COLUMNS`); row count unchanged.
    """
    if mode not in LOCATE_MODES:
        raise ValueError(f"unknown locate mode {mode!r}; expected one of {LOCATE_MODES}")
    df = loaded
    if mode == "first_location":
        east, north = first_location_points(df["locations"])
        coords = normalise_coordinates(east, north, system="bng", area=area)
        coords.index = df.index
        df = pd.concat([df.drop(columns=list(coords.columns), errors="ignore"), coords], axis=1)
    elif mode == "gazetteer":
        df = _empty_geocode(df) if gazetteer is None else gazetteer.geocode_frame(df)
    out = locate_optional_points(df, h3_resolution=h3_resolution, layers=layers)
    if mode == "gazetteer":
        out["is_located"] = out["h3_cell"].notna().to_numpy(bool)
    return out

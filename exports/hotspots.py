"""Writers for the hot spot tasking export: GeoParquet, CSV and GeoJSON (WGS84 cell polygons)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from exports.format import ExportFile
from vrdp.geo import h3_cell_polygons

__all__ = [
    "EXPORT_COLUMNS",
    "HARM_DAYS_DEFINITION",
    "DICTIONARY",
    "hotspot_export_files",
    "hotspot_export_findings",
]

#: Columns officers' apps and BI tools read, in order. No personal data.
EXPORT_COLUMNS = [
    "rank",
    "h3_cell",
    "h3_resolution",
    "harm_days",
    "events",
    "share_of_harm",
    "cumulative_share_of_harm",
    "main_crime_types",
    "ward_code",
    "ward_name",
    "lsoa21_code",
    "latitude",
    "longitude",
    "area_km2",
    "window_start",
    "window_end",
    "exclude_police_generated",
]


#: the one definition of the export's harm, also stated in the tasking export
HARM_DAYS_DEFINITION = (
    "Cambridge Crime Harm Index days (dbt seed cchi_harm_weights, per police.uk crime "
    "type) summed over the data.police.uk crimes in the cell in the whole calendar "
    "months window_start..window_end (VRDP_HOTSPOT_WINDOW_MONTHS, default 3). The hot "
    "spot list (hotspots/hotspot_list) ranks on a rolling window of days instead "
    "(e.g. 91 days to the end of the last month), where a police.uk crime, known only "
    "by its month, counts by the share of its month inside the window: so a cell's "
    "harm there is smaller when the window starts inside a month (Oct 2 - Dec 31 "
    "counts 30/31 of October)."
)

#: data dictionary of every file of the export (column -> description)
DICTIONARY = {
    "rank": "1 = the cell with the most harm in the window",
    "h3_cell": "H3 cell id (hexagon, about 0.1 km2 at resolution 9)",
    "h3_resolution": "H3 resolution of h3_cell",
    "harm_days": HARM_DAYS_DEFINITION,
    "events": "police.uk crimes in the cell in the window (police-generated offences "
    "excluded when exclude_police_generated)",
    "share_of_harm": "the cell's harm_days as a share of all cells' harm in the window (0-1)",
    "cumulative_share_of_harm": "share of the window's harm in this cell and all cells "
    "ranked above it (0-1)",
    "main_crime_types": "the crime types carrying most of the cell's harm, '; '-separated",
    "ward_code": "ONS ward code (2024) of the cell centre",
    "ward_name": "ONS ward name of the cell centre",
    "lsoa21_code": "ONS LSOA 2021 code of the cell centre",
    "latitude": "cell centre latitude, WGS84 degrees",
    "longitude": "cell centre longitude, WGS84 degrees",
    "area_km2": "cell area in square kilometres",
    "window_start": "first month of the window (date, first day of the month)",
    "window_end": "last month of the window (date, first day of the month)",
    "exclude_police_generated": "true: drugs, possession of weapons and stop and search "
    "left out (they measure where police already patrol)",
    "geometry": "the cell polygon, WGS84 (GeoParquet WKB; GeoJSON geometry)",
}


def _geojson(df: pd.DataFrame, path: Path) -> None:
    polygons = h3_cell_polygons(df["h3_cell"])
    features = []
    for row, poly in zip(df.to_dict("records"), polygons, strict=True):
        props = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
        props = {k: (None if isinstance(v, float) and v != v else v) for k, v in props.items()}
        coords = [[[round(x, 7), round(y, 7)] for x, y in poly.exterior.coords]]
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "Polygon", "coordinates": coords},
            }
        )
    doc = {"type": "FeatureCollection", "name": "top_harm_cells", "features": features}
    path.write_text(json.dumps(doc, separators=(",", ":"), default=str) + "\n")


def hotspot_export_files(ranked: pd.DataFrame) -> list[ExportFile]:
    """The three files of the tasking export, built from ``hotspots/top_harm_cells``."""
    df = ranked[EXPORT_COLUMNS].copy()
    df = df.astype({"ward_code": "object", "ward_name": "object", "lsoa21_code": "object"})
    df = df.where(df.notna(), None)

    def parquet(path: Path) -> None:
        from exports.format import write_geoparquet

        typed = ranked[EXPORT_COLUMNS].copy()
        for c in ("window_start", "window_end"):  # dates, not text
            typed[c] = pd.to_datetime(typed[c]).dt.date
        write_geoparquet(typed, path, h3_cell_polygons(typed["h3_cell"]))

    return [
        ExportFile("top_harm_cells.parquet", len(df), parquet, DICTIONARY),
        ExportFile(
            "top_harm_cells.csv",
            len(df),
            lambda p: df.to_csv(p, index=False, float_format="%.6f", lineterminator="\n"),
            DICTIONARY,
        ),
        ExportFile("top_harm_cells.geojson", len(df), lambda p: _geojson(df, p), DICTIONARY),
    ]


#: place names, not people: exempt from the personal-column-name rule
PLACE_NAME_COLUMNS = ("ward_name",)


def hotspot_export_findings(version_dir) -> list[str]:
    """Blocking personal-data check of a staged hot spot export (officer-facing).

    Every file (Parquet, CSV, GeoJSON properties) goes through the platform's
    scan of column names and values; ``ward_name`` is a place name and exempt
    from the column-name rule (its values are still scanned).
    """
    from exports.pii import personal_data_findings

    d = Path(version_dir)
    found = personal_data_findings(
        pd.read_parquet(d / "top_harm_cells.parquet"),
        table="top_harm_cells.parquet",
        allowed_columns=PLACE_NAME_COLUMNS,
    )
    found += personal_data_findings(
        pd.read_csv(d / "top_harm_cells.csv", dtype=str),
        table="top_harm_cells.csv",
        allowed_columns=PLACE_NAME_COLUMNS,
    )
    doc = json.loads((d / "top_harm_cells.geojson").read_text())
    props = pd.DataFrame([f["properties"] for f in doc["features"]])
    found += personal_data_findings(
        props, table="top_harm_cells.geojson", allowed_columns=PLACE_NAME_COLUMNS
    )
    return found

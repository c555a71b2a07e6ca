"""Writers for the hot spot tasking export: Parquet, CSV and GeoJSON (WGS84 cell polygons)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from exports.format import ExportFile
from vrdp.geo import h3_cell_polygons

__all__ = ["EXPORT_COLUMNS", "hotspot_export_files", "hotspot_export_findings"]

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
        from vrdp.lake import write_parquet_atomic

        write_parquet_atomic(ranked[EXPORT_COLUMNS], path)

    return [
        ExportFile("top_harm_cells.parquet", len(df), parquet),
        ExportFile(
            "top_harm_cells.csv",
            len(df),
            lambda p: df.to_csv(p, index=False, float_format="%.6f", lineterminator="\n"),
        ),
        ExportFile("top_harm_cells.geojson", len(df), lambda p: _geojson(df, p)),
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

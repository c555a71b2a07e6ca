"""Exports as BI and GIS tools read them: GeoParquet in WGS84, typed dates, one
permission policy, a data dictionary per file, the harm definition stated."""

import json
import os
import stat

import geopandas as gpd
import h3
import pandas as pd
import pyarrow.parquet as pq
import shapely

from exports.format import ExportFile, publish_export, read_manifest


def ranked():
    from exports.hotspots import EXPORT_COLUMNS

    cells = [h3.latlng_to_cell(51.75 + i / 100, -1.25, 9) for i in range(3)]
    df = pd.DataFrame({c: [None] * 3 for c in EXPORT_COLUMNS})
    df["rank"] = [1, 2, 3]
    df["h3_cell"] = cells
    df["h3_resolution"] = 9
    df["harm_days"] = [30.0, 20.0, 10.0]
    df["events"] = [3.0, 2.0, 1.0]
    df["main_crime_types"] = "Violence and sexual offences"
    df["ward_code"] = "E05000000"
    df["ward_name"] = ["Carfax & Jericho", "Holywell", "St Mary's"]
    df["lsoa21_code"] = "E01028522"
    df["latitude"] = [h3.cell_to_latlng(c)[0] for c in cells]
    df["longitude"] = [h3.cell_to_latlng(c)[1] for c in cells]
    df["window_start"] = pd.Timestamp("2025-10-01").date()
    df["window_end"] = pd.Timestamp("2025-12-01").date()
    df["exclude_police_generated"] = True
    return df


def tasking_table():
    from vrdp.tasking import daily_tasking

    cells = [h3.latlng_to_cell(51.75, -1.25 + i / 100, 9) for i in range(2)]
    polys = [shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in cells]
    fences = gpd.GeoDataFrame({"hotspot_id": ["HS1", "HS2"]}, geometry=polys, crs="EPSG:4326")
    table = daily_tasking(fences, "2025-12-02")
    table["h3_cell"] = cells
    table["centre_latitude"] = [p.centroid.y for p in polys]
    table["centre_longitude"] = [p.centroid.x for p in polys]
    table["tasking_source"] = "hotspot_list"
    table["briefing"] = "Robbery at night."
    return table


def test_hotspot_export_is_geoparquet_with_typed_dates_and_a_dictionary(tmp_path):
    from exports.hotspots import HARM_DAYS_DEFINITION, hotspot_export_files

    pub = publish_export(tmp_path, hotspot_export_files(ranked()), as_of="2025-12", parameters={})
    g = gpd.read_parquet(pub.path / "top_harm_cells.parquet")
    assert g.crs.to_epsg() == 4326 and len(g) == 3
    assert (g.geom_type == "Polygon").all()
    # each polygon is its own cell, in lon/lat order
    for cell, poly in zip(g["h3_cell"], g.geometry, strict=True):
        lat, lon = h3.cell_to_latlng(cell)
        assert poly.contains(shapely.Point(lon, lat))
    schema = pq.read_schema(pub.path / "top_harm_cells.parquet")
    assert str(schema.field("window_start").type) == "date32[day]"
    assert str(schema.field("harm_days").type) == "double"
    entry = {f["name"]: f for f in pub.manifest["files"]}["top_harm_cells.parquet"]
    columns = {c["name"]: c for c in entry["columns"]}
    assert set(columns) == set(schema.names)
    assert all(c["description"] != "undocumented" for c in columns.values())
    assert columns["harm_days"]["description"] == HARM_DAYS_DEFINITION
    assert "calendar months" in HARM_DAYS_DEFINITION and "rolling window" in HARM_DAYS_DEFINITION
    assert columns["window_start"]["type"] == "date32[day]"
    assert read_manifest(pub.path) == pub.manifest


def test_tasking_export_is_geoparquet_with_typed_dates(tmp_path):
    from assets.patrol.tasking import tasking_export_files

    table = tasking_table()
    files = tasking_export_files(table, [{"hotspot_id": "HS1", "text": "x"}])
    pub = publish_export(tmp_path, files, as_of="2025-12-02", parameters={})
    g = gpd.read_parquet(pub.path / "tasking.parquet")
    assert g.crs.to_epsg() == 4326 and len(g) == 2
    assert g.geometry.iloc[0].equals_exact(shapely.from_wkt(table["geofence_wkt"].iloc[0]), 1e-9)
    schema = pq.read_schema(pub.path / "tasking.parquet")
    assert str(schema.field("date").type) == "date32[day]"
    assert str(schema.field("day_start_at").type).startswith("timestamp")
    csv = pd.read_csv(pub.path / "tasking.csv", dtype=str)
    assert csv["date"].iloc[0] == "2025-12-02"  # the text files carry the same day
    doc = json.loads((pub.path / "tasking.geojson").read_text())
    assert doc["features"][0]["properties"]["date"] == "2025-12-02"
    entry = {f["name"]: f for f in pub.manifest["files"]}["tasking.parquet"]
    assert all(c["description"] != "undocumented" for c in entry["columns"])

    from exports.snapshot import load_snapshot

    snap = load_snapshot(pub.path)  # the API reads the typed file
    assert {h.date for h in snap.hotspots} == {"2025-12-02"}


def test_every_file_follows_one_permission_policy(tmp_path):
    old = os.umask(0o077)  # a strict umask must not make open exports unreadable
    try:
        open_pub = publish_export(
            tmp_path / "open",
            hotspot_export_files_and_text(),
            as_of="x",
            parameters={},
        )
        closed = publish_export(
            tmp_path / "restricted",
            hotspot_export_files_and_text(),
            as_of="x",
            parameters={},
            restricted=True,
        )
    finally:
        os.umask(old)

    def mode(p):
        return stat.S_IMODE(p.stat().st_mode)

    assert {mode(p) for p in open_pub.path.iterdir()} == {0o644}
    assert mode(open_pub.path) == 0o755
    assert {mode(p) for p in closed.path.iterdir()} == {0o600}
    assert mode(closed.path) == 0o700 and mode(tmp_path / "restricted") == 0o700


def hotspot_export_files_and_text():
    from exports.hotspots import hotspot_export_files

    note = ExportFile("note.txt", 1, lambda p: p.write_text("x\n"))
    return [*hotspot_export_files(ranked()), note]

"""Benchmark: parse, validate and locate the shipped Thames Valley 2025 months.

``python -m bench.police_uk_ingest`` writes ``bench/results/police_uk_ingest.json``
with the time per stage (parse + contract, BNG/H3/point-in-polygon) and rows
per second, so a change that slows the source asset shows up as a number.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import geopandas as gpd

from bench.bookkeeping import machine, peak_rss_mb, write_result
from config.settings import REPO_ROOT
from vrdp.geo import locate_points
from vrdp.ingest.police_uk import parse_street_file

OUT = REPO_ROOT / "bench" / "results" / "police_uk_ingest.json"


def main() -> dict:
    """Run the benchmark and write its figures."""
    street = REPO_ROOT / "public_data" / "police_uk" / "thames_valley" / "street"
    files = sorted(street.glob("2025-*-thames-valley-street.csv.gz"))
    b = REPO_ROOT / "public_data" / "boundaries" / "thames_valley"
    t0 = time.perf_counter()
    areas = {
        "lsoa21": gpd.read_file(b / "thames_valley_lsoa21.geojson"),
        "lsoa11": gpd.read_file(b / "thames_valley_lsoa11.geojson"),
        "wards": gpd.read_file(b / "thames_valley_wards_2025.geojson"),
    }
    read_boundaries_s = time.perf_counter() - t0
    parse_s = locate_s = 0.0
    rows_in = rows_loaded = 0
    for f in files:
        t = time.perf_counter()
        parsed = parse_street_file(f)
        parse_s += time.perf_counter() - t
        t = time.perf_counter()
        locate_points(parsed.loaded, h3_resolution=9, **areas)
        locate_s += time.perf_counter() - t
        rows_in += parsed.rows_in
        rows_loaded += len(parsed.loaded)
    figures = {
        "files": len(files),
        "rows_in": rows_in,
        "rows_loaded": rows_loaded,
        "read_boundaries_seconds": round(read_boundaries_s, 3),
        "parse_seconds": round(parse_s, 3),
        "locate_seconds": round(locate_s, 3),
        "total_seconds": round(read_boundaries_s + parse_s + locate_s, 3),
        "rows_per_second": round(rows_in / (parse_s + locate_s)),
        "peak_rss_mb": peak_rss_mb(),
        **machine(),
    }
    write_result(OUT, figures)
    return figures


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
    print(f"written to {Path(OUT).relative_to(REPO_ROOT)}")

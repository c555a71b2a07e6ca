import geopandas as gpd
import h3
import numpy as np
import pytest
from numpy.testing import assert_allclose
from shapely.geometry import box
from support import PUBLIC, TVP_STREET

from vrdp.geo import assign_area_codes, h3_cell_polygons, h3_cells, locate_points, to_bng
from vrdp.ingest.police_uk import parse_street_file

BOUNDARIES = PUBLIC / "boundaries" / "thames_valley"


def test_to_bng_matches_ordnance_survey_worked_example():
    # OS "A guide to coordinate systems in Great Britain", Caister water tower:
    # ETRS89 52°39'28.8282"N 1°42'57.8663"E -> E 651409.903 N 313177.270 (OSTN15).
    # Without the OSTN15 grid pyproj uses a Helmert transform, good to a few metres.
    lat = 52 + 39 / 60 + 28.8282 / 3600
    lon = 1 + 42 / 60 + 57.8663 / 3600
    e, n = to_bng(np.array([lon]), np.array([lat]))
    assert_allclose([e[0], n[0]], [651_409.903, 313_177.270], atol=5)


def test_assign_area_codes_tiny_polygons_and_shared_edge():
    areas = gpd.GeoDataFrame(
        {"code": ["B", "A"]}, geometry=[box(1, 0, 2, 1), box(0, 0, 1, 1)], crs="EPSG:4326"
    )
    lon = np.array([0.5, 1.5, 1.0, 5.0])
    lat = np.array([0.5, 0.5, 0.5, 5.0])
    codes = assign_area_codes(lon, lat, areas, "code")
    # On the shared edge x=1 the smallest code wins; outside everything gives None.
    assert list(codes) == ["A", "B", "A", None]


def test_h3_cells_and_polygons_round_trip():
    lat, lon = np.array([51.752, 51.4545]), np.array([-1.2577, -0.9781])
    cells = h3_cells(lat, lon, 9)
    assert all(h3.get_resolution(c) == 9 for c in cells)
    polys = h3_cell_polygons(list(cells))
    assert polys.crs.to_epsg() == 4326
    assert all(
        p.contains(gpd.points_from_xy([x], [y])[0]) for p, x, y in zip(polys, lon, lat, strict=True)
    )
    area_km2 = polys.to_crs("EPSG:27700").area.to_numpy() / 1e6
    assert_allclose(area_km2, [h3.cell_area(c, unit="km^2") for c in cells], rtol=0.01)


@pytest.fixture(scope="module")
def boundaries():
    return {
        name: gpd.read_file(BOUNDARIES / f"thames_valley_{name}.geojson")
        for name in ("lsoa21", "lsoa11", "wards_2025")
    }


def test_boundary_vintages_match_what_police_uk_reported(boundaries):
    """2018 files carry LSOA 2011 codes, 2025 files LSOA 2021: each joins to its vintage."""
    kw = {
        "h3_resolution": 9,
        "lsoa21": boundaries["lsoa21"],
        "lsoa11": boundaries["lsoa11"],
        "wards": boundaries["wards_2025"],
    }
    old = locate_points(
        parse_street_file(TVP_STREET / "2018-06-thames-valley-street.csv.gz").loaded, **kw
    )
    new = locate_points(
        parse_street_file(TVP_STREET / "2025-03-thames-valley-street.csv.gz").loaded, **kw
    )
    # Points are snapped to anonymised map points on streets, often on LSOA edges,
    # so agreement is high but not perfect.
    assert (old["lsoa11_code"] == old["reported_lsoa_code"]).mean() > 0.95
    assert (new["lsoa21_code"] == new["reported_lsoa_code"]).mean() > 0.95
    assert new["ward_code"].notna().mean() > 0.99
    assert new["h3_cell"].map(h3.get_resolution).eq(9).all()
    assert new["easting_m"].between(400_000, 530_000).all()

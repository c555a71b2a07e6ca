"""The ward dashboard in headless Chromium, served by a real HTTP server."""

import re
from urllib.request import urlopen

import duckdb
import pytest
from support import apply_env, world_env
from surface_support import dom, needs_chromium, served

from dashboard.app import create_app
from dashboard.data import load
from dashboard.views.soc_ward import ward_summary


@pytest.fixture(scope="module")
def dashboard(soc_warehouse):
    """The dashboard on a free loopback port, over the small world's SOC warehouse."""
    mp = pytest.MonkeyPatch()
    apply_env(mp, world_env(soc_warehouse))
    mp.setenv("VRDP_API_DEMO_TOKENS", "1")
    with served(create_app(soc_warehouse)) as url:
        yield url, soc_warehouse
    mp.undo()


def busiest_ward(root) -> str:
    con = duckdb.connect(str(root / "warehouse" / "vrdp.duckdb"), read_only=True)
    try:
        return con.execute(
            "select ward_code from marts.fct_ward_soc_monthly group by 1"
            " order by sum(soc_events) desc, 1 limit 1"
        ).fetchone()[0]
    finally:
        con.close()


def test_page_is_served_with_its_own_scripts(dashboard):
    url, _ = dashboard
    html = urlopen(f"{url}/soc").read().decode()
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    assert scripts and all(s.startswith("/_dash-component-suites/") for s in scripts)
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()


@needs_chromium
def test_officer_chooses_a_ward_figures_equal_marts_restricted_refused(dashboard, tmp_path):
    url, root = dashboard
    ward = busiest_ward(root)
    page = dom(f"{url}/soc?ward={ward}&token=demo-officer-token", tmp_path)
    assert 'data-ready="yes"' in page, page[-2000:]
    assert f'data-ward="{ward}"' in page
    con = duckdb.connect(str(root / "warehouse" / "vrdp.duckdb"), read_only=True)
    try:
        mart = con.execute(
            "select soc_category, sum(crimes), sum(incidents), sum(intelligence_logs)"
            " from marts.fct_ward_soc_monthly where ward_code = ? group by 1 order by 1",
            [ward],
        ).fetchall()
    finally:
        con.close()
    total = sum(c + i + n for _, c, i, n in mart)
    assert f'data-total="{total}"' in page and total > 0
    table = re.search(r'<table id="soc-summary".*?</table>', page, re.S).group(0)
    cells = re.findall(r"<td>([^<]*)</td>", table)
    rows = [cells[i : i + 6] for i in range(0, len(cells), 6)]
    shown = [(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows]
    assert shown == [(c, int(a), int(b), int(n)) for c, a, b, n in mart]
    assert 'id="restricted-refused"' in page and 'id="restricted-panel"' not in page
    assert 'class="main-svg"' in page  # the map and trend charts drew


@needs_chromium
def test_safeguarding_role_sees_the_restricted_panel(dashboard, tmp_path):
    url, root = dashboard
    ward = busiest_ward(root)
    page = dom(f"{url}/soc?ward={ward}&token=demo-safeguarding-token", tmp_path)
    assert 'id="restricted-panel"' in page and 'id="restricted-refused"' not in page


def test_summary_function_matches_the_mart(dashboard):
    _, root = dashboard
    ward = busiest_ward(root)
    s = ward_summary(load(root), ward)
    assert int(s["soc_events"].sum()) > 0


def test_ward_outlines_come_from_the_forces_boundary_asset(dashboard, tmp_path):
    """The map draws the configured force's wards (geography/wards_boundaries), not a
    shipped file: every ward of the marts has an outline holding its SOC events."""
    import geopandas as gpd
    import shapely

    from dashboard.data import _ward_shapes

    _, root = dashboard
    data = load(root)
    lake_wards = gpd.read_parquet(root / "lake" / "geography" / "wards_boundaries.parquet")
    assert set(data.ward_shapes) == set(lake_wards["WD25CD"])
    assert set(data.wards["ward_code"]) <= set(data.ward_shapes)
    ward = busiest_ward(root)
    shape = shapely.MultiPolygon([shapely.Polygon(r) for r in data.ward_shapes[ward]])
    ev = data.soc_events[data.soc_events["ward_code"] == ward].dropna(subset=["longitude"])
    inside = shapely.contains_xy(shape.buffer(1e-4), ev["longitude"], ev["latitude"])
    assert len(ev) and inside.mean() > 0.99
    other = tmp_path / "lake" / "geography"  # another force's wards: those are drawn
    other.mkdir(parents=True)
    lake_wards.iloc[:3].to_parquet(other / "wards_boundaries.parquet")
    assert set(_ward_shapes(tmp_path / "lake")) == set(lake_wards["WD25CD"].iloc[:3])

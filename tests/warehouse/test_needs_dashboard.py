"""The dashboard's needs view in headless Chromium, over the small world's published pack."""

import re
from html import unescape
from urllib.request import urlopen

from surface_support import dom, needs_chromium
from warehouse_support import read_warehouse

from dashboard.data import load
from dashboard.views.needs import area_rows, area_table_rows, fmt_count, fmt_rate
from dashboard.views.tables import PAGE_SIZE


def _mart(root, indicator, area_type="ward", age_band="all"):
    return read_warehouse(
        root,
        "select area_code, events, rate_per_1000, rate_ci95_low, rate_ci95_high, is_suppressed"
        f" from marts.needs_area_rates where indicator = '{indicator}'"
        f" and area_type = '{area_type}' and age_band = '{age_band}'",
    ).set_index("area_code")


def test_needs_view_rows_are_the_published_pack(needs_dashboard):
    _, root = needs_dashboard
    data = load(root)
    assert data.needs_manifest["lawful_bases"]["sources"]
    rows = area_rows(data, indicator="violent_crimes", age_band="all", area_type="ward")
    mart = _mart(root, "violent_crimes")
    assert set(rows["area_code"]) == set(mart.index)
    # highest rate first, suppressed rows last
    shown = rows[~rows["is_suppressed"]]
    assert shown["rate_per_1000"].is_monotonic_decreasing
    assert rows["is_suppressed"].is_monotonic_increasing


def _cells(page, table_id):
    """Rows of a DataTable's shown page: {row number: {column id: text}}."""
    start = page.index(f'id="{table_id}"')
    end = page.find("</table>", start)
    rows = {}
    cell = r'<td[^>]*data-dash-column="([^"]+)" data-dash-row="(\d+)"[^>]*><div[^>]*>([^<]*)</div>'
    for col, row, text in re.findall(cell, page[start:end]):
        rows.setdefault(int(row), {})[col] = unescape(text)
    return [rows[i] for i in sorted(rows)]


def _dep_mart(root, indicator, age_band, basis="national"):
    return read_warehouse(
        root,
        "select imd_decile, events, rate_per_1000, rate_ci95_low, rate_ci95_high, is_suppressed"
        f" from marts.needs_deprivation_rates where indicator = '{indicator}'"
        f" and age_band = '{age_band}' and imd_basis = '{basis}' order by imd_decile",
    )


@needs_chromium
def test_needs_view_in_chromium_equals_the_marts_and_suppresses(needs_dashboard, tmp_path):
    url, root = needs_dashboard
    # a deprivation decile suppressed for this indicator and age band (small counts)
    band = next(
        b
        for b in ("0-9", "10-17", "18-24", "all")
        if _dep_mart(root, "victims_under_25", b)["is_suppressed"].any()
    )
    mart = _mart(root, "victims_under_25", age_band=band)
    shown_order = area_rows(
        load(root), indicator="victims_under_25", area_type="ward", age_band=band
    )
    ward = shown_order["area_code"].iloc[0]  # the highest rate: on the first page
    page = dom(
        f"{url}/needs?indicator=victims_under_25&age_band={band}&area_type=ward"
        f"&ward={ward}&token=demo-analyst-token",
        tmp_path,
    )
    assert 'data-ready="yes"' in page, page[-2000:]
    assert 'data-indicator="victims_under_25"' in page
    rows = _cells(page, "needs-areas")
    assert 0 < len(rows) <= PAGE_SIZE
    assert [r["area_code"] for r in rows] == shown_order["area_code"].tolist()[: len(rows)]
    for r in rows:
        m = mart.loc[r["area_code"]].to_dict()
        assert r["count"] == fmt_count(m) and (r["rate"], r["ci"]) == fmt_rate(m)
        if not m["is_suppressed"]:
            assert int(r["count"].replace(",", "")) == m["events"] >= 5
    # the deprivation table (all ten deciles): suppressed counts show as <5, no rate
    dep = _dep_mart(root, "victims_under_25", band)
    table = re.search(r'<table id="needs-deprivation".*?</table>', page, re.S).group(0)
    trs = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    shown = [[unescape(c) for c in re.findall(r"<td>([^<]*)</td>", tr)] for tr in trs]
    assert len(shown) == len(dep) > 0
    for cells, m in zip(shown, dep.to_dict("records"), strict=True):
        assert cells[0] == str(m["imd_decile"]) and cells[1] == fmt_count(m)
        if m["is_suppressed"]:
            assert cells[1] == "<5" and cells[3] == "" and cells[4] == ""
    assert any(c[1] == "<5" for c in shown)
    # the chosen ward is highlighted; the chart drew; the A&E share is listed
    first = re.search(r'<td[^>]*data-dash-column="area_code" data-dash-row="0"[^>]*>', page)
    assert "font-weight: bold" in first.group(0)
    assert 'id="needs-deprivation-chart"' in page and 'class="main-svg"' in page
    assert _cells(page, "needs-ae")
    assert "Lawful bases of the sources: police." in page


def test_needs_table_rows_suppress_every_small_count(needs_dashboard):
    _, root = needs_dashboard
    data = load(root)
    for area_type in ("ward", "lsoa"):
        rows = area_table_rows(area_rows(data, area_type=area_type).to_dict("records"))
        small = [r for r in rows if r["count"] == "<5"]
        assert small and all(r["rate"] == "" and r["ci"] == "" for r in small)
        counts = [int(r["count"].replace(",", "")) for r in rows if r["count"] != "<5"]
        assert min(counts) >= 5


@needs_chromium
def test_needs_form_keeps_the_viewer_and_lists_every_indicator(needs_dashboard, tmp_path):
    url, _ = needs_dashboard
    page = dom(f"{url}/needs?token=demo-officer-token", tmp_path)
    form = re.search(r'<form[^>]*id="needs-form".*?</form>', page, re.S).group(0)
    keep = re.search(r'<input[^>]*id="needs-keep-token"[^>]*>', form).group(0)
    assert 'name="token"' in keep and 'value="demo-officer-token"' in keep
    assert form.count("<option") >= 8 + 5 + 2 + 2
    assert "Signed in as: officer" in page


def test_needs_page_is_served_with_its_own_scripts(needs_dashboard):
    url, _ = needs_dashboard
    html = urlopen(f"{url}/needs").read().decode()
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    assert scripts and all(s.startswith("/_dash-component-suites/") for s in scripts)

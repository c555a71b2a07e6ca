"""The serious violence overview: its marts on the small world's warehouse, and the
dashboard's ``/violence`` view in headless Chromium, figures compared with the marts."""

import re
from html import unescape
from urllib.request import urlopen

from surface_support import dom, needs_chromium
from warehouse_support import read_warehouse

from dashboard.data import load
from dashboard.views.serious_violence import (
    MEASURES,
    ae_share_rows,
    area_names,
    area_rows,
    chosen_areas,
    trend_rows,
)
from vrdp.governance.suppression import small_count_findings

#: the serious violence offence codes of the homicide, violence with injury (less
#: driving), robbery and possession of weapons groups, written out here so the test
#: checks the mart's rule against a list, not against itself
SV_CODES = {
    "1/4.1/4.10/4.2": "homicide",
    "2": "violence_with_injury",
    "4.3": "violence_with_injury",
    "4.7": "violence_with_injury",
    "5D": "violence_with_injury",
    "5E": "violence_with_injury",
    "8N": "violence_with_injury",
    "8P": "violence_with_injury",
    "8S": "violence_with_injury",
    "34A": "robbery",
    "34B": "robbery",
    "10A": "possession_of_weapons",
    "10B": "possession_of_weapons",
    "10C": "possession_of_weapons",
    "10D": "possession_of_weapons",
    "81": "possession_of_weapons",
    "90": "possession_of_weapons",
}


def _trend(root):
    return read_warehouse(root, "select * from marts.serious_violence_area_trend")


def test_serious_violence_definition_matches_the_offence_codes(warehouse):
    root = warehouse["root"]
    period = read_warehouse(
        root,
        "select min(previous_start) as s, min(last_start) as l, max(period_end) as e"
        " from marts.serious_violence_area_trend",
    ).iloc[0]
    codes = ", ".join(f"'{c}'" for c in SV_CODES)
    crimes = read_warehouse(
        root,
        "select e.event_key, e.offence_code, e.occurred_on from marts.fct_events e"
        " join marts.needs_lsoa_population p on e.lsoa21_code = p.lsoa21_code"
        f" where e.event_type = 'crime' and e.offence_code in ({codes})"
        f" and e.occurred_on between '{period.s.date()}' and '{period.e.date()}'",
    )
    items = read_warehouse(root, "select * from marts.fct_serious_violence_items")
    sv = items[items["measure"] == "serious_violence_crimes"]
    assert set(sv["unit_key"]) == set(crimes["event_key"]) and len(sv) > 100
    by_key = crimes.set_index("event_key")["offence_code"]
    for measure in ("homicide", "violence_with_injury", "robbery", "possession_of_weapons"):
        keys = items.loc[items["measure"] == measure, "unit_key"]
        assert all(SV_CODES[by_key[k]] == measure for k in keys), measure
    knife = items.loc[items["measure"] == "knife_crimes", "unit_key"]
    assert len(knife) and set(by_key[knife]) <= {"10D", "90"}
    # the trend: 12 whole months, then 12 before; the force's counts are the items'
    last = sv[sv["month_start"] >= period.l]
    force = _trend(root).query("area_type == 'force'").set_index("measure")
    assert force.loc["serious_violence_crimes", "events_last_12"] == len(last) > 0
    assert force.loc["serious_violence_crimes", "events_previous_12"] == len(sv) - len(last)
    parts = ["homicide", "violence_with_injury", "robbery", "possession_of_weapons"]
    assert force.loc[parts, "events_last_12"].sum() == len(last)


def test_serious_violence_marts_publish_no_small_count_and_no_person(warehouse):
    root = warehouse["root"]
    trend = _trend(root)
    monthly = read_warehouse(root, "select * from marts.serious_violence_area_monthly")
    # (change_in_events is a difference of two published counts, not a count)
    assert small_count_findings(trend, ["events_last_12", "events_previous_12"]) == []
    assert small_count_findings(monthly, ["events"]) == []
    assert trend["is_suppressed_last_12"].any() and monthly["is_suppressed"].any()
    assert (trend["events_last_12"].isna() == trend["is_suppressed_last_12"]).all()
    assert (monthly["events"].isna() == monthly["is_suppressed"]).all()
    assert trend.loc[trend["is_suppressed_last_12"], "rate_per_1000_last_12"].isna().all()
    # no person-level column, and no person key among the published values
    person_keys = set(
        read_warehouse(root, "select person_key from marts.dim_persons")["person_key"]
    )
    for t in (trend, monthly):
        assert not any("person" in c for c in t.columns)
        text = set(t.select_dtypes("object").stack().astype(str))
        assert not text & person_keys
    # force, every district and every ward, every measure, 24 months
    assert set(trend["area_type"]) == {"force", "lad", "ward"}
    assert set(trend["measure"]) == set(MEASURES)
    assert monthly.groupby(["area_type", "area_code", "measure"]).size().eq(24).all()
    # a month's published counts add up to the 12 months' (event measures, force)
    f = monthly[(monthly["area_type"] == "force") & (monthly["measure"] == "robbery")]
    last = f[f["month_start"] >= trend["last_start"].min()]
    if not last["is_suppressed"].any():
        row = trend.query("area_type == 'force' and measure == 'robbery'").iloc[0]
        assert last["events"].sum() == row["events_last_12"]


def _trend_table(page, table_id):
    """A trend table's rows: {measure: [cell texts]}."""
    table = re.search(rf'<table id="{table_id}".*?</table>', page, re.S).group(0)
    rows = re.findall(r'<tr data-measure="([^"]+)">(.*?)</tr>', table, re.S)
    return {m: [unescape(c) for c in re.findall(r"<td>([^<]*)</td>", tr)] for m, tr in rows}


def _cells(page, table_id):
    """Rows of a DataTable's shown page: [{column id: text}]."""
    start = page.index(f'id="{table_id}"')
    end = page.find("</table>", start)
    rows = {}
    cell = r'<td[^>]*data-dash-column="([^"]+)" data-dash-row="(\d+)"[^>]*><div[^>]*>([^<]*)</div>'
    for col, row, text in re.findall(cell, page[start:end]):
        rows.setdefault(int(row), {})[col] = unescape(text)
    return [rows[i] for i in sorted(rows)]


def _shown(rows):
    keys = ("label", "last_12", "rate_last_12", "previous_12", "rate_previous_12", "change")
    return {r["measure"]: [r[k] for k in keys] for r in rows}


@needs_chromium
def test_violence_view_for_a_chosen_ward_equals_the_marts(needs_dashboard, tmp_path):
    url, root = needs_dashboard
    trend = _trend(root)
    wards = trend.query("area_type == 'ward' and measure == 'serious_violence_crimes'")
    # the ward with most serious violence: published counts, and some suppressed measure
    ward = wards.sort_values(["events_last_12", "area_code"], ascending=[False, True]).iloc[0]
    code, lad = ward["area_code"], ward["parent_code"]
    page = dom(f"{url}/violence?ward={code}&token=demo-officer-token", tmp_path)
    assert 'data-ready="yes"' in page, page[-2000:]
    assert "Signed in as: officer" in page
    assert f'id="sv-title-ward" data-area="{code}"' in page
    assert f'id="sv-title-lad" data-area="{lad}"' in page
    for level, area in (("force", "force"), ("lad", lad), ("ward", code)):
        shown = _trend_table(page, f"sv-trend-{level}")
        expected = _shown(trend_rows(trend, level, area))
        assert shown == expected and len(shown) == len(MEASURES), level
    ward_rows = _trend_table(page, "sv-trend-ward")
    mart = trend.query("area_type == 'ward' and area_code == @code").set_index("measure")
    count = int(ward_rows["serious_violence_crimes"][1].replace(",", ""))
    assert count == mart.loc["serious_violence_crimes", "events_last_12"] >= 5
    assert any(r[1] == "<5" for r in ward_rows.values()) or mart["events_last_12"].ge(5).all()
    # the ward's district's wards, highest rate first; the chosen ward is highlighted
    ward_names, _ = area_names(load(root))
    expected = area_rows(trend, "ward", ward_names, parent=lad)
    shown = _cells(page, "sv-wards")
    assert [r["area_code"] for r in shown] == [r["area_code"] for r in expected][: len(shown)]
    assert shown[0] == expected[0]
    chosen = re.search(rf'<td[^>]*data-dash-column="area_code"[^>]*><div[^>]*>{code}</div>', page)
    assert chosen and "font-weight: bold" in chosen.group(0)
    # the monthly chart drew
    assert 'id="sv-monthly-chart"' in page and 'class="main-svg"' in page


@needs_chromium
def test_violence_view_for_a_chosen_district_and_the_ae_share(needs_dashboard, tmp_path):
    url, root = needs_dashboard
    trend = _trend(root)
    lads = trend.query("area_type == 'lad' and measure == 'serious_violence_crimes'")
    lad = lads.sort_values("area_code").iloc[0]["area_code"]
    page = dom(f"{url}/violence?district={lad}&token=demo-analyst-token", tmp_path)
    assert 'data-ready="yes"' in page, page[-2000:]
    assert f'id="sv-title-lad" data-area="{lad}"' in page and 'id="sv-title-ward"' not in page
    assert _trend_table(page, "sv-trend-lad") == _shown(trend_rows(trend, "lad", lad))
    # the form lists the force and every district (React sets the chosen option's
    # ``selected`` as a property, which a DOM dump does not show)
    form = re.search(r'<select id="sv-district" name="district">.*?</select>', page, re.S)
    options = re.findall(r'<option value="([^"]*)"', form.group(0))
    assert options[0] == "" and sorted(options[1:]) == sorted(lads["area_code"])
    # the districts table: every district, the figures of the mart
    data = load(root)
    _, lad_names = area_names(data)
    assert _cells(page, "sv-districts") == area_rows(trend, "lad", lad_names)
    # the A&E share is the published needs pack's (force row), suppressed as there
    ae = data.needs["needs_ae_unreported"]
    force = ae_share_rows(ae, ["force"])[0]
    table = re.search(r'<table id="sv-ae-share".*?</table>', page, re.S).group(0)
    row = re.search(r'<tr data-area="force">(.*?)</tr>', table, re.S).group(1)
    cells = [unescape(c) for c in re.findall(r"<td>([^<]*)</td>", row)]
    assert cells == ["Force area", force["attendances"], force["share"], force["ci"]]
    pack = ae.set_index("area_code").loc["force"]
    if pack["is_suppressed"]:
        assert cells[2] == "suppressed (<5)"
    else:
        assert cells[2] == f"{100 * pack['share_not_in_police_records']:.0f}%"


def test_unknown_area_codes_fall_back_to_the_force(needs_dashboard):
    _, root = needs_dashboard
    data = load(root)
    assert chosen_areas(data, "E05999999", {"district": "nope"}) == {"force": "force"}
    lad = data.violence["trend"].query("area_type == 'lad'")["area_code"].iloc[0]
    assert chosen_areas(data, None, {"district": lad}) == {"force": "force", "lad": lad}


def test_violence_page_is_served_with_its_own_scripts(needs_dashboard):
    url, _ = needs_dashboard
    html = urlopen(f"{url}/violence").read().decode()
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    assert scripts and all(s.startswith("/_dash-component-suites/") for s in scripts)


def _tiny_trend():
    import pandas as pd

    base = {
        "previous_start": pd.Timestamp("2024-01-01"),
        "last_start": pd.Timestamp("2025-01-01"),
        "period_end": pd.Timestamp("2025-12-31"),
        "rate_ci95_low_last_12": None,
        "rate_ci95_high_last_12": None,
        "rate_per_1000_previous_12": None,
        "change_share": None,
    }
    rows = [
        # ward, parent, measure, last, previous, rate, change, data_from, covered
        ("W1", "D1", "serious_violence_crimes", 12, 10, 6.0, 2, "2024-01-01", True),
        ("W2", "D1", "serious_violence_crimes", None, 7, None, None, "2024-01-01", True),
        ("W3", "D1", "serious_violence_crimes", 20, 20, 8.0, 0, "2024-01-01", True),
        ("W1", "D1", "victims_under_25", 5, 0, 1.0, None, "2025-07-01", False),
        ("W1", "D1", "ae_assaults", 0, 0, 0.0, None, None, False),
    ]
    return pd.DataFrame(
        [
            {
                **base,
                "area_type": "ward",
                "area_code": w,
                "parent_code": p,
                "measure": m,
                "events_last_12": last,
                "events_previous_12": prev,
                "rate_per_1000_last_12": rate,
                "change_in_events": change,
                "data_from": pd.Timestamp(start) if start else pd.NaT,
                "is_previous_covered": covered,
            }
            for w, p, m, last, prev, rate, change, start, covered in rows
        ]
    )


def test_trend_rows_say_suppressed_uncovered_and_missing_sources():
    rows = {r["measure"]: r for r in trend_rows(_tiny_trend(), "ward", "W1")}
    assert rows["serious_violence_crimes"]["last_12"] == "12"
    assert rows["serious_violence_crimes"]["change"] == "+2"
    # people linked only from July 2025: no previous count, no change
    assert rows["victims_under_25"]["previous_12"] == "records from 2025-07 only"
    assert rows["victims_under_25"]["change"] == ""
    # no A&E record at all: never shown as 0
    assert rows["ae_assaults"]["last_12"] == rows["ae_assaults"]["previous_12"] == "no records"
    w2 = {r["measure"]: r for r in trend_rows(_tiny_trend(), "ward", "W2")}
    assert w2["serious_violence_crimes"]["last_12"] == "<5"
    assert w2["serious_violence_crimes"]["rate_last_12"] == ""
    # wards of D1: highest rate first, the suppressed ward last
    order = [r["area_code"] for r in area_rows(_tiny_trend(), "ward", {}, parent="D1")]
    assert order == ["W3", "W1", "W2"]

"""The dashboard's patrol compliance view in headless Chromium, over the patrol assets' run.

Reuses ``patrol_run`` (tests/test_patrol_assets.py: the small world's patrol assets
materialised into a temporary data root, no warehouse) and serves the dashboard on it.
"""

import re
from html import unescape

import pandas as pd
import pytest
from surface_support import dom, needs_chromium, served
from test_patrol_assets import patrol_run  # noqa: F401  (the module fixture, reused)

from dashboard.app import create_app
from dashboard.data import load
from dashboard.views.patrol import (
    day_rows,
    fmt_minutes,
    fmt_share,
    officer_rows,
    team_day_rows,
)
from dashboard.views.tables import PAGE_SIZE


@pytest.fixture(scope="module")
def patrol_dashboard(patrol_run):  # noqa: F811
    """The dashboard serving the patrol run's data root, with the demo tokens."""
    root = patrol_run["root"]
    mp = pytest.MonkeyPatch()
    mp.setenv("VRDP_DATA_ROOT", str(root))
    mp.setenv("VRDP_API_DEMO_TOKENS", "1")
    with served(create_app(root)) as url:
        yield url, root
    mp.undo()


def _lake(root, name):
    return pd.read_parquet(root / "lake" / "patrol" / name)


def _cells(page, table_id):
    """Rows of a DataTable's shown page: [{column id: text}] in page order."""
    start = page.index(f'id="{table_id}"')
    end = page.find("</table>", start)
    rows = {}
    cell = r'<td[^>]*data-dash-column="([^"]+)" data-dash-row="(\d+)"[^>]*><div[^>]*>([^<]*)</div>'
    for col, row, text in re.findall(cell, page[start:end]):
        rows.setdefault(int(row), {})[col] = unescape(text)
    return [rows[i] for i in sorted(rows)]


def test_the_view_reads_the_compliance_assets_tables(patrol_dashboard):
    _, root = patrol_dashboard
    data = load(root)  # no warehouse here: the patrol tables alone are enough
    team_day = _lake(root, "compliance_team_day.parquet")
    pd.testing.assert_frame_equal(data.patrol["team_day"], team_day)
    sup = _lake(root, "supervisor/officer_dosage.parquet")
    pd.testing.assert_frame_equal(data.patrol["officers"], sup)
    spot = _lake(root, "tasked_dosage.parquet")
    days = day_rows(data.patrol["spot_days"])
    tasked = spot[spot["target_minutes"] > 0]
    assert len(days) and days["tasked"].sum() == len(tasked)
    assert days["visited"].sum() == int((tasked["n_visits"] > 0).sum())
    assert days["met"].sum() == int(tasked["met_target"].sum())
    assert days["delivered_minutes"].sum() == pytest.approx(tasked["dosage_minutes"].sum())
    assert days["date"].is_monotonic_decreasing


@needs_chromium
def test_supervisor_sees_teams_days_and_officers_equal_to_the_source(patrol_dashboard, tmp_path):
    url, root = patrol_dashboard
    page = dom(f"{url}/patrol?token=demo-analyst-token", tmp_path)
    assert 'data-ready="yes"' in page, page[-2000:]
    assert "Signed in as: analyst" in page
    # force per day: the first page, each figure from tasked_dosage directly
    spot = _lake(root, "tasked_dosage.parquet")
    spot = spot[spot["target_minutes"] > 0].assign(day=lambda d: d["date"].astype(str).str[:10])
    shown = _cells(page, "patrol-days")
    assert 0 < len(shown) <= PAGE_SIZE
    assert shown[0]["date"] == max(spot["day"])
    for r in shown:
        src = spot[spot["day"] == r["date"]]
        assert int(r["tasked"]) == len(src)
        assert int(r["visited"]) == int((src["n_visits"] > 0).sum())
        assert int(r["met"]) == int(src["met_target"].sum())
        assert r["delivered"] == fmt_minutes(src["dosage_minutes"].sum())
        assert r["share"] == fmt_share(src["dosage_minutes"].sum() / src["target_minutes"].sum())
    # per team and day: the first page equals the compliance asset's rows
    td = _lake(root, "compliance_team_day.parquet")
    teams = _cells(page, "patrol-teams")
    assert teams == team_day_rows(td)[: len(teams)] and len(teams) == min(PAGE_SIZE, len(td))
    first = td[
        (td["date"].astype(str).str[:10] == teams[0]["date"]) & (td["team"] == teams[0]["team"])
    ].iloc[0]
    assert teams[0]["delivered"] == fmt_minutes(first["delivered_minutes"])
    assert teams[0]["share"] == fmt_share(first["delivered_minutes"] / first["target_minutes"])
    # officers, for a supervisor role: the supervisor table in rank order
    sup = _lake(root, "supervisor/officer_dosage.parquet")
    officers = _cells(page, "patrol-officers")
    assert officers == officer_rows(sup)[: len(officers)] and len(officers) > 0
    assert [o["officer"] for o in officers] == sup["officer"].tolist()[: len(officers)]
    assert 'id="patrol-officers-refused"' not in page


@needs_chromium
def test_an_officer_sees_team_figures_but_no_officer_row(patrol_dashboard, tmp_path):
    url, root = patrol_dashboard
    page = dom(f"{url}/patrol?token=demo-officer-token", tmp_path)
    assert 'data-ready="yes"' in page, page[-2000:]
    assert "Signed in as: officer" in page
    assert _cells(page, "patrol-teams") and _cells(page, "patrol-days")
    assert 'id="patrol-officers-refused"' in page and 'id="patrol-officers"' not in page
    sup = _lake(root, "supervisor/officer_dosage.parquet")
    assert len(sup) and not any(o in page for o in sup["officer"])
    # and the menu names the view, keeping the token
    assert 'href="/patrol?token=demo-officer-token"' in page

"""Patrol compliance: tasked hot spots visited and dosage delivered against the Koper target.

Reads the tables the patrol compliance assets write to the lake
(``lake/patrol/tasked_dosage``, ``compliance_team_day`` and the supervisor's
``supervisor/officer_dosage``), never the assets themselves:

- **force, per day**: hot spots tasked with a target (patrol arm), how many were
  visited, how many reached the Koper target, minutes delivered against target;
- **per team and day**: what each team's officers delivered on tasked hot
  spot-days (``vrdp.dosage.compliance_table``: one row per officer and spot-day
  worked, so two officers of a team on one spot count twice);
- **officers** (pseudonymised keys, ranked by minutes delivered): built on the
  server only for the supervisor roles (``dashboard.auth.SUPERVISOR_ROLES``); an
  officer sees team figures only and never receives the officer rows.
"""

from __future__ import annotations

import math

import pandas as pd
from dash import html

from dashboard.auth import SUPERVISOR_ROLES, may_see_officers
from dashboard.data import DashboardData
from dashboard.views.base import View
from dashboard.views.tables import data_table

__all__ = [
    "VIEW",
    "layout",
    "day_rows",
    "team_day_rows",
    "officer_rows",
    "fmt_share",
    "fmt_minutes",
]


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def fmt_share(v) -> str:
    """A share as a whole percentage ('' when there is none).

    >>> fmt_share(0.456), fmt_share(None), fmt_share(float("nan"))
    ('46%', '', '')
    """
    return "" if _blank(v) else f"{100 * float(v):.0f}%"


def fmt_minutes(v) -> str:
    """Minutes, rounded, with thousands separators.

    >>> fmt_minutes(1234.6), fmt_minutes(None)
    ('1,235', '0')
    """
    return "0" if _blank(v) else f"{float(v):,.0f}"


def _day(v) -> str:
    return str(pd.Timestamp(v).date())


def day_rows(spot_days: pd.DataFrame) -> pd.DataFrame:
    """Force-wide figures per day over the hot spots tasked with a target, latest first.

    ``spot_days`` is ``lake/patrol/tasked_dosage`` (one row per tasked hot spot-day).
    Returns ``date``, ``tasked``, ``visited`` (at least one visit), ``met`` (dosage
    reached the target), ``delivered_minutes``, ``target_minutes`` and
    ``target_share`` (delivered / target minutes).

    >>> sd = pd.DataFrame({"date": ["2026-01-02"] * 3, "target_minutes": [90.0, 90, 0],
    ...     "n_visits": [6, 0, 2], "dosage_minutes": [95.0, 0, 20],
    ...     "met_target": [True, False, False]})
    >>> d = day_rows(sd)
    >>> d[["tasked", "visited", "met"]].values.tolist(), round(float(d["target_share"][0]), 3)
    ([[2, 1, 1]], 0.528)
    """
    cols = ["date", "tasked", "visited", "met", "delivered_minutes", "target_minutes"]
    t = spot_days[spot_days["target_minutes"] > 0] if len(spot_days) else spot_days
    if not len(t):
        return pd.DataFrame(columns=[*cols, "target_share"])
    t = t.assign(date=pd.to_datetime(t["date"]).dt.normalize())
    out = t.groupby("date", as_index=False).agg(
        tasked=("target_minutes", "size"),
        visited=("n_visits", lambda s: int((s > 0).sum())),
        met=("met_target", "sum"),
        delivered_minutes=("dosage_minutes", "sum"),
        target_minutes=("target_minutes", "sum"),
    )
    out["met"] = out["met"].astype(int)
    out["target_share"] = out["delivered_minutes"] / out["target_minutes"]
    return out.sort_values("date", ascending=False).reset_index(drop=True)


#: the force table's columns: id -> header
DAY_COLUMNS = [
    ("date", "day"),
    ("tasked", "hot spots tasked"),
    ("visited", "visited"),
    ("met", "Koper target met"),
    ("delivered", "minutes delivered"),
    ("target", "target minutes"),
    ("share", "share of target"),
]


def _day_table_rows(days: pd.DataFrame) -> list[dict]:
    return [
        {
            "date": _day(r["date"]),
            "tasked": str(int(r["tasked"])),
            "visited": str(int(r["visited"])),
            "met": str(int(r["met"])),
            "delivered": fmt_minutes(r["delivered_minutes"]),
            "target": fmt_minutes(r["target_minutes"]),
            "share": fmt_share(r["target_share"]),
        }
        for r in days.to_dict("records")
    ]


#: the team table's columns: id -> header
TEAM_COLUMNS = [
    ("date", "day"),
    ("team", "team"),
    ("worked", "officer spot-days worked"),
    ("met", "on spots that met the target"),
    ("delivered", "minutes delivered"),
    ("target", "target minutes"),
    ("share", "share of target"),
    ("visits", "visits"),
    ("koper", "Koper-length visits"),
]


def team_day_rows(team_day: pd.DataFrame) -> list[dict]:
    """The team and day rows as the page shows them (latest day first, then team).

    ``team_day`` is ``lake/patrol/compliance_team_day``.
    """
    if not len(team_day):
        return []
    t = team_day.assign(date=pd.to_datetime(team_day["date"]).dt.normalize())
    t = t.sort_values(["date", "team"], ascending=[False, True])
    return [
        {
            "date": _day(r["date"]),
            "team": str(r["team"]),
            "worked": str(int(r["tasked_days"])),
            "met": str(int(r["days_met"])),
            "delivered": fmt_minutes(r["delivered_minutes"]),
            "target": fmt_minutes(r["target_minutes"]),
            "share": fmt_share(r["minutes_ratio"]),
            "visits": str(int(r["n_visits"])),
            "koper": fmt_share(r["koper_share"]),
        }
        for r in t.to_dict("records")
    ]


#: the officer table's columns: id -> header
OFFICER_COLUMNS = [
    ("rank", "rank"),
    ("team", "team"),
    ("officer", "officer (pseudonym)"),
    ("days", "days"),
    ("delivered", "minutes delivered"),
    ("visits", "visits"),
    ("koper", "Koper-length visits"),
    ("met", "spot-days that met the target"),
]


def officer_rows(officers: pd.DataFrame) -> list[dict]:
    """The supervisor's officer rows as the page shows them (in rank order).

    ``officers`` is ``lake/patrol/supervisor/officer_dosage`` (pseudonyms only).
    """
    if not len(officers):
        return []
    return [
        {
            "rank": str(int(r["rank"])),
            "team": str(r["team"]),
            "officer": str(r["officer"]),
            "days": str(int(r["days"])),
            "delivered": fmt_minutes(r["delivered_minutes"]),
            "visits": str(int(r["n_visits"])),
            "koper": fmt_share(r["koper_share"]),
            "met": str(int(r["spot_days_met"])),
        }
        for r in officers.sort_values("rank").to_dict("records")
    ]


def _officer_panel(data: DashboardData, role: str | None):
    if not may_see_officers(role):
        return html.P(
            "The officer table is shown to supervisor roles only "
            f"({', '.join(SUPERVISOR_ROLES)}); you see team figures.",
            id="patrol-officers-refused",
        )
    return html.Div(
        [
            html.P(
                "Officers are pseudonymised keys; this table is for supervisors and "
                "is part of no export.",
            ),
            data_table("patrol-officers", OFFICER_COLUMNS, officer_rows(data.patrol["officers"])),
        ]
    )


def layout(data: DashboardData, ward: str | None, role: str | None):
    """The patrol compliance page: force per day, teams per day, officers for supervisors."""
    if not data.patrol:
        return html.P(
            "No patrol compliance yet (the patrol assets write lake/patrol; make run).",
            id="patrol-missing",
        )
    days = day_rows(data.patrol["spot_days"])
    total_target = days["target_minutes"].sum() if len(days) else 0
    summary = (
        f"{int(days['tasked'].sum()):,} tasked hot spot-days over {len(days)} days: "
        f"{int(days['visited'].sum()):,} visited, {int(days['met'].sum()):,} met the Koper "
        f"target; {fmt_minutes(days['delivered_minutes'].sum())} of "
        f"{fmt_minutes(total_target)} target minutes delivered "
        f"({fmt_share(days['delivered_minutes'].sum() / total_target)})."
        if total_target
        else "No hot spot was tasked with a target yet."
    )
    return html.Div(
        [
            html.H2("Patrol compliance against the Koper target", id="patrol-title"),
            html.P(summary, id="patrol-summary"),
            html.H3("Force area, per day"),
            data_table("patrol-days", DAY_COLUMNS, _day_table_rows(days)),
            html.H3("Per team and day"),
            html.P(
                "What each team's officers delivered on tasked hot spot-days: one row per "
                "officer and spot-day worked (two officers on one spot count twice)."
            ),
            data_table("patrol-teams", TEAM_COLUMNS, team_day_rows(data.patrol["team_day"])),
            html.H3("Officers by dosage delivered"),
            _officer_panel(data, role),
        ]
    )


VIEW = View(id="patrol", title="Patrol compliance", layout=layout, needs_ward=False)

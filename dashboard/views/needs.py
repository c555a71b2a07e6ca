"""The strategic needs assessment: rates per 1,000 with 95% intervals, for partners.

Reads the published needs pack (``exports/needs_pack/latest``, the partner export),
never the marts behind it: every count under 5 is already suppressed there (null,
``is_suppressed``) and shows here as ``<5`` with no rate or interval. Choices
(indicator, age band, area type, deprivation basis) are plain URL parameters set by
a GET form, so a view can be bookmarked and shared; the chosen ward, if any, is
highlighted in the area table. No personal data: the view holds no person-level row.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.data import DashboardData
from dashboard.views.base import View
from dashboard.views.tables import data_table
from vrdp.needs.view import INDICATORS, needs_view_data

__all__ = [
    "VIEW",
    "layout",
    "area_rows",
    "area_table_rows",
    "ae_table_rows",
    "needs_choices",
    "fmt_rate",
    "fmt_count",
]

AGE_BANDS = ("all", "0-9", "10-17", "18-24", "25+")
AREA_TYPES = {"ward": "Ward", "lsoa": "LSOA 2021"}
IMD_BASES = {"national": "IMD 2019 decile, national", "force": "IMD 2019 decile, within force"}


def needs_choices(query: dict | None) -> dict:
    """The view's choices from the page's URL parameters, unknown values replaced by defaults.

    >>> needs_choices({"indicator": "ae_assaults", "age_band": "x"})["age_band"]
    'all'
    >>> needs_choices(None)["indicator"]
    'violent_crimes'
    """
    q = query or {}

    def pick(key, allowed, default):
        v = q.get(key)
        return v if v in allowed else default

    return {
        "indicator": pick("indicator", INDICATORS, "violent_crimes"),
        "age_band": pick("age_band", AGE_BANDS, "all"),
        "area_type": pick("area_type", AREA_TYPES, "ward"),
        "imd_basis": pick("imd_basis", IMD_BASES, "national"),
    }


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def fmt_count(row: dict, key: str = "events") -> str:
    """A count as partners see it: ``<5`` when suppressed.

    >>> fmt_count({"events": None, "is_suppressed": True}), fmt_count({"events": 12})
    ('<5', '12')
    """
    if row.get("is_suppressed") or _blank(row.get(key)):
        return "<5"
    return f"{int(row[key]):,}"


def fmt_rate(row: dict, rate: str = "rate_per_1000", low="rate_ci95_low", high="rate_ci95_high"):
    """Rate and its interval as text ('' when suppressed).

    >>> fmt_rate({"rate_per_1000": 2.345, "rate_ci95_low": 1.5, "rate_ci95_high": 3.25})
    ('2.35', '1.50 to 3.25')
    """
    if row.get("is_suppressed") or _blank(row.get(rate)):
        return "", ""
    return f"{row[rate]:.2f}", f"{row[low]:.2f} to {row[high]:.2f}"


def _form(choice: dict, query: dict, ward: str | None) -> html.Form:
    def select(name, options):
        return html.Label(
            [
                f"{name.replace('_', ' ')}: ",
                html.Select(
                    [
                        html.Option(label, value=value, selected=value == choice[name])
                        for value, label in options.items()
                    ],
                    name=name,
                    id=f"needs-{name}",
                ),
            ],
            style={"marginRight": "1em"},
        )

    hidden = [
        dcc.Input(type="hidden", name=k, value=v, id=f"needs-keep-{k}")
        for k, v in (("token", query.get("token")), ("ward", ward))
        if v
    ]
    return html.Form(
        [
            select("indicator", INDICATORS),
            select("age_band", {b: b for b in AGE_BANDS}),
            select("area_type", AREA_TYPES),
            select("imd_basis", IMD_BASES),
            *hidden,
            html.Button("Show", type="submit", id="needs-show"),
        ],
        method="get",
        action="/needs",
        id="needs-form",
    )


#: the area table's columns: id -> header
AREA_COLUMNS = [
    ("area_code", "area code"),
    ("area_name", "area"),
    ("count", "count"),
    ("residents", "residents"),
    ("rate", "rate per 1,000"),
    ("ci", "95% CI"),
    ("imd_national", "IMD decile (national)"),
    ("imd_force", "IMD decile (force)"),
]


def area_table_rows(rows: list[dict]) -> list[dict]:
    """The area rows as the page shows them (text; ``<5`` and no rate when suppressed)."""
    out = []
    for r in rows:
        rate, ci = fmt_rate(r)
        out.append(
            {
                "area_code": r["area_code"],
                "area_name": r.get("area_name") or "",
                "count": fmt_count(r),
                "residents": "" if _blank(r.get("population")) else f"{r['population']:,.0f}",
                "rate": rate,
                "ci": ci,
                "imd_national": ""
                if _blank(r.get("imd_decile_national"))
                else str(int(r["imd_decile_national"])),
                "imd_force": ""
                if _blank(r.get("imd_decile_force"))
                else str(int(r["imd_decile_force"])),
            }
        )
    return out


def _deprivation_chart(rows: list[dict], basis: str) -> go.Figure:
    shown = [r for r in rows if not r["is_suppressed"] and not _blank(r["rate_per_1000"])]
    fig = go.Figure(
        go.Bar(
            x=[r["imd_decile"] for r in shown],
            y=[r["rate_per_1000"] for r in shown],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [r["rate_ci95_high"] - r["rate_per_1000"] for r in shown],
                "arrayminus": [r["rate_per_1000"] - r["rate_ci95_low"] for r in shown],
            },
            marker={"color": "#4575b4"},
            name="rate per 1,000",
        )
    )
    fig.update_layout(
        height=300,
        margin={"l": 50, "r": 10, "t": 10, "b": 40},
        xaxis={"title": f"{IMD_BASES[basis]} (1 = most deprived)", "dtick": 1},
        yaxis={"title": "rate per 1,000 (95% CI)"},
    )
    return fig


def _deprivation_table(rows: list[dict]) -> html.Table:
    head = ["IMD decile", "count", "residents", "rate per 1,000", "95% CI"]
    body = []
    for r in rows:
        rate, ci = fmt_rate(r)
        pop = "" if _blank(r.get("population")) else f"{r['population']:,.0f}"
        cells = (r["imd_decile"], fmt_count(r), pop, rate, ci)
        body.append(html.Tr([html.Td(str(c)) for c in cells]))
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
        id="needs-deprivation",
        className="vrdp-table",
    )


AE_COLUMNS = [
    ("area_code", "area code"),
    ("area_name", "area"),
    ("count", "A&E assaults located"),
    ("share", "share not in police records"),
    ("ci", "95% CI"),
]


def ae_table_rows(rows: list[dict]) -> list[dict]:
    """The A&E rows as the page shows them (a share only when both parts are 5 or more)."""
    out = []
    for r in rows:
        if r.get("is_suppressed") or _blank(r.get("share_not_in_police_records")):
            share, ci = "suppressed (<5)", ""
        else:
            share = f"{100 * r['share_not_in_police_records']:.0f}%"
            ci = f"{100 * r['share_ci95_low']:.0f}% to {100 * r['share_ci95_high']:.0f}%"
        out.append(
            {
                "area_code": r["area_code"],
                "area_name": r.get("area_name") or "",
                "count": fmt_count(r, "ae_assaults_located"),
                "share": share,
                "ci": ci,
            }
        )
    return out


def layout(data: DashboardData, ward: str | None, role: str | None, query: dict | None = None):
    """The needs page: choices, force figure, areas, deprivation gradient, A&E share."""
    if not data.needs:
        return html.P(
            "The needs pack is not published yet (make run builds exports/needs_pack).",
            id="needs-missing",
        )
    choice = needs_choices(query)
    t = data.needs
    view = needs_view_data(
        t["needs_area_rates"], t["needs_deprivation_rates"], t["needs_ae_unreported"], **choice
    )
    manifest = data.needs_manifest
    period = view["period"] or {}
    force = view["force"]
    if force:
        rate, ci = fmt_rate(force)
        force_text = f"Force area: {fmt_count(force)} in the period; {rate} per 1,000 ({ci})"
        if not rate:
            force_text = f"Force area: {fmt_count(force)} in the period (rate suppressed)"
    else:
        force_text = "Force area: no figure for this choice."
    bases = (manifest.get("lawful_bases") or {}).get("sources", [])
    basis_text = "; ".join(f"{b['source']} ({b['owner']}): {b['basis']}" for b in bases)
    return html.Div(
        [
            html.H2(view["title"], id="needs-title", **{"data-indicator": choice["indicator"]}),
            html.P(
                f"Period {str(period.get('period_start', '?'))[:10]} to "
                f"{str(period.get('period_end', '?'))[:10]}; "
                f"needs pack version {manifest.get('version', '?')}.",
                id="needs-period",
            ),
            _form(choice, query or {}, ward),
            html.P(force_text, id="needs-force"),
            html.Ul([html.Li(n) for n in view["notes"]], id="needs-notes"),
            html.H3("By deprivation decile"),
            dcc.Graph(
                id="needs-deprivation-chart",
                figure=_deprivation_chart(view["deprivation"], choice["imd_basis"]),
                config={"displayModeBar": False},
            ),
            _deprivation_table(view["deprivation"]),
            html.H3(f"By {AREA_TYPES.get(choice['area_type'], choice['area_type'])}"),
            data_table(
                "needs-areas", AREA_COLUMNS, area_table_rows(view["areas"]), highlight_area=ward
            ),
            html.H3("A&E-treated violence that never reaches police records"),
            data_table(
                "needs-ae", AE_COLUMNS, ae_table_rows(view["ae_unreported"]), highlight_area=ward
            ),
            html.P(
                f"Lawful bases of the sources: {basis_text or 'not recorded'}", id="needs-bases"
            ),
        ]
    )


def area_rows(data: DashboardData, **choice) -> pd.DataFrame:
    """The area rows the page shows for ``choice`` (for tests and notebooks)."""
    t = data.needs
    view = needs_view_data(
        t["needs_area_rates"], t["needs_deprivation_rates"], t["needs_ae_unreported"], **choice
    )
    return pd.DataFrame(view["areas"])


VIEW = View(
    id="needs",
    title="Strategic needs assessment",
    layout=layout,
    needs_ward=False,
    takes_query=True,
)

"""The serious violence overview, for a violence reduction unit and senior leaders.

Force-wide, per local authority district and per ward (May 2025), from the
warehouse's partner-facing marts ``serious_violence_area_trend`` (the last 12 whole
months against the 12 before) and ``serious_violence_area_monthly`` (24 months):
police-recorded serious violence (homicide, violence with injury, robbery,
possession of weapons; knife crimes where the offence code flags them), A&E
attendances for assault (ISTV), and victims and suspects under 25, as counts and
rates per 1,000 residents. The share of A&E-treated violence that never reaches
police records comes from the published needs pack (``needs_ae_unreported``).

Every count of 1 to 4 is already null in the marts (``is_suppressed``) and shows
here as ``<5``, with no rate or change. The view holds no person-level row, so any
role may open it. The district is a URL parameter (``?district=<LAD code>``, set by
a GET form, so a view can be bookmarked); the ward comes from the dashboard's ward
picker and also selects its district.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dashboard.data import DashboardData
from dashboard.views.base import View
from dashboard.views.tables import data_table

__all__ = [
    "VIEW",
    "MEASURES",
    "MONTHLY_MEASURES",
    "layout",
    "chosen_areas",
    "trend_rows",
    "monthly_rows",
    "area_rows",
    "ae_share_rows",
    "area_names",
    "data_from",
    "fmt_count",
    "fmt_rate",
    "fmt_change",
]

#: every measure of the marts, in the order the trend tables list them, with its label
MEASURES = {
    "serious_violence_crimes": "Serious violence crimes (police recorded)",
    "homicide": "of which homicide",
    "violence_with_injury": "of which violence with injury",
    "robbery": "of which robbery",
    "possession_of_weapons": "of which possession of weapons",
    "knife_crimes": "Knife or blade crimes (flagged by offence code)",
    "ae_assaults": "A&E attendances for assault (ISTV)",
    "ae_knife_assaults": "of which by knife or sharp object",
    "victims_under_25": "Victims under 25 (people)",
    "suspects_under_25": "Suspects under 25 (people)",
}
#: the measures of the monthly table and chart
MONTHLY_MEASURES = (
    "serious_violence_crimes",
    "knife_crimes",
    "ae_assaults",
    "ae_knife_assaults",
    "victims_under_25",
    "suspects_under_25",
)
#: shown for a measure whose source has no record in the period (e.g. no A&E delivery)
NO_RECORDS = "no records"
AREA_LABELS = {"force": "Force area", "lad": "District", "ward": "Ward"}

DEFINITION = (
    "Serious violence here is police-recorded homicide, violence with injury (less "
    "the driving offences), robbery and possession of weapons, by Home Office offence "
    "code. Knife crimes are the crimes whose code flags a blade or knife (10D, 90): "
    "the force's records carry no weapon flag, so knife-enabled violence and robbery "
    "are not counted apart. A&E attendances for assault (ISTV) are counted apart. "
    "Victims and suspects under 25 are distinct people linked to a serious violence "
    "crime, aged under 25 on the day. Rates are per 1,000 residents (residents under "
    "25 for the under-25 measures). Counts of 1 to 4 are suppressed (<5)."
)


def _blank(v) -> bool:
    """None, NaN, NA or NaT."""
    return v is None or (not isinstance(v, str | list | tuple | dict) and bool(pd.isna(v)))


def fmt_count(v) -> str:
    """A published count, ``<5`` when the mart suppressed it (null).

    >>> fmt_count(None), fmt_count(0), fmt_count(1234.0)
    ('<5', '0', '1,234')
    """
    return "<5" if _blank(v) else f"{int(v):,}"


def fmt_rate(rate, low=None, high=None) -> str:
    """A rate per 1,000 with its 95% interval ('' when suppressed).

    >>> fmt_rate(2.345, 1.5, 3.25), fmt_rate(None), fmt_rate(0.5), fmt_rate(0.0, -1e-17, 0.002)
    ('2.35 (1.50 to 3.25)', '', '0.50', '0.00 (0.00 to 0.00)')
    """
    if _blank(rate):
        return ""
    if _blank(low) or _blank(high):
        return f"{rate:.2f}"
    # a Wilson bound at a count of 0 can come out as -1e-17: show it as 0
    return f"{rate:.2f} ({max(low, 0.0):.2f} to {high:.2f})"


def fmt_change(change, share) -> str:
    """The change against the previous 12 months ('' unless both counts are published).

    >>> fmt_change(12, 0.15), fmt_change(-3, None), fmt_change(None, None), fmt_change(0, None)
    ('+12 (+15%)', '-3', '', '0')
    """
    if _blank(change):
        return ""
    text = f"{int(change):+,}" if int(change) else "0"
    return text if _blank(share) else f"{text} ({100 * share:+.0f}%)"


def area_names(data: DashboardData) -> tuple[dict, dict]:
    """Ward and district names by code (reference seed)."""
    areas = data.violence.get("areas", pd.DataFrame())
    if areas.empty:
        return {}, {}
    wards = dict(zip(areas["ward_code"], areas["ward_name"], strict=True))
    lads = dict(zip(areas["lad_code"], areas["lad_name"], strict=False))
    return wards, lads


def chosen_areas(data: DashboardData, ward: str | None, query: dict | None) -> dict:
    """The areas the page shows: the force, a district and a ward, each when known.

    A ward from the picker sets its district; otherwise ``?district=`` does. An
    unknown code is ignored. Returns ``{"force": "force", "lad": code?, "ward": code?}``.
    """
    trend = data.violence["trend"]
    wards = trend[trend["area_type"] == "ward"].set_index("area_code")["parent_code"]
    wards = wards[~wards.index.duplicated()]
    lads = set(trend.loc[trend["area_type"] == "lad", "area_code"])
    out = {"force": "force"}
    if ward in wards.index:
        out["ward"] = ward
        out["lad"] = wards[ward]
    elif (query or {}).get("district") in lads:
        out["lad"] = query["district"]
    return out


def trend_rows(trend: pd.DataFrame, area_type: str, area_code: str) -> list[dict]:
    """One area's measures as the page shows them: last 12 months, previous 12, change."""
    t = trend[(trend["area_type"] == area_type) & (trend["area_code"] == area_code)]
    by = t.set_index("measure")
    out = []
    for m, label in MEASURES.items():
        if m not in by.index:
            continue
        r = by.loc[m]
        if _blank(r["data_from"]):  # no record of the measure's source at all
            out.append(
                {
                    "measure": m,
                    "label": label,
                    "last_12": NO_RECORDS,
                    "rate_last_12": "",
                    "previous_12": NO_RECORDS,
                    "rate_previous_12": "",
                    "change": "",
                }
            )
            continue
        covered = bool(r["is_previous_covered"])
        out.append(
            {
                "measure": m,
                "label": label,
                "last_12": fmt_count(r["events_last_12"]),
                "rate_last_12": fmt_rate(
                    r["rate_per_1000_last_12"],
                    r["rate_ci95_low_last_12"],
                    r["rate_ci95_high_last_12"],
                ),
                "previous_12": fmt_count(r["events_previous_12"])
                if covered
                else f"records from {str(r['data_from'])[:7]} only",
                "rate_previous_12": fmt_rate(r["rate_per_1000_previous_12"]) if covered else "",
                "change": fmt_change(r["change_in_events"], r["change_share"]),
            }
        )
    return out


TREND_HEAD = (
    "measure",
    "last 12 months",
    "rate per 1,000 (95% CI)",
    "previous 12 months",
    "rate per 1,000",
    "change",
)


def _trend_table(rows: list[dict], table_id: str) -> html.Table:
    keys = ("label", "last_12", "rate_last_12", "previous_12", "rate_previous_12", "change")
    body = [html.Tr([html.Td(r[k]) for k in keys], **{"data-measure": r["measure"]}) for r in rows]
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in TREND_HEAD])), html.Tbody(body)],
        id=table_id,
        className="vrdp-table",
    )


def monthly_rows(
    monthly: pd.DataFrame, area_type: str, area_code: str, data_from: dict | None = None
) -> list[dict]:
    """One area's months (oldest first): a ``<5``-or-count text per monthly measure.

    ``data_from`` (measure -> first month of its source's records, from the trend
    mart) blanks the months before a measure's records start ('' rather than 0).
    """
    data_from = data_from or {}
    t = monthly[
        (monthly["area_type"] == area_type)
        & (monthly["area_code"] == area_code)
        & monthly["measure"].isin(MONTHLY_MEASURES)
    ]
    wide = t.pivot(index="month_start", columns="measure", values="events").sort_index()
    out = []
    for month, r in wide.iterrows():
        row = {"month": str(pd.Timestamp(month).date())[:7]}
        for m in MONTHLY_MEASURES:
            start = data_from.get(m)
            before = _blank(start) or pd.Timestamp(month) < pd.Timestamp(start)
            row[m] = "" if m not in r or before else fmt_count(r[m])
        out.append(row)
    return out


def _monthly_chart(
    monthly: pd.DataFrame, area_type: str, area_code: str, starts: dict
) -> go.Figure:
    t = monthly[(monthly["area_type"] == area_type) & (monthly["area_code"] == area_code)]
    fig = go.Figure()
    for m in ("serious_violence_crimes", "ae_assaults", "knife_crimes"):
        if _blank(starts.get(m)):  # no record of the measure's source: no line
            continue
        s = t[(t["measure"] == m) & (t["month_start"] >= starts[m])].sort_values("month_start")
        # a suppressed month is a gap, never a zero
        fig.add_trace(
            go.Scatter(
                x=[str(pd.Timestamp(v).date()) for v in s["month_start"]],
                y=[None if _blank(v) else int(v) for v in s["events"]],
                mode="lines+markers",
                name=MEASURES[m],
                connectgaps=False,
            )
        )
    fig.update_layout(
        height=320,
        margin={"l": 50, "r": 10, "t": 10, "b": 40},
        yaxis={"title": "count per month (gaps: <5)", "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def data_from(trend: pd.DataFrame) -> dict:
    """Measure -> first month of its source's records (the trend mart's ``data_from``)."""
    force = trend[trend["area_type"] == "force"]
    return dict(zip(force["measure"], force["data_from"], strict=True))


AREA_COLUMNS = [
    ("area_code", "code"),
    ("area_name", "name"),
    ("sv_last_12", "serious violence, last 12 months"),
    ("sv_rate", "rate per 1,000 (95% CI)"),
    ("sv_previous_12", "previous 12 months"),
    ("sv_change", "change"),
    ("knife_last_12", "knife crimes, last 12 months"),
    ("ae_last_12", "A&E assaults, last 12 months"),
    ("ae_rate", "A&E rate per 1,000"),
]


def area_rows(
    trend: pd.DataFrame, area_type: str, names: dict, parent: str | None = None
) -> list[dict]:
    """Districts (or the wards of ``parent``) as the page shows them, highest rate first.

    Suppressed areas come last (their rate is not published).
    """
    t = trend[trend["area_type"] == area_type]
    if parent is not None:
        t = t[t["parent_code"] == parent]
    by = {m: t[t["measure"] == m].set_index("area_code") for m in MEASURES}
    sv = by["serious_violence_crimes"].sort_values(
        ["rate_per_1000_last_12", "area_code"], ascending=[False, True], na_position="last"
    )
    out = []
    for code, r in sv.iterrows():
        knife = by["knife_crimes"].loc[code] if code in by["knife_crimes"].index else None
        ae = by["ae_assaults"].loc[code] if code in by["ae_assaults"].index else None
        out.append(
            {
                "area_code": code,
                "area_name": names.get(code, ""),
                "sv_last_12": fmt_count(r["events_last_12"]),
                "sv_rate": fmt_rate(
                    r["rate_per_1000_last_12"],
                    r["rate_ci95_low_last_12"],
                    r["rate_ci95_high_last_12"],
                ),
                "sv_previous_12": fmt_count(r["events_previous_12"]),
                "sv_change": fmt_change(r["change_in_events"], r["change_share"]),
                "knife_last_12": "" if knife is None else fmt_count(knife["events_last_12"]),
                "ae_last_12": _ae_text(
                    ae, fmt_count(ae["events_last_12"]) if ae is not None else ""
                ),
                "ae_rate": _ae_text(
                    ae, fmt_rate(ae["rate_per_1000_last_12"]) if ae is not None else "", ""
                ),
            }
        )
    return out


def _ae_text(row, text: str, missing: str = NO_RECORDS) -> str:
    """``text``, or ``missing`` when there is no A&E record at all (no ISTV delivery)."""
    if row is None:
        return ""
    return missing if _blank(row["data_from"]) else text


def ae_share_rows(ae: pd.DataFrame, codes: list[str]) -> list[dict]:
    """The needs pack's share of A&E-treated violence not in police records, for ``codes``.

    ``ae`` is the published ``needs_ae_unreported`` (already suppressed: a share only
    when both its parts are 5 or more); ``codes`` are ``force`` and ward codes.
    """
    if ae is None or ae.empty:
        return []
    by = ae.set_index("area_code")
    out = []
    for code in codes:
        if code not in by.index:
            continue
        r = by.loc[code]
        if bool(r["is_suppressed"]) or _blank(r["share_not_in_police_records"]):
            share, ci = "suppressed (<5)", ""
        else:
            share = f"{100 * r['share_not_in_police_records']:.0f}%"
            ci = f"{100 * r['share_ci95_low']:.0f}% to {100 * r['share_ci95_high']:.0f}%"
        out.append(
            {
                "area_code": code,
                "attendances": fmt_count(r["ae_assaults_located"]),
                "share": share,
                "ci": ci,
            }
        )
    return out


def _ae_share(data: DashboardData, areas: dict, ward_names: dict):
    ae = (data.needs or {}).get("needs_ae_unreported")
    rows = ae_share_rows(ae, [c for c in (areas.get("force"), areas.get("ward")) if c])
    if not rows:
        return html.P(
            "The needs pack is not published yet (make run builds exports/needs_pack): "
            "the share of A&E-treated violence not in police records comes from it.",
            id="sv-ae-share-missing",
        )
    head = ["area", "A&E assaults located", "not in police records", "95% CI"]
    body = [
        html.Tr(
            [
                html.Td(
                    "Force area"
                    if r["area_code"] == "force"
                    else ward_names.get(r["area_code"], "")
                ),
                html.Td(r["attendances"]),
                html.Td(r["share"]),
                html.Td(r["ci"]),
            ],
            **{"data-area": r["area_code"]},
        )
        for r in rows
    ]
    period = ""
    if ae is not None and len(ae):
        period = (
            f" Needs pack period {str(ae['period_start'].iloc[0])[:10]} to "
            f"{str(ae['period_end'].iloc[0])[:10]}; the pack gives wards and LSOAs, "
            "not districts."
        )
    return html.Div(
        [
            html.P(
                "An attendance reached the police when a violent crime or violence call "
                "was recorded within 300 m and 3 hours of it." + period
            ),
            html.Table(
                [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
                id="sv-ae-share",
                className="vrdp-table",
            ),
        ]
    )


def _district_form(lads: list[str], lad_names: dict, chosen: str | None, query: dict):
    hidden = (
        [dcc.Input(type="hidden", name="token", value=query["token"], id="sv-keep-token")]
        if query.get("token")
        else []
    )
    options = [html.Option("Force area only", value="", selected=chosen is None)] + [
        html.Option(f"{lad_names.get(c, c)} ({c})", value=c, selected=c == chosen)
        for c in sorted(lads, key=lambda c: lad_names.get(c, c))
    ]
    return html.Form(
        [
            html.Label(["District: ", html.Select(options, name="district", id="sv-district")]),
            *hidden,
            html.Button("Show", type="submit", id="sv-show"),
            html.Span(" or choose a ward above (it selects its district)."),
        ],
        method="get",
        action="/violence",
        id="sv-form",
    )


def layout(data: DashboardData, ward: str | None, role: str | None, query: dict | None = None):
    """The serious violence page: trend tables, monthly chart and table, areas, A&E share."""
    if not data.violence or data.violence["trend"].empty:
        return html.P(
            "The serious violence marts are not built yet (make run builds "
            "marts.serious_violence_area_trend).",
            id="sv-missing",
        )
    query = query or {}
    trend, monthly = data.violence["trend"], data.violence["monthly"]
    ward_names, lad_names = area_names(data)
    areas = chosen_areas(data, ward, query)
    first = trend.iloc[0]
    before_last = pd.Timestamp(first["last_start"]) - pd.DateOffset(months=1)
    previous = f"{str(first['previous_start'])[:7]} to {str(before_last)[:7]}"
    last = f"{str(first['last_start'])[:7]} to {str(first['period_end'])[:7]}"
    names = {"force": "Force area", **lad_names, **ward_names}
    trend_sections = []
    for level in ("force", "lad", "ward"):
        code = areas.get(level)
        if not code:
            continue
        title = f"{AREA_LABELS[level]}: {names.get(code, code)}" + (
            f" ({code})" if level != "force" else ""
        )
        trend_sections += [
            html.H3(title, id=f"sv-title-{level}", **{"data-area": code}),
            _trend_table(trend_rows(trend, level, code), f"sv-trend-{level}"),
        ]
    focus = "ward" if "ward" in areas else "lad" if "lad" in areas else "force"
    focus_code = areas[focus]
    lads = sorted(set(trend.loc[trend["area_type"] == "lad", "area_code"]))
    lad = areas.get("lad")
    ward_section = (
        [
            html.H3(f"Wards of {lad_names.get(lad, lad)}"),
            data_table(
                "sv-wards",
                AREA_COLUMNS,
                area_rows(trend, "ward", ward_names, parent=lad),
                highlight_area=areas.get("ward"),
                filterable=False,
            ),
        ]
        if lad
        else []
    )
    return html.Div(
        [
            html.H2("Serious violence overview", id="sv-heading"),
            html.P(
                f"Last 12 months {last} against the previous 12 months {previous} (whole months).",
                id="sv-period",
            ),
            html.P(DEFINITION, id="sv-definition"),
            _district_form(lads, lad_names, lad, query),
            html.H3("Last 12 months against the previous 12"),
            *trend_sections,
            html.H3(f"By month: {names.get(focus_code, focus_code)}"),
            dcc.Graph(
                id="sv-monthly-chart",
                figure=_monthly_chart(monthly, focus, focus_code, data_from(trend)),
                config={"displayModeBar": False},
            ),
            data_table(
                "sv-monthly",
                [("month", "month")] + [(m, MEASURES[m]) for m in MONTHLY_MEASURES],
                monthly_rows(monthly, focus, focus_code, data_from(trend))[::-1],
                filterable=False,
            ),
            html.H3("A&E-treated violence that never reaches police records"),
            _ae_share(data, areas, ward_names),
            html.H3("Districts"),
            data_table(
                "sv-districts",
                AREA_COLUMNS,
                area_rows(trend, "lad", lad_names),
                highlight_area=lad,
                filterable=False,
            ),
            *ward_section,
        ]
    )


VIEW = View(
    id="violence",
    title="Serious violence",
    layout=layout,
    needs_ward=False,
    takes_query=True,
)

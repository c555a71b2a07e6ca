"""Serious organised crime by ward: map, counts, trends, alarms, CHB and disruption.

The restricted exploitation panel is built only for roles allowed to see it.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import shapely
from dash import dcc, html

from dashboard.auth import may_see_restricted
from dashboard.data import DashboardData, suppress
from dashboard.views.base import View

__all__ = ["VIEW", "ward_summary"]


def ward_summary(data: DashboardData, ward: str) -> pd.DataFrame:
    """SOC crimes, incidents and intelligence per category of a ward, over all months.

    The figures the page shows (the test compares them with the mart).
    """
    m = data.monthly[data.monthly["ward_code"] == ward]
    cols = ["crimes", "incidents", "intelligence_logs", "soc_events"]
    out = m.groupby("soc_category", sort=True)[cols].sum().reset_index()
    pop = m["population"].iloc[0] if len(m) else 0
    out["per_1000"] = (1000.0 * out["soc_events"] / pop).round(2) if pop else None
    return out


def _map(data: DashboardData, ward: str) -> go.Figure:
    fig = go.Figure()
    for ring in data.ward_shapes.get(ward, []):
        fig.add_trace(
            go.Scatter(
                x=[p[0] for p in ring],
                y=[p[1] for p in ring],
                mode="lines",
                line={"color": "#333", "width": 2},
                name="ward",
                showlegend=False,
            )
        )
    chb = data.chb[data.chb["ward_code"] == ward] if len(data.chb) else data.chb
    for _, site in chb.drop_duplicates("site_id").iterrows() if len(chb) else []:
        poly = shapely.from_wkt(site["polygon_wkt"])
        geoms = getattr(poly, "geoms", [poly])
        for g in geoms:
            xs, ys = g.exterior.xy
            fig.add_trace(
                go.Scatter(
                    x=list(xs),
                    y=list(ys),
                    mode="lines",
                    fill="toself",
                    line={"color": "#7b3294"},
                    opacity=0.35,
                    name=f"CHB {site['site_id']}",
                )
            )
    ev = data.soc_events
    intel = ev[(ev["ward_code"] == ward) & (ev["event_type"] == "intelligence")].dropna(
        subset=["longitude"]
    )
    fig.add_trace(
        go.Scatter(
            x=intel["longitude"],
            y=intel["latitude"],
            mode="markers",
            marker={"size": 6, "color": "#e66101"},
            name=f"intelligence ({len(intel)})",
        )
    )
    if len(data.hotspots) and {"latitude", "longitude"} <= set(data.hotspots.columns):
        hs = data.hotspots
        if "ward_code" in hs:
            hs = hs[hs["ward_code"] == ward]
        else:  # hot spot cells whose centre lies in the ward
            shape = shapely.MultiPolygon(
                [shapely.Polygon(r) for r in data.ward_shapes.get(ward, [])]
            )
            inside = shapely.contains_xy(shape, hs["longitude"], hs["latitude"])
            hs = hs[inside]
        fig.add_trace(
            go.Scatter(
                x=hs["longitude"],
                y=hs["latitude"],
                mode="markers",
                marker={"size": 12, "symbol": "square", "color": "#d7191c"},
                name=f"hot spots ({len(hs)})",
            )
        )
    d = data.disruptions
    d = d[d["ward_code"] == ward] if len(d) else d
    if len(d):
        fig.add_trace(
            go.Scatter(
                x=d["longitude"],
                y=d["latitude"],
                mode="markers",
                marker={"size": 8, "symbol": "x", "color": "#2c7bb6"},
                name=f"disruptions ({len(d)})",
            )
        )
    fig.update_layout(
        height=420,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x", "scaleratio": 1.6},
        legend={"orientation": "h"},
        plot_bgcolor="#f4f4f4",
    )
    return fig


def _trend(data: DashboardData, ward: str) -> go.Figure:
    m = data.monthly[data.monthly["ward_code"] == ward]
    fig = go.Figure()
    for cat, g in m.groupby("soc_category", sort=True):
        if g["soc_events"].sum() == 0:
            continue
        fig.add_trace(go.Scatter(x=g["period_start"], y=g["soc_events"], name=cat, mode="lines"))
    fig.update_layout(height=300, margin={"l": 40, "r": 10, "t": 10, "b": 30})
    return fig


def _table(df: pd.DataFrame, table_id: str) -> html.Table:
    head = html.Tr([html.Th(c) for c in df.columns])
    rows = [html.Tr([html.Td(str(v)) for v in r]) for r in df.itertuples(index=False)]
    return html.Table([html.Thead(head), html.Tbody(rows)], id=table_id, className="vrdp-table")


def _restricted(data: DashboardData, ward: str, role: str | None):
    if not may_see_restricted(role):
        return html.Div(
            f"Restricted panel (exploitation links): not available to the {role or 'anonymous'} "
            "role.",
            id="restricted-refused",
            className="vrdp-refused",
        )
    ex = data.exploitation
    if ex is None:
        return html.Div("Exploitation links are not built yet.", id="restricted-panel")
    e = ex[ex["ward_code"] == ward]
    v = int(e["victims"].sum()) if len(e) else 0
    p = int(e["perpetrators"].sum()) if len(e) else 0
    return html.Div(
        [
            html.H4("CCE/CSE exploitation links (counts only; victims and perpetrators apart)"),
            html.P(f"Victims linked to the ward: {suppress(v)}", id="exploitation-victims"),
            html.P(f"Perpetrators linked to the ward: {suppress(p)}", id="exploitation-perps"),
        ],
        id="restricted-panel",
    )


def layout(data: DashboardData, ward: str | None, role: str | None):
    """The SOC ward page for ``ward`` (a prompt when none is chosen)."""
    if not ward:
        return html.P("Choose a ward.")
    w = data.wards[data.wards["ward_code"] == ward]
    name = w["ward_name"].iloc[0] if len(w) else ward
    summary = ward_summary(data, ward)
    pop = int(w["population"].iloc[0]) if len(w) else 0
    decile = w["imd_decile"].iloc[0] if len(w) else "?"
    total = int(summary["soc_events"].sum()) if len(summary) else 0
    al = data.alarms
    if len(al):
        al = al[(al["ward_code"] == ward) & al["is_default"]].sort_values(
            "week_start", ascending=False
        )
        al = al.assign(
            week_start=al["week_start"].astype(str).str[:10],
            expected=al["expected"].round(2),
            upper_bound=al["upper_bound"].round(2),
        )[["week_start", "soc_category", "method", "observed", "expected", "upper_bound"]]
    ov = data.overlay
    ov = ov[ov["ward_code"] == ward] if len(ov) else ov
    if len(ov):
        ov = ov.assign(month_start=ov["month_start"].astype(str).str[:7])[
            [
                "month_start",
                "disruptions",
                "major_disruptions",
                "linked_ocgs",
                "soc_events_3m_before",
                "soc_events_3m_after",
            ]
        ]
    chb = data.chb[data.chb["ward_code"] == ward] if len(data.chb) else data.chb
    if len(chb):
        chb = chb[["site_id", "site_name", "phase", "phase_start", "phase_end", "lead"]].astype(str)
    return html.Div(
        [
            html.H2(name, id="ward-name", **{"data-ward": ward}),
            html.P(
                f"SOC events recorded: {total}  |  population {pop:,}  |  IMD decile {decile}",
                id="ward-total",
                **{"data-total": str(total)},
            ),
            dcc.Graph(id="soc-map", figure=_map(data, ward), config={"displayModeBar": False}),
            html.H3("SOC crimes, incidents and intelligence by category"),
            _table(summary, "soc-summary"),
            html.H3("Monthly trend"),
            dcc.Graph(id="soc-trend", figure=_trend(data, ward), config={"displayModeBar": False}),
            html.H3("Early-warning alarms (default detector)"),
            _table(al.head(20), "soc-alarms") if len(al) else html.P("No alarms.", id="soc-alarms"),
            html.H3("Clear-Hold-Build"),
            _table(chb, "soc-chb") if len(chb) else html.P("No CHB site.", id="soc-chb"),
            html.H3("Disruption activity (SOC events 3 months before / after)"),
            _table(ov, "soc-disruption") if len(ov) else html.P("None.", id="soc-disruption"),
            html.H3("Restricted"),
            _restricted(data, ward, role),
        ]
    )


VIEW = View(id="soc", title="Serious organised crime by ward", layout=layout)

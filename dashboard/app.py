"""The Dash app: ward picker, view menu and the chosen view, served with local assets."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlencode

import dash
from dash import Input, Output, dcc, html

from dashboard.auth import role_of
from dashboard.data import load
from dashboard.views import VIEWS

__all__ = ["create_app"]


def _menu(token: str | None) -> list:
    """One link per view, keeping the viewer's token (moving between views keeps the role)."""
    keep = f"?{urlencode({'token': token})}" if token else ""
    return [
        dcc.Link(v.title, href=f"/{v.id}{keep}", className="vrdp-nav", style={"marginRight": "1em"})
        for v in VIEWS
    ]


def create_app(data_root: Path | None = None) -> dash.Dash:
    """The dashboard for ``data_root`` (default: ``VRDP_DATA_ROOT``).

    Scripts and styles are served by the app itself (``serve_locally``), so the
    page works with no internet; ``?ward=<code>&token=<token>`` choose the ward and
    the viewer.
    """
    if data_root is None:
        from config.settings import settings

        data_root = settings().data_root
    app = dash.Dash(
        __name__,
        serve_locally=True,
        title="vrdp ward dashboard",
        suppress_callback_exceptions=True,
        update_title=None,
    )
    app.layout = html.Div(
        [
            dcc.Location(id="url"),
            html.H1("Violence reduction: ward dashboard"),
            html.Nav(_menu(None), id="menu"),
            dcc.Dropdown(id="ward-picker", placeholder="Choose a ward", clearable=False),
            html.Div(id="page", **{"data-ready": "no"}),
        ],
        style={"fontFamily": "sans-serif", "margin": "1em"},
    )

    @app.callback(Output("menu", "children"), Input("url", "search"))
    def _nav(search):
        return _menu(parse_qs((search or "").lstrip("?")).get("token", [None])[0])

    @app.callback(
        Output("ward-picker", "options"), Output("ward-picker", "value"), Input("url", "search")
    )
    def _wards(search):
        data = load(Path(data_root))
        opts = [
            {"label": f"{r.ward_name} ({r.ward_code})", "value": r.ward_code}
            for r in data.wards.itertuples()
        ]
        ward = parse_qs((search or "").lstrip("?")).get("ward", [None])[0]
        return opts, ward

    @app.callback(
        Output("page", "children"),
        Output("page", "data-ready"),
        Input("ward-picker", "value"),
        Input("url", "pathname"),
        Input("url", "search"),
    )
    def _page(ward, path, search):
        params = {k: v[0] for k, v in parse_qs((search or "").lstrip("?")).items()}
        token = params.get("token")
        role = role_of(token)
        view = next((v for v in VIEWS if f"/{v.id}" == (path or "/")), VIEWS[0])
        data = load(Path(data_root))
        who = html.P(f"Signed in as: {role or 'no role (add ?token=...)'}", id="who")
        extra = {"query": params} if view.takes_query else {}
        return [who, view.layout(data, ward, role, **extra)], "yes"

    return app

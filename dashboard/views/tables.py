"""The paged, sortable table every dashboard view draws its area and day tables with."""

from __future__ import annotations

from dash import dash_table

__all__ = ["PAGE_SIZE", "data_table"]

#: rows per page of a table (a DataTable draws one page at a time: a ward or LSOA table
#: as plain HTML components is thousands of them and slow to draw)
PAGE_SIZE = 40


def data_table(
    table_id: str,
    columns: list[tuple[str, str]],
    rows: list[dict],
    *,
    highlight_area: str | None = None,
    filterable: bool = True,
):
    """A DataTable of ``rows`` with ``columns`` (id, header), ``PAGE_SIZE`` rows a page.

    ``highlight_area``: the row whose ``area_code`` is that code is drawn bold on
    yellow (the chosen ward or district); ``filterable`` adds the column filters.
    """
    extra: dict = {"filter_action": "native"} if filterable else {}
    if highlight_area is not None:
        extra["style_data_conditional"] = (
            [
                {
                    "if": {"filter_query": f'{{area_code}} = "{highlight_area}"'},
                    "fontWeight": "bold",
                    "backgroundColor": "#ffe9a8",
                }
            ]
            if highlight_area
            else []
        )
    return dash_table.DataTable(
        id=table_id,
        columns=[{"name": name, "id": cid} for cid, name in columns],
        data=rows,
        page_size=PAGE_SIZE,
        sort_action="native",
        style_cell={"fontFamily": "sans-serif", "fontSize": "14px", "textAlign": "left"},
        style_header={"fontWeight": "bold"},
        **extra,
    )

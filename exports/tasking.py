"""The patrol tasking export's typed GeoParquet and its data dictionary.

The tasking table (``assets/patrol/tasking.py``) carries each hot spot's
geofence as WKT; the Parquet file published for apps and GIS tools is
GeoParquet (geometry WKB, WGS84) with dates and times as typed columns, while
the CSV and GeoJSON beside it carry the same values as text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from exports.format import write_geoparquet
from exports.hotspots import HARM_DAYS_DEFINITION

__all__ = ["DICTIONARY", "write_tasking_geoparquet", "typed_tasking"]

#: data dictionary of the tasking files (column -> description)
DICTIONARY = {
    "hotspot_id": "hot spot (trial unit) id; the API's briefing URL takes it",
    "h3_cell": "H3 cell of the hot spot",
    "date": "tasking day (date, Europe/London)",
    "day_start_at": "start of the tasking day (local time, Europe/London)",
    "day_end_at": "end of the tasking day (local time, Europe/London)",
    "centre_latitude": "geofence centre latitude, WGS84 degrees",
    "centre_longitude": "geofence centre longitude, WGS84 degrees",
    "patrol_windows": "when to patrol: hour-of-week windows with most harm (JSON text)",
    "team": "team tasked (teams reference): covers the hot spot's ward, else nearest base",
    "team_label": "the team's name in the teams reference",
    "base_station": "the team's base station",
    "shift": "the team's shift that covers most of the patrol windows (teams reference)",
    "shift_hours": "that shift's hours, HH:MM-HH:MM local time",
    "waypoints": "up to three places in the geofence where the harm concentrates (JSON text: "
    "rank, label, what_happened, latitude, longitude, source events|analyst)",
    "arm": "trial arm: patrol (control cells are never published to officers)",
    "tasked": "true: still needs visits today",
    "target_visit_minutes": "minutes per visit (Koper band, 10-16)",
    "target_visits": "visits wanted today",
    "target_minutes": "minutes wanted today (visits x minutes)",
    "patrol_cap_visits": "most visits a hot spot should get in a day",
    "visits_so_far": "visits already delivered today",
    "tasking_source": "trial_allocation (the randomised trial) or hotspot_list",
    "briefing": "why here: plain-English summary (briefings.json has the detail)",
    "geofence_wkt": "the geofence polygon as WKT text, WGS84",
    "geometry": "the geofence polygon, WGS84 (GeoParquet WKB; GeoJSON geometry)",
    "harm (briefings.json)": "the briefing's harm per 28/91/365-day window: CCHI days of "
    "the force's own recorded crimes with their real times, not the police.uk "
    "export's harm_days. The police.uk export's definition: " + HARM_DAYS_DEFINITION,
}


def typed_tasking(df: pd.DataFrame) -> pd.DataFrame:
    """Dates as dates and times as timestamps (the lake may hold them as text)."""
    out = df.copy()
    if "date" in out:
        out["date"] = pd.to_datetime(out["date"]).dt.date
    for c in ("day_start_at", "day_end_at"):
        if c in out:
            out[c] = pd.to_datetime(out[c])
    return out


def write_tasking_geoparquet(df: pd.DataFrame, path: Path) -> None:
    """GeoParquet of the tasking table: geometry from ``geofence_wkt``, typed dates."""
    import shapely

    typed = typed_tasking(df)
    write_geoparquet(typed, path, shapely.from_wkt(typed["geofence_wkt"].to_numpy()))

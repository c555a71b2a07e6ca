r"""Analyst overrides of the hot spot list: an append-only audit table and its CLI.

``data/overrides/hotspot_overrides.csv`` (under ``VRDP_DATA_ROOT``) holds one
row per override, columns ``h3_cell, action, reason, analyst, created_at``.
Rows are only ever appended; the latest row for a cell wins when the hot spot
list is built (``hotspots/hotspot_list``), and the list shows every override it
applied. Re-materialize ``hotspots/hotspot_list`` to see a new override.

    python -m vrdp.hotspots.override_log add --cell 89195d09a13ffff --action suppress \
        --reason "building demolished, no footfall" --analyst "J. Smith"
    python -m vrdp.hotspots.override_log list

Waypoints of a tasked hot spot (where an officer should stand) are overridden the
same way, in ``data/overrides/waypoint_overrides.csv`` (append-only, latest row
per cell and label wins, applied when ``patrol/daily_tasking`` is next built):

    python -m vrdp.hotspots.override_log waypoint --cell 89195d09a13ffff --action add \
        --label "Bus stop, Queen Street" --lat 51.7521 --lon -1.2577 \
        --reason "robberies reported at the stop" --analyst "J. Smith"
    python -m vrdp.hotspots.override_log waypoint --cell 89195d09a13ffff --action remove \
        --label "Car park, Mill Lane" --reason "car park closed" --analyst "J. Smith"
    python -m vrdp.hotspots.override_log list --waypoints
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import UTC, datetime
from pathlib import Path

from config.settings import Settings, settings

__all__ = [
    "overrides_path",
    "add_override",
    "read_overrides",
    "WAYPOINT_OVERRIDE_COLUMNS",
    "waypoint_overrides_path",
    "add_waypoint_override",
    "read_waypoint_overrides",
    "main",
]

#: Columns of the waypoint audit table.
WAYPOINT_OVERRIDE_COLUMNS = (
    "h3_cell",
    "action",
    "label",
    "latitude",
    "longitude",
    "reason",
    "analyst",
    "created_at",
)


def overrides_path(s: Settings | None = None) -> Path:
    """Where the audit table lives: ``<data root>/overrides/hotspot_overrides.csv``."""
    return (s or settings()).data_root / "overrides" / "hotspot_overrides.csv"


def read_overrides(path: Path | None = None):
    """The audit table as a DataFrame (empty, with the columns, if there is none yet)."""
    import pandas as pd

    from vrdp.hotspots.overrides import OVERRIDE_COLUMNS

    path = path or overrides_path()
    if not path.exists():
        return pd.DataFrame({c: pd.Series(dtype=object) for c in OVERRIDE_COLUMNS})
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in OVERRIDE_COLUMNS if c not in df]
    if missing:
        raise ValueError(f"{path}: columns {missing} missing")
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True, format="ISO8601")
    return df[list(OVERRIDE_COLUMNS)]


def add_override(
    cell: str,
    action: str,
    reason: str,
    analyst: str,
    *,
    path: Path | None = None,
    now: datetime | None = None,
) -> dict[str, str]:
    """Validate one override and append it to the audit table; return the row written."""
    from vrdp.hotspots.overrides import OVERRIDE_COLUMNS
    from vrdp.hotspots.pipeline import validate_override

    s = settings()
    path = path or overrides_path(s)
    row = validate_override(cell, action, reason, analyst, resolution=s.h3_resolution)
    row["created_at"] = (now or datetime.now(UTC)).isoformat(timespec="microseconds")
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(OVERRIDE_COLUMNS), lineterminator="\n")
        if new:
            w.writeheader()
        w.writerow({c: row[c] for c in OVERRIDE_COLUMNS})
    return row


def waypoint_overrides_path(s: Settings | None = None) -> Path:
    """``<data root>/overrides/waypoint_overrides.csv``."""
    return (s or settings()).data_root / "overrides" / "waypoint_overrides.csv"


def read_waypoint_overrides(path: Path | None = None):
    """The waypoint audit table (empty, with its columns, when there is none yet)."""
    import pandas as pd

    path = path or waypoint_overrides_path()
    if not path.exists():
        return pd.DataFrame({c: pd.Series(dtype=object) for c in WAYPOINT_OVERRIDE_COLUMNS})
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True, format="ISO8601")
    return df[list(WAYPOINT_OVERRIDE_COLUMNS)]


def add_waypoint_override(
    cell: str,
    action: str,
    label: str,
    reason: str,
    analyst: str,
    *,
    lat: float | None = None,
    lon: float | None = None,
    path: Path | None = None,
    now: datetime | None = None,
) -> dict[str, str]:
    """Validate one waypoint override and append it to its audit table.

    ``add`` needs a point (``lat``, ``lon``) inside the hot spot's cell, so the
    waypoint stays inside the geofence; ``remove`` names the waypoint by label.
    """
    import h3

    from vrdp.hotspots.pipeline import validate_override

    s = settings()
    path = path or waypoint_overrides_path(s)
    if action not in ("add", "remove"):
        raise ValueError(f"action must be add or remove, not {action!r}")
    # the same checks as a hot spot override (cell, resolution, reason, analyst)
    row = validate_override(cell, "add", reason, analyst, resolution=s.h3_resolution)
    label = " ".join(str(label or "").split())
    if not label:
        raise ValueError("a label is required (e.g. 'Bus stop, Queen Street')")
    row.update(action=action, label=label, latitude="", longitude="")
    if action == "add":
        if lat is None or lon is None:
            raise ValueError("adding a waypoint needs --lat and --lon")
        inside = h3.latlng_to_cell(float(lat), float(lon), h3.get_resolution(row["h3_cell"]))
        if inside != row["h3_cell"]:
            raise ValueError(f"({lat}, {lon}) is outside hot spot cell {row['h3_cell']}")
        row.update(latitude=f"{float(lat):.6f}", longitude=f"{float(lon):.6f}")
    row["created_at"] = (now or datetime.now(UTC)).isoformat(timespec="microseconds")
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(WAYPOINT_OVERRIDE_COLUMNS), lineterminator="\n")
        if new:
            w.writeheader()
        w.writerow({c: row[c] for c in WAYPOINT_OVERRIDE_COLUMNS})
    return row


def main(argv: list[str] | None = None) -> int:
    """Command line: ``add`` an override or ``list`` the audit table."""
    parser = argparse.ArgumentParser(
        prog="python -m vrdp.hotspots.override_log", description=__doc__
    )
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="append an override to the audit table")
    add.add_argument("--cell", required=True, help="H3 cell id at the grid's resolution")
    add.add_argument("--action", required=True, choices=["add", "suppress"])
    add.add_argument("--reason", required=True, help="why (required, shown on the list)")
    add.add_argument("--analyst", required=True, help="who")
    lst = sub.add_parser("list", help="print the audit table")
    lst.add_argument("--waypoints", action="store_true", help="the waypoint audit table")
    wp = sub.add_parser("waypoint", help="add or remove a tasked hot spot's waypoint")
    wp.add_argument("--cell", required=True, help="the hot spot's H3 cell")
    wp.add_argument("--action", required=True, choices=["add", "remove"])
    wp.add_argument("--label", required=True, help="what the officer sees, e.g. 'Bus stop, X'")
    wp.add_argument("--lat", type=float, help="WGS84 latitude (add only)")
    wp.add_argument("--lon", type=float, help="WGS84 longitude (add only)")
    wp.add_argument("--reason", required=True, help="why (required, shown with the waypoint)")
    wp.add_argument("--analyst", required=True, help="who")
    args = parser.parse_args(argv)
    if args.command == "list":
        where = waypoint_overrides_path() if args.waypoints else overrides_path()
        df = read_waypoint_overrides() if args.waypoints else read_overrides()
        print(df.to_string(index=False) if len(df) else f"no overrides in {where}")
        return 0
    if args.command == "waypoint":
        try:
            row = add_waypoint_override(
                args.cell, args.action, args.label, args.reason, args.analyst,
                lat=args.lat, lon=args.lon,
            )  # fmt: skip
        except ValueError as exc:
            parser.error(str(exc))
        print(f"appended to {waypoint_overrides_path()}: {row}")
        print("re-materialize patrol/daily_tasking (and its export) to apply it")
        return 0
    try:
        row = add_override(args.cell, args.action, args.reason, args.analyst)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"appended to {overrides_path()}: {row}")
    print("re-materialize hotspots/hotspot_list to apply it")
    return 0


if __name__ == "__main__":
    sys.exit(main())

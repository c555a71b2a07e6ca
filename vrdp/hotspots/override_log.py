r"""Analyst overrides of the hot spot list: an append-only audit table and its CLI.

``data/overrides/hotspot_overrides.csv`` (under ``VRDP_DATA_ROOT``) holds one
row per override, columns ``h3_cell, action, reason, analyst, created_at``.
Rows are only ever appended; the latest row for a cell wins when the hot spot
list is built (``hotspots/hotspot_list``), and the list shows every override it
applied. Re-materialize ``hotspots/hotspot_list`` to see a new override.

    python -m vrdp.hotspots.override_log add --cell 89195d09a13ffff --action suppress \
        --reason "building demolished, no footfall" --analyst "J. Smith"
    python -m vrdp.hotspots.override_log list
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import UTC, datetime
from pathlib import Path

from config.settings import Settings, settings

__all__ = ["overrides_path", "add_override", "read_overrides", "main"]


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
    sub.add_parser("list", help="print the audit table")
    args = parser.parse_args(argv)
    if args.command == "list":
        df = read_overrides()
        print(df.to_string(index=False) if len(df) else f"no overrides in {overrides_path()}")
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

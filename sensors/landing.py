"""File-arrival sensors with cursors derived from the files (name, size, sha256).

The cursor never uses the clock or modification times: a file is new when its
name is unseen, and re-delivered when its content hash changes. An identical
re-delivery requests nothing.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from orchestration.resources import PlatformConfig

__all__ = ["FileFingerprint", "plan_file_runs", "police_uk_street_sensor"]


@dataclass(frozen=True)
class FileFingerprint:
    """What the cursor remembers of a file."""

    name: str
    size: int
    sha256: str


def fingerprint(path: Path) -> FileFingerprint:
    """Name, size and content hash of a landing file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return FileFingerprint(path.name, path.stat().st_size, h.hexdigest())


def plan_file_runs(
    files_by_partition: Mapping[str, Path], cursor: Mapping[str, dict]
) -> tuple[list[tuple[str, FileFingerprint]], dict[str, dict]]:
    """Decide which partitions need a run, given the files now present.

    Parameters
    ----------
    files_by_partition
        Partition key -> landing file.
    cursor
        Previous cursor: partition key -> ``{"name", "size", "sha256"}``.

    Returns
    -------
    changed, new_cursor
        Partitions whose file is new or whose content changed, with fingerprints;
        and the cursor to store.
    """
    changed = []
    new_cursor = dict(cursor)
    for key in sorted(files_by_partition):
        fp = fingerprint(files_by_partition[key])
        seen = cursor.get(key)
        if seen != fp.__dict__:
            changed.append((key, fp))
        new_cursor[key] = dict(fp.__dict__)
    return changed, new_cursor


def police_uk_street_sensor() -> dg.SensorDefinition:
    """Request a run of ``police_uk/street_crimes`` for each new or changed month file."""
    from assets.sources.police_uk import (
        POLICE_UK_MONTHS,
        STREET_CRIMES_KEY,
        STREET_QUARANTINE_KEY,
        street_landing_dir,
    )

    @dg.sensor(
        name="police_uk_street_files",
        description="Watches landing/police_uk/street for data.police.uk monthly files.",
        asset_selection=dg.AssetSelection.assets(STREET_CRIMES_KEY, STREET_QUARANTINE_KEY),
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
    )
    def police_uk_street_files(context: dg.SensorEvaluationContext, platform: PlatformConfig):
        from vrdp.ingest.police_uk import find_street_files

        files = find_street_files(street_landing_dir(platform), platform.resolve().police_uk_force)
        changed, new_cursor = plan_file_runs(files, json.loads(context.cursor or "{}"))
        existing = set(context.instance.get_dynamic_partitions(POLICE_UK_MONTHS.name))
        new_months = sorted({month for month, _ in changed} - existing)
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(partition_key=month, run_key=f"police_uk_street:{month}:{fp.sha256}")
                for month, fp in changed
            ],
            dynamic_partitions_requests=(
                [POLICE_UK_MONTHS.build_add_request(new_months)] if new_months else []
            ),
            cursor=json.dumps(new_cursor, sort_keys=True),
        )

    return police_uk_street_files

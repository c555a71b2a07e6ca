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

from config.resources import PlatformConfig

__all__ = [
    "FileFingerprint",
    "plan_file_runs",
    "plan_delivery_runs",
    "police_uk_street_sensor",
    "police_uk_stop_search_sensor",
    "delivery_sensor",
    "landing_events",
]


@dataclass(frozen=True)
class FileFingerprint:
    """What the cursor remembers of a file."""

    name: str
    size: int
    sha256: str


def fingerprint(path: Path) -> FileFingerprint:
    """Name, size and content hash of a landing file."""
    from vrdp.lake import sha256_file

    return FileFingerprint(path.name, path.stat().st_size, sha256_file(path))


def landing_events(key: dg.AssetKey, changed: list) -> list[dg.AssetMaterialization]:
    """The external landing asset's events for new or changed files or deliveries.

    Landing folders are filled by agencies, not by Dagster; recording each
    arrival as a materialization of the landing asset (with what arrived)
    shows it in the UI instead of "Never materialized".
    """
    events = []
    for name, fp in changed:
        meta = {"arrived": name}
        if isinstance(fp, FileFingerprint):
            meta |= {"file": fp.name, "bytes": fp.size, "sha256": fp.sha256}
        else:
            meta["fingerprint"] = str(fp)
        events.append(dg.AssetMaterialization(asset_key=key, metadata=meta))
    return events


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


def force_files(directory: Path, forces, find) -> dict[str, Path]:
    """Cursor key -> monthly file of each force of the unit.

    The key is the month, or ``month:force`` for a unit of several forces; ``find``
    is the one-force finder (``directory, force -> {month: path}``).
    """
    files = {}
    for force in forces:
        for month, path in find(directory, force).items():
            files[month if len(forces) == 1 else f"{month}:{force}"] = path
    return files


def changed_by_month(changed: list[tuple[str, FileFingerprint]]) -> dict[str, list[str]]:
    """Month -> sha256s of its changed files: one run per month, whichever force's file changed."""
    by_month: dict[str, list[str]] = {}
    for key, fp in changed:
        by_month.setdefault(key.split(":")[0], []).append(fp.sha256)
    return by_month


def police_uk_street_sensor() -> dg.SensorDefinition:
    """Request a run of ``police_uk/street_crimes`` for each new or changed month file."""
    from assets.sources.police_uk import (
        POLICE_UK_MONTHS,
        STREET_CRIMES_KEY,
        STREET_LANDING_KEY,
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

        forces = platform.resolve().police_uk_forces
        files = force_files(street_landing_dir(platform), forces, find_street_files)
        changed, new_cursor = plan_file_runs(files, json.loads(context.cursor or "{}"))
        by_month = changed_by_month(changed)
        existing = set(context.instance.get_dynamic_partitions(POLICE_UK_MONTHS.name))
        new_months = sorted(set(by_month) - existing)
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    partition_key=month, run_key=f"police_uk_street:{month}:{'+'.join(shas)}"
                )
                for month, shas in sorted(by_month.items())
            ],
            asset_events=landing_events(STREET_LANDING_KEY, changed),
            dynamic_partitions_requests=(
                [POLICE_UK_MONTHS.build_add_request(new_months)] if new_months else []
            ),
            cursor=json.dumps(new_cursor, sort_keys=True),
        )

    return police_uk_street_files


def police_uk_stop_search_sensor() -> dg.SensorDefinition:
    """Request a run of ``police_uk/stop_searches`` for each new or changed month file."""
    from assets.sources.police_uk_stop_search import (
        STOP_SEARCH_LANDING_KEY,
        STOP_SEARCH_MONTHS,
        STOP_SEARCH_QUARANTINE_KEY,
        STOP_SEARCHES_KEY,
        stop_search_landing_dir,
    )

    @dg.sensor(
        name="police_uk_stop_search_files",
        description="Watches landing/police_uk/stop_and_search for data.police.uk monthly files.",
        asset_selection=dg.AssetSelection.assets(STOP_SEARCHES_KEY, STOP_SEARCH_QUARANTINE_KEY),
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
    )
    def police_uk_stop_search_files(context: dg.SensorEvaluationContext, platform: PlatformConfig):
        from vrdp.ingest.stop_search import find_stop_search_files

        forces = platform.resolve().police_uk_forces
        files = force_files(stop_search_landing_dir(platform), forces, find_stop_search_files)
        changed, new_cursor = plan_file_runs(files, json.loads(context.cursor or "{}"))
        by_month = changed_by_month(changed)
        existing = set(context.instance.get_dynamic_partitions(STOP_SEARCH_MONTHS.name))
        new_months = sorted(set(by_month) - existing)
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    partition_key=month,
                    run_key=f"police_uk_stop_search:{month}:{'+'.join(shas)}",
                )
                for month, shas in sorted(by_month.items())
            ],
            asset_events=landing_events(STOP_SEARCH_LANDING_KEY, changed),
            dynamic_partitions_requests=(
                [STOP_SEARCH_MONTHS.build_add_request(new_months)] if new_months else []
            ),
            cursor=json.dumps(new_cursor, sort_keys=True),
        )

    return police_uk_stop_search_files


def folder_fingerprint(folder: Path, glob: str) -> str:
    """One hash over a delivery folder's matching files (names, sizes, contents)."""
    h = hashlib.sha256()
    for path in sorted(folder.glob(glob)):
        fp = fingerprint(path)
        h.update(f"{fp.name}\0{fp.size}\0{fp.sha256}\n".encode())
    return h.hexdigest()


def plan_delivery_runs(
    folders: Mapping[str, Path], glob: str, cursor: Mapping[str, str]
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """Deliveries (folder name, fingerprint) that are new or changed since ``cursor``."""
    changed = []
    new_cursor = dict(cursor)
    for name in sorted(folders):
        digest = folder_fingerprint(folders[name], glob)
        if not any(folders[name].glob(glob)):
            continue  # an empty folder is still being written: wait for files
        if cursor.get(name) != digest:
            changed.append((name, digest))
        new_cursor[name] = digest
    return changed, new_cursor


def delivery_sensor(spec) -> dg.SensorDefinition:
    """Request a run of an agency dataset for each new or changed delivery folder."""
    from assets.sources.agencies import delivery_partitions, landing_folder, source_keys

    key, quarantine_key, landing_key = source_keys(spec)
    partitions = delivery_partitions(spec)

    @dg.sensor(
        name=f"{spec.slug}_deliveries",
        description=f"Watches landing/{spec.agency}/{spec.dataset}/<delivery>/ for new files.",
        asset_selection=dg.AssetSelection.assets(key, quarantine_key),
        # the patrol app posts GPS and activity all day and the loop to updated
        # dosage and evaluation aims at under a minute; agencies deliver monthly
        minimum_interval_seconds=15 if spec.agency == "patrol" else 60,
        default_status=dg.DefaultSensorStatus.STOPPED,
    )
    def _sensor(context: dg.SensorEvaluationContext, platform: PlatformConfig):
        root = landing_folder(platform, spec)
        folders = {p.name: p for p in root.iterdir() if p.is_dir()} if root.exists() else {}
        changed, new_cursor = plan_delivery_runs(
            folders, spec.file_glob, json.loads(context.cursor or "{}")
        )
        existing = set(context.instance.get_dynamic_partitions(partitions.name))
        new = sorted({name for name, _ in changed} - existing)
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(partition_key=name, run_key=f"{spec.slug}:{name}:{digest}")
                for name, digest in changed
            ],
            asset_events=landing_events(landing_key, changed),
            dynamic_partitions_requests=[partitions.build_add_request(new)] if new else [],
            cursor=json.dumps(new_cursor, sort_keys=True),
        )

    return _sensor

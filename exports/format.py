"""Versioned, atomic exports: ``<exports>/<version>/`` plus a ``latest`` link.

A version is named by its content (``<as_of>-<sha256 prefix>``), so
re-exporting identical tables reuses the existing version and changes
nothing. Files are written to a hidden temporary folder, hashed, given a
``manifest.json``, and the folder is renamed into place in one step; the
``latest`` symlink is then swapped with ``os.replace``. A reader resolving
``latest`` sees either the old complete version or the new complete one.

One permission policy for every export: a restricted export (identities) is
readable by its owner only (folders 0700, files 0600); every other export is
readable by all (folders 0755, files 0644), whatever the writer's umask or
temporary-file mode. Spatial tables are GeoParquet (:func:`write_geoparquet`,
WGS84), and each file's manifest entry carries its data dictionary: every
column's name, type (from the Parquet schema) and description.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from vrdp.lake import sha256_file

__all__ = [
    "ExportFile",
    "ExportRejected",
    "PublishedExport",
    "publish_export",
    "read_manifest",
    "MANIFEST_NAME",
    "file_mode",
    "folder_mode",
    "write_geoparquet",
    "data_dictionary",
]

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class ExportFile:
    """One file of an export: how to write it and how many rows it holds."""

    name: str
    rows: int
    write: Callable[[Path], None]
    #: column -> description (the file's data dictionary in the manifest)
    columns: Mapping[str, str] | None = None


def file_mode(restricted: bool) -> int:
    """Mode of every published file: owner-only for restricted exports, else world-readable."""
    return 0o600 if restricted else 0o644


def folder_mode(restricted: bool) -> int:
    """Mode of every published folder, matching :func:`file_mode`."""
    return 0o700 if restricted else 0o755


def write_geoparquet(df, path: Path, geometry, *, crs: str = "EPSG:4326") -> None:
    """Write ``df`` with ``geometry`` (shapely geometries, WGS84) as GeoParquet.

    GIS tools (QGIS, geopandas, DuckDB spatial) open it as a layer; the
    ``geo`` metadata names the CRS and the encoding (WKB). Same frame, same bytes.

    Examples
    --------
    >>> import tempfile, geopandas as gpd, pandas as pd, shapely
    >>> p = Path(tempfile.mkdtemp()) / "cells.parquet"
    >>> write_geoparquet(pd.DataFrame({"id": [1]}), p, [shapely.Point(-1.25, 51.75)])
    >>> g = gpd.read_parquet(p)
    >>> g.crs.to_epsg(), g.geometry.iloc[0].x
    (4326, -1.25)
    """
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(df.reset_index(drop=True), geometry=list(geometry), crs=crs)
    gdf.to_parquet(path, index=False, compression="zstd", schema_version="1.0.0")


def data_dictionary(path: Path, columns: Mapping[str, str] | None) -> list[dict] | None:
    """``[{name, type, description}]`` of a file: types from Parquet, descriptions given.

    For a Parquet file every column is listed (a column without a description
    says so, so a gap is visible); for other files the described columns.
    """
    if columns is None and path.suffix != ".parquet":
        return None
    described = dict(columns or {})
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        schema = pq.read_schema(path)
        return [
            {
                "name": f.name,
                "type": "geometry (WKB, EPSG:4326)" if f.name == "geometry" else str(f.type),
                "description": described.get(
                    f.name,
                    "cell or geofence polygon, WGS84" if f.name == "geometry" else "undocumented",
                ),
            }
            for f in schema
        ]
    return [{"name": k, "description": v} for k, v in described.items()]


class ExportRejected(ValueError):
    """A pre-publication check found problems; nothing was published."""

    def __init__(self, findings: list[str]) -> None:
        self.findings = findings
        shown = "; ".join(findings[:5]) + (" ..." if len(findings) > 5 else "")
        super().__init__(f"export not published: {len(findings)} finding(s): {shown}")


@dataclass(frozen=True)
class PublishedExport:
    """Where a version landed and whether this call created it."""

    version: str
    path: Path
    manifest: dict
    created: bool


def read_manifest(version_dir: str | Path) -> dict:
    """Load a version's manifest."""
    return json.loads((Path(version_dir) / MANIFEST_NAME).read_text())


def _swap_latest(exports_dir: Path, version: str) -> None:
    link = exports_dir / "latest"
    tmp = exports_dir / f".latest.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(version, tmp)
    os.replace(tmp, link)


def publish_export(
    exports_dir: str | Path,
    files: list[ExportFile],
    *,
    as_of: str,
    parameters: Mapping[str, object],
    now: datetime | None = None,
    check: Callable[[Path], list[str]] | None = None,
    restricted: bool = False,
    lawful_bases: Mapping[str, object] | None = None,
) -> PublishedExport:
    """Write ``files`` as a new export version (or reuse an identical one).

    Parameters
    ----------
    exports_dir
        Folder holding versions and the ``latest`` link.
    files
        The export's files; names must be unique plain file names.
    as_of
        Label of the data's reference date (e.g. the last month), the version prefix.
    parameters
        Choices that shaped the content (window, seeds, ...), recorded in the manifest.
    now
        Generation time recorded in the manifest (defaults to the current UTC time).
    check
        Called with the staged folder before anything is published; any finding
        it returns aborts publication with :class:`ExportRejected` (for example
        the personal-data scan of officer-facing exports).
    restricted
        Readable by the owning account only: ``exports_dir`` and each version
        folder get mode 0700 and the files 0600 (for identities). Otherwise
        folders are 0755 and files 0644 (:func:`file_mode`, :func:`folder_mode`).
    lawful_bases
        The lawful bases of the sources in the export
        (:func:`vrdp.governance.register.bases_for`), recorded in the manifest as
        ``lawful_bases`` and part of the content hash (a changed basis is a new version).
    """
    exports_dir = Path(exports_dir)
    exports_dir.mkdir(parents=True, exist_ok=True)
    if restricted:
        os.chmod(exports_dir, folder_mode(True))
    names = [f.name for f in files]
    if len(set(names)) != len(names) or any("/" in n or n == MANIFEST_NAME for n in names):
        raise ValueError(f"export file names must be unique plain names, got {names}")
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=exports_dir))
    try:
        entries = []
        for f in files:
            f.write(staging / f.name)
            path = staging / f.name
            entry = {
                "name": f.name,
                "rows": f.rows,
                "bytes": path.stat().st_size,
                "sha256": sha256_file(path),
            }
            if (columns := data_dictionary(path, f.columns)) is not None:
                entry["columns"] = columns
            entries.append(entry)
        content = hashlib.sha256()  # of the files and parameters, not the dictionary
        for e in sorted(entries, key=lambda e: e["name"]):
            content.update(f"{e['name']}\0{e['sha256']}\n".encode())
        content.update(json.dumps(parameters, sort_keys=True, default=str).encode())
        if lawful_bases is not None:
            content.update(json.dumps(lawful_bases, sort_keys=True, default=str).encode())
        content_sha = content.hexdigest()
        if check is not None and (findings := check(staging)):
            raise ExportRejected(findings)
        version = f"{as_of}-{content_sha[:12]}"
        target = exports_dir / version
        if target.exists():
            _swap_latest(exports_dir, version)
            return PublishedExport(version, target, read_manifest(target), created=False)
        manifest = {
            "version": version,
            "as_of": as_of,
            "generated_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
            "content_sha256": content_sha,
            "parameters": dict(parameters),
            "files": entries,
        }
        if lawful_bases is not None:
            manifest["lawful_bases"] = dict(lawful_bases)
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        for p in staging.iterdir():
            os.chmod(p, file_mode(restricted))
        os.chmod(staging, folder_mode(restricted))
        os.rename(staging, target)
        _swap_latest(exports_dir, version)
        return PublishedExport(version, target, manifest, created=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging)

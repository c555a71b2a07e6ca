"""Person-level snapshots for the API: the analyst and safeguarding exports, in memory.

Each view is a folder of versions with a ``latest`` link written by
:func:`exports.format.publish_export` (see :mod:`exports.persons`). As
for the officers' snapshot, ``latest`` is resolved on every call and a version,
once loaded, is cached by its link target: a new version is picked up by the
next request and no request mixes two. Tables are held as Arrow tables with a
``person_key -> row positions`` index, so a lookup is a dictionary read and a
``take`` (no per-request pandas, no warehouse).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from exports.format import read_manifest
from exports.persons import (
    ANALYST_SUBDIR,
    IDENTITIES_FILE,
    PERSON_EVENTS_FILE,
    PERSON_PLACES_FILE,
    PERSONS_FILE,
    SAFEGUARDING_SUBDIR,
)

__all__ = ["PersonSnapshot", "PersonStore", "NoPersonExportError", "ROW_ID_COLUMNS"]

#: the column naming each returned row in the audit log, by file
ROW_ID_COLUMNS = {
    PERSONS_FILE: "person_key",
    PERSON_EVENTS_FILE: "person_event_key",
    PERSON_PLACES_FILE: "person_place_key",
    IDENTITIES_FILE: "record_uid",
}


class NoPersonExportError(RuntimeError):
    """The view has no published version."""


@dataclass
class PersonSnapshot:
    """One version of a person export: Arrow tables indexed by ``person_key``."""

    version: str
    path: Path
    tables: dict[str, pa.Table]
    index: dict[str, dict[str, list[int]]]
    #: the manifest's ``lawful_bases`` (sources in the export and their bases);
    #: every person-level response carries it
    lawful_bases: dict | None = None

    @classmethod
    def load(cls, version_dir: Path) -> PersonSnapshot:
        """Read every Parquet file of a version and index it by ``person_key``."""
        manifest = read_manifest(version_dir)
        tables, index = {}, {}
        for f in manifest["files"]:
            if not f["name"].endswith(".parquet"):
                continue
            t = pq.read_table(version_dir / f["name"])
            pos: dict[str, list[int]] = {}
            for i, k in enumerate(t.column("person_key").to_pylist()):
                pos.setdefault(k, []).append(i)
            tables[f["name"]], index[f["name"]] = t, pos
        return cls(
            manifest.get("version", version_dir.name),
            version_dir,
            tables,
            index,
            manifest.get("lawful_bases"),
        )

    def rows(self, name: str, person_key: str) -> list[dict] | None:
        """Rows of file ``name`` for one person (``None`` when the file is not exported)."""
        t = self.tables.get(name)
        if t is None:
            return None
        pos = self.index[name].get(person_key)
        return t.take(pa.array(pos, pa.int64())).to_pylist() if pos else []

    def search(self, name: str, criteria: dict[str, str]) -> list[str]:
        """Person keys with rows matching every criterion (case-insensitive equality)."""
        t = self.tables[name]
        mask = None
        for col, value in criteria.items():
            if col not in t.column_names:  # an identifier this export does not hold
                return []
            column = t.column(col)
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                hit = pc.equal(pc.utf8_upper(pc.utf8_trim_whitespace(column)), value.upper())
            else:
                hit = pc.equal(pc.cast(column, pa.string()), value)
            mask = hit if mask is None else pc.and_(mask, hit)
        keys = t.filter(pc.fill_null(mask, False)).column("person_key").to_pylist()
        return sorted(set(keys))


class PersonStore:
    """The analyst and safeguarding views under an exports folder."""

    VIEWS: ClassVar[dict[str, Path]] = {
        "analyst": ANALYST_SUBDIR,
        "safeguarding": SAFEGUARDING_SUBDIR,
    }

    def __init__(self, exports_dir: Path, keep: int = 2) -> None:
        self.exports_dir = Path(exports_dir)
        self._cache: OrderedDict[tuple[str, str], PersonSnapshot] = OrderedDict()
        self._lock = threading.Lock()
        self._keep = keep

    def folder(self, view: str) -> Path:
        """Where the view's versions are published."""
        return self.exports_dir / self.VIEWS[view]

    def current(self, view: str) -> PersonSnapshot:
        """The version ``latest`` of ``view`` points to now."""
        folder = self.folder(view)
        try:
            name = os.readlink(folder / "latest")
            target = (folder / name).resolve(strict=True)
        except OSError as exc:
            raise NoPersonExportError(f"no {view} person export published under {folder}") from exc
        key = (view, name)
        with self._lock:
            snap = self._cache.get(key)
            if snap is not None:
                self._cache.move_to_end(key)
                return snap
        snap = PersonSnapshot.load(target)
        with self._lock:
            self._cache[key] = snap
            while len(self._cache) > self._keep * len(self.VIEWS):
                self._cache.popitem(last=False)
        return snap

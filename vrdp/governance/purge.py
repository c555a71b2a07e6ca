"""Retention purge: delete expired rows everywhere they are stored, keep held ones.

For each source whose retention rule says ``delete`` (``governance/retention.yaml``),
a row has expired when its clock column is older than the rule's period. The
purge removes expired rows that no legal hold covers from

* the landing zone (``landing/<agency>/<dataset>/<delivery>/*``, rewritten
  owner-only without them),
* the lake (``lake/<agency>/<dataset>/<delivery>/*.parquet``) and the
  quarantine (``lake/quarantine/<agency>_<dataset>/<delivery>/``: a bad row has
  no trusted clock, so a quarantined row expires with its delivery month),
* every DuckDB file under the data root (the warehouse, the restricted
  identity database, marts snapshots): rows whose ``record_uid`` (or
  ``record_uid_l`` / ``record_uid_r``) names a purged record, then the file is
  **compacted** by copying it into a new file, so deleted values do not linger
  in free blocks,
* exports: any export version holding a purged value is deleted (the next run
  republishes from the purged warehouse).

It returns counts only; record ids never reach the log.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from vrdp.governance.permissions import owner_only

__all__ = ["PurgeReport", "cutoff_for", "expired_mask", "purge_data_root", "compact_duckdb"]


@dataclass
class PurgeReport:
    """Counts of what a purge did, by source and place (no values)."""

    today: str
    rows_purged: Counter = field(default_factory=Counter)
    rows_held: Counter = field(default_factory=Counter)
    files_rewritten: int = 0
    duckdb_rows_deleted: Counter = field(default_factory=Counter)
    duckdb_files_compacted: int = 0
    export_versions_deleted: int = 0

    def as_dict(self) -> dict:
        """JSON-ready counts."""
        return {
            "today": self.today,
            "rows_purged": dict(self.rows_purged),
            "rows_held": dict(self.rows_held),
            "files_rewritten": self.files_rewritten,
            "duckdb_rows_deleted": dict(self.duckdb_rows_deleted),
            "duckdb_files_compacted": self.duckdb_files_compacted,
            "export_versions_deleted": self.export_versions_deleted,
        }


def cutoff_for(today: date, period_days: int) -> pd.Timestamp:
    """Rows whose clock is before this have expired.

    >>> str(cutoff_for(date(2026, 12, 3), 365).date())
    '2025-12-03'
    """
    return pd.Timestamp(today) - pd.Timedelta(days=period_days)


def expired_mask(clock: pd.Series, cutoff: pd.Timestamp) -> pd.Series:
    """True where the clock is before ``cutoff``; unparseable or missing clocks never expire here.

    Timezone-aware values are compared in UTC.

    >>> expired_mask(pd.Series(["2020-01-01", "2026-01-01", "", "x"]), pd.Timestamp("2025-01-01"))
    [True, False, False, False]
    """
    t = pd.to_datetime(clock.replace("", None), errors="coerce", utc=True, format="mixed")
    t = t.dt.tz_convert(None)
    return [bool(x) for x in (t < cutoff)]


def _delivery_expired(folder_name: str, cutoff: pd.Timestamp) -> bool:
    """A quarantine delivery (``YYYY-MM`` or ``YYYY-MM-DD``) expires after its last day."""
    try:
        start = pd.Timestamp(folder_name)
    except ValueError:
        return False
    end = start + (pd.offsets.MonthEnd(0) if len(folder_name) == 7 else pd.Timedelta(0))
    return bool(end < cutoff)


def _rewrite_text(path: Path, text: str) -> None:
    with owner_only():
        tmp = path.with_name(f".{path.name}.purge.tmp")
        tmp.write_text(text, encoding="utf-8", newline="")
        os.replace(tmp, path)


def _purge_landing_csv(path, clock, key, cutoff, held) -> tuple[list[str], int]:
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or clock not in rows[0]:
        return [], 0
    header, body = rows[0], rows[1:]
    ci, ki = header.index(clock), header.index(key) if key in header else None
    old = expired_mask(pd.Series([r[ci] if ci < len(r) else "" for r in body]), cutoff)
    purged, kept, n_held = [], [header], 0
    for r, is_old in zip(body, old, strict=True):
        rid = r[ki] if ki is not None and ki < len(r) else ""
        if is_old and rid in held:
            n_held += 1
        if is_old and rid not in held:
            purged.append(rid)
        else:
            kept.append(r)
    if purged:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(kept)
        _rewrite_text(path, buf.getvalue())
    return purged, n_held


def _purge_landing_jsonl(path, clock, key, cutoff, held) -> tuple[list[str], int]:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    recs = []
    for line in lines:
        try:
            recs.append(json.loads(line))
        except ValueError:
            recs.append({})
    old = expired_mask(pd.Series([str(r.get(clock) or "") for r in recs]), cutoff)
    purged, kept, n_held = [], [], 0
    for line, r, is_old in zip(lines, recs, old, strict=True):
        rid = str(r.get(key, ""))
        if is_old and rid in held:
            n_held += 1
        if is_old and rid not in held:
            purged.append(rid)
        else:
            kept.append(line)
    if purged:
        _rewrite_text(path, "".join(kept))
    return purged, n_held


def _purge_parquet(path, clock, key, cutoff, held) -> tuple[list[str], int]:
    from vrdp.lake import read_parquet_metadata, write_parquet_atomic

    df = pd.read_parquet(path)
    if clock not in df:
        return [], 0
    old = pd.Series(expired_mask(df[clock].astype("string").fillna(""), cutoff), index=df.index)
    ids = (
        df[key].astype("string").fillna("") if key and key in df else pd.Series("", index=df.index)
    )
    is_held = ids.isin(held)
    drop = old & ~is_held
    if drop.any():
        write_parquet_atomic(
            df[~drop].reset_index(drop=True), path, metadata=read_parquet_metadata(path)
        )
    return ids[drop].tolist(), int((old & is_held).sum())


def _purge_file(path: Path, clock, key, cutoff, held):
    name = path.name
    if name.endswith(".csv"):
        return _purge_landing_csv(path, clock, key, cutoff, held)
    if name.endswith(".jsonl"):
        return _purge_landing_jsonl(path, clock, key, cutoff, held)
    if name.endswith(".parquet"):
        return _purge_parquet(path, clock, key, cutoff, held)
    return [], 0


def compact_duckdb(path: Path) -> None:
    """Rewrite a DuckDB file into a fresh one (``COPY FROM DATABASE``), then swap it in.

    Deleted rows leave their bytes in freed blocks of the old file; the copy
    holds only live rows. The new file is created with the old one's
    owner-only-ness (under ``umask 077`` when the old file is not group or
    world readable).
    """
    import duckdb

    from vrdp.lake import sql_string

    path = Path(path)
    tmp = path.with_name(f".{path.name}.compact")
    tmp.unlink(missing_ok=True)
    closed = not (path.stat().st_mode & 0o077)
    con = duckdb.connect()
    try:
        ctx = owner_only() if closed else _nullcontext()
        with ctx:
            con.execute(f"attach {sql_string(path)} as src (read_only)")
            con.execute(f"attach {sql_string(tmp)} as dst")
            con.execute("copy from database src to dst")
            con.execute("detach dst")
            con.execute("detach src")
    finally:
        con.close()
    os.replace(tmp, path)
    Path(str(path) + ".wal").unlink(missing_ok=True)


class _nullcontext:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


_UID_COLUMNS = ("record_uid", "record_uid_l", "record_uid_r")


def _purge_duckdb(path: Path, purged: dict[str, set[str]], report: PurgeReport) -> None:
    """Delete rows naming purged records (``<agency>:<dataset>:<id>``), then compact."""
    import duckdb

    uids = pd.DataFrame(
        [(src.split(".")[0], rid) for src, ids in purged.items() for rid in ids],
        columns=["agency", "record_id"],
    )
    con = duckdb.connect(str(path))
    deleted = 0
    try:
        con.register("purged_uids", uids)
        cols = con.execute(
            "select c.table_catalog, c.table_schema, c.table_name, c.column_name "
            "from information_schema.columns c "
            "join information_schema.tables t using (table_catalog, table_schema, table_name) "
            "where t.table_type = 'BASE TABLE' and c.table_catalog = current_database() "
            f"and c.column_name in {_UID_COLUMNS}"
        ).fetchall()
        for catalog, schema, table, column in cols:
            rel = f'"{catalog}"."{schema}"."{table}"'
            n = con.execute(
                f"delete from {rel} as t where exists (select 1 from purged_uids p where "
                f"split_part(t.\"{column}\", ':', 1) = p.agency and "
                f"split_part(t.\"{column}\", ':', 3) = p.record_id)"
            ).fetchone()[0]
            if n:
                report.duckdb_rows_deleted[f"{path.name}:{schema}.{table}"] += int(n)
                deleted += int(n)
        con.execute("checkpoint")
    finally:
        con.close()
    compact_duckdb(path)
    report.duckdb_files_compacted += 1


def _purge_exports(exports_dir: Path, values: set[str], report: PurgeReport) -> None:
    from vrdp.governance.scan import files_holding

    if not exports_dir.exists() or not values:
        return
    hit_versions = {p.parent for p in files_holding(exports_dir, values)}
    for version in sorted(hit_versions):
        folder = version.parent
        latest = folder / "latest"
        if latest.is_symlink() and latest.resolve() == version.resolve():
            latest.unlink()
        shutil.rmtree(version)
        report.export_versions_deleted += 1


def purge_data_root(
    data_root: Path,
    register,
    today: date,
    holds_log: Path | None = None,
    keys: dict[str, str] | None = None,
) -> PurgeReport:
    """Apply every ``delete`` retention rule under ``data_root``; return counts only.

    Parameters
    ----------
    register
        :class:`vrdp.governance.register.Register` (sources and their rules).
    today
        The purge date (a parameter, so tests and re-runs are reproducible).
    holds_log
        The legal-hold log (:mod:`vrdp.governance.legal_hold`); held records are kept.
    keys
        Record id column of each source (``<agency>.<dataset>`` -> column), from
        its contract.
    """
    from vrdp.governance.legal_hold import held_ids

    data_root = Path(data_root)
    report = PurgeReport(today=today.isoformat())
    purged: dict[str, set[str]] = {}
    for source, basis in sorted(register.sources.items()):
        rule = register.rules[basis.retention]
        if rule.action != "delete":
            continue
        agency, dataset = source.split(".")
        cutoff = cutoff_for(today, rule.period_days)
        held = held_ids(holds_log, source) if holds_log else set()
        key = (keys or {}).get(source) or ""
        gone: set[str] = set()
        for base in (
            data_root / "landing" / agency / dataset,
            data_root / "lake" / agency / dataset,
        ):
            for f in sorted(base.glob("*/*")) if base.exists() else []:
                ids, n_held = _purge_file(f, rule.clock, key, cutoff, held)
                if ids:
                    report.files_rewritten += 1
                    report.rows_purged[f"{f.relative_to(data_root).parts[0]}:{source}"] += len(ids)
                    gone.update(ids)
                if n_held:
                    report.rows_held[f"{f.relative_to(data_root).parts[0]}:{source}"] += n_held
        quarantine = data_root / "lake" / "quarantine" / f"{agency}_{dataset}"
        for f in sorted(quarantine.glob("*/*.parquet")) if quarantine.exists() else []:
            if not _delivery_expired(f.parent.name, cutoff):
                continue
            df = pd.read_parquet(f)
            raw = df["raw_row"].astype("string").fillna("") if "raw_row" in df else None
            # a quarantined row naming a held record is kept with it
            keep = (
                raw.map(lambda r, ids=frozenset(held): any(h in r for h in ids)).astype(bool)
                if raw is not None and held
                else pd.Series(False, index=df.index)
            )
            if (~keep).any():
                from vrdp.lake import read_parquet_metadata, write_parquet_atomic

                write_parquet_atomic(
                    df[keep].reset_index(drop=True), f, metadata=read_parquet_metadata(f)
                )
                report.files_rewritten += 1
                report.rows_purged[f"quarantine:{source}"] += int((~keep).sum())
            if keep.any():
                report.rows_held[f"quarantine:{source}"] += int(keep.sum())
        if gone:
            purged[source] = gone
    if purged:
        for db in sorted(data_root.rglob("*.duckdb")):
            if "dagster_home" not in db.parts:
                _purge_duckdb(db, purged, report)
        values = {
            f"{s.split('.')[0]}:{s.split('.')[1]}:{r}" for s, ids in purged.items() for r in ids
        }
        values |= {r for ids in purged.values() for r in ids if len(r) >= 6}
        _purge_exports(data_root / "exports", values, report)
    return report

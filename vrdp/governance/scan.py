"""Find where given values (identifiers, purged values) are stored under a folder.

Two searches, because compressed formats hide their bytes:

* :func:`files_holding` reads each file as what it is (Parquet columns,
  DuckDB tables, CSV / JSON lines / text, gzipped or not) and reports the files
  in which any value appears, by content;
* :func:`files_with_bytes` greps every file's raw bytes, which finds values a
  reader would not show any more (deleted rows in an uncompacted DuckDB file,
  an old row group), when they are stored uncompressed.

Used by the tests that prove restricted files are owner-only and that a purged
value is gone.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["files_holding", "files_with_bytes", "duckdb_values", "parquet_values"]

_TEXT_SUFFIXES = {".csv", ".jsonl", ".json", ".txt", ".geojson", ".html", ".md", ".yaml", ".log"}


def _walk(root: Path) -> Iterable[Path]:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            if p.is_file() and not p.is_symlink():
                yield p


def parquet_values(path: Path) -> set[str]:
    """Every text value of a Parquet file (string and dictionary columns)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    out: set[str] = set()
    for col in table.columns:
        t = col.type
        if pa.types.is_dictionary(t):
            col, t = col.cast(t.value_type), t.value_type
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            out.update(v for v in col.to_pylist() if v is not None)
    return out


def duckdb_values(path: Path) -> set[str]:
    """Every text value of every table of a DuckDB file, opened read-only."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        cols = con.execute(
            "select c.table_catalog, c.table_schema, c.table_name, c.column_name "
            "from information_schema.columns c join information_schema.tables t using "
            "(table_catalog, table_schema, table_name) where c.data_type = 'VARCHAR' "
            "and t.table_type = 'BASE TABLE' and c.table_catalog = current_database()"
        ).fetchall()
        out: set[str] = set()
        for catalog, schema, table, column in cols:
            relation = f'"{catalog}"."{schema}"."{table}"'
            rows = con.execute(
                f'select distinct "{column}" from {relation} where "{column}" is not null'
            ).fetchall()
            out.update(r[0] for r in rows)
        return out
    finally:
        con.close()


def _text(path: Path) -> str:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8", errors="replace")


def files_holding(root: str | Path, values: Iterable[str]) -> dict[Path, int]:
    """Files under ``root`` whose content holds any of ``values``, with how many.

    Parquet and DuckDB files are searched cell by cell (a cell equal to or
    containing a value, e.g. a quarantined raw row); text files (``.csv``,
    ``.jsonl``, ... and their ``.gz``) by substring; other files as raw bytes.
    """
    wanted = {v for v in values if v}
    found: dict[Path, int] = {}
    for p in _walk(Path(root)):
        name = p.name
        if name.endswith(".wal"):
            hits = len(_bytes_hits(p, wanted))
        elif name.endswith(".parquet"):
            hits = _contained(parquet_values(p), wanted)
        elif name.endswith(".duckdb"):
            hits = _contained(duckdb_values(p), wanted)
        elif Path(name.removesuffix(".gz")).suffix in _TEXT_SUFFIXES:
            text = _text(p)
            hits = sum(1 for v in wanted if v in text)
        else:
            hits = len(_bytes_hits(p, wanted))
        if hits:
            found[p] = hits
    return found


def _contained(cells: set[str], wanted: set[str]) -> int:
    """How many wanted values are a cell or part of one (raw quarantined rows hold many)."""
    exact = cells & wanted
    rest = wanted - exact
    if not rest:
        return len(exact)
    blob = "\x00".join(cells)
    return len(exact) + sum(1 for v in rest if v in blob)


def _bytes_hits(path: Path, wanted: set[str]) -> set[str]:
    raw = path.read_bytes()
    return {v for v in wanted if v.encode() in raw}


def files_with_bytes(root: str | Path, values: Iterable[str]) -> dict[Path, set[str]]:
    """Files under ``root`` whose raw bytes contain any of ``values`` (UTF-8), and which."""
    wanted = {v for v in values if v}
    out = {}
    for p in _walk(Path(root)):
        hits = _bytes_hits(p, wanted)
        if hits:
            out[p] = hits
    return out

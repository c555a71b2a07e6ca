"""Atomic Parquet writes into the lake, so a reader never sees half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "write_parquet_atomic",
    "read_parquet_metadata",
    "read_deliveries",
    "sha256_file",
    "query_frame",
    "sql_string",
]


def write_parquet_atomic(
    df: pd.DataFrame, path: str | Path, metadata: dict[str, str] | None = None
) -> Path:
    """Write ``df`` to ``path`` via a temporary file and ``os.replace``.

    Re-writing the same frame gives a byte-identical file (no pandas index,
    no creation time), so re-materializing a partition changes nothing.
    ``metadata`` is stored as Parquet key-value metadata (read it back with
    :func:`read_parquet_metadata`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    # pandas metadata embeds library versions only; drop it so files compare by content.
    table = table.replace_schema_metadata(
        {k.encode(): v.encode() for k, v in (metadata or {}).items()} or None
    )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_parquet_metadata(path: str | Path) -> dict[str, str]:
    """Key-value metadata written by :func:`write_parquet_atomic` (no data is read)."""
    meta = pq.read_schema(path).metadata or {}
    return {k.decode(): v.decode() for k, v in meta.items()}


def read_deliveries(lake_dir: str | Path, agency: str, dataset: str, columns=None) -> pd.DataFrame:
    """Every delivery of an agency dataset in the lake as one frame, in delivery order.

    Reads ``<lake>/<agency>/<dataset>/<delivery>/part-0.parquet``; an empty frame
    with ``columns`` when nothing has landed.
    """
    root = Path(lake_dir) / agency / dataset
    parts = sorted(root.glob("*/part-0.parquet")) if root.exists() else []
    # One Arrow table made into one frame: a frame per file and pandas' concat took
    # 2.5 s for the large world's 93 GPS days (4 million pings), this 0.5 s.
    tables = [t for t in (pq.read_table(p, columns=columns) for p in parts) if t.num_rows]
    if not tables:
        return pd.DataFrame(columns=columns or [])
    try:
        return pa.concat_tables(tables, promote_options="permissive").to_pandas()
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # types Arrow will not merge (a time zone on some deliveries only): pandas' concat
        return pd.concat([t.to_pandas() for t in tables], ignore_index=True)


def sql_string(text) -> str:
    """``text`` (a path, say) as a SQL string literal, quotes doubled.

    >>> sql_string("/data/o'brien/x.parquet")
    "'/data/o''brien/x.parquet'"
    """
    return "'" + str(text).replace("'", "''") + "'"


def query_frame(con, sql: str) -> pd.DataFrame:
    """A DuckDB query's rows as the frame ``con.execute(sql).df()`` gives, through Arrow.

    DuckDB's ``.df()`` makes a Python object of every text value before pandas
    turns the column into its string type; through Arrow the text stays in Arrow
    buffers. On the large world's 2.2 million person events this took 0.2 s and
    0.8 GiB instead of 4.2 s and 1.9 GiB. The columns get ``.df()``'s types: dates
    as ``datetime64[us]``, decimals as floats, integers and booleans with a null as
    pandas' nullable types.

    >>> import duckdb
    >>> con = duckdb.connect()
    >>> sql = (
    ...     "select * from (values (1, 2::bigint, true, 'x', date '2025-01-02', 1.5, 3, false),"
    ...     " (null, null, null, null, null, null, 4, true)) t(i, j, b, s, d, x, k, c)"
    ... )
    >>> query_frame(con, sql).equals(con.execute(sql).df())
    True
    >>> _ = con.execute("select 1 union all select 2").fetchone()  # a result left unfinished
    >>> len(query_frame(con, sql))
    2
    """
    cursor = con.cursor()  # its own: ``con`` may hold another query's unfinished result
    try:
        table = cursor.sql(sql).to_arrow_table()
    finally:
        cursor.close()
    df = table.to_pandas(date_as_object=False)
    for field, column in zip(table.schema, table.columns, strict=True):
        kind, name = field.type, field.name
        if pa.types.is_date(kind):
            df[name] = df[name].astype("datetime64[us]")
        elif pa.types.is_decimal(kind):
            df[name] = df[name].astype("float64")
        elif pa.types.is_boolean(kind) and column.null_count:
            df[name] = df[name].astype("boolean")
        elif pa.types.is_integer(kind) and column.null_count:
            signed = "" if pa.types.is_signed_integer(kind) else "U"
            df[name] = df[name].astype(f"{signed}Int{kind.bit_width}")
    return df

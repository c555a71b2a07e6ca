"""A snapshot of the pseudonymised marts that older DuckDB CLIs can open.

The warehouse is written by DuckDB 2.0 (storage version 69); the newest DuckDB
CLI on PyPI (``duckdb-cli`` 1.5.6) reads storage versions up to 68 only. This
copies the ``marts`` schema (never ``identity``) into a new file written in an
older storage format.

Usage::

    python -m vrdp.warehouse.snapshot data/warehouse/vrdp.duckdb data/warehouse/marts_v1_5.duckdb
"""

import argparse
import os
from pathlib import Path

import duckdb

__all__ = ["SNAPSHOT_SCHEMAS", "write_marts_snapshot"]

#: Schemas a snapshot may hold: only pseudonymised ones.
SNAPSHOT_SCHEMAS = ("marts",)


def write_marts_snapshot(
    warehouse: str | Path,
    out: str | Path,
    *,
    storage_version: str = "v1.5.0",
) -> dict[str, int]:
    """Copy every table of the ``marts`` schema into a new DuckDB file.

    Parameters
    ----------
    warehouse
        The warehouse file (opened read-only).
    out
        The snapshot file; replaced atomically if it exists.
    storage_version
        DuckDB storage compatibility version of the snapshot (``v1.5.0`` opens in
        the 1.5 CLI).

    Returns
    -------
    dict
        ``marts.<table>`` -> rows copied.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> con = duckdb.connect(str(d / "w.duckdb"))
    >>> _ = con.execute("create schema marts; create table marts.t as select 1 as x")
    >>> _ = con.execute("create schema identity; create table identity.p as select 'A' as name")
    >>> con.close()
    >>> write_marts_snapshot(d / "w.duckdb", d / "s.duckdb")
    {'marts.t': 1}
    """
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"attach '{Path(warehouse)}' as source (read_only)")
        con.execute(f"attach '{tmp}' as snap (storage_version '{storage_version}')")
        rows = {}
        for schema in SNAPSHOT_SCHEMAS:
            con.execute(f"create schema if not exists snap.{schema}")
            tables = con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = 'source' and table_schema = ? and table_type = 'BASE TABLE' "
                "order by table_name",
                [schema],
            ).fetchall()
            for (table,) in tables:
                name = f'{schema}."{table}"'
                con.execute(f"create table snap.{name} as select * from source.{name}")
                n = con.execute(f"select count(*) from snap.{name}").fetchall()[0][0]
                rows[f"{schema}.{table}"] = int(n)
        con.execute("detach snap")
    finally:
        con.close()
    os.replace(tmp, out)
    return rows


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python -m vrdp.warehouse.snapshot WAREHOUSE OUT``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse")
    parser.add_argument("out")
    parser.add_argument("--storage-version", default="v1.5.0")
    args = parser.parse_args(argv)
    rows = write_marts_snapshot(args.warehouse, args.out, storage_version=args.storage_version)
    for name, n in rows.items():
        print(f"{name}: {n} rows")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""Helpers shared by the warehouse tests."""

import duckdb


def read_warehouse(root, sql):
    """Run ``sql`` on the test warehouse (read-only) and return a DataFrame."""
    con = duckdb.connect(str(root / "warehouse" / "vrdp.duckdb"), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()

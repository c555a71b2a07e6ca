"""Helpers shared by the warehouse tests."""

import duckdb

from vrdp.governance.permissions import attach_restricted


def read_warehouse(root, sql):
    """Run ``sql`` on the test warehouse (read-only) and return a DataFrame.

    The restricted identity database is attached as ``restricted`` when it exists.
    """
    con = duckdb.connect(str(root / "warehouse" / "vrdp.duckdb"), read_only=True)
    try:
        restricted = root / "restricted" / "identity.duckdb"
        if restricted.exists():
            attach_restricted(con, restricted, read_only=True)
        return con.execute(sql).df()
    finally:
        con.close()

"""Dagster resources: where data lives, and the DuckDB warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from config.settings import Settings, settings

__all__ = ["PlatformConfig", "WAREHOUSE_POOL"]

#: Every asset that opens the DuckDB warehouse runs in this pool; its limit is 1
#: (``orchestration/dagster.yaml``) because DuckDB allows one writing process.
WAREHOUSE_POOL = "duckdb_warehouse"


class PlatformConfig(dg.ConfigurableResource):
    """Paths and settings, resolved from the environment when a step runs.

    The environment (``VRDP_DATA_ROOT`` and friends, see
    ``config/settings.py``) is the single source of truth because dbt,
    which runs as a subprocess, reads the same variables; tests set them with
    ``monkeypatch.setenv``.
    """

    def resolve(self) -> Settings:
        """Settings read from the environment now."""
        return settings()

    @contextmanager
    def warehouse(self, read_only: bool = True) -> Iterator:
        """Open the DuckDB warehouse; read-only unless asked otherwise."""
        import duckdb

        path = self.resolve().warehouse_path
        if read_only and not path.exists():
            raise FileNotFoundError(f"{path}: the warehouse has not been built yet (run dbt first)")
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), read_only=read_only)
        try:
            yield con
        finally:
            con.close()

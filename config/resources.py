"""Dagster resources: where data lives, and the DuckDB warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from config.locks import open_warehouse, warehouse_lock
from config.settings import Settings, settings

__all__ = ["PlatformConfig", "WAREHOUSE_POOL", "warehouse_lock"]

#: Every asset that opens the DuckDB warehouse runs in this pool. Its limit
#: (``orchestration/dagster.yaml``) is 2, the cores make run is written for: more
#: steps reading at once only share them and add memory. Which of them may run
#: together is :func:`warehouse_lock`'s to say, not the pool's.
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
        """Open the DuckDB warehouse; read-only unless asked otherwise.

        Under :func:`warehouse_lock` (shared to read, exclusive to write) for as
        long as the connection is open, so readers in other processes may run
        beside it and a writer waits for them.
        """
        path = self.resolve().warehouse_path
        if read_only and not path.exists():
            raise FileNotFoundError(f"{path}: the warehouse has not been built yet (run dbt first)")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open_warehouse(path, read_only=read_only) as con:
            yield con

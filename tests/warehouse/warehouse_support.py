"""Helpers shared by the warehouse tests (they live in ``support``, shared with tests/soc)."""

from support import DOCUMENTED_SCHEMAS, described_columns, read_warehouse

__all__ = ["DOCUMENTED_SCHEMAS", "described_columns", "read_warehouse"]

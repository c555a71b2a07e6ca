"""Software-defined assets, organised by domain: geography, sources, warehouse, hotspots."""

from __future__ import annotations

import dagster as dg

__all__ = ["defs"]


def defs() -> dg.Definitions:
    """Every asset of the platform's analytics chain (built lazily, no I/O)."""
    from assets.geography.boundaries import boundary_assets
    from assets.hotspots.top_cells import top_harm_cells
    from assets.sources.police_uk import police_uk_street_crimes, street_landing_files
    from assets.warehouse.dbt import warehouse_dbt_assets

    return dg.Definitions(
        assets=[
            *boundary_assets(),
            street_landing_files,
            police_uk_street_crimes,
            warehouse_dbt_assets(),
            top_harm_cells,
        ]
    )

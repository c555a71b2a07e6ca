"""Software-defined assets, organised by domain.

Geography, sources, warehouse, hot spots, risk terrain, patrol and the exports they publish.
"""

from __future__ import annotations

import dagster as dg

__all__ = ["defs"]


def defs() -> dg.Definitions:
    """Every asset of the platform's analytics chain (built lazily, no I/O)."""
    from assets.automation import DOWNSTREAM_AUTOMATION
    from assets.exports.publish import (
        hotspot_tasking_export,
        persons_analyst_export,
        persons_safeguarding_export,
    )
    from assets.geography.boundaries import boundary_assets
    from assets.hotspots.analysis import force_hotspot_assets, hotspot_analysis_assets
    from assets.hotspots.top_cells import top_harm_cells
    from assets.partners import partner_assets
    from assets.partners.needs_population import needs_population, population_landing
    from assets.patrol import patrol_assets
    from assets.risk_terrain import risk_terrain_assets
    from assets.soc import soc_assets
    from assets.sources.agencies import agency_source_assets
    from assets.sources.gazetteer import gazetteer
    from assets.sources.police_uk import police_uk_street_crimes, street_landing_files
    from assets.sources.police_uk_stop_search import (
        police_uk_stop_searches,
        stop_search_landing_files,
    )
    from assets.warehouse.dbt import warehouse_dbt_assets, warehouse_linked_dbt_assets
    from assets.warehouse.linkage import person_linkage

    sources = [
        *boundary_assets(),
        street_landing_files,
        police_uk_street_crimes,
        stop_search_landing_files,
        police_uk_stop_searches,
        *agency_source_assets(),
        gazetteer,
        population_landing,
    ]
    # Everything downstream of the sources updates itself when its inputs change
    # (declarative automation); sources are started by their file-arrival sensors.
    derived = dg.map_asset_specs(
        lambda spec: spec.replace_attributes(automation_condition=DOWNSTREAM_AUTOMATION),
        [
            warehouse_dbt_assets(),
            person_linkage,
            warehouse_linked_dbt_assets(),
            top_harm_cells,
            *hotspot_analysis_assets(),
            *force_hotspot_assets(),
            *risk_terrain_assets(),
            *patrol_assets(),
            *soc_assets(),
            *partner_assets(),
            needs_population,
        ],
    )
    # The export assets carry their own automation conditions.
    published = [hotspot_tasking_export, persons_analyst_export, persons_safeguarding_export]
    from assets.governance import governance_defs

    return dg.Definitions.merge(
        dg.Definitions(assets=[*sources, *derived, *published]), governance_defs()
    )

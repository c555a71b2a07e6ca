"""The one code location: merges ``defs()`` from each package.

``@dg.definitions`` defers building until Dagster loads the location, so
importing this module reads no files, opens no connections and parses no dbt
project (the manifest is prepared beforehand by ``make prepare``).
"""

from __future__ import annotations

import dagster as dg

__all__ = ["defs", "build_defs"]


def build_defs() -> dg.Definitions:
    """Merge every package's definitions, add the named jobs, bind the shared resources."""
    import assets
    import quality
    import sensors
    from assets.warehouse.dbt import dbt_resource
    from config.resources import PlatformConfig
    from orchestration import jobs

    return dg.Definitions.merge(
        jobs.with_owners_and_freshness(assets.defs()),
        quality.defs(),
        sensors.defs(),
        dg.Definitions(
            jobs=jobs.stage_jobs(),
            schedules=jobs.schedules(),
            sensors=[jobs.automation_sensor()],
            resources={"platform": PlatformConfig(), "dbt": dbt_resource()},
        ),
    )


@dg.definitions
def defs() -> dg.Definitions:
    """Definitions loaded by ``workspace.yaml``."""
    return build_defs()

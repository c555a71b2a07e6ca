"""Asset checks on analytic outputs: hot spot lists, risk terrain fits, the trial effect.

Thin wrappers over :mod:`vrdp.output_checks`; none blocks (a bad analysis is
reported in the UI, it does not stop the exports), each carries the figures
that explain its verdict.
"""

from __future__ import annotations

import json

import dagster as dg

from assets.hotspots.analysis import FORCE_HOTSPOT_LIST_KEY, HOTSPOT_LIST_KEY
from assets.patrol.common import TRIAL_EFFECT_KEY
from assets.risk_terrain.models import (
    POLICE_UK_RTM_FOLDERS,
    POLICE_UK_RTM_KEY,
    SIMULATED_RTM_KEY,
    risk_terrain_dir,
)
from config.resources import PlatformConfig

__all__ = ["analytics_checks"]


def _hotspot_check(key: dg.AssetKey, family: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=key,
        name="non_empty_and_within_force",
        description="The hot spot list has at least one selected cell and every selected "
        "cell's centre lies inside the force area (the union of its LSOAs).",
    )
    def _check(platform: PlatformConfig) -> dg.AssetCheckResult:
        import pandas as pd

        from assets.geography.boundaries import read_boundaries
        from vrdp.output_checks import hotspot_list_ok

        path = platform.resolve().lake_dir / family / "hotspot_list.parquet"
        if not path.exists():
            return dg.AssetCheckResult(passed=False, metadata={"missing": str(path)})
        area = read_boundaries(platform, "lsoa21").to_crs("EPSG:4326").union_all()
        passed, details = hotspot_list_ok(pd.read_parquet(path), area)
        return dg.AssetCheckResult(passed=passed, metadata=details)

    return _check


def _rtm_check(key: dg.AssetKey, *models: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=key,
        name="converged",
        description="The risk terrain model's final fit has finite log-likelihood, BIC and "
        "intercept, selected at least one variable, and its exposure model converged.",
    )
    def _check(platform: PlatformConfig) -> dg.AssetCheckResult:
        from vrdp.output_checks import rtm_converged

        lake = platform.resolve().lake_dir
        # an asset writing one of several folders: the report it wrote last
        found = [risk_terrain_dir(lake, m) / "report.json" for m in models]
        found = sorted((p for p in found if p.exists()), key=lambda p: p.stat().st_mtime_ns)
        path = found[-1] if found else risk_terrain_dir(lake, models[0]) / "report.json"
        if not path.exists():
            return dg.AssetCheckResult(
                passed=False,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"missing": str(path), "note": "the model was skipped (no data)"},
            )
        passed, details = rtm_converged(json.loads(path.read_text()))
        return dg.AssetCheckResult(passed=passed, metadata=details)

    return _check


@dg.asset_check(
    asset=TRIAL_EFFECT_KEY,
    name="confidence_intervals_finite",
    description="Every estimate of the trial effect with a 95% interval has finite bounds "
    "in order, and the negative binomial IRR has one (passes with a note when no trial runs).",
)
def trial_effect_cis(platform: PlatformConfig) -> dg.AssetCheckResult:
    """The trial effect's intervals are finite."""
    import pandas as pd

    from vrdp.output_checks import effect_cis_finite

    path = platform.resolve().lake_dir / "patrol" / "trial_effect.parquet"
    table = pd.read_parquet(path) if path.exists() else pd.DataFrame()
    if table.empty:
        return dg.AssetCheckResult(passed=True, metadata={"trial_running": False})
    estimates = {row.estimate: json.loads(row.value_json) for row in table.itertuples(index=False)}
    passed, details = effect_cis_finite(estimates)
    return dg.AssetCheckResult(passed=passed, metadata={"trial_running": True, **details})


def analytics_checks() -> list[dg.AssetChecksDefinition]:
    """Every check on analytic outputs."""
    return [
        _hotspot_check(HOTSPOT_LIST_KEY, "hotspots"),
        _hotspot_check(FORCE_HOTSPOT_LIST_KEY, "force_hotspots"),
        _rtm_check(POLICE_UK_RTM_KEY, *POLICE_UK_RTM_FOLDERS),
        _rtm_check(SIMULATED_RTM_KEY, "simulated_world"),
        trial_effect_cis,
    ]

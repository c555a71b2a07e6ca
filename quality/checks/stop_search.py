"""Asset checks on each month of data.police.uk stop and search.

- ``rows_reconcile`` (blocking): the landing file's rows, counted without the
  contract's parser, equal loaded plus quarantined rows.
- ``contract`` (blocking): the great-expectations suite on the loaded rows.
- ``quarantine_share`` (blocking): at most 20% of a month of 50+ rows quarantined.
- ``located_in_force_area`` (warning): most located searches fall in the force's LSOAs.
"""

import dagster as dg

from assets.sources.police_uk_stop_search import (
    STOP_SEARCH_MONTHS,
    STOP_SEARCHES_KEY,
    stop_search_lake_paths,
    stop_search_landing_dir,
)
from orchestration.resources import PlatformConfig

__all__ = ["police_uk_stop_search_checks"]

#: Below this share of located searches inside the force's LSOAs, warn.
MIN_SHARE_IN_FORCE_AREA = 0.9


def police_uk_stop_search_checks() -> list[dg.AssetChecksDefinition]:
    """The checks on ``police_uk/stop_searches``, one evaluation per month partition."""

    def _frames(platform: PlatformConfig, month: str):
        import pandas as pd

        loaded, quarantined = stop_search_lake_paths(platform.resolve().lake_dir, month)
        return pd.read_parquet(loaded), pd.read_parquet(quarantined)

    @dg.asset_check(
        asset=STOP_SEARCHES_KEY,
        name="rows_reconcile",
        blocking=True,
        partitions_def=STOP_SEARCH_MONTHS,
        description="Rows in the landing file = rows loaded + rows quarantined (nothing lost).",
    )
    def rows_reconcile(context: dg.AssetCheckExecutionContext, platform: PlatformConfig):
        from quality.checks.police_uk import count_csv_rows
        from vrdp.ingest.stop_search import find_stop_search_files

        s = platform.resolve()
        month = context.partition_key
        source = find_stop_search_files(stop_search_landing_dir(platform), s.police_uk_force)[month]
        loaded, quarantined = _frames(platform, month)
        rows_in = count_csv_rows(source)
        return dg.AssetCheckResult(
            passed=rows_in == len(loaded) + len(quarantined),
            metadata={
                "source_file": str(source),
                "rows_in": rows_in,
                "rows_loaded": len(loaded),
                "rows_quarantined": len(quarantined),
                "difference": rows_in - len(loaded) - len(quarantined),
            },
        )

    @dg.asset_check(
        asset=STOP_SEARCHES_KEY,
        name="contract",
        blocking=True,
        partitions_def=STOP_SEARCH_MONTHS,
        description=(
            "great-expectations suite on the loaded rows: unique id, known type, gender, age"
            " range and ethnicity codes, points in the UK."
        ),
    )
    def contract(context: dg.AssetCheckExecutionContext, platform: PlatformConfig):
        from quality.contracts.stop_search import stop_search_expectations
        from quality.ge import validate_frame

        loaded, _ = _frames(platform, context.partition_key)
        if loaded.empty:
            return dg.AssetCheckResult(passed=True, metadata={"rows": 0})
        summary = validate_frame(loaded, stop_search_expectations(), "police_uk_stop_searches")
        return dg.AssetCheckResult(
            passed=summary.success, metadata={"rows": len(loaded), **summary.as_metadata()}
        )

    @dg.asset_check(
        asset=STOP_SEARCHES_KEY,
        name="quarantine_share",
        blocking=True,
        partitions_def=STOP_SEARCH_MONTHS,
        description="Quarantined share under the contract's limit (months of 50+ rows).",
    )
    def quarantine_share(context: dg.AssetCheckExecutionContext, platform: PlatformConfig):
        from quality.contracts.stop_search import stop_search_contract

        loaded, quarantined = _frames(platform, context.partition_key)
        total = len(loaded) + len(quarantined)
        share = len(quarantined) / total if total else 0.0
        c = stop_search_contract()
        applies = total >= c.min_rows_for_share
        return dg.AssetCheckResult(
            passed=share <= c.max_quarantine_share or not applies,
            metadata={
                "quarantine_share": round(share, 4),
                "limit": c.max_quarantine_share,
                "rows": total,
                "rule_applies": applies,
            },
        )

    @dg.asset_check(
        asset=STOP_SEARCHES_KEY,
        name="located_in_force_area",
        blocking=False,
        partitions_def=STOP_SEARCH_MONTHS,
        description=f"At least {MIN_SHARE_IN_FORCE_AREA:.0%} of located searches in force LSOAs.",
    )
    def located_in_force_area(context: dg.AssetCheckExecutionContext, platform: PlatformConfig):
        loaded, _ = _frames(platform, context.partition_key)
        located = loaded["in_force_area"].dropna()
        share = float(located.astype(bool).mean()) if len(located) else 1.0
        return dg.AssetCheckResult(
            passed=share >= MIN_SHARE_IN_FORCE_AREA,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"share_in_force_area": round(share, 4), "located_rows": len(located)},
        )

    return [rows_reconcile, contract, quarantine_share, located_in_force_area]

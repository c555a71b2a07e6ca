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
from config.resources import PlatformConfig

__all__ = ["police_uk_stop_search_checks"]

#: Below this share of located searches inside the force's LSOAs, warn.
MIN_SHARE_IN_FORCE_AREA = 0.9


def _rows_reconcile(platform: PlatformConfig, month: str, loaded, quarantined):
    from quality.checks.police_uk import collapsed_rows, count_csv_rows
    from vrdp.force_area import street_files_by_month
    from vrdp.ingest.stop_search import find_stop_search_files

    s = platform.resolve()
    sources = street_files_by_month(
        stop_search_landing_dir(platform), s.police_uk_forces, find=find_stop_search_files
    )[month]
    rows_in = sum(count_csv_rows(p) for p in sources)
    # Stop and search keeps identical rows (separate searches): none collapse, but
    # the same rule reads the same column as every other source.
    collapsed = collapsed_rows(loaded)
    return dg.AssetCheckResult(
        check_name="rows_reconcile",
        passed=rows_in == len(loaded) + len(quarantined) + collapsed,
        metadata={
            "source_files": ", ".join(p.name for p in sources),
            "rows_in": rows_in,
            "rows_loaded": len(loaded),
            "rows_quarantined": len(quarantined),
            "rows_collapsed": collapsed,
            "difference": rows_in - len(loaded) - len(quarantined) - collapsed,
        },
    )


def _contract(loaded):
    from quality.contracts.stop_search import stop_search_expectations
    from quality.ge import validate_frame

    if loaded.empty:
        return dg.AssetCheckResult(check_name="contract", passed=True, metadata={"rows": 0})
    summary = validate_frame(loaded, stop_search_expectations(), "police_uk_stop_searches")
    return dg.AssetCheckResult(
        check_name="contract",
        passed=summary.success,
        metadata={"rows": len(loaded), **summary.as_metadata()},
    )


def _quarantine_share(loaded, quarantined):
    from quality.contracts.stop_search import stop_search_contract

    total = len(loaded) + len(quarantined)
    share = len(quarantined) / total if total else 0.0
    c = stop_search_contract()
    applies = total >= c.min_rows_for_share
    return dg.AssetCheckResult(
        check_name="quarantine_share",
        passed=share <= c.max_quarantine_share or not applies,
        metadata={
            "quarantine_share": round(share, 4),
            "limit": c.max_quarantine_share,
            "rows": total,
            "rule_applies": applies,
        },
    )


def _located(loaded):
    located = loaded["in_force_area"].dropna()
    share = float(located.astype(bool).mean()) if len(located) else 1.0
    return dg.AssetCheckResult(
        check_name="located_in_force_area",
        passed=share >= MIN_SHARE_IN_FORCE_AREA,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"share_in_force_area": round(share, 4), "located_rows": len(located)},
    )


def police_uk_stop_search_checks() -> list[dg.AssetChecksDefinition]:
    """The checks on ``police_uk/stop_searches``: one step per month, one result each."""

    def spec(name: str, blocking: bool, description: str) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(
            name,
            asset=STOP_SEARCHES_KEY,
            blocking=blocking,
            partitions_def=STOP_SEARCH_MONTHS,
            description=description,
        )

    @dg.multi_asset_check(
        name="police_uk_stop_searches_checks",
        specs=[
            spec(
                "rows_reconcile",
                True,
                "Rows in the landing file = rows loaded + rows quarantined (nothing lost).",
            ),
            spec(
                "contract",
                True,
                "great-expectations suite on the loaded rows: unique id, known type, gender,"
                " age range and ethnicity codes, points in the UK.",
            ),
            spec(
                "quarantine_share",
                True,
                "Quarantined share under the contract's limit (months of 50+ rows).",
            ),
            spec(
                "located_in_force_area",
                False,
                f"At least {MIN_SHARE_IN_FORCE_AREA:.0%} of located searches in force LSOAs.",
            ),
        ],
        description="Contract checks on each month of data.police.uk stop and search.",
    )
    def _checks(context: dg.AssetCheckExecutionContext, platform: PlatformConfig):
        import pandas as pd

        month = context.partition_key
        loaded_path, q_path = stop_search_lake_paths(platform.resolve().lake_dir, month)
        loaded, quarantined = pd.read_parquet(loaded_path), pd.read_parquet(q_path)
        yield _rows_reconcile(platform, month, loaded, quarantined)
        yield _contract(loaded)
        yield _quarantine_share(loaded, quarantined)
        yield _located(loaded)

    return [_checks]

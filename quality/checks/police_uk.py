"""Asset checks on each month of data.police.uk street crime.

``rows_reconcile`` counts the landing file's rows independently of the parser
and proves ``input = loaded + quarantined + collapsed`` (exact repeats folded into
a loaded row, ``copies_in_file`` - 1) against the Parquet on disk; it is
blocking, so a batch that lost rows never reaches the warehouse.
"""

import dagster as dg

from assets.sources.police_uk import (
    POLICE_UK_MONTHS,
    STREET_CRIMES_KEY,
    street_lake_paths,
    street_landing_dir,
)
from config.resources import PlatformConfig

__all__ = [
    "count_csv_rows",
    "collapsed_rows",
    "police_uk_street_checks",
    "MIN_SHARE_IN_FORCE_AREA",
]

#: Below this share of located rows inside the force's LSOAs, something is off
#: (wrong force's file, wrong boundaries); a few rows legitimately fall outside.
MIN_SHARE_IN_FORCE_AREA = 0.9


def count_csv_rows(path) -> int:
    """Number of non-empty data rows in a (gzipped) CSV, header excluded.

    Counted with a lenient CSV reader, independently of the contract's parser.
    """
    import csv
    import io
    from pathlib import Path

    from vrdp.ingest.landing import read_text

    text, _ = read_text(Path(path))
    return sum(1 for row in csv.reader(io.StringIO(text, newline="")) if row) - 1


def collapsed_rows(loaded) -> int:
    """Exact in-file repeats folded into loaded rows: the sum of ``copies_in_file`` - 1.

    Lake files written before repeats collapsed have no such column: none collapsed.

    >>> import pandas as pd
    >>> collapsed_rows(pd.DataFrame({"copies_in_file": [1, 3, 1]}))
    2
    """
    if "copies_in_file" not in loaded or not len(loaded):
        return 0
    return int((loaded["copies_in_file"] - 1).sum())


def police_uk_street_checks() -> list[dg.AssetChecksDefinition]:
    """The checks on ``police_uk/street_crimes``, one evaluation per month partition."""

    @dg.asset_check(
        asset=STREET_CRIMES_KEY,
        name="rows_reconcile",
        blocking=True,
        partitions_def=POLICE_UK_MONTHS,
        description="Rows in the landing file = rows loaded + rows quarantined + exact"
        " repeats collapsed (nothing lost).",
    )
    def rows_reconcile(context: dg.AssetCheckExecutionContext, platform: PlatformConfig):
        import pyarrow.parquet as pq

        from vrdp.force_area import street_files_by_month

        s = platform.resolve()
        month = context.partition_key
        sources = street_files_by_month(street_landing_dir(platform), s.police_uk_forces)[month]
        loaded_path, quarantine_path = street_lake_paths(platform.resolve().lake_dir, month)
        rows_in = sum(count_csv_rows(source) for source in sources)
        table = pq.read_table(loaded_path)
        loaded = table.num_rows
        collapsed = (
            collapsed_rows(table.select(["copies_in_file"]).to_pandas())
            if "copies_in_file" in table.column_names
            else 0
        )
        quarantined = pq.ParquetFile(quarantine_path).metadata.num_rows
        return dg.AssetCheckResult(
            passed=rows_in == loaded + quarantined + collapsed,
            metadata={
                "source_file": ", ".join(str(source) for source in sources),
                "rows_in": rows_in,
                "rows_loaded": loaded,
                "rows_quarantined": quarantined,
                "rows_collapsed": collapsed,
                "difference": rows_in - loaded - quarantined - collapsed,
            },
        )

    @dg.asset_check(
        asset=STREET_CRIMES_KEY,
        name="contract",
        blocking=True,
        partitions_def=POLICE_UK_MONTHS,
        description=(
            "great-expectations suite on the loaded rows: located in the UK, known crime"
            " type, unique event id, valid H3 cell."
        ),
    )
    def contract(context: dg.AssetCheckExecutionContext, platform: PlatformConfig):
        import pandas as pd

        from quality.contracts.police_uk import street_expectations
        from quality.ge import validate_frame

        df = pd.read_parquet(
            street_lake_paths(platform.resolve().lake_dir, context.partition_key)[0]
        )
        summary = validate_frame(df, street_expectations(), "police_uk_street_crimes")
        return dg.AssetCheckResult(
            passed=summary.success,
            metadata={"rows": len(df), **summary.as_metadata()},
        )

    @dg.asset_check(
        asset=STREET_CRIMES_KEY,
        name="located_in_force_area",
        blocking=False,
        partitions_def=POLICE_UK_MONTHS,
        description=f"At least {MIN_SHARE_IN_FORCE_AREA:.0%} of rows fall in the force's LSOAs.",
    )
    def located_in_force_area(context: dg.AssetCheckExecutionContext, platform: PlatformConfig):
        import pandas as pd

        df = pd.read_parquet(
            street_lake_paths(platform.resolve().lake_dir, context.partition_key)[0],
            columns=["in_force_area"],
        )
        share = float(df["in_force_area"].mean()) if len(df) else 0.0
        return dg.AssetCheckResult(
            passed=share >= MIN_SHARE_IN_FORCE_AREA,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"share_in_force_area": round(share, 4), "rows": len(df)},
        )

    return [rows_reconcile, contract, located_in_force_area]

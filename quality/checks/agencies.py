"""Asset checks on every delivery of every agency dataset.

- ``rows_reconcile`` (blocking): each loaded file's rows, counted independently
  of the parser, equal its loaded plus quarantined rows plus the exact repeats
  collapsed into loaded rows (``copies_in_file`` - 1); duplicate files add none.
- ``contract`` (blocking): the great-expectations suite of the dataset's
  contract passes on the loaded rows.
- ``quarantine_share`` (blocking): no more than the contract's share of rows
  was quarantined (a batch that bad is a broken extract, not bad luck).
- ``located_in_force_area`` (warning, datasets with coordinates).
"""

import json
from pathlib import Path

import dagster as dg

from assets.sources.agencies import (
    LANDING_SOURCES,
    LandingSource,
    agency_lake_paths,
    delivery_partitions,
    landing_folder,
    source_keys,
)
from config.resources import PlatformConfig

__all__ = ["count_rows", "agency_source_checks"]

#: Below this share of located rows inside the force area, warn.
MIN_SHARE_IN_FORCE_AREA = 0.9


def count_rows(path: Path) -> int:
    r"""Data rows in a landing file, counted without the contract's parser.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.jsonl"
    >>> _ = p.write_text('{"a": 1}\n\n{"a": 2}\n')
    >>> count_rows(p)
    2
    """
    name = path.name
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        from vrdp.ingest.landing import read_text  # decompresses gzip, whatever the name

        return sum(1 for line in read_text(path)[0].splitlines() if line.strip())
    from quality.checks.police_uk import count_csv_rows

    return count_csv_rows(path)


def _rows_reconcile(platform: PlatformConfig, spec, delivery, loaded_path, loaded, quarantined):
    from quality.checks.police_uk import collapsed_rows
    from vrdp.lake import read_parquet_metadata

    files = json.loads(read_parquet_metadata(loaded_path)["vrdp.files"])
    folder = landing_folder(platform, spec) / delivery
    per_file = {}
    for f in files:
        if f["status"] != "loaded":
            continue
        n_in = count_rows(folder / f["name"])
        mine = loaded[loaded["source_file"] == f["name"]] if len(loaded) else loaded
        n_q = int((quarantined["source_file"] == f["name"]).sum()) if len(quarantined) else 0
        per_file[f["name"]] = {
            "in": n_in,
            "loaded": len(mine),
            "quarantined": n_q,
            "collapsed": collapsed_rows(mine),
        }
    bad = {
        k: v
        for k, v in per_file.items()
        if v["in"] != v["loaded"] + v["quarantined"] + v["collapsed"]
    }
    return dg.AssetCheckResult(
        check_name="rows_reconcile",
        passed=not bad,
        metadata={
            "files_checked": len(per_file),
            "rows_in": sum(v["in"] for v in per_file.values()),
            "rows_loaded": len(loaded),
            "rows_quarantined": len(quarantined),
            "rows_collapsed": sum(v["collapsed"] for v in per_file.values()),
            "files_not_reconciled": dg.MetadataValue.json(bad),
        },
    )


def _contract_summaries(spec, loaded: dict) -> dict:
    """Each delivery's contract result (GX) on its loaded rows; empty deliveries left out.

    One GX validation for a range run's deliveries when it is exact
    (:func:`quality.ge.validate_frames`), else one per delivery.
    """
    from quality.contracts.agencies import agency_contracts
    from quality.ge import validate_frames

    frames = {d: df for d, df in loaded.items() if not df.empty}
    expectations = agency_contracts()[spec.source].expectations()
    return validate_frames(frames, expectations, spec.slug, by="delivery")


def _contract(spec, loaded, summary=None):
    if loaded.empty:
        return dg.AssetCheckResult(check_name="contract", passed=True, metadata={"rows": 0})
    if summary is None:
        summary = _contract_summaries(spec, {"one": loaded})["one"]
    return dg.AssetCheckResult(
        check_name="contract",
        passed=summary.success,
        metadata={"rows": len(loaded), **summary.as_metadata()},
    )


def _quarantine_share(spec, loaded, quarantined):
    from quality.contracts.agencies import agency_contracts

    total = len(loaded) + len(quarantined)
    share = len(quarantined) / total if total else 0.0
    contract = agency_contracts()[spec.source]
    applies = total >= contract.min_rows_for_share
    return dg.AssetCheckResult(
        check_name="quarantine_share",
        passed=share <= contract.max_quarantine_share or not applies,
        metadata={
            "quarantine_share": round(share, 4),
            "limit": contract.max_quarantine_share,
            "rows": total,
            "rule_applies": applies,
        },
    )


def _located(loaded):
    located_rows = loaded[loaded["coordinate_fault"].fillna("ok") != "missing"]
    share = float(located_rows["in_area"].mean()) if len(located_rows) else 1.0
    return dg.AssetCheckResult(
        check_name="located_in_force_area",
        passed=share >= MIN_SHARE_IN_FORCE_AREA,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "share_in_force_area": round(share, 4),
            "located_rows": len(located_rows),
        },
    )


def _checks_for(spec: LandingSource) -> list[dg.AssetChecksDefinition]:
    """The dataset's checks, evaluated in one step per delivery (or per range run).

    One step instead of one per check: each Dagster step costs a fixed overhead,
    and every delivery is its own run. Each check keeps its own name, result and
    blocking flag.
    """
    key = source_keys(spec)[0]
    partitions = delivery_partitions(spec)
    specs = [
        dg.AssetCheckSpec(
            "rows_reconcile",
            asset=key,
            blocking=True,
            partitions_def=partitions,
            description="Rows in each file = rows loaded + rows quarantined + exact repeats "
            "collapsed into a loaded row.",
        ),
        dg.AssetCheckSpec(
            "contract",
            asset=key,
            blocking=True,
            partitions_def=partitions,
            description="The contract's great-expectations suite on the loaded rows.",
        ),
        dg.AssetCheckSpec(
            "quarantine_share",
            asset=key,
            blocking=True,
            partitions_def=partitions,
            description="Quarantined share under the contract's limit (batches of 50+ rows).",
        ),
    ]
    if spec.located:
        specs.append(
            dg.AssetCheckSpec(
                "located_in_force_area",
                asset=key,
                blocking=False,
                partitions_def=partitions,
                description="Most located rows fall inside the force area.",
            )
        )

    by_name = {s.name: s for s in specs}

    @dg.multi_asset_check(
        name=f"{spec.slug}_checks",
        specs=specs,
        description=f"Contract checks on each delivery of {spec.source}.",
    )
    def _checks(context: dg.AssetCheckExecutionContext, platform: PlatformConfig):
        if not context.has_partition_key_range:
            yield from _evaluate(platform, spec, context.partition_key)
            return
        # A range run (one run for a batch of deliveries): each delivery's results
        # are recorded against that delivery, then one result per check sums up
        # the range (failing if any delivery failed, so a blocking check still
        # fails the run).
        failed: dict[str, list[str]] = {s.name: [] for s in specs}
        keys = list(context.partition_keys)
        lake = {d: _read_lake(platform, spec, d) for d in keys}
        contracts = _contract_summaries(spec, {d: v[1] for d, v in lake.items()})
        for delivery in keys:
            for r in _evaluate(platform, spec, delivery, lake[delivery], contracts.get(delivery)):
                context.op_execution_context.log_event(
                    dg.AssetCheckEvaluation(
                        asset_key=key,
                        check_name=r.check_name,
                        passed=r.passed,
                        metadata=r.metadata,
                        severity=r.severity,
                        blocking=by_name[r.check_name].blocking,
                        partition=delivery,
                    )
                )
                if not r.passed:
                    failed[r.check_name].append(delivery)
        for s in specs:
            yield dg.AssetCheckResult(
                check_name=s.name,
                passed=not failed[s.name],
                severity=dg.AssetCheckSeverity.ERROR if s.blocking else dg.AssetCheckSeverity.WARN,
                metadata={
                    "deliveries_checked": len(keys),
                    "range": f"{keys[0]}..{keys[-1]}",
                    "deliveries_failed": ", ".join(failed[s.name]) or "none",
                },
            )

    return [_checks]


def _read_lake(platform: PlatformConfig, spec: LandingSource, delivery: str):
    """(loaded path, loaded rows, quarantined rows) of one delivery in the lake."""
    import pandas as pd

    loaded_path, quarantine_path = agency_lake_paths(platform.resolve().lake_dir, spec, delivery)
    return loaded_path, pd.read_parquet(loaded_path), pd.read_parquet(quarantine_path)


def _evaluate(
    platform: PlatformConfig, spec: LandingSource, delivery: str, lake=None, contract=None
):
    """Every check's result on one delivery (its lake files and contract result if read)."""
    loaded_path, loaded, quarantined = lake or _read_lake(platform, spec, delivery)
    yield _rows_reconcile(platform, spec, delivery, loaded_path, loaded, quarantined)
    yield _contract(spec, loaded, contract)
    yield _quarantine_share(spec, loaded, quarantined)
    if spec.located:
        yield _located(loaded)


def agency_source_checks() -> list[dg.AssetChecksDefinition]:
    """Checks on every agency dataset."""
    return [c for spec in LANDING_SOURCES for c in _checks_for(spec)]

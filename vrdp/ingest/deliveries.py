"""Load one delivery (a folder of files) of an agency dataset, idempotently.

A delivery is ``landing/<agency>/<dataset>/<YYYY-MM or YYYY-MM-DD>/``. Files
whose content (sha256) was already loaded, in this delivery or another, add
no rows; loading the same delivery again gives the same tables.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from quality.contracts.base import Contract
from vrdp.coords import AreaBox
from vrdp.ingest.contract import apply_contract, load_file
from vrdp.ingest.landing import RawBatch, quarantine_frame
from vrdp.lake import sha256_file

__all__ = ["FileOutcome", "DeliveryResult", "delivery_end_date", "load_delivery"]


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file of a delivery."""

    name: str
    sha256: str
    status: str  # "loaded" or "duplicate_of:<file>"
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    #: Exact repeats of loaded rows folded into them (see ``copies_in_file``).
    rows_collapsed: int = 0


@dataclass(frozen=True)
class DeliveryResult:
    """The delivery's loaded and quarantined rows and a per-file account."""

    loaded: pd.DataFrame
    quarantine: pd.DataFrame
    files: list[FileOutcome] = field(default_factory=list)

    @property
    def rows_in(self) -> int:
        """Rows read from files that were loaded (duplicate files add none)."""
        return sum(f.rows_in for f in self.files)

    @property
    def rows_collapsed(self) -> int:
        """Exact in-file repeats folded into a loaded row: rows in = loaded + quarantined + this."""
        return sum(f.rows_collapsed for f in self.files)

    def files_json(self) -> str:
        """The per-file account as JSON, stored with the Parquet for later checks."""
        return json.dumps([f.__dict__ for f in self.files], sort_keys=True)


def _empty_batch(contract: Contract) -> RawBatch:
    rows = pd.DataFrame({name: pd.Series(dtype="object") for name in contract.names})
    rows.insert(0, "row_number", pd.Series(dtype="int64"))
    return RawBatch(rows, quarantine_frame(contract.source, "", []), 0, pd.Series(dtype="string"))


def delivery_end_date(delivery: str) -> date:
    """Last day a delivery covers: the day itself, or the month's last day.

    >>> delivery_end_date("2025-02"), delivery_end_date("2025-02-14")
    (datetime.date(2025, 2, 28), datetime.date(2025, 2, 14))
    """
    if len(delivery) == 7:
        y, m = int(delivery[:4]), int(delivery[5:7])
        return date(y, m, calendar.monthrange(y, m)[1])
    return date.fromisoformat(delivery)


def load_delivery(
    files: list[Path],
    contract: Contract,
    *,
    delivery: str,
    validated_on: date,
    already_loaded: dict[str, str] | None = None,
    area: AreaBox | None = None,
) -> DeliveryResult:
    """Apply ``contract`` to every file of one delivery.

    Parameters
    ----------
    files
        The delivery's files, in a stable order.
    contract
        The dataset's contract.
    delivery
        The delivery folder name (``YYYY-MM`` or ``YYYY-MM-DD``), recorded on each row.
    validated_on
        The processing date: dates after it are faults for fields that must not
        be in the future. (Not the delivery's month: an extract of referrals made
        in one month rightly carries closure dates recorded later.)
    already_loaded
        sha256 -> ``<delivery>/<file>`` for content loaded in other deliveries.
    area
        The force area box for coordinates.

    Raises
    ------
    vrdp.errors.SourceFileError
        For a file that cannot be read at all (the caller moves it to ``rejected/``).
    """
    seen = dict(already_loaded or {})
    loaded, quarantined, outcomes = [], [], []
    for path in files:
        digest = sha256_file(path)
        if digest in seen:
            outcomes.append(FileOutcome(path.name, digest, f"duplicate_of:{seen[digest]}"))
            continue
        seen[digest] = f"{delivery}/{path.name}"
        result = load_file(path, contract, delivered_on=validated_on, area=area)
        loaded.append(result.loaded)
        quarantined.append(result.quarantine)
        outcomes.append(
            FileOutcome(
                path.name,
                digest,
                "loaded",
                result.rows_in,
                len(result.loaded),
                len(result.quarantine),
                result.collapsed,
            )
        )
    if not loaded:
        # Every file was a repeat: keep the tables' columns so readers see the schema.
        empty = apply_contract(
            _empty_batch(contract),
            contract,
            source_file="",
            delivered_on=validated_on,
            area=area,
        )
        loaded, quarantined = [empty.loaded], [empty.quarantine]
    loaded_df = pd.concat(loaded, ignore_index=True)
    quarantine_df = pd.concat(quarantined, ignore_index=True)
    loaded_df.insert(0, "delivery", pd.array([delivery] * len(loaded_df), dtype="string"))
    return DeliveryResult(loaded_df, quarantine_df, outcomes)

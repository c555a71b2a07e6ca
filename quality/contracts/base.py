"""The shape of a data contract: fields, types, code lists, ranges, keys, coordinates.

A contract is plain data. :func:`vrdp.ingest.contract.apply_contract` enforces
it row by row (bad rows go to quarantine with a reason) and
:meth:`Contract.expectations` turns it into great-expectations expectations
that the asset checks run on every loaded batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "FieldType",
    "Field",
    "Contract",
    "Expectation",
    "OrderRule",
    "MAX_FIELD_CHARS",
    "LSOA_CODE_PATTERN",
    "NulBytes",
]

#: Longest text value accepted on every ingestion path (agency contracts and
#: data.police.uk alike); a longer one is a corrupt extract, not data.
MAX_FIELD_CHARS = 100_000

#: An ONS LSOA code (2011 or 2021): England ``E01``, Wales ``W01``, then six digits.
LSOA_CODE_PATTERN = r"[EW]01\d{6}"

#: What a NUL byte (U+0000) in a delivered value does: ``"quarantine"`` the row
#: (reason ``nul_byte``), or ``"strip"`` it, load the row and set ``nul_stripped``.
NulBytes = Literal["quarantine", "strip"]

#: ``datetime_tz``: ISO 8601 with a UTC offset (``2024-07-01T14:00:00+01:00``),
#: stored as naive UTC; a time without an offset is a ``bad_type`` fault.
FieldType = Literal["str", "int", "float", "date", "datetime", "datetime_tz", "bool"]


@dataclass(frozen=True)
class Field:
    """One column of a landing file.

    Attributes
    ----------
    name, type
        Column name in the file and its type once parsed.
    required
        An empty value is a row fault.
    codes
        The allowed values (a code list); anything else is a row fault.
    min, max
        Inclusive numeric range (for ``int`` and ``float``).
    pattern
        Regular expression a non-empty text value must match in full.
    not_future
        For dates and times: later than the delivery date is a row fault.
    personal
        A direct identifier (name, date of birth, NHS number, PNC id, address):
        it may reach only the restricted identity layer.
    """

    name: str
    type: FieldType = "str"
    required: bool = False
    codes: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    not_future: bool = False
    personal: bool = False


@dataclass(frozen=True)
class OrderRule:
    """Two fields of one row that must be in order: ``earlier <= later`` when both are set.

    Dates and times are compared as instants (a date is its midnight); the
    quarantine reason is ``order_violation`` and the detail names the rule.
    """

    earlier: str
    later: str
    #: What the rule means, in the quarantine detail ("closed before the call was received").
    meaning: str = ""
    #: How far ``later`` may come before ``earlier`` and still be in order (days):
    #: a child can be referred before birth (an unborn child), but not a pregnancy earlier.
    slack_days: int = 0

    @property
    def label(self) -> str:
        """``<later> before <earlier>``, the fault as the detail shows it."""
        return f"{self.later} before {self.earlier}"


@dataclass(frozen=True)
class Expectation:
    """A great-expectations expectation by class name and keyword arguments."""

    type: str
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Contract:
    """What one landing dataset must look like.

    Attributes
    ----------
    source
        ``<agency>.<dataset>``, the dbt source and asset key it feeds.
    fields
        The columns, in file order.
    key
        The business key: the record id that stays the same when a record is
        re-sent or amended. Within one file, exact repeats of a row collapse into
        one loaded row (``copies_in_file`` counts them); rows that share a key
        with other content are all quarantined (``duplicate_key``), since the
        file does not say which is right. Across deliveries the lake keeps every
        version and staging shows the latest (``latest_version`` dbt macro).
    version_field
        A last-modified column ordering versions of one key after the delivery
        (None where the source has none: then the latest delivery wins).
    coordinates
        ``(x, y)`` column names of a point, in BNG or WGS84 (see ``coordinate_system``).
    coordinate_system
        ``"bng"``, ``"wgs84"`` or ``"auto"``.
    location_required
        A row without a usable point is quarantined (otherwise kept, unlocated).
    max_quarantine_share
        Above this share of quarantined rows the batch check fails (blocking),
        for batches of at least ``min_rows_for_share`` rows (in a batch of ten
        rows, two faults say nothing about the extract).
    min_rows_for_share
        Smallest batch the share rule applies to.
    keep_duplicate_rows
        Exact repeats of a row are separate records, not re-sent rows (data.police.uk
        stop and search: a group searched together gives identical rows), so each
        is loaded, not collapsed.
    order_rules
        Cross-field order rules (an end not before its start, an event not before
        the person's birth); a row that breaks one is quarantined.
    timezone
        The zone the source's naive timestamps are in; a timestamp with a UTC
        offset (or a timezone-aware Parquet column) is converted to it, so every
        ``datetime`` lands as naive wall-clock time in this zone.
    nul_bytes
        What a NUL byte in a value does (see :data:`NulBytes`).
    """

    source: str
    fields: tuple[Field, ...]
    key: str | None = None
    coordinates: tuple[str, str] | None = None
    coordinate_system: str = "auto"
    location_required: bool = False
    max_quarantine_share: float = 0.2
    min_rows_for_share: int = 50
    keep_duplicate_rows: bool = False
    version_field: str | None = None
    order_rules: tuple[OrderRule, ...] = ()
    timezone: str = "Europe/London"
    nul_bytes: NulBytes = "quarantine"

    def __post_init__(self) -> None:
        names = set(self.names)
        named = [self.key, self.version_field]
        named += [n for r in self.order_rules for n in (r.earlier, r.later)]
        unknown = [n for n in named if n is not None and n not in names]
        if unknown:
            raise ValueError(f"{self.source}: contract names unknown field(s) {unknown}")

    @property
    def version_order(self) -> tuple[str, ...]:
        """Columns that order a key's versions, latest last: delivery, then ``version_field``."""
        return ("delivery",) + ((self.version_field,) if self.version_field else ())

    @property
    def names(self) -> list[str]:
        """Column names in file order."""
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        """The field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def expectations(self) -> list[Expectation]:
        """Expectations every loaded batch must meet (after quarantine)."""
        out = [
            Expectation(
                "ExpectTableColumnsToMatchSet", {"column_set": [*self.names], "exact_match": False}
            )
        ]
        for f in self.fields:
            if f.required:
                out.append(Expectation("ExpectColumnValuesToNotBeNull", {"column": f.name}))
            if f.codes is not None:
                out.append(
                    Expectation(
                        "ExpectColumnValuesToBeInSet",
                        {"column": f.name, "value_set": list(f.codes)},
                    )
                )
            if f.min is not None or f.max is not None:
                out.append(
                    Expectation(
                        "ExpectColumnValuesToBeBetween",
                        {"column": f.name, "min_value": f.min, "max_value": f.max},
                    )
                )
        if self.key:
            # one version per key in each file (repeats collapse, conflicts are held
            # back); two files of one delivery may each carry a version
            out.append(
                Expectation(
                    "ExpectCompoundColumnsToBeUnique", {"column_list": ["source_file", self.key]}
                )
            )
        if self.coordinates:
            out.append(
                Expectation(
                    "ExpectColumnValuesToBeBetween",
                    {"column": "easting_m", "min_value": 0, "max_value": 700_000},
                )
            )
            out.append(
                Expectation(
                    "ExpectColumnValuesToBeBetween",
                    {"column": "northing_m", "min_value": 0, "max_value": 1_300_000},
                )
            )
        return out

"""The shape of a data contract: fields, types, code lists, ranges, keys, coordinates.

A contract is plain data. :func:`vrdp.ingest.contract.apply_contract` enforces
it row by row (bad rows go to quarantine with a reason) and
:meth:`Contract.expectations` turns it into great-expectations expectations
that the asset checks run on every loaded batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["FieldType", "Field", "Contract", "Expectation"]

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
        Record id column: unique within a delivery (a repeated id with other
        content is quarantined; an exact repeat of a row is quarantined as a
        duplicate).
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
        stop and search: a group searched together gives identical rows), so they
        are loaded, not quarantined.
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
            out.append(Expectation("ExpectColumnValuesToBeUnique", {"column": self.key}))
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

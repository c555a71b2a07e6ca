"""Contract for data.police.uk stop and search files (``YYYY-MM-<force>-stop-and-search.csv``).

The 15 columns and their values follow the monthly release described at
data.police.uk/about/#stop-and-search and the shipped 40-row sample of the
demo force (``public_data/police_uk/*/stop_and_search``):

- ``Date`` is ISO 8601 with a UTC offset (``+00:00`` in winter, ``+01:00`` in
  British Summer Time); a time without an offset is a fault.
- ``Latitude``/``Longitude`` are optional (vehicle searches are often
  unlocated) but, when given, must lie in the United Kingdom; a swapped pair is
  fixed and flagged.
- There is no record id, and identical rows are real (a group searched
  together: the shipped sample has one such pair), so repeats are loaded and
  the platform derives a stable id (:func:`vrdp.ingest.stop_search.stop_search_refs`).
- Code lists are kept to the columns whose values data.police.uk fixes (type,
  gender, age range, officer-defined ethnicity, booleans); legislation, object
  and outcome wording has changed between releases, so they are free text.
"""

from __future__ import annotations

import re
from functools import cache

from quality.contracts.base import Contract, Field

__all__ = [
    "STOP_SEARCH_COLUMNS",
    "STOP_SEARCH_FILE_PATTERN",
    "SEARCH_TYPES",
    "GENDERS",
    "AGE_RANGES",
    "OFFICER_DEFINED_ETHNICITIES",
    "SNAKE_CASE",
    "stop_search_contract",
    "stop_search_expectations",
]

SOURCE = "police_uk.stop_searches"

#: Header of a stop and search file, in order.
STOP_SEARCH_COLUMNS: tuple[str, ...] = (
    "Type",
    "Date",
    "Part of a policing operation",
    "Policing operation",
    "Latitude",
    "Longitude",
    "Gender",
    "Age range",
    "Self-defined ethnicity",
    "Officer-defined ethnicity",
    "Legislation",
    "Object of search",
    "Outcome",
    "Outcome linked to object of search",
    "Removal of more than just outer clothing",
)

#: Lake column names of the delivered columns.
SNAKE_CASE: dict[str, str] = {
    "Type": "search_type",
    "Date": "searched_at_utc",
    "Part of a policing operation": "part_of_policing_operation",
    "Policing operation": "policing_operation",
    "Latitude": "latitude_as_delivered",
    "Longitude": "longitude_as_delivered",
    "Gender": "gender",
    "Age range": "age_range",
    "Self-defined ethnicity": "self_defined_ethnicity",
    "Officer-defined ethnicity": "officer_defined_ethnicity",
    "Legislation": "legislation",
    "Object of search": "object_of_search",
    "Outcome": "outcome",
    "Outcome linked to object of search": "outcome_linked_to_object",
    "Removal of more than just outer clothing": "removal_of_more_than_outer_clothing",
}

#: File names look like ``2025-01-city-of-london-stop-and-search.csv`` (optionally gzipped).
STOP_SEARCH_FILE_PATTERN = re.compile(
    r"^(?P<month>\d{4}-\d{2})-(?P<force>[a-z0-9-]+?)-stop-and-search\.csv(?:\.gz)?$"
)

SEARCH_TYPES = ("Person search", "Person and Vehicle search", "Vehicle search")
GENDERS = ("Male", "Female", "Other")
AGE_RANGES = ("under 10", "10-17", "18-24", "25-34", "over 34")
OFFICER_DEFINED_ETHNICITIES = ("White", "Black", "Asian", "Mixed", "Other")

_ISO_WITH_OFFSET = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)"


@cache
def stop_search_contract() -> Contract:
    """The contract every stop and search file must meet."""
    return Contract(
        SOURCE,
        (
            Field("Type", required=True, codes=SEARCH_TYPES),
            Field("Date", "datetime_tz", required=True, not_future=True, pattern=_ISO_WITH_OFFSET),
            Field("Part of a policing operation", "bool"),
            Field("Policing operation"),
            Field("Latitude"),
            Field("Longitude"),
            Field("Gender", codes=GENDERS),
            Field("Age range", codes=AGE_RANGES),
            Field("Self-defined ethnicity"),
            Field("Officer-defined ethnicity", codes=OFFICER_DEFINED_ETHNICITIES),
            Field("Legislation"),
            Field("Object of search"),
            Field("Outcome"),
            Field("Outcome linked to object of search", "bool"),
            Field("Removal of more than just outer clothing", "bool"),
        ),
        key=None,
        coordinates=("Longitude", "Latitude"),
        coordinate_system="wgs84",
        location_required=False,
        keep_duplicate_rows=True,
    )


def stop_search_expectations():
    """great-expectations suite on a loaded month (lake column names)."""
    from quality.contracts.base import Expectation
    from quality.contracts.police_uk import UK_BOUNDS_WGS84 as uk

    lake_columns = [
        "stop_search_ref",
        "delivery",
        "searched_at",
        *[c for c in SNAKE_CASE.values() if not c.endswith("_as_delivered")],
        "longitude",
        "latitude",
        "easting_m",
        "northing_m",
        "h3_cell",
        "lsoa21_code",
        "ward_code",
        "in_force_area",
    ]
    out = [
        Expectation(
            "ExpectTableColumnsToMatchSet", {"column_set": lake_columns, "exact_match": False}
        ),
        Expectation("ExpectColumnValuesToNotBeNull", {"column": "stop_search_ref"}),
        Expectation("ExpectColumnValuesToBeUnique", {"column": "stop_search_ref"}),
        Expectation("ExpectColumnValuesToNotBeNull", {"column": "searched_at"}),
        Expectation("ExpectColumnValuesToNotBeNull", {"column": "search_type"}),
    ]
    for column, codes in (
        ("search_type", SEARCH_TYPES),
        ("gender", GENDERS),
        ("age_range", AGE_RANGES),
        ("officer_defined_ethnicity", OFFICER_DEFINED_ETHNICITIES),
    ):
        out.append(
            Expectation("ExpectColumnValuesToBeInSet", {"column": column, "value_set": list(codes)})
        )
    out += [
        Expectation(
            "ExpectColumnValuesToBeBetween",
            {"column": "longitude", "min_value": uk["lon_min"], "max_value": uk["lon_max"]},
        ),
        Expectation(
            "ExpectColumnValuesToBeBetween",
            {"column": "latitude", "min_value": uk["lat_min"], "max_value": uk["lat_max"]},
        ),
        Expectation(
            "ExpectColumnValuesToBeBetween",
            {"column": "easting_m", "min_value": 0, "max_value": 700_000},
        ),
        Expectation(
            "ExpectColumnValuesToBeBetween",
            {"column": "northing_m", "min_value": 0, "max_value": 1_300_000},
        ),
    ]
    return out

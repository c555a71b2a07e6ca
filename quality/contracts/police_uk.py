"""Contract for data.police.uk street-level crime files (``YYYY-MM-<force>-street.csv``).

The format is the monthly release described at data.police.uk/about; the
behaviours below were checked on the shipped files of both forces in
``public_data/police_uk/`` (see ``public_data/SOURCES.md``).
"""

from __future__ import annotations

import re

from quality.contracts.base import LSOA_CODE_PATTERN, MAX_FIELD_CHARS, Expectation

__all__ = [
    "STREET_COLUMNS",
    "CRIME_TYPES",
    "UK_BOUNDS_WGS84",
    "STREET_FILE_PATTERN",
    "CRIME_ID_PATTERN",
    "QUARANTINE_REASONS",
    "LSOA_CODE_RE",
    "MAX_FIELD_CHARS",
    "street_expectations",
]

#: Header of a street-level file, in order.
STREET_COLUMNS: tuple[str, ...] = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)

#: The 14 police.uk crime categories.
CRIME_TYPES: frozenset[str] = frozenset(
    {
        "Anti-social behaviour",
        "Bicycle theft",
        "Burglary",
        "Criminal damage and arson",
        "Drugs",
        "Other crime",
        "Other theft",
        "Possession of weapons",
        "Public order",
        "Robbery",
        "Shoplifting",
        "Theft from the person",
        "Vehicle crime",
        "Violence and sexual offences",
    }
)

#: Longitude/latitude box around the United Kingdom (WGS84 degrees).
UK_BOUNDS_WGS84 = {"lon_min": -8.7, "lon_max": 1.9, "lat_min": 49.8, "lat_max": 60.9}

#: File names look like ``2025-01-city-of-london-street.csv`` (optionally gzipped).
STREET_FILE_PATTERN = re.compile(
    r"^(?P<month>\d{4}-\d{2})-(?P<force>[a-z0-9-]+)-street\.csv(?:\.gz)?$"
)

#: A crime id is a 64-character lower-case hex hash; ASB rows have none.
CRIME_ID_PATTERN = re.compile(r"^[0-9a-f]{64}$")

#: A reported LSOA code (2011 or 2021); blank is allowed (rows without a location).
LSOA_CODE_RE = re.compile(LSOA_CODE_PATTERN)

#: Every reason a row can be quarantined for, with what it means.
QUARANTINE_REASONS: dict[str, str] = {
    "invalid_utf8": "the row contains bytes that are not valid UTF-8",
    "wrong_field_count": "the row does not have one field per header column",
    "no_location": "longitude and latitude are blank (police.uk 'No location' rows)",
    "malformed_coordinates": "longitude or latitude is not a number, or only one is given",
    "coordinates_outside_uk": "the point lies outside the United Kingdom bounding box",
    "month_mismatch": "the Month field is malformed or differs from the file's month",
    "unknown_crime_type": "Crime type is not one of the 14 police.uk categories",
    "malformed_crime_id": "Crime ID is neither blank (ASB) nor a 64-character hex hash",
    "missing_crime_id": "a crime other than anti-social behaviour has no Crime ID",
    "nul_byte": "a field holds a NUL byte (a corrupt extract)",
    "field_too_large": "a field longer than MAX_FIELD_CHARS (the limit every source shares)",
    "malformed_lsoa_code": "LSOA code is neither blank nor an ONS LSOA code (E01/W01 + 6 digits)",
    "duplicate_row": "an exact repeat of a quarantined row (repeats of a loaded row collapse)",
}


def street_expectations() -> list[Expectation]:
    """What every loaded month must satisfy (run with great-expectations)."""
    b = UK_BOUNDS_WGS84
    return [
        Expectation("ExpectColumnValuesToNotBeNull", {"column": "event_id"}),
        Expectation("ExpectColumnValuesToBeUnique", {"column": "event_id"}),
        Expectation(
            "ExpectColumnValuesToBeBetween",
            {"column": "longitude", "min_value": b["lon_min"], "max_value": b["lon_max"]},
        ),
        Expectation(
            "ExpectColumnValuesToBeBetween",
            {"column": "latitude", "min_value": b["lat_min"], "max_value": b["lat_max"]},
        ),
        Expectation("ExpectColumnValuesToNotBeNull", {"column": "longitude"}),
        Expectation("ExpectColumnValuesToNotBeNull", {"column": "latitude"}),
        Expectation(
            "ExpectColumnValuesToBeInSet",
            {"column": "crime_type", "value_set": sorted(CRIME_TYPES)},
        ),
        Expectation(
            "ExpectColumnValuesToMatchRegex", {"column": "h3_cell", "regex": r"^8[0-9a-f]{14}$"}
        ),
        Expectation(
            "ExpectColumnValuesToMatchRegex", {"column": "crime_id", "regex": r"^[0-9a-f]{64}$"}
        ),
    ]

"""Stand-ins for the project's own macros (``macros/standardise.sql``), for ``make lint``.

dbt resolves ``vrdp.<macro>`` to the project's macros; sqlfluff renders these.
"""


def std_name(column):
    """Render vrdp.std_name."""
    return f"upper({column})"


def std_postcode(column):
    """Render vrdp.std_postcode."""
    return f"upper({column})"


def valid_nhs_number(column):
    """Render vrdp.valid_nhs_number."""
    return column


def valid_pnc_id(column):
    """Render vrdp.valid_pnc_id."""
    return column


def event_key(source_system, source_ref):
    """Render vrdp.event_key."""
    return f"md5({source_system} || ':' || {source_ref})"


_LOCATION = (
    "easting_m",
    "northing_m",
    "longitude",
    "latitude",
    "h3_cell",
    "h3_resolution",
    "lsoa21_code",
    "ward_code",
    "in_force_area",
    "is_located",
    "geocode_score",
)


def event_location_columns(alias, geocode_score=None, is_located=None):
    """Render vrdp.event_location_columns."""
    return ",\n        ".join(
        f"{alias}.{c}" if c != "is_located" else f"true as {c}" for c in _LOCATION
    )


def no_event_location():
    """Render vrdp.no_event_location."""
    return ",\n        ".join(f"null as {c}" for c in _LOCATION)


def h3_place_key(h3_cell):
    """Render vrdp.h3_place_key."""
    return f"md5('h3:' || {h3_cell})"


def located_columns():
    """Render vrdp.located_columns."""
    return (
        "cast(easting_m as double) as easting_m, cast(northing_m as double) as northing_m, "
        "cast(longitude as double) as longitude, cast(latitude as double) as latitude, "
        "h3_cell, cast(h3_resolution as integer) as h3_resolution, lsoa21_code, "
        "lsoa11_code, ward_code, in_force_area"
    )


def needs_wilson(k, n, bound):
    """Render vrdp.needs_wilson (macros/needs.sql)."""
    return f"1000.0 * {k} / {n}"


def needs_suppress(count, value):
    """Render vrdp.needs_suppress (macros/needs.sql)."""
    return f"case when coalesce({count}, 0) >= 5 then {value} end"

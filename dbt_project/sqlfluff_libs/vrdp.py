"""Stand-ins for the project's own macros (DuckDB's rendering), for ``make lint``.

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


def valid_upn(column):
    """Render vrdp.valid_upn."""
    full = f"regexp_full_match(upper({column}), '[A-Z][0-9]{{11}}[A-Z0-9]')"
    return f"case when {full} then upper({column}) end"


def try_cast_date(expression):
    """Render vrdp.try_cast_date."""
    return f"try_cast({expression} as date)"


def json_text(column, path):
    """Render vrdp.json_text (macros/json.sql)."""
    return f"json_extract_string({column}, '{path}')"


def json_string_array_join(column, separator):
    """Render vrdp.json_string_array_join (macros/json.sql)."""
    return f"""array_to_string(from_json({column}, '["VARCHAR"]'), '{separator}')"""


def unnest_json_objects(column, fields):
    """Render vrdp.unnest_json_objects (macros/json.sql)."""
    struct = ", ".join(f'"{f}": "VARCHAR"' for f in fields)
    return f"unnest(from_json({column}, '[{{{struct}}}]'))"


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


def union_select(columns, parts):
    """Render vrdp.union_select (one select per part, unioned, typed nulls for gaps)."""
    selects = []
    for part in parts:
        given, same = part.get("columns", {}), part.get("same", [])
        items = []
        for name, type_ in columns:
            if name in given:
                items.append(f"{given[name]} as {name}")
            elif name in same:
                items.append(f"{part['from']}.{name}")
            else:
                items.append(f"cast(null as {portable_type(type_)}) as {name}")
        if part.get("tail"):
            items.append(part["tail"])
        body = ",\n        ".join(items)
        selects.append(f"    select\n        {body}\n    from {part['from']}")
    return "\n\n    union all\n\n".join(selects)


def portable_type(type_):
    """Render vrdp.portable_type."""
    return {"string": "varchar"}.get(type_, type_)


def latest_version(relation, key, version_columns=()):
    """Render vrdp.latest_version."""
    order = ", ".join(["delivery desc", *(f"{c} desc" for c in version_columns)])
    return (
        f"select * from {relation} qualify row_number() over "
        f"(partition by {key} order by {order}, source_file desc, row_number desc) = 1"
    )


def split_to_rows(column, sep):
    """Render vrdp.split_to_rows."""
    return f"unnest(string_split({column}, '{sep}'))"


def period_series(grain, first_date, last_date):
    """Render vrdp.period_series."""
    return (
        "select cast(period_start as date) as period_start\n"
        f"    from range(cast({first_date} as timestamp), cast({last_date} as timestamp),"
        f" interval 1 {grain}) as periods (period_start)"
    )


def time_series(start, stop, step):
    """Render vrdp.time_series (macros/series.sql)."""
    return f"range({start}, {stop}, {step})"


def string_agg_distinct(column, sep):
    """Render vrdp.string_agg_distinct (macros/aggregates.sql)."""
    return f"string_agg(distinct {column}, '{sep}' order by {column})"


def std_address_line(column):
    """Render vrdp.std_address_line."""
    first = f"split_part(upper({column}), ',', 1)"
    return f"nullif(trim(regexp_replace({first}, '\\s+', ' ', 'g')), '')"


def trailing_postcode(column):
    """Render vrdp.trailing_postcode."""
    return f"regexp_extract(upper({column}), '[A-Z]{{1,2}}[0-9][A-Z0-9]? ?[0-9][A-Z]{{2}}$')"


def needs_wilson(k, n, bound):
    """Render vrdp.needs_wilson (macros/needs.sql)."""
    return f"1000.0 * {k} / {n}"


def needs_suppress(count, value):
    """Render vrdp.needs_suppress (macros/needs.sql)."""
    return f"case when coalesce({count}, 0) >= 5 then {value} end"


def publishable(count):
    """Render vrdp.publishable (macros/needs.sql)."""
    return f"({count} = 0 or {count} >= 5)"


def when_publishable(count, value):
    """Render vrdp.when_publishable (macros/needs.sql)."""
    return f"case when {publishable(count)} then {value} end"


def needs_rate_columns(raw, population):
    """Render vrdp.needs_rate_columns (macros/needs.sql)."""
    return (
        f"cast({raw} as bigint) as events,\n        round({population}, 1) as population,\n"
        f"        1000.0 * {raw} / {population} as rate_per_1000,\n"
        f"        1000.0 * {raw} / {population} as rate_ci95_low,\n"
        f"        1000.0 * {raw} / {population} as rate_ci95_high,\n"
        f"        'wilson' as ci_method,\n        {raw} < 5 as is_suppressed"
    )


def ward_soc_periods(grain):
    """Render vrdp.ward_soc_periods (macros/soc.sql): a stand-in query of its columns."""
    return "select ward_code, period_start, soc_category from ward_soc_periods"

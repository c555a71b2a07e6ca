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

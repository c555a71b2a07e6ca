"""Stand-ins for dbt's cross-database macros, so sqlfluff's jinja templater can render models.

Only used by ``make lint``; dbt itself never reads this folder.
"""


def concat(fields):
    """Render dbt.concat as DuckDB's ``||``."""
    return " || ".join(fields)


def cast(field, type_):
    """Render dbt.cast."""
    return f"cast({field} as {type_})"


def type_string():
    """Render dbt.type_string."""
    return "varchar"


def type_bigint():
    """Render dbt.type_bigint."""
    return "bigint"


def dateadd(datepart, interval, from_date_or_timestamp):
    """Render dbt.dateadd."""
    return f"({from_date_or_timestamp} + interval {interval} {datepart})"


def date_trunc(datepart, date):
    """Render dbt.date_trunc."""
    return f"date_trunc('{datepart}', {date})"

{#- DuckDB-only helpers of the SOC marts (named so; a Spark/Trino port rewrites these). -#}

{#- One row per element of a delimited string column (DuckDB unnest/string_split). -#}
{% macro duckdb_split_to_rows(column, sep) -%}
    unnest(string_split({{ column }}, '{{ sep }}'))
{%- endmacro %}

{#- Period starts (dates) from the truncated first to last date, one per period. -#}
{% macro duckdb_period_series(grain, first_date, last_date) -%}
    select cast(period_start as date) as period_start
    from range(
        cast({{ dbt.date_trunc(grain, first_date) }} as timestamp),
        cast({{ dbt.date_trunc(grain, last_date) }} as timestamp) + interval 1 {{ grain }},
        interval 1 {{ grain }}
    ) as periods (period_start)
{%- endmacro %}

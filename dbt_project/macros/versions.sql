{#- The current version of each record in a lake source: one row per business key.

    The lake keeps every delivered version of a record (an occurrence re-sent,
    reclassified, in a later delivery); staging shows the latest: the latest
    delivery wins, then the source's last-modified column where its contract
    names one (``version_field``), then the later file and row of that delivery.
    Every staging model over a keyed agency source selects through this macro,
    with the key and version field its contract (quality/contracts) names; a test
    (tests/ingest/test_versions.py) holds the two together.

    ``qualify`` is DuckDB (and Snowflake/Databricks) SQL: kept in this one macro. -#}
{% macro latest_version(relation, key, version_columns=[]) -%}
    {{ return(adapter.dispatch('latest_version', 'vrdp')(relation, key, version_columns)) }}
{%- endmacro %}

{% macro default__latest_version(relation, key, version_columns=[]) -%}
    select *
    from {{ relation }}
    qualify row_number() over (
        partition by {{ key }}
        order by delivery desc
            {%- for column in version_columns %}, {{ column }} desc nulls last{% endfor %},
            source_file desc, row_number desc
    ) = 1
{%- endmacro %}

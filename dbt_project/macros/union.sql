{#- One select per source, unioned into one shape: the pattern of every
    int_*_unioned model, written once.

    columns: the output columns in order, as [name, type] pairs; a part that
        does not give a column gets a typed null.
    parts: one dict per source: `from` (a relation or CTE name), `columns`
        (name -> SQL expression; a column named like the output passes
        through as `<from>.<name>` when listed in `same`), and an optional
        `tail` of extra select-list SQL every part carries (e.g. location
        columns from vrdp.event_location_columns), appended after the columns.
    Types: string, timestamp, integer and boolean are dbt's cross-database
    types, so the union stays portable; anything else (date, double) is
    written as given. -#}
{% macro union_select(columns, parts) -%}
{%- for part in parts %}
    {%- if not loop.first %}

    union all
{% endif %}
    select
    {%- for column in columns %}
        {%- set name, type = column[0], column[1] %}
        {%- if name in part.get('columns', {}) %}
        {{ part['columns'][name] }} as {{ name }}
        {%- elif name in part.get('same', []) %}
        {{ part['from'] }}.{{ name }}
        {%- else %}
        cast(null as {{ vrdp.portable_type(type) }}) as {{ name }}
        {%- endif %}{{ ',' if not loop.last or part.get('tail') }}
    {%- endfor %}
    {%- if part.get('tail') %}
        {{ part['tail'] }}
    {%- endif %}
    from {{ part['from'] }}
{%- endfor %}
{%- endmacro %}

{#- A type name of union_select's column list in the target's SQL. -#}
{% macro portable_type(type) -%}
    {%- if type == 'string' -%} {{ dbt.type_string() }}
    {%- elif type == 'timestamp' -%} {{ dbt.type_timestamp() }}
    {%- elif type == 'integer' -%} {{ dbt.type_int() }}
    {%- elif type == 'boolean' -%} {{ dbt.type_boolean() }}
    {%- else -%} {{ type }}
    {%- endif -%}
{%- endmacro %}

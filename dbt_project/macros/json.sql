{#- JSON held in text columns (as delivered, e.g. the intelligence logs' grading,
    categories and subjects): DuckDB's JSON functions here, Spark's in
    macros/spark. -#}

{#- The value at `path` ('$.field') as text: a string unquoted, anything else as JSON. -#}
{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text', 'vrdp')(column, path)) }}
{%- endmacro %}

{% macro default__json_text(column, path) -%}
    json_extract_string({{ column }}, '{{ path }}')
{%- endmacro %}

{#- A JSON array of strings joined by `separator` (null elements left out). -#}
{% macro json_string_array_join(column, separator) -%}
    {{ return(adapter.dispatch('json_string_array_join', 'vrdp')(column, separator)) }}
{%- endmacro %}

{% macro default__json_string_array_join(column, separator) -%}
    array_to_string(from_json({{ column }}, '["VARCHAR"]'), '{{ separator }}')
{%- endmacro %}

{#- One row per object of a JSON array (a select-list expression): a struct of the
    named fields, each as text; an empty or null array gives no row. -#}
{% macro unnest_json_objects(column, fields) -%}
    {{ return(adapter.dispatch('unnest_json_objects', 'vrdp')(column, fields)) }}
{%- endmacro %}

{% macro default__unnest_json_objects(column, fields) -%}
    unnest(
        from_json(
            {{ column }},
            '[{ {%- for field in fields %}"{{ field }}": "VARCHAR"{{ ", " if not loop.last }}{% endfor -%} }]'
        )
    )
{%- endmacro %}

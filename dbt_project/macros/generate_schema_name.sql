{#- Use the layer's schema name as is (staging, marts, reference), not
    "<target>_<layer>", so analysts query marts.fct_... directly. On Spark a
    schema is the only namespace: a model configured into the restricted
    database (`database: restricted`) goes to `restricted_<schema>`, whose files
    macros/spark (create_schema) keeps in the owner-only restricted folder. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set schema = target.schema if custom_schema_name is none else custom_schema_name | trim -%}
    {%- if target.type == 'spark' and node is not none and node.config.database == 'restricted' -%}
        restricted_{{ schema }}
    {%- else -%}
        {{ schema }}
    {%- endif -%}
{%- endmacro %}

{#- Use the layer's schema name as is (staging, marts, reference), not
    "<target>_<layer>", so analysts query marts.fct_... directly. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}

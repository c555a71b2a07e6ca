{#- Sources over the lake whose source sets meta.lake_tolerate_missing read as an
    empty relation of their declared columns when no delivery has landed yet
    (DuckDB's read_parquet fails on a glob that matches nothing). Lineage is
    unchanged: builtins.source is always called. -#}
{% macro source(source_name, table_name) -%}
    {%- set relation = builtins.source(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- if target.type == 'spark' -%}
        {{ return(vrdp.spark__lake_source(source_name, table_name)) }}
    {%- endif -%}
    {%- set node = graph.sources.values() | selectattr('source_name', 'equalto', source_name)
        | selectattr('name', 'equalto', table_name) | first -%}
    {%- if not (node.source_meta.get('lake_tolerate_missing') or node.meta.get('lake_tolerate_missing')) -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set pattern = env_var('VRDP_DATA_ROOT') ~ '/lake/' ~ source_name ~ '/' ~ table_name ~ '/*/*.parquet' -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] -%}
    {%- if found > 0 -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set cols = [] -%}
    {%- for col in node.columns.values() -%}
        {%- do cols.append('cast(null as ' ~ col.data_type ~ ') as ' ~ col.name) -%}
    {%- endfor -%}
    {{ return('(select ' ~ cols | join(', ') ~ ' where false)') }}
{%- endmacro %}

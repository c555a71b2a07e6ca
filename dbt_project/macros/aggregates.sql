{#- The distinct non-null values of `column` in a group, sorted and joined by `sep`;
    null when there are none. -#}
{% macro string_agg_distinct(column, sep) -%}
    {{ return(adapter.dispatch('string_agg_distinct', 'vrdp')(column, sep)) }}
{%- endmacro %}

{% macro default__string_agg_distinct(column, sep) -%}
    string_agg(distinct {{ column }}, '{{ sep }}' order by {{ column }})
{%- endmacro %}

{#- A table of timestamps from `start`, every `step`, before `stop` (a FROM item
    that may refer to the tables before it, as in `cross join {{ ... }} as t (ts)`). -#}
{% macro time_series(start, stop, step) -%}
    {{ return(adapter.dispatch('time_series', 'vrdp')(start, stop, step)) }}
{%- endmacro %}

{% macro default__time_series(start, stop, step) -%}
    range(
            {{ start }},
            {{ stop }},
            {{ step }}
        )
{%- endmacro %}

{#- Wilson score interval of k / n per 1,000 (z = 1.96), the proportion capped at 1:
    the 95% interval of every rate in the needs marts. bound is 'lower' or 'upper'.
    vrdp.needs.rates.wilson_interval is the same formula in Python. -#}
{% macro needs_wilson(k, n, bound) -%}
    {%- set z2 = 3.841458820694124 -%}
    {%- set p = 'least(cast(' ~ k ~ ' as double) / ' ~ n ~ ', 1.0)' -%}
    {%- set sign = '-' if bound == 'lower' else '+' -%}
    case when {{ n }} > 0 then
        1000.0 * (
            {{ p }} + {{ z2 }} / (2.0 * {{ n }})
            {{ sign }} 1.959963984540054 * sqrt(
                {{ p }} * (1.0 - {{ p }}) / {{ n }} + {{ z2 }} / (4.0 * {{ n }} * {{ n }})
            )
        ) / (1.0 + {{ z2 }} / {{ n }})
    end
{%- endmacro %}

{#- A partner-facing value: null when the count behind it is under 5. -#}
{% macro needs_suppress(count, value) -%}
    case when coalesce({{ count }}, 0) >= 5 then {{ value }} end
{%- endmacro %}

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

{#- The published count, rate per 1,000, its 95% Wilson interval and the suppression
    flag of one needs row, from the raw count and the residents: every rate of the
    needs marts (needs_area_rates, needs_deprivation_rates) is these columns. -#}
{% macro needs_rate_columns(raw, population) -%}
        cast({{ vrdp.needs_suppress(raw, raw) }} as bigint) as events,
        round({{ population }}, 1) as population,
        {{ vrdp.needs_suppress(raw, '1000.0 * ' ~ raw ~ ' / nullif(' ~ population ~ ', 0)') }} as rate_per_1000,
        {{ vrdp.needs_suppress(raw, vrdp.needs_wilson(raw, population, 'lower')) }} as rate_ci95_low,
        {{ vrdp.needs_suppress(raw, vrdp.needs_wilson(raw, population, 'upper')) }} as rate_ci95_high,
        'wilson' as ci_method,
        {{ raw }} < 5 as is_suppressed
{%- endmacro %}

{#- The serious violence marts' partner rule (vrdp.governance.suppression): a count
    is published when it is 0 or at least 5; a count of 1 to 4, and everything
    derived from it, is null. (The needs marts above also hide zeros.) -#}
{% macro publishable(count) -%}
    ({{ count }} = 0 or {{ count }} >= 5)
{%- endmacro %}

{#- ``value`` when ``count`` is publishable, else null. -#}
{% macro when_publishable(count, value) -%}
    case when {{ vrdp.publishable(count) }} then {{ value }} end
{%- endmacro %}

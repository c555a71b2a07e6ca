{#- Helpers of the SOC marts whose SQL differs by engine: DuckDB's here, Spark's in
    macros/spark. -#}

{#- One row per element of a delimited string column (a select-list expression). -#}
{% macro split_to_rows(column, sep) -%}
    {{ return(adapter.dispatch('split_to_rows', 'vrdp')(column, sep)) }}
{%- endmacro %}

{% macro default__split_to_rows(column, sep) -%}
    unnest(string_split({{ column }}, '{{ sep }}'))
{%- endmacro %}

{#- Period starts (dates) from the truncated first to last date, one per period. -#}
{% macro period_series(grain, first_date, last_date) -%}
    {{ return(adapter.dispatch('period_series', 'vrdp')(grain, first_date, last_date)) }}
{%- endmacro %}

{% macro default__period_series(grain, first_date, last_date) -%}
    select cast(period_start as date) as period_start
    from range(
        cast({{ dbt.date_trunc(grain, first_date) }} as timestamp),
        cast({{ dbt.date_trunc(grain, last_date) }} as timestamp) + interval 1 {{ grain }},
        interval 1 {{ grain }}
    ) as periods (period_start)
{%- endmacro %}

{#- Every ward x period x SOC category at one grain ('week': ISO week from Monday,
    or 'month'): zeros kept so trends and detectors see quiet periods; counts by
    source, intelligence by grade, rates per 1,000 residents and the trend against
    the mean of the previous three periods. fct_ward_soc_weekly and
    fct_ward_soc_monthly are this macro at their grain. -#}
{% macro ward_soc_periods(grain) -%}
{%- set event_period = 'week_start' if grain == 'week' else 'month_start' -%}
with

soc_events as (

    select * from {{ ref('fct_soc_events') }}

),

all_events as (

    select * from {{ ref('fct_events') }}

),

wards as (

    select * from {{ ref('ward_profiles') }}

),

categories as (

    select * from {{ ref('soc_categories') }}

),

bounds as (

    select
        min(occurred_on) as first_date,
        max(occurred_on) as last_date
    from all_events
    where occurred_on is not null and event_type in ('crime', 'incident', 'intelligence')

),

periods as (

    {{ vrdp.period_series(grain, '(select first_date from bounds)', '(select last_date from bounds)') }}

),

spine as (

    select
        wards.ward_code,
        wards.ward_name,
        wards.population,
        wards.imd_decile,
        periods.period_start,
        categories.soc_category
    from wards
    cross join periods
    cross join categories

),

counts as (

    select
        ward_code,
        soc_category,
        {{ event_period }} as period_start,
        count(case when event_type = 'crime' then 1 end) as crimes,
        count(case when event_type = 'incident' then 1 end) as incidents,
        count(case when event_type = 'intelligence' then 1 end) as intelligence_logs,
        count(case when event_type = 'intelligence' and grading_intelligence = 'A' then 1 end)
            as intelligence_grade_a,
        count(case when event_type = 'intelligence' and grading_intelligence = 'B' then 1 end)
            as intelligence_grade_b,
        count(case when event_type = 'intelligence' and grading_intelligence = 'C' then 1 end)
            as intelligence_grade_c,
        count(case when event_type = 'intelligence' and grading_intelligence = 'D' then 1 end)
            as intelligence_grade_d,
        count(case when event_type = 'intelligence' and grading_intelligence = 'E' then 1 end)
            as intelligence_grade_e,
        count(case when event_type = 'intelligence' and grading_source = '1' then 1 end)
            as intelligence_source_reliable
    from soc_events
    where ward_code is not null
    group by 1, 2, 3

),

joined as (

    select
        spine.ward_code,
        spine.ward_name,
        spine.period_start,
        spine.soc_category,
        spine.population,
        spine.imd_decile,
        coalesce(counts.crimes, 0) as crimes,
        coalesce(counts.incidents, 0) as incidents,
        coalesce(counts.intelligence_logs, 0) as intelligence_logs,
        coalesce(counts.intelligence_grade_a, 0) as intelligence_grade_a,
        coalesce(counts.intelligence_grade_b, 0) as intelligence_grade_b,
        coalesce(counts.intelligence_grade_c, 0) as intelligence_grade_c,
        coalesce(counts.intelligence_grade_d, 0) as intelligence_grade_d,
        coalesce(counts.intelligence_grade_e, 0) as intelligence_grade_e,
        coalesce(counts.intelligence_source_reliable, 0) as intelligence_source_reliable
    from spine
    left join counts
        on
            spine.ward_code = counts.ward_code
            and spine.soc_category = counts.soc_category
            and spine.period_start = counts.period_start

),

with_trend as (

    select
        *,
        crimes + incidents + intelligence_logs as soc_events,
        avg(crimes + incidents + intelligence_logs) over (
            partition by ward_code, soc_category
            order by period_start
            rows between 3 preceding and 1 preceding
        ) as previous_3_mean
    from joined

),

final as (

    select
        ward_code,
        ward_name,
        period_start,
        soc_category,
        crimes,
        incidents,
        intelligence_logs,
        intelligence_grade_a,
        intelligence_grade_b,
        intelligence_grade_c,
        intelligence_grade_d,
        intelligence_grade_e,
        intelligence_source_reliable,
        soc_events,
        population,
        imd_decile,
        cast(previous_3_mean as double) as previous_3_mean,
        case when population > 0 then 1000.0 * crimes / cast(population as double) end as crimes_per_1000,
        case when population > 0 then 1000.0 * incidents / cast(population as double) end
            as incidents_per_1000,
        case when population > 0 then 1000.0 * intelligence_logs / cast(population as double) end
            as intelligence_per_1000,
        case when population > 0 then 1000.0 * soc_events / cast(population as double) end
            as soc_events_per_1000,
        case
            when previous_3_mean is null then 'no history'
            when soc_events >= 2 * previous_3_mean + 2 then 'rising'
            when soc_events + 2 <= 0.5 * previous_3_mean then 'falling'
            else 'stable'
        end as trend
    from with_trend

)

select * from final
{%- endmacro %}

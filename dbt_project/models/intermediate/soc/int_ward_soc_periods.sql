{#- Every ward x period x SOC category, for both grains (ISO week and month): zeros
    kept so trends and detectors see quiet periods; counts by source, intelligence by
    grade, rates per 1,000 residents and the trend against the mean of the previous
    three periods. The marts fct_ward_soc_weekly and fct_ward_soc_monthly select a grain. -#}
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

week_periods as (

    {{ vrdp.duckdb_period_series('week', '(select first_date from bounds)', '(select last_date from bounds)') }}

),

month_periods as (

    {{ vrdp.duckdb_period_series('month', '(select first_date from bounds)', '(select last_date from bounds)') }}

),

periods as (

    select
        'week' as grain,
        period_start
    from week_periods

    union all

    select
        'month' as grain,
        period_start
    from month_periods

),

spine as (

    select
        wards.ward_code,
        wards.ward_name,
        wards.population,
        wards.imd_decile,
        periods.grain,
        periods.period_start,
        categories.soc_category
    from wards
    cross join periods
    cross join categories

),

event_periods as (

    select
        *,
        'week' as grain,
        week_start as period_start
    from soc_events

    union all

    select
        *,
        'month' as grain,
        month_start as period_start
    from soc_events

),

counts as (

    select
        ward_code,
        soc_category,
        grain,
        period_start,
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
    from event_periods
    where ward_code is not null
    group by 1, 2, 3, 4

),

joined as (

    select
        spine.ward_code,
        spine.ward_name,
        spine.grain,
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
            and spine.grain = counts.grain
            and spine.period_start = counts.period_start

),

with_trend as (

    select
        *,
        crimes + incidents + intelligence_logs as soc_events,
        avg(crimes + incidents + intelligence_logs) over (
            partition by ward_code, soc_category, grain
            order by period_start
            rows between 3 preceding and 1 preceding
        ) as previous_3_mean
    from joined

),

final as (

    select
        ward_code,
        ward_name,
        grain,
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
        case when population > 0 then 1000.0 * crimes / population end as crimes_per_1000,
        case when population > 0 then 1000.0 * incidents / population end as incidents_per_1000,
        case when population > 0 then 1000.0 * intelligence_logs / population end
            as intelligence_per_1000,
        case when population > 0 then 1000.0 * soc_events / population end as soc_events_per_1000,
        case
            when previous_3_mean is null then 'no history'
            when soc_events >= 2 * previous_3_mean + 2 then 'rising'
            when soc_events + 2 <= 0.5 * previous_3_mean then 'falling'
            else 'stable'
        end as trend
    from with_trend

)

select * from final

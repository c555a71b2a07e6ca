{#- Ward x month: disruptions that month, and SOC events in the three months before
    and the three months after (the month itself excluded), to see how operations move
    the picture. -#}
with

disruptions as (

    select * from {{ ref('int_disruptions') }}

),

ward_months as (

    select
        ward_code,
        period_start,
        sum(soc_events) as soc_events,
        sum(crimes) as crimes,
        sum(incidents) as incidents,
        sum(intelligence_logs) as intelligence_logs
    from {{ ref('fct_ward_soc_monthly') }}
    group by 1, 2

),

disrupted as (

    select
        ward_code,
        month_start,
        count(*) as disruptions,
        count(case when outcome = 'Major' then 1 end) as major_disruptions,
        {{ vrdp.string_agg_distinct('linked_ocg', '|') }} as linked_ocgs
    from disruptions
    where ward_code is not null
    group by 1, 2

),

windows as (

    select
        ward_code,
        period_start,
        soc_events,
        sum(soc_events) over (
            partition by ward_code order by period_start
            rows between 3 preceding and 1 preceding
        ) as soc_events_3m_before,
        sum(soc_events) over (
            partition by ward_code order by period_start
            rows between 1 following and 3 following
        ) as soc_events_3m_after,
        count(*) over (
            partition by ward_code order by period_start
            rows between 1 following and 3 following
        ) as months_after
    from ward_months

),

final as (

    select
        disrupted.ward_code,
        disrupted.month_start,
        disrupted.disruptions,
        disrupted.major_disruptions,
        disrupted.linked_ocgs,
        windows.soc_events,
        windows.soc_events_3m_before,
        windows.soc_events_3m_after,
        windows.months_after
    from disrupted
    inner join windows
        on
            disrupted.ward_code = windows.ward_code
            and disrupted.month_start = windows.period_start

)

select * from final

{#- Briefing context per H3 cell: reports of feeling unsafe in the 90 days to the
    latest report received (the data's own date, never the clock), the most
    reported concern and one sentence a briefing can show, e.g. "12 reports of
    feeling unsafe here in 90 days (most often: Poor street lighting)". The same
    rule as vrdp.needs.community.community_context. Counts, never people. -#}
with

reports as (

    select * from {{ ref('int_community_reports_located') }}

),

window_end as (

    select max(submitted_on) as as_of_date from reports

),

recent as (

    select reports.*
    from reports
    cross join window_end
    where
        reports.submitted_on > {{ dbt.dateadd('day', -90, 'window_end.as_of_date') }}
        and reports.submitted_on <= window_end.as_of_date

),

by_category as (

    select
        h3_cell,
        category,
        count(*) as reports
    from recent
    group by h3_cell, category

),

ranked as (

    select
        h3_cell,
        category,
        row_number() over (partition by h3_cell order by reports desc, category asc) as category_rank
    from by_category

),

by_cell as (

    select
        h3_cell,
        cast(count(*) as integer) as reports_90d,
        max(submitted_on) as last_report_on
    from recent
    group by h3_cell

),

final as (

    select
        by_cell.h3_cell,
        window_end.as_of_date,
        90 as window_days,
        by_cell.reports_90d,
        by_cell.last_report_on,
        ranked.category as top_category,
        cast(by_cell.reports_90d as string)
        || case when by_cell.reports_90d = 1 then ' report' else ' reports' end
        || ' of feeling unsafe here in 90 days (most often: '
        || ranked.category || ')' as context_text
    from by_cell
    cross join window_end
    inner join ranked on by_cell.h3_cell = ranked.h3_cell and ranked.category_rank = 1

)

select * from final

{#- One row per StreetSafe-style public report in the force area: time, category,
    H3 cell, LSOA, ward. A layer of its own: never a crime, never in fct_events,
    never counted by hot spot selection. No free text (it may name people). -#}
with

reports as (

    select * from {{ ref('int_community_reports_located') }}

),

final as (

    select
        report_id,
        cast(submitted_at as timestamp) as submitted_at,
        submitted_on,
        category,
        h3_cell,
        h3_resolution,
        lsoa21_code,
        ward_code,
        longitude,
        latitude
    from reports

)

select * from final

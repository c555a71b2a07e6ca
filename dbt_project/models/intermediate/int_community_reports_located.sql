{#- StreetSafe-style reports with a usable pin in the force area, without their
    free text (which may name people): the input of the community marts. -#}
with

reports as (

    select * from {{ ref('stg_community__streetsafe_reports') }}

),

final as (

    select
        report_id,
        submitted_at,
        submitted_on,
        category,
        h3_cell,
        h3_resolution,
        lsoa21_code,
        ward_code,
        longitude,
        latitude
    from reports
    where h3_cell is not null and coalesce(in_force_area, false)

)

select * from final

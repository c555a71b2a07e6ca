{#- Clear-Hold-Build sites: one row per site, phase and ward. -#}
with

phases as (

    select * from {{ ref('int_chb_site_phases') }}

),

final as (

    select
        site_phase_id,
        site_id,
        site_name,
        ward_code,
        phase,
        phase_start,
        phase_end,
        lead,
        polygon_wkt,
        longitude,
        latitude
    from phases

)

select * from final

{#- The CHB register, one row per site and phase; the latest delivery of a site phase wins. -#}
with

source as (

    {{ vrdp.latest_version(source('soc', 'chb_sites'), 'site_phase_id') }}

),

final as (

    select
        site_phase_id,
        site_id,
        site_name,
        ward_codes,
        phase,
        lead,
        polygon_wkt,
        delivery,
        cast(phase_start as date) as phase_start,
        cast(phase_end as date) as phase_end,
        cast(longitude as double) as longitude,
        cast(latitude as double) as latitude,
        cast(easting_m as double) as easting_m,
        cast(northing_m as double) as northing_m,
        h3_cell
    from source

)

select * from final

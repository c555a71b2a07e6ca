{#- CHB site phases, one row per site, phase and ward of the site (ward_codes is
    pipe-separated in the register). -#}
with

sites as (

    select * from {{ ref('stg_soc__chb_sites') }}

),

final as (

    select
        site_phase_id,
        site_id,
        site_name,
        phase,
        phase_start,
        phase_end,
        lead,
        polygon_wkt,
        longitude,
        latitude,
        {{ vrdp.split_to_rows('ward_codes', '|') }} as ward_code
    from sites

)

select * from final

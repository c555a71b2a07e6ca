{#- The street gazetteer is re-delivered whole; keep each USRN's latest delivery. -#}
with

current_versions as (

    {{ vrdp.latest_version(source('places', 'streets'), 'usrn') }}

),

final as (

    select
        usrn,
        delivery,
        street_name,
        town,
        postcode,
        lsoa_code as delivered_lsoa_code,
        {{ vrdp.located_columns() }}

    from current_versions

)

select * from final

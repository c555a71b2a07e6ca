{#- The POI list is re-delivered whole; keep each POI's latest delivery. -#}
with

current_versions as (

    {{ vrdp.latest_version(source('places', 'pois'), 'poi_id') }}

),

final as (

    select
        poi_id,
        delivery,
        category,
        osm_key,
        osm_value,
        name as poi_name,
        street,
        postcode,
        lsoa_code as delivered_lsoa_code,
        {{ vrdp.located_columns() }}

    from current_versions

)

select * from final

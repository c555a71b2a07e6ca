{#- The POI list is re-delivered whole; keep each POI's latest delivery. -#}
with

source as (

    select * from {{ source('places', 'pois') }}

),

latest as (

    select *
    from source
    qualify row_number() over (partition by poi_id order by delivery desc, row_number asc) = 1

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

    from latest

)

select * from final

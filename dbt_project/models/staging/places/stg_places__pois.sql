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
        cast(easting_m as double) as easting_m,
        cast(northing_m as double) as northing_m,
        cast(longitude as double) as longitude,
        cast(latitude as double) as latitude,
        h3_cell,
        cast(h3_resolution as integer) as h3_resolution,
        lsoa21_code,
        lsoa11_code,
        ward_code,
        in_force_area

    from latest

)

select * from final

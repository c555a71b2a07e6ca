with

source as (

    select * from {{ source('nhs', 'istv_assaults') }}

),

final as (

    select
        attendance_ref,
        delivery,
        site_code,
        arrival_dt as arrived_at,
        assault_dt as assaulted_at,
        assault_method_code,
        location_type_code,
        cast(easting_m as double) as easting_m,
        cast(northing_m as double) as northing_m,
        cast(longitude as double) as longitude,
        cast(latitude as double) as latitude,
        h3_cell,
        cast(h3_resolution as integer) as h3_resolution,
        lsoa21_code,
        lsoa11_code,
        ward_code,
        in_force_area,
        geocode_kind,
        geocode_match,
        cast(geocode_score as double) as geocode_score,
        coalesce(is_located, false) as is_located

    from source

)

select * from final

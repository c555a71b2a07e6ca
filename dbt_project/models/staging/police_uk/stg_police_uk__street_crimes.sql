with

source as (

    select * from {{ source('police_uk', 'street_crimes') }}

),

final as (

    select
        event_id,
        crime_id,
        cast(month as date) as month,
        reported_by as reporting_force,
        falls_within as responsible_force,
        crime_type,
        last_outcome_category,
        location_text,
        reported_lsoa_code,
        cast(longitude as double) as longitude,
        cast(latitude as double) as latitude,
        cast(easting_m as double) as easting_m,
        cast(northing_m as double) as northing_m,
        h3_cell,
        cast(h3_resolution as integer) as h3_resolution,
        lsoa21_code,
        lsoa11_code,
        ward_code,
        in_force_area,
        source_file,
        row_number as source_row_number

    from source

)

select * from final

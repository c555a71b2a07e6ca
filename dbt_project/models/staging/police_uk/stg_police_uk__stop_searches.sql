with

source as (

    select * from {{ source('police_uk', 'stop_searches') }}

),

final as (

    select
        stop_search_ref,
        delivery,
        searched_at,
        search_type,
        object_of_search,
        legislation,
        outcome,
        outcome_linked_to_object,
        gender,
        age_range,
        officer_defined_ethnicity,
        part_of_policing_operation,
        h3_cell,
        lsoa21_code,
        lsoa11_code,
        ward_code,
        in_force_area,
        cast(easting_m as double) as easting_m,
        cast(northing_m as double) as northing_m,
        cast(longitude as double) as longitude,
        cast(latitude as double) as latitude,
        cast(h3_resolution as integer) as h3_resolution

    from source

)

select * from final

with

source as (

    select * from {{ source('police', 'cad_incidents') }}

),

final as (

    select
        incident_ref,
        delivery,
        call_received_at,
        call_source,
        opening_classification,
        grade,
        first_arrival_at,
        closed_at,
        closing_classification,
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
        nullif(linked_occurrence_ref, '') as linked_occurrence_ref

    from source

)

select * from final

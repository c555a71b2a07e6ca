with

source as (

    select * from {{ source('police', 'occurrences') }}

),

final as (

    select
        occurrence_ref,
        delivery,
        recorded_at,
        committed_from,
        offence_code,
        offence_description,
        domestic_abuse_flag,
        outcome,
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
        coalesce(committed_to, committed_from) as committed_to

    from source

)

select * from final

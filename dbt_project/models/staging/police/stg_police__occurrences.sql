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
        coalesce(committed_to, committed_from) as committed_to,
        coalesce(in_area, false) as in_force_area

    from source

)

select * from final

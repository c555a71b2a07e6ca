{#- APMIS-like disruptions: the delivered ward, else the ward of the point is not
    known here (the delivered ward is kept as sent). -#}
with

source as (

    {{ vrdp.latest_version(source('soc', 'disruptions'), 'disruption_id') }}

),

final as (

    select
        disruption_id,
        delivery,
        ward_code,
        agency,
        disruption_type,
        linked_ocg,
        outcome,
        h3_cell,
        lsoa21_code,
        in_force_area,
        cast(disrupted_on as date) as disrupted_on,
        cast(longitude as double) as longitude,
        cast(latitude as double) as latitude,
        cast(easting_m as double) as easting_m,
        cast(northing_m as double) as northing_m
    from source

)

select * from final

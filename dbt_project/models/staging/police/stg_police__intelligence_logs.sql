{#- Intelligence logs without their subjects or free text (those hold identifiers). -#}
with

current_versions as (

    {{ vrdp.latest_version(source('police', 'intelligence'), 'log_id') }}

),

final as (

    select
        log_id,
        delivery,
        created_at,
        h3_cell,
        lsoa21_code,
        lsoa11_code,
        ward_code,
        in_force_area,
        cast(easting_m as double) as easting_m,
        cast(northing_m as double) as northing_m,
        cast(longitude as double) as longitude,
        cast(latitude as double) as latitude,
        cast(h3_resolution as integer) as h3_resolution,
        {{ vrdp.json_text('grading', '$.source') }} as grading_source,
        {{ vrdp.json_text('grading', '$.intelligence') }} as grading_intelligence,
        {{ vrdp.json_text('grading', '$.handling') }} as grading_handling,
        {{ vrdp.json_string_array_join('soc_categories', '|') }} as soc_categories

    from current_versions

)

select * from final

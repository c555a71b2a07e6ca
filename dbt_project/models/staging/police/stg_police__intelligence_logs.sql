{#- Intelligence logs without their subjects or free text (those hold identifiers). -#}
with

source as (

    select * from {{ source('police', 'intelligence') }}

),

final as (

    select
        log_id,
        delivery,
        created_at,
        json_extract_string(grading, '$.source') as grading_source,
        json_extract_string(grading, '$.intelligence') as grading_intelligence,
        json_extract_string(grading, '$.handling') as grading_handling,
        array_to_string(from_json(soc_categories, '["VARCHAR"]'), '|') as soc_categories,
        try_cast(json_extract(locations, '$[0].easting') as double) as easting_m,
        try_cast(json_extract(locations, '$[0].northing') as double) as northing_m

    from source

)

select * from final

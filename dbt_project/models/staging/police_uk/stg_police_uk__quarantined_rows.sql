with

source as (

    select * from {{ source('quarantine', 'police_uk_street_crimes') }}

),

final as (

    select
        source as source_name,
        source_file,
        row_number as source_row_number,
        line_number as source_line_number,
        reason,
        detail,
        raw_row

    from source

)

select * from final

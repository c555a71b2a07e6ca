{#- Disruptions with their ward (as delivered) and week and month. -#}
with

disruptions as (

    select * from {{ ref('stg_soc__disruptions') }}

),

final as (

    select
        disruption_id,
        disrupted_on,
        ward_code,
        agency,
        disruption_type,
        linked_ocg,
        outcome,
        longitude,
        latitude,
        h3_cell,
        cast({{ dbt.date_trunc('week', 'disrupted_on') }} as date) as week_start,
        cast({{ dbt.date_trunc('month', 'disrupted_on') }} as date) as month_start
    from disruptions

)

select * from final

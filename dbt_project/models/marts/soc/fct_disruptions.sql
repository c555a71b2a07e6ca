{#- One row per disruption (APMIS-like): date, ward, point, agency, type, linked OCG, outcome. -#}
with

disruptions as (

    select * from {{ ref('int_disruptions') }}

),

final as (

    select
        disruption_id,
        disrupted_on,
        week_start,
        month_start,
        ward_code,
        agency,
        disruption_type,
        linked_ocg,
        outcome,
        longitude,
        latitude,
        h3_cell
    from disruptions

)

select * from final

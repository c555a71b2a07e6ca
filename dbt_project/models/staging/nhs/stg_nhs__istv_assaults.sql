with

source as (

    select * from {{ source('nhs', 'istv_assaults') }}

),

final as (

    select
        attendance_ref,
        delivery,
        site_code,
        arrival_dt as arrived_at,
        assault_dt as assaulted_at,
        assault_method_code,
        location_type_code

    from source

)

select * from final

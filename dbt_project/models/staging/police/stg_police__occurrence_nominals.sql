with

source as (

    select * from {{ source('police', 'occurrence_nominals') }}

),

final as (

    select
        link_id,
        occurrence_ref,
        nominal_id,
        linked_at,
        lower(role) as person_role

    from source

)

select * from final

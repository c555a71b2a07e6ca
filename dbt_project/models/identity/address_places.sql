{#- Restricted: the full address and postcode behind each address place_key
    of marts.dim_places and marts.bridge_person_places. -#}
with

places as (

    select * from {{ ref('int_address_places') }}

),

final as (

    select
        place_key,
        address_line,
        postcode,
        records
    from places

)

select * from final

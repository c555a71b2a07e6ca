{#- The address list is re-delivered whole; keep each UPRN's latest delivery.
    address_line is reference text (no names), kept here for geocoding and
    checks; no mart selects it. -#}
with

source as (

    select * from {{ source('places', 'addresses') }}

),

latest as (

    select *
    from source
    qualify row_number() over (partition by uprn order by delivery desc, row_number asc) = 1

),

final as (

    select
        uprn,
        delivery,
        classification_code,
        address_line,
        town,
        postcode,
        lsoa_code as delivered_lsoa_code,
        {{ vrdp.located_columns() }}

    from latest

)

select * from final

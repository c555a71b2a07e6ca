{#- The street gazetteer is re-delivered whole; keep each USRN's latest delivery. -#}
with

source as (

    select * from {{ source('places', 'streets') }}

),

latest as (

    select *
    from source
    qualify row_number() over (partition by usrn order by delivery desc, row_number asc) = 1

),

final as (

    select
        usrn,
        delivery,
        street_name,
        town,
        postcode,
        lsoa_code as delivered_lsoa_code,
        {{ vrdp.located_columns() }}

    from latest

)

select * from final

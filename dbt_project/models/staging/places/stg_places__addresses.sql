{#- The address list is re-delivered whole; keep each UPRN's latest delivery.
    address_line is reference text (no names), kept here for geocoding and
    checks; no mart selects it. -#}
with

current_versions as (

    {{ vrdp.latest_version(source('places', 'addresses'), 'uprn') }}

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

    from current_versions

)

select * from final

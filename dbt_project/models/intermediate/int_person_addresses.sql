{#- Each person record's address as delivered (restricted: holds addresses),
    normalised to one text per address: the first line before any comma
    (intelligence subjects carry "<line>, <town>") and the postcode. -#}
with

records as (

    select * from {{ ref('int_person_records_unioned') }}

),

normalised as (

    select
        record_uid,
        agency,
        dataset,
        record_id,
        seen_on,
        postcode,
        {{ vrdp.std_address_line('address_line') }} as address_line

    from records

),

final as (

    select
        *,
        coalesce(address_line, '') || '|' || coalesce(postcode, '') as address_text
    from normalised
    where address_line is not null or postcode is not null

)

select * from final

{#- Restricted: direct identifiers of each linked record, by person_key. The marts
    carry person_key only; re-identification needs this schema. -#}
with

records as (

    select * from {{ ref('int_person_records_linked') }}

),

final as (

    select
        records.person_key,
        records.person_id,
        records.record_uid,
        records.agency,
        records.dataset,
        records.record_id,
        records.forename,
        records.surname,
        records.date_of_birth,
        records.sex,
        records.address_line,
        records.postcode,
        records.pnc_id,
        records.nhs_number,
        records.upn,
        records.crn,
        records.seen_on

    from records

)

select * from final

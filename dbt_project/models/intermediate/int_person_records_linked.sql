{{ config(materialized="view") }}

{#- Every person record with the person it was linked to: the record's fields
    (direct identifiers included, so this model feeds identity and is read by
    marts only for their pseudonymous and non-identifying columns), its
    restricted person_id and its pseudonymous person_key. A view: it adds no
    stored copy of the identifiers. Its columns: every column of
    int_person_records_unioned, plus person_id and person_key. -#}
with

records as (

    select * from {{ ref('int_person_records_unioned') }}

),

links as (

    select * from {{ ref('stg_linkage__person_record_links') }}

),

final as (

    select
        records.*,
        links.person_id,
        links.person_key
    from records
    inner join links on records.record_uid = links.record_uid

)

select * from final  -- noqa: AM04

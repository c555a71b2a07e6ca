{#- The linkage output (written by the Splink asset linkage/person_record_links):
    one row per person record with its restricted person_id and its pseudonymous
    person_key. The one read of that source; everything downstream refs this. -#}
with

source as (

    select * from {{ source('linkage', 'person_record_links') }}

),

final as (

    select
        record_uid,
        person_id,
        person_key,
        person_records
    from source

)

select * from final

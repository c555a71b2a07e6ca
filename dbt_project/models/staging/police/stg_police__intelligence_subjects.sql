{#- One row per subject named in an intelligence log (subjects is a JSON array). -#}
with

current_versions as (

    {{ vrdp.latest_version(source('police', 'intelligence'), 'log_id') }}

),

subjects as (

    select
        log_id,
        delivery,
        created_at,
        {{ vrdp.unnest_json_objects(
            'subjects',
            ['subject_id', 'surname', 'forename', 'dob', 'pnc_id', 'address', 'postcode']
        ) }} as subject

    from current_versions

),

final as (

    select
        subject.subject_id,
        subjects.log_id,
        subjects.delivery,
        subjects.created_at,
        {{ vrdp.std_name('subject.forename') }} as forename,
        {{ vrdp.std_name('subject.surname') }} as surname,
        {{ vrdp.try_cast_date("nullif(subject.dob, '')") }} as date_of_birth,
        {{ vrdp.valid_pnc_id("nullif(subject.pnc_id, '')") }} as pnc_id,
        upper(trim(nullif(subject.address, ''))) as address_line,
        {{ vrdp.std_postcode('subject.postcode') }} as postcode

    from subjects

)

select * from final

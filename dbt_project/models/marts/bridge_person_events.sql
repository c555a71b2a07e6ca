{#- Who took part in which event, and how: one row per person, event and role.
    Roles stay separate (a victim is never scored with offenders): suspect,
    victim, witness, offender (police occurrences; probation cases), subject
    (intelligence), referred child (social care), patient (NHS safeguarding). -#}
with

links as (

    select * from {{ source('linkage', 'person_record_links') }}

),

records as (

    select * from {{ ref('int_person_records_unioned') }}

),

occurrence_nominals as (

    select * from {{ ref('stg_police__occurrence_nominals') }}

),

intelligence_subjects as (

    select * from {{ ref('stg_police__intelligence_subjects') }}

),

cin_referrals as (

    select * from {{ ref('stg_social_care__cin_referrals') }}

),

probation_cases as (

    select * from {{ ref('stg_probation__cases') }}

),

safeguarding_referrals as (

    select * from {{ ref('stg_nhs__safeguarding_referrals') }}

),

events as (

    select * from {{ ref('fct_events') }}

),

roles as (

    select
        'police:nominals:' || nominal_id as record_uid,
        'police_rms' as source_system,
        occurrence_ref as source_ref,
        person_role as role,  -- noqa: RF04
        linked_at as role_recorded_at
    from occurrence_nominals

    union all

    select
        'police:intelligence:' || subject_id as record_uid,
        'police_intelligence' as source_system,
        log_id as source_ref,
        'subject' as role,  -- noqa: RF04
        created_at as role_recorded_at
    from intelligence_subjects

    union all

    select
        'social_care:cin_referrals:' || referral_id as record_uid,
        'social_care' as source_system,
        referral_id as source_ref,
        'referred child' as role,  -- noqa: RF04
        cast(referral_date as timestamp) as role_recorded_at
    from cin_referrals

    union all

    select
        'probation:cases:' || event_id as record_uid,
        'probation' as source_system,
        event_id as source_ref,
        'offender' as role,  -- noqa: RF04
        cast(sentence_date as timestamp) as role_recorded_at
    from probation_cases

    union all

    select
        'nhs:safeguarding:' || referral_id as record_uid,
        'nhs_safeguarding' as source_system,
        referral_id as source_ref,
        'patient' as role,  -- noqa: RF04
        cast(referral_date as timestamp) as role_recorded_at
    from safeguarding_referrals

),

linked as (

    select
        links.person_key,
        roles.role,  -- noqa: RF04
        roles.source_system,
        roles.role_recorded_at,
        records.date_of_birth,
        {{ vrdp.event_key('roles.source_system', 'roles.source_ref') }} as event_key
    from roles
    inner join links on roles.record_uid = links.record_uid
    left join records on roles.record_uid = records.record_uid

),

final as (

    -- a person linked twice to one event in one role (two records of them) is one row
    select
        linked.person_key,
        linked.event_key,
        linked.role,  -- noqa: RF04
        linked.source_system as source,  -- noqa: RF04
        cast(count(*) as integer) as records,
        md5(linked.person_key || '|' || linked.event_key || '|' || linked.role) as person_event_key,
        min(linked.role_recorded_at) as role_recorded_at,
        -- under 18 on the day of the event, by the record's own date of birth
        -- (the date itself stays in the identity schema)
        bool_or(events.occurred_on < {{ dbt.dateadd('year', 18, 'linked.date_of_birth') }})
            as is_child_at_event
    from linked
    inner join events on linked.event_key = events.event_key
    group by linked.person_key, linked.event_key, linked.role, linked.source_system

)

select * from final

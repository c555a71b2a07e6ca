{#- Who took part in which event, and how: one row per person, event and role.
    Roles stay separate (a victim is never scored with offenders): suspect,
    victim, witness, offender (police occurrences; probation cases), subject
    (intelligence), referred child (social care), patient (NHS safeguarding). -#}
with

roles as (

    select * from {{ ref('int_person_event_roles') }}

),

records as (

    select * from {{ ref('int_person_records_linked') }}

),

events as (

    select * from {{ ref('fct_events') }}

),

linked as (

    select
        records.person_key,
        roles.role,  -- noqa: RF04
        roles.source_system,
        roles.role_recorded_at,
        records.date_of_birth,
        roles.event_key
    from roles
    inner join records on roles.record_uid = records.record_uid

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

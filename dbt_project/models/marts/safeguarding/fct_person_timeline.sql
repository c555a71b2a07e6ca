{#- A person's history across agencies, one row per person, event and role: date,
    agency, event type, offence and harm, role, ward, and the side it belongs to
    (victimisation: victim; offending: suspect, offender; contact: every other
    role). Sides are never combined into one score. Pseudonymous (person_key);
    read by the restricted partnership export, never by officers. -#}
with

person_events as (

    select * from {{ ref('bridge_person_events') }}

),

events as (

    select * from {{ ref('fct_events') }}

),

wards as (

    select * from {{ ref('ons_wards_2025') }}

),

final as (

    select
        person_events.person_event_key,
        person_events.person_key,
        person_events.event_key,
        events.occurred_on,
        events.source_system,
        events.event_type,
        events.offence_code,
        events.crime_type,
        events.harm_weight_days,
        events.is_violence,
        person_events.role,
        person_events.is_child_at_event,
        events.ward_code,
        wards.ward_name,
        case
            when events.source_system like 'police%' then 'police'
            when events.source_system like 'nhs%' then 'nhs'
            else events.source_system
        end as agency,
        case
            when person_events.role = 'victim' then 'victimisation'
            when person_events.role in ('suspect', 'offender') then 'offending'
            else 'contact'
        end as side
    from person_events
    inner join events on person_events.event_key = events.event_key
    left join wards on events.ward_code = wards.ward_code

)

select * from final

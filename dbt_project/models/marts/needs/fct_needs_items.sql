{#- Everything the needs pack counts, one row per counted item, in the 12 months to
    the latest crime, call or A&E assault: indicator, the person's age band where
    a person is counted, and the area (the event's place; for referrals and
    probation, the person's address on the day, else their current one).
    Analyst level, never published to partners: the needs_* marts aggregate and
    suppress it. -#}
with

events as (

    select * from {{ ref('fct_events') }}

),

person_events as (

    select * from {{ ref('bridge_person_events') }}

),

person_places as (

    select * from {{ ref('bridge_person_places') }}

),

places as (

    select * from {{ ref('dim_places') }}

),

links as (

    select * from {{ source('linkage', 'person_record_links') }}

),

records as (

    select * from {{ ref('int_person_records_unioned') }}

),

period as (

    select
        cast({{ dbt.dateadd('day', -364, 'max(occurred_on)') }} as date) as period_start,
        max(occurred_on) as period_end
    from events
    where event_type in ('crime', 'incident', 'ae_assault')

),

in_period as (

    select events.*
    from events
    cross join period
    where events.occurred_on between period.period_start and period.period_end

),

person_birth as (

    -- the earliest recorded date of birth of a linked person (never published)
    select
        links.person_key,
        min(records.date_of_birth) as date_of_birth
    from links
    inner join records on links.record_uid = records.record_uid
    group by links.person_key

),

event_items as (

    select
        case
            when event_type = 'crime' then 'violent_crimes'
            when event_type = 'incident' then 'violence_calls'
            else 'ae_assaults'
        end as indicator,
        event_key as unit_key,
        occurred_on,
        lsoa21_code,
        ward_code,
        cast(null as date) as date_of_birth
    from in_period
    where
        is_violence
        and event_type in ('crime', 'incident', 'ae_assault')
        and coalesce(in_force_area, false)

),

role_items as (

    select
        case when person_events.role = 'victim' then 'victims_under_25' else 'suspects_under_25' end
            as indicator,
        person_events.person_key as unit_key,
        in_period.occurred_on,
        in_period.lsoa21_code,
        in_period.ward_code,
        person_birth.date_of_birth
    from person_events
    inner join in_period on person_events.event_key = in_period.event_key
    inner join person_birth on person_events.person_key = person_birth.person_key
    where
        in_period.event_type = 'crime'
        and in_period.is_violence
        and person_events.role in ('victim', 'suspect', 'offender')
        and coalesce(in_period.in_force_area, false)

),

person_items as (

    select
        in_period.occurred_on,
        person_events.person_key,
        person_birth.date_of_birth,
        case in_period.source_system
            when 'social_care' then 'cin_referrals'
            when 'probation' then 'probation_caseload'
            else 'safeguarding_referrals'
        end as indicator,
        case
            when in_period.source_system = 'probation' then person_events.person_key
            else in_period.event_key
        end as unit_key
    from in_period
    inner join person_events on in_period.event_key = person_events.event_key
    left join person_birth on person_events.person_key = person_birth.person_key
    where in_period.source_system in ('social_care', 'probation', 'nhs_safeguarding')

),

addressed as (

    select
        person_items.*,
        places.lsoa21_code,
        places.ward_code,
        row_number() over (
            partition by person_items.indicator, person_items.unit_key, person_items.person_key
            order by
                (
                    person_items.occurred_on >= person_places.valid_from
                    and (person_places.valid_to is null or person_items.occurred_on < person_places.valid_to)
                ) desc,
                person_places.is_current desc,
                person_places.valid_from desc,
                -- ties (two places from the same day, or one person's several
                -- items): the same pick on every build and engine
                person_items.occurred_on desc,
                person_places.place_key asc
        ) as address_rank
    from person_items
    inner join person_places on person_items.person_key = person_places.person_key
    inner join places on person_places.place_key = places.place_key
    where places.lsoa21_code is not null

),

unioned as (

    select * from event_items

    union all

    select * from role_items

    union all

    select
        indicator,
        unit_key,
        occurred_on,
        lsoa21_code,
        ward_code,
        date_of_birth
    from addressed
    where address_rank = 1

),

aged as (

    select
        unioned.*,
        case
            when unioned.date_of_birth is null then null
            when unioned.occurred_on < {{ dbt.dateadd('year', 10, 'date_of_birth') }} then '0-9'
            when unioned.occurred_on < {{ dbt.dateadd('year', 18, 'date_of_birth') }} then '10-17'
            when unioned.occurred_on < {{ dbt.dateadd('year', 25, 'date_of_birth') }} then '18-24'
            else '25+'
        end as age_band
    from unioned

),

final as (

    select
        aged.indicator,
        aged.unit_key,
        aged.occurred_on,
        aged.lsoa21_code,
        aged.ward_code,
        aged.age_band,
        period.period_start,
        period.period_end
    from aged
    cross join period
    -- the under-25 indicators count people under 25 only
    where aged.indicator not in ('victims_under_25', 'suspects_under_25') or aged.age_band in ('0-9', '10-17', '18-24')

)

select * from final

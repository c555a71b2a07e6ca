{#- One row per event of the force's and partners' own records, with its time
    window, place, offence code, police.uk crime type and CCHI harm weight.
    police.uk street crimes stay in fct_cell_monthly_harm (their public release). -#}
with

events as (

    select * from {{ ref('int_events_unioned') }}

),

offence_codes as (

    select * from {{ ref('home_office_offence_codes') }}

),

crime_types as (

    select * from {{ ref('police_uk_crime_types') }}

),

weights as (

    select * from {{ ref('cchi_harm_weights') }}

),

typed as (

    select
        events.*,
        coalesce(offence_codes.crime_type, classified.crime_type) as crime_type
    from events
    left join offence_codes on events.offence_code = offence_codes.offence_code
    left join crime_types as classified on events.classified_crime_type = classified.crime_type

),

derived as (

    select
        typed.*,
        cast(typed.occurred_from as timestamp) as occurred_from_ts,
        cast(typed.occurred_to as timestamp) as occurred_to_ts,
        -- harm of what happened at the place and time: crimes, calls and A&E
        -- assaults; a probation contact is a sentence, not its offence
        case
            when typed.event_type in ('crime', 'incident', 'ae_assault') then weights.harm_weight_days
        end as harm_weight_days,
        coalesce(
            typed.event_type = 'ae_assault'
            or typed.crime_type in ('Violence and sexual offences', 'Robbery', 'Public order'),
            false
        ) as is_violence,
        coalesce(
            typed.event_type = 'stop_search'
            or (typed.event_type = 'crime' and crime_types.is_police_generated),
            false
        ) as is_police_generated,
        case when typed.h3_cell is not null then {{ vrdp.h3_place_key('typed.h3_cell') }} end as place_key
    from typed
    left join crime_types on typed.crime_type = crime_types.crime_type
    left join weights on typed.crime_type = weights.crime_type

),

final as (

    select
        event_key,
        source_system,
        event_type,
        source_ref,
        occurred_from_ts as occurred_from,
        occurred_to_ts as occurred_to,
        occurred_on,
        offence_code,
        crime_type,
        harm_weight_days,
        is_violence,
        is_police_generated,
        easting_m,
        northing_m,
        longitude,
        latitude,
        h3_cell,
        lsoa21_code,
        ward_code,
        place_key,
        is_located,
        geocode_score,
        h3_resolution,
        in_force_area,
        classification,
        outcome,
        linked_event_key
    from derived

)

select * from final

{#- Every item the serious violence overview counts, one row each, in the 24 whole
    months to the latest whole month of police crimes and A&E assaults: the measure,
    the counted unit (the event, or the person for the under-25 measures), the
    month and the area (the event's LSOA 2021 and that LSOA's ward and district).
    Analyst level, never published to partners: serious_violence_area_monthly and
    serious_violence_area_trend aggregate it and suppress small counts.

    Serious violence (the Serious Violence Duty leaves the definition to the
    partnership; this is the platform's, by Home Office offence code of the
    crime, seed home_office_offence_codes):
      homicide              offence subgroup Homicide
      violence_with_injury  subgroup Violence with injury, less the driving
                            offences (37.1, 4.4, 4.6, 4.8, 4.9)
      robbery               offence group Robbery
      possession_of_weapons offence group Possession of weapons offences
    knife_crimes counts the crimes flagged as knife or blade offences by their code
    (10D possession of an article with a blade or point, 90 other knives offences):
    the force's crime records carry no weapon flag, so knife-enabled violence and
    robbery cannot be told apart here. A&E attendances for assault (ISTV) are
    counted apart (ae_assaults), with those by knife or sharp object (assault method
    03) as ae_knife_assaults. -#}
with

events as (

    select * from {{ ref('fct_events') }}

),

offence_codes as (

    select * from {{ ref('home_office_offence_codes') }}

),

person_events as (

    select * from {{ ref('bridge_person_events') }}

),

linked_records as (

    select * from {{ ref('int_person_records_linked') }}

),

lsoas as (

    select * from {{ ref('needs_lsoa_population') }}

),

definition as (

    select
        offence_code,
        case
            when offence_subgroup = 'Homicide' then 'homicide'
            when
                offence_subgroup = 'Violence with injury'
                and offence_code not in ('37.1', '4.4', '4.6', '4.8', '4.9')
                then 'violence_with_injury'
            when offence_group = 'Robbery' then 'robbery'
            when offence_group = 'Possession of weapons offences' then 'possession_of_weapons'
        end as sv_category,
        offence_code in ('10D', '90') as is_knife_flagged
    from offence_codes

),

last_month as (

    -- the latest whole month: the month of the latest event when that day ends
    -- its month, else the month before
    select
        case
            when max(occurred_on) = last_day(max(occurred_on)) then date_trunc('month', max(occurred_on))
            else date_trunc('month', max(occurred_on)) - interval 1 month
        end as month_start
    from events
    where event_type in ('crime', 'ae_assault')

),

period as (

    select
        cast(month_start - interval 23 month as date) as period_start,
        cast(last_day(month_start) as date) as period_end
    from last_month

),

in_period as (

    select
        events.*,
        cast(date_trunc('month', events.occurred_on) as date) as month_start,
        lsoas.ward_code as area_ward_code,
        lsoas.lad_code
    from events
    cross join period
    inner join lsoas on events.lsoa21_code = lsoas.lsoa21_code
    where
        events.occurred_on between period.period_start and period.period_end
        and events.event_type in ('crime', 'ae_assault')

),

sv_crimes as (

    select
        in_period.*,
        definition.sv_category,
        definition.is_knife_flagged
    from in_period
    inner join definition on in_period.offence_code = definition.offence_code
    where in_period.event_type = 'crime' and definition.sv_category is not null

),

person_birth as (

    -- the earliest recorded date of birth of a linked person (never published)
    select
        person_key,
        min(date_of_birth) as date_of_birth
    from linked_records
    group by person_key

),

crime_items as (

    select
        'serious_violence_crimes' as measure,
        event_key as unit_key,
        month_start,
        lsoa21_code,
        area_ward_code,
        lad_code
    from sv_crimes

    union all

    select
        sv_category as measure,
        event_key as unit_key,
        month_start,
        lsoa21_code,
        area_ward_code,
        lad_code
    from sv_crimes

    union all

    select
        'knife_crimes' as measure,
        event_key as unit_key,
        month_start,
        lsoa21_code,
        area_ward_code,
        lad_code
    from sv_crimes
    where is_knife_flagged

),

ae_items as (

    select
        'ae_assaults' as measure,
        event_key as unit_key,
        month_start,
        lsoa21_code,
        area_ward_code,
        lad_code
    from in_period
    where event_type = 'ae_assault'

    union all

    select
        'ae_knife_assaults' as measure,
        event_key as unit_key,
        month_start,
        lsoa21_code,
        area_ward_code,
        lad_code
    from in_period
    where event_type = 'ae_assault' and classification = '03'

),

person_items as (

    select
        case when person_events.role = 'victim' then 'victims_under_25' else 'suspects_under_25' end
            as measure,
        person_events.person_key as unit_key,
        sv_crimes.month_start,
        sv_crimes.lsoa21_code,
        sv_crimes.area_ward_code,
        sv_crimes.lad_code
    from person_events
    inner join sv_crimes on person_events.event_key = sv_crimes.event_key
    inner join person_birth on person_events.person_key = person_birth.person_key
    where
        person_events.role in ('victim', 'suspect', 'offender')
        and sv_crimes.occurred_on < {{ dbt.dateadd('year', 25, 'person_birth.date_of_birth') }}

),

unioned as (

    select * from crime_items
    union all
    select * from ae_items
    union all
    select * from person_items

),

final as (

    select distinct
        unioned.measure,
        unioned.unit_key,
        unioned.month_start,
        unioned.lsoa21_code,
        unioned.area_ward_code as ward_code,
        unioned.lad_code,
        period.period_start,
        period.period_end
    from unioned
    cross join period

)

select * from final

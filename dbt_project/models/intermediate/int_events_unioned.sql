{#- Every event source of the force and its partners in one shape: the input of
    marts.fct_events. Located sources pass their located-table columns through;
    referrals and probation contacts are delivered without a place (their
    addresses are people's homes, modelled in bridge_person_places). -#}
with

occurrences as (

    select * from {{ ref('stg_police__occurrences') }}

),

cad_incidents as (

    select * from {{ ref('stg_police__cad_incidents') }}

),

intelligence_logs as (

    select * from {{ ref('stg_police__intelligence_logs') }}

),

stop_searches as (

    select * from {{ ref('stg_police_uk__stop_searches') }}

),

istv_assaults as (

    select * from {{ ref('stg_nhs__istv_assaults') }}

),

safeguarding_referrals as (

    select * from {{ ref('stg_nhs__safeguarding_referrals') }}

),

cin_referrals as (

    select * from {{ ref('stg_social_care__cin_referrals') }}

),

probation_cases as (

    select * from {{ ref('stg_probation__cases') }}

),

unioned as (

    select
        'police_rms' as source_system,
        'crime' as event_type,
        occurrences.occurrence_ref as source_ref,
        occurrences.committed_from as occurred_from,
        occurrences.committed_to as occurred_to,
        occurrences.offence_code,
        occurrences.offence_description as classification,
        cast(null as varchar) as classified_crime_type,
        occurrences.outcome,
        cast(null as varchar) as linked_source_system,
        cast(null as varchar) as linked_source_ref,
        {{ vrdp.event_location_columns('occurrences') }}
    from occurrences

    union all

    select
        'police_cad' as source_system,
        'incident' as event_type,
        cad_incidents.incident_ref as source_ref,
        cad_incidents.call_received_at as occurred_from,
        cad_incidents.call_received_at as occurred_to,
        cast(null as varchar) as offence_code,
        cad_incidents.opening_classification as classification,
        -- a police.uk category when the call was classified as one (checked in the mart)
        cad_incidents.opening_classification as classified_crime_type,
        cad_incidents.closing_classification as outcome,
        case when cad_incidents.linked_occurrence_ref is not null then 'police_rms' end
            as linked_source_system,
        cad_incidents.linked_occurrence_ref as linked_source_ref,
        {{ vrdp.event_location_columns('cad_incidents') }}
    from cad_incidents

    union all

    select
        'police_intelligence' as source_system,
        'intelligence' as event_type,
        intelligence_logs.log_id as source_ref,
        intelligence_logs.created_at as occurred_from,
        intelligence_logs.created_at as occurred_to,
        cast(null as varchar) as offence_code,
        intelligence_logs.soc_categories as classification,
        cast(null as varchar) as classified_crime_type,
        cast(null as varchar) as outcome,
        cast(null as varchar) as linked_source_system,
        cast(null as varchar) as linked_source_ref,
        {{ vrdp.event_location_columns('intelligence_logs') }}
    from intelligence_logs

    union all

    select
        'police_stop_search' as source_system,
        'stop_search' as event_type,
        stop_searches.stop_search_ref as source_ref,
        stop_searches.searched_at as occurred_from,
        stop_searches.searched_at as occurred_to,
        cast(null as varchar) as offence_code,
        stop_searches.object_of_search as classification,
        cast(null as varchar) as classified_crime_type,
        stop_searches.outcome,
        cast(null as varchar) as linked_source_system,
        cast(null as varchar) as linked_source_ref,
        {{ vrdp.event_location_columns('stop_searches') }}
    from stop_searches

    union all

    select
        'nhs_istv' as source_system,
        'ae_assault' as event_type,
        istv_assaults.attendance_ref as source_ref,
        -- the assault, else the arrival when the department did not record it
        coalesce(istv_assaults.assaulted_at, istv_assaults.arrived_at) as occurred_from,
        coalesce(istv_assaults.assaulted_at, istv_assaults.arrived_at) as occurred_to,
        cast(null as varchar) as offence_code,
        istv_assaults.assault_method_code as classification,
        'Violence and sexual offences' as classified_crime_type,
        cast(null as varchar) as outcome,
        cast(null as varchar) as linked_source_system,
        cast(null as varchar) as linked_source_ref,
        {{ vrdp.event_location_columns(
            'istv_assaults',
            geocode_score='istv_assaults.geocode_score',
            is_located='coalesce(istv_assaults.is_located, false)',
        ) }}
    from istv_assaults

    union all

    select
        'nhs_safeguarding' as source_system,
        'referral' as event_type,
        safeguarding_referrals.referral_id as source_ref,
        cast(safeguarding_referrals.referral_date as timestamp) as occurred_from,
        cast(safeguarding_referrals.referral_date as timestamp) as occurred_to,
        cast(null as varchar) as offence_code,
        safeguarding_referrals.concern_category as classification,
        cast(null as varchar) as classified_crime_type,
        cast(null as varchar) as outcome,
        cast(null as varchar) as linked_source_system,
        cast(null as varchar) as linked_source_ref,
        {{ vrdp.no_event_location() }}
    from safeguarding_referrals

    union all

    select
        'social_care' as source_system,
        'referral' as event_type,
        cin_referrals.referral_id as source_ref,
        cast(cin_referrals.referral_date as timestamp) as occurred_from,
        cast(cin_referrals.referral_date as timestamp) as occurred_to,
        cast(null as varchar) as offence_code,
        cin_referrals.primary_need_code as classification,
        cast(null as varchar) as classified_crime_type,
        case when cin_referrals.is_referral_nfa then 'No further action' end as outcome,
        cast(null as varchar) as linked_source_system,
        cast(null as varchar) as linked_source_ref,
        {{ vrdp.no_event_location() }}
    from cin_referrals

    union all

    select
        'probation' as source_system,
        'probation_contact' as event_type,
        probation_cases.event_id as source_ref,
        cast(probation_cases.sentence_date as timestamp) as occurred_from,
        cast(probation_cases.sentence_date as timestamp) as occurred_to,
        probation_cases.offence_code,
        probation_cases.sentence_type as classification,
        cast(null as varchar) as classified_crime_type,
        cast(null as varchar) as outcome,
        cast(null as varchar) as linked_source_system,
        cast(null as varchar) as linked_source_ref,
        {{ vrdp.no_event_location() }}
    from probation_cases

),

final as (

    select
        {{ vrdp.event_key('source_system', 'source_ref') }} as event_key,
        *,
        cast(occurred_from as date) as occurred_on,
        case
            when linked_source_ref is not null
                then {{ vrdp.event_key('linked_source_system', 'linked_source_ref') }}
        end as linked_event_key
    from unioned

)

select * from final

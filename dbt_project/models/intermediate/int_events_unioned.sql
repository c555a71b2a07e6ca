{#- Every event source of the force and its partners in one shape: the input of
    marts.fct_events. Located sources pass their located-table columns through;
    referrals and probation contacts are delivered without a place (their
    addresses are people's homes, modelled in bridge_person_places). -#}
{%- set columns = [
    ['source_system', 'string'],
    ['event_type', 'string'],
    ['source_ref', 'string'],
    ['occurred_from', 'timestamp'],
    ['occurred_to', 'timestamp'],
    ['offence_code', 'string'],
    ['classification', 'string'],
    ['classified_crime_type', 'string'],
    ['outcome', 'string'],
    ['linked_source_system', 'string'],
    ['linked_source_ref', 'string'],
] -%}
{%- set parts = [
    {'from': 'occurrences', 'columns': {
        'source_system': "'police_rms'",
        'event_type': "'crime'",
        'source_ref': 'occurrences.occurrence_ref',
        'occurred_from': 'occurrences.committed_from',
        'occurred_to': 'occurrences.committed_to',
        'offence_code': 'occurrences.offence_code',
        'classification': 'occurrences.offence_description',
        'outcome': 'occurrences.outcome',
    }, 'tail': vrdp.event_location_columns('occurrences')},
    {'from': 'cad_incidents', 'columns': {
        'source_system': "'police_cad'",
        'event_type': "'incident'",
        'source_ref': 'cad_incidents.incident_ref',
        'occurred_from': 'cad_incidents.call_received_at',
        'occurred_to': 'cad_incidents.call_received_at',
        'classification': 'cad_incidents.opening_classification',
        'classified_crime_type': 'cad_incidents.opening_classification',
        'outcome': 'cad_incidents.closing_classification',
        'linked_source_system':
            "case when cad_incidents.linked_occurrence_ref is not null then 'police_rms' end",
        'linked_source_ref': 'cad_incidents.linked_occurrence_ref',
    }, 'tail': vrdp.event_location_columns('cad_incidents')},
    {'from': 'intelligence_logs', 'columns': {
        'source_system': "'police_intelligence'",
        'event_type': "'intelligence'",
        'source_ref': 'intelligence_logs.log_id',
        'occurred_from': 'intelligence_logs.created_at',
        'occurred_to': 'intelligence_logs.created_at',
        'classification': 'intelligence_logs.soc_categories',
    }, 'tail': vrdp.event_location_columns('intelligence_logs')},
    {'from': 'stop_searches', 'columns': {
        'source_system': "'police_stop_search'",
        'event_type': "'stop_search'",
        'source_ref': 'stop_searches.stop_search_ref',
        'occurred_from': 'stop_searches.searched_at',
        'occurred_to': 'stop_searches.searched_at',
        'classification': 'stop_searches.object_of_search',
        'outcome': 'stop_searches.outcome',
    }, 'tail': vrdp.event_location_columns('stop_searches')},
    {'from': 'istv_assaults', 'columns': {
        'source_system': "'nhs_istv'",
        'event_type': "'ae_assault'",
        'source_ref': 'istv_assaults.attendance_ref',
        'occurred_from': 'coalesce(istv_assaults.assaulted_at, istv_assaults.arrived_at)',
        'occurred_to': 'coalesce(istv_assaults.assaulted_at, istv_assaults.arrived_at)',
        'classification': 'istv_assaults.assault_method_code',
        'classified_crime_type': "'Violence and sexual offences'",
    }, 'tail': vrdp.event_location_columns(
        'istv_assaults',
        geocode_score='istv_assaults.geocode_score',
        is_located='coalesce(istv_assaults.is_located, false)',
    )},
    {'from': 'safeguarding_referrals', 'columns': {
        'source_system': "'nhs_safeguarding'",
        'event_type': "'referral'",
        'source_ref': 'safeguarding_referrals.referral_id',
        'occurred_from': 'cast(safeguarding_referrals.referral_date as timestamp)',
        'occurred_to': 'cast(safeguarding_referrals.referral_date as timestamp)',
        'classification': 'safeguarding_referrals.concern_category',
    }, 'tail': vrdp.no_event_location()},
    {'from': 'cin_referrals', 'columns': {
        'source_system': "'social_care'",
        'event_type': "'referral'",
        'source_ref': 'cin_referrals.referral_id',
        'occurred_from': 'cast(cin_referrals.referral_date as timestamp)',
        'occurred_to': 'cast(cin_referrals.referral_date as timestamp)',
        'classification': 'cin_referrals.primary_need_code',
        'outcome': "case when cin_referrals.is_referral_nfa then 'No further action' end",
    }, 'tail': vrdp.no_event_location()},
    {'from': 'probation_cases', 'columns': {
        'source_system': "'probation'",
        'event_type': "'probation_contact'",
        'source_ref': 'probation_cases.event_id',
        'occurred_from': 'cast(probation_cases.sentence_date as timestamp)',
        'occurred_to': 'cast(probation_cases.sentence_date as timestamp)',
        'offence_code': 'probation_cases.offence_code',
        'classification': 'probation_cases.sentence_type',
    }, 'tail': vrdp.no_event_location()},
    {'from': 'voluntary_referrals', 'columns': {
        'source_system': "'voluntary'",
        'event_type': "'referral'",
        'source_ref': 'voluntary_referrals.referral_id',
        'occurred_from': 'cast(voluntary_referrals.referral_date as timestamp)',
        'occurred_to': 'cast(voluntary_referrals.referral_date as timestamp)',
        'classification': 'voluntary_referrals.reason',
    }, 'tail': vrdp.no_event_location()},
] -%}
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

voluntary_referrals as (

    -- the referrals shared for person-level work (consent to share)
    select * from {{ ref('stg_community__voluntary_referrals') }}
    where consent_to_share

),

unioned as (
    {{ vrdp.union_select(columns, parts) }}

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

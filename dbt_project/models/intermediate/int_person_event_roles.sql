{#- Who took part in which event, and in what role, by person record: one row per
    record, source event and role. Roles stay separate (a victim is never scored
    with offenders): suspect, victim, witness, offender (police occurrences;
    probation cases), subject (intelligence), referred child (social care),
    patient (NHS safeguarding), referred young person (voluntary sector, with
    consent to share). -#}
{%- set columns = [
    ['record_uid', 'string'],
    ['source_system', 'string'],
    ['source_ref', 'string'],
    ['role', 'string'],
    ['role_recorded_at', 'timestamp'],
] -%}
{%- set parts = [
    {'from': 'occurrence_nominals', 'columns': {
        'record_uid': "'police:nominals:' || occurrence_nominals.nominal_id",
        'source_system': "'police_rms'",
        'source_ref': 'occurrence_nominals.occurrence_ref',
        'role': 'occurrence_nominals.person_role',
        'role_recorded_at': 'occurrence_nominals.linked_at',
    }},
    {'from': 'intelligence_subjects', 'columns': {
        'record_uid': "'police:intelligence:' || intelligence_subjects.subject_id",
        'source_system': "'police_intelligence'",
        'source_ref': 'intelligence_subjects.log_id',
        'role': "'subject'",
        'role_recorded_at': 'intelligence_subjects.created_at',
    }},
    {'from': 'cin_referrals', 'columns': {
        'record_uid': "'social_care:cin_referrals:' || cin_referrals.referral_id",
        'source_system': "'social_care'",
        'source_ref': 'cin_referrals.referral_id',
        'role': "'referred child'",
        'role_recorded_at': 'cast(cin_referrals.referral_date as timestamp)',
    }},
    {'from': 'probation_cases', 'columns': {
        'record_uid': "'probation:cases:' || probation_cases.event_id",
        'source_system': "'probation'",
        'source_ref': 'probation_cases.event_id',
        'role': "'offender'",
        'role_recorded_at': 'cast(probation_cases.sentence_date as timestamp)',
    }},
    {'from': 'safeguarding_referrals', 'columns': {
        'record_uid': "'nhs:safeguarding:' || safeguarding_referrals.referral_id",
        'source_system': "'nhs_safeguarding'",
        'source_ref': 'safeguarding_referrals.referral_id',
        'role': "'patient'",
        'role_recorded_at': 'cast(safeguarding_referrals.referral_date as timestamp)',
    }},
    {'from': 'voluntary_referrals', 'columns': {
        'record_uid': "'voluntary:referrals:' || voluntary_referrals.referral_id",
        'source_system': "'voluntary'",
        'source_ref': 'voluntary_referrals.referral_id',
        'role': "'referred young person'",
        'role_recorded_at': 'cast(voluntary_referrals.referral_date as timestamp)',
    }},
] -%}
with

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

voluntary_referrals as (

    select * from {{ ref('stg_community__voluntary_referrals') }}
    where consent_to_share

),

unioned as (
    {{ vrdp.union_select(columns, parts) }}

),

final as (

    select
        *,
        {{ vrdp.event_key('source_system', 'source_ref') }} as event_key
    from unioned

)

select * from final

{#- Every agency's person records in one shape: the input of person linkage.
    record_uid = <agency>:<dataset>:<record id>. -#}
{%- set columns = [
    ['agency', 'string'],
    ['dataset', 'string'],
    ['record_id', 'string'],
    ['forename', 'string'],
    ['surname', 'string'],
    ['date_of_birth', 'date'],
    ['sex', 'string'],
    ['postcode', 'string'],
    ['address_line', 'string'],
    ['pnc_id', 'string'],
    ['nhs_number', 'string'],
    ['upn', 'string'],
    ['crn', 'string'],
    ['seen_on', 'date'],
    ['safeguarding_concern', 'string'],
    ['rosh_level', 'string'],
    ['mappa_category', 'string'],
    ['is_iom', 'boolean'],
] -%}
{%- set identity = ['forename', 'surname', 'date_of_birth', 'postcode', 'address_line'] -%}
{%- set parts = [
    {'from': 'nominals', 'same': identity + ['sex', 'pnc_id'], 'columns': {
        'agency': "'police'",
        'dataset': "'nominals'",
        'record_id': 'nominals.nominal_id',
        'seen_on': 'cast(nominals.created_at as date)',
        'is_iom': 'false',
    }},
    {'from': 'intelligence_subjects', 'same': identity + ['pnc_id'], 'columns': {
        'agency': "'police'",
        'dataset': "'intelligence'",
        'record_id': 'intelligence_subjects.subject_id',
        'seen_on': 'cast(intelligence_subjects.created_at as date)',
        'is_iom': 'false',
    }},
    {'from': 'cin_referrals', 'same': identity + ['sex', 'upn'], 'columns': {
        'agency': "'social_care'",
        'dataset': "'cin_referrals'",
        'record_id': 'cin_referrals.referral_id',
        'seen_on': 'cin_referrals.referral_date',
        'safeguarding_concern': "'Child in need referral'",
        'is_iom': 'false',
    }},
    {'from': 'probation_cases', 'same': identity + [
        'sex', 'pnc_id', 'crn', 'rosh_level', 'mappa_category', 'is_iom'
    ], 'columns': {
        'agency': "'probation'",
        'dataset': "'cases'",
        'record_id': 'probation_cases.event_id',
        'seen_on': 'probation_cases.sentence_date',
    }},
    {'from': 'safeguarding_referrals', 'same': identity + ['sex', 'nhs_number'], 'columns': {
        'agency': "'nhs'",
        'dataset': "'safeguarding'",
        'record_id': 'safeguarding_referrals.referral_id',
        'seen_on': 'safeguarding_referrals.referral_date',
        'safeguarding_concern': 'safeguarding_referrals.concern_category',
        'is_iom': 'false',
    }},
    {'from': 'voluntary_referrals', 'same': ['forename', 'surname', 'date_of_birth', 'postcode'],
     'columns': {
        'agency': "'voluntary'",
        'dataset': "'referrals'",
        'record_id': 'voluntary_referrals.referral_id',
        'seen_on': 'voluntary_referrals.referral_date',
        'safeguarding_concern': 'voluntary_referrals.reason',
        'is_iom': 'false',
    }},
] -%}
with

nominals as (

    select * from {{ ref('stg_police__nominals') }}

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

    -- only referrals whose young person consented to sharing are linked to persons
    select * from {{ ref('stg_community__voluntary_referrals') }}
    where consent_to_share

),

unioned as (
    {{ vrdp.union_select(columns, parts) }}

),

final as (

    select
        *,
        agency || ':' || dataset || ':' || record_id as record_uid
    from unioned

)

select * from final

{#- Every agency's person records in one shape: the input of person linkage.
    record_uid = <agency>:<dataset>:<record id>. -#}
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

unioned as (

    select
        'police' as agency,
        'nominals' as dataset,
        nominal_id as record_id,
        forename,
        surname,
        date_of_birth,
        sex,
        postcode,
        address_line,
        pnc_id,
        cast(null as varchar) as nhs_number,
        cast(null as varchar) as upn,
        cast(null as varchar) as crn,
        cast(created_at as date) as seen_on,
        cast(null as varchar) as safeguarding_concern,
        cast(null as varchar) as rosh_level,
        cast(null as varchar) as mappa_category,
        false as is_iom
    from nominals

    union all

    select
        'police' as agency,
        'intelligence' as dataset,
        subject_id as record_id,
        forename,
        surname,
        date_of_birth,
        cast(null as varchar) as sex,
        postcode,
        address_line,
        pnc_id,
        cast(null as varchar) as nhs_number,
        cast(null as varchar) as upn,
        cast(null as varchar) as crn,
        cast(created_at as date) as seen_on,
        cast(null as varchar) as safeguarding_concern,
        cast(null as varchar) as rosh_level,
        cast(null as varchar) as mappa_category,
        false as is_iom
    from intelligence_subjects

    union all

    select
        'social_care' as agency,
        'cin_referrals' as dataset,
        referral_id as record_id,
        forename,
        surname,
        date_of_birth,
        sex,
        postcode,
        address_line,
        cast(null as varchar) as pnc_id,
        cast(null as varchar) as nhs_number,
        upn,
        cast(null as varchar) as crn,
        referral_date as seen_on,
        'Child in need referral' as safeguarding_concern,
        cast(null as varchar) as rosh_level,
        cast(null as varchar) as mappa_category,
        false as is_iom
    from cin_referrals

    union all

    select
        'probation' as agency,
        'cases' as dataset,
        event_id as record_id,
        forename,
        surname,
        date_of_birth,
        sex,
        postcode,
        address_line,
        pnc_id,
        cast(null as varchar) as nhs_number,
        cast(null as varchar) as upn,
        crn,
        sentence_date as seen_on,
        cast(null as varchar) as safeguarding_concern,
        rosh_level,
        mappa_category,
        is_iom
    from probation_cases

    union all

    select
        'nhs' as agency,
        'safeguarding' as dataset,
        referral_id as record_id,
        forename,
        surname,
        date_of_birth,
        sex,
        postcode,
        address_line,
        cast(null as varchar) as pnc_id,
        nhs_number,
        cast(null as varchar) as upn,
        cast(null as varchar) as crn,
        referral_date as seen_on,
        concern_category as safeguarding_concern,
        cast(null as varchar) as rosh_level,
        cast(null as varchar) as mappa_category,
        false as is_iom
    from safeguarding_referrals

),

final as (

    select
        *,
        agency || ':' || dataset || ':' || record_id as record_uid
    from unioned

)

select * from final

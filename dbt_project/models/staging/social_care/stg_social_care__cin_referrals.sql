with

current_versions as (

    {{ vrdp.latest_version(source('social_care', 'cin_referrals'), 'referral_id') }}

),

final as (

    select
        referral_id,
        delivery,
        la_code,
        la_child_id,
        {{ vrdp.valid_upn('upn') }} as upn,
        {{ vrdp.std_name('forename') }} as forename,
        {{ vrdp.std_name('surname') }} as surname,
        cast(dob as date) as date_of_birth,
        sex,
        upper(trim(address_line)) as address_line,
        {{ vrdp.std_postcode('postcode') }} as postcode,
        cast(referral_date as date) as referral_date,
        referral_source,
        primary_need_code,
        assessment_factors,
        coalesce(referral_nfa, false) as is_referral_nfa,
        cast(cin_closure_date as date) as cin_closure_date

    from current_versions

)

select * from final

with

source as (

    {{ vrdp.latest_version(source('community', 'voluntary_referrals'), 'referral_id') }}

),

final as (

    select
        referral_id,
        delivery,
        organisation,
        cast(referral_date as date) as referral_date,
        referral_source,
        reason,
        {{ vrdp.std_name('forename') }} as forename,
        {{ vrdp.std_name('surname') }} as surname,
        cast(dob as date) as date_of_birth,
        {{ vrdp.std_postcode('postcode') }} as postcode,
        location_text,
        coalesce(consent_to_share, false) as consent_to_share,
        {{ vrdp.located_columns() }},
        geocode_kind,
        geocode_score,
        coalesce(is_located, false) as is_located

    from source

)

select * from final

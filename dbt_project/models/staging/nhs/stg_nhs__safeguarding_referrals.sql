with

current_versions as (

    {{ vrdp.latest_version(source('nhs', 'safeguarding'), 'referral_id') }}

),

final as (

    select
        referral_id,
        delivery,
        {{ vrdp.valid_nhs_number('nhs_number') }} as nhs_number,
        nhs_number is not null and {{ vrdp.valid_nhs_number('nhs_number') }} is null as nhs_number_invalid,
        {{ vrdp.std_name('forename') }} as forename,
        {{ vrdp.std_name('surname') }} as surname,
        cast(dob as date) as date_of_birth,
        sex,
        upper(trim(address_line)) as address_line,
        {{ vrdp.std_postcode('postcode') }} as postcode,
        cast(referral_date as date) as referral_date,
        concern_category,
        site_code

    from current_versions

)

select * from final

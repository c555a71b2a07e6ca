with

current_versions as (

    {{ vrdp.latest_version(source('police', 'nominals'), 'nominal_id') }}

),

final as (

    select
        nominal_id,
        delivery,
        created_at,
        {{ vrdp.std_name('forename') }} as forename,
        {{ vrdp.std_name('middle_names') }} as middle_names,
        {{ vrdp.std_name('surname') }} as surname,
        cast(dob as date) as date_of_birth,
        sex,
        {{ vrdp.valid_pnc_id('pnc_id') }} as pnc_id,
        pnc_id is not null and {{ vrdp.valid_pnc_id('pnc_id') }} is null as pnc_id_invalid,
        ethnicity_ic,
        upper(trim(address_line)) as address_line,
        upper(trim(town)) as town,
        {{ vrdp.std_postcode('postcode') }} as postcode

    from current_versions

)

select * from final

with

current_versions as (

    {{ vrdp.latest_version(source('probation', 'cases'), 'event_id') }}

),

final as (

    select
        event_id,
        delivery,
        upper(crn) as crn,
        {{ vrdp.valid_pnc_id('pnc_id') }} as pnc_id,
        {{ vrdp.std_name('forename') }} as forename,
        {{ vrdp.std_name('surname') }} as surname,
        cast(dob as date) as date_of_birth,
        sex,
        upper(trim(address_line)) as address_line,
        {{ vrdp.std_postcode('postcode') }} as postcode,
        offence_code,
        sentence_type,
        cast(sentence_date as date) as sentence_date,
        cast(sentence_length_months as integer) as sentence_length_months,
        rosh_level,
        tier,
        cast(ogrs3_score as integer) as ogrs3_score,
        nullif(mappa_category, '') as mappa_category,
        coalesce(iom_flag, false) as is_iom

    from current_versions

)

select * from final

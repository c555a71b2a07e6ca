{#- One row per linked person: pseudonymous key, agencies known to, first and last
    seen, safeguarding and risk flags. No direct identifiers. -#}
with

records as (

    select * from {{ ref('int_person_records_unioned') }}

),

links as (

    select * from {{ source('linkage', 'person_record_links') }}

),

linked as (

    select
        records.*,
        links.person_key
    from records
    inner join links on records.record_uid = links.record_uid

),

final as (

    select
        person_key,
        cast(count(distinct agency) as integer) as agency_count,
        cast(count(*) as integer) as record_count,
        string_agg(distinct agency, '|' order by agency) as agencies_known_to,
        min(seen_on) as first_seen_on,
        max(seen_on) as last_seen_on,
        bool_or(agency = 'police') as is_known_to_police,
        bool_or(agency = 'social_care') as is_known_to_social_care,
        bool_or(agency = 'probation') as is_known_to_probation,
        bool_or(agency = 'nhs') as is_known_to_nhs,
        bool_or(safeguarding_concern is not null) as has_safeguarding_concern,
        bool_or(safeguarding_concern in ('Child sexual exploitation', 'Child criminal exploitation'))
            as has_exploitation_concern,
        bool_or(rosh_level in ('High', 'Very high')) as is_high_rosh,
        bool_or(mappa_category is not null) as is_mappa,
        bool_or(is_iom) as is_iom

    from linked
    group by person_key

)

select * from final

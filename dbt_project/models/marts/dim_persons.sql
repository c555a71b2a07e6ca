{#- One row per linked person: pseudonymous key, agencies known to, first and last
    seen, safeguarding and risk flags. No direct identifiers. -#}
with

linked as (

    select * from {{ ref('int_person_records_linked') }}

),

final as (

    select
        person_key,
        cast(count(distinct agency) as integer) as agency_count,
        cast(count(*) as integer) as record_count,
        {{ vrdp.string_agg_distinct('agency', '|') }} as agencies_known_to,
        min(seen_on) as first_seen_on,
        max(seen_on) as last_seen_on,
        bool_or(agency = 'police') as is_known_to_police,
        bool_or(agency = 'social_care') as is_known_to_social_care,
        bool_or(agency = 'probation') as is_known_to_probation,
        bool_or(agency = 'nhs') as is_known_to_nhs,
        bool_or(safeguarding_concern is not null) as has_safeguarding_concern,
        -- coalesce: a person with no safeguarding concern or RoSH level on any record
        -- has none (bool_or over only nulls is null)
        coalesce(
            bool_or(safeguarding_concern in ('Child sexual exploitation', 'Child criminal exploitation')),
            false
        ) as has_exploitation_concern,
        coalesce(bool_or(rosh_level in ('High', 'Very high')), false) as is_high_rosh,
        bool_or(mappa_category is not null) as is_mappa,
        coalesce(bool_or(is_iom), false) as is_iom

    from linked
    group by person_key

)

select * from final

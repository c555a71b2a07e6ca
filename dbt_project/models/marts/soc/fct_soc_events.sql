{#- One row per SOC-related event and SOC category: crimes by offence code, calls by
    opening classification, intelligence logs by each of their SOC categories (seed
    soc_category_map). An intelligence log in two categories counts once in each. -#}
with

events as (

    select * from {{ ref('fct_events') }}

),

category_map as (

    select * from {{ ref('soc_category_map') }}

),

gradings as (

    select * from {{ ref('int_intelligence_gradings') }}

),

intelligence_categories as (

    select
        event_key,
        {{ vrdp.split_to_rows('classification', '|') }} as category_code
    from events
    where event_type = 'intelligence' and classification is not null and classification != ''

),

categorised as (

    select
        events.event_key,
        category_map.soc_category
    from events
    inner join category_map
        on
            category_map.source_kind = 'offence_code'
            and events.offence_code = category_map.code
    where events.event_type = 'crime'

    union all

    select
        events.event_key,
        category_map.soc_category
    from events
    inner join category_map
        on
            category_map.source_kind = 'incident_classification'
            and events.classification = category_map.code
    where events.event_type = 'incident'

    union all

    select distinct
        intelligence_categories.event_key,
        category_map.soc_category
    from intelligence_categories
    inner join category_map
        on
            category_map.source_kind = 'intelligence_category'
            and intelligence_categories.category_code = category_map.code

),

final as (

    select
        categorised.event_key,
        categorised.soc_category,
        events.event_type,
        events.source_ref,
        events.occurred_from,
        events.occurred_on,
        events.offence_code,
        events.ward_code,
        events.lsoa21_code,
        events.h3_cell,
        events.longitude,
        events.latitude,
        gradings.grading_source,
        gradings.grading_intelligence,
        gradings.grading_handling,
        cast({{ dbt.date_trunc('week', 'events.occurred_on') }} as date) as week_start,
        cast({{ dbt.date_trunc('month', 'events.occurred_on') }} as date) as month_start
    from categorised
    inner join events on categorised.event_key = events.event_key
    left join gradings on categorised.event_key = gradings.event_key

)

select * from final

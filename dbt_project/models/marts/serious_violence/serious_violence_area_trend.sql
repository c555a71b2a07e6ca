{#- The serious violence trend by area: for the force, each local authority
    district and each ward of the force, and each measure of
    fct_serious_violence_items, the count in the last 12 whole months against the
    12 before, each with its rate per 1,000 residents (residents under 25 for the
    under-25 measures) and 95% Wilson interval, and the change. A person counts
    once in a 12-month period (the under-25 measures count distinct people).
    Partner output: a count of 1 to 4 and everything derived from it are null
    (is_suppressed_*); the change is given only when both counts are published
    and the measure's records cover the whole previous 12 months (data_from: the
    first month with any item of the measure's source, police crimes, A&E
    attendances or people linked to crimes, force-wide). -#}
with

items as (

    select * from {{ ref('fct_serious_violence_items') }}

),

monthly as (

    select * from {{ ref('serious_violence_area_monthly') }}

),

lsoas as (

    select * from {{ ref('needs_lsoa_population') }}

),

period as (

    select
        cast(min(period_start) + interval 12 month as date) as last_start,
        min(period_start) as previous_start,
        max(period_end) as period_end
    from items

),

source_groups as (

    select
        measure,
        case
            when measure in ('ae_assaults', 'ae_knife_assaults') then 'ae_attendances'
            when measure in ('victims_under_25', 'suspects_under_25') then 'people'
            else 'crimes'
        end as source_group
    from (select distinct measure from monthly) as measure_list

),

group_start as (

    select
        source_groups.source_group,
        min(items.month_start) as data_from
    from items
    inner join source_groups on items.measure = source_groups.measure
    group by source_groups.source_group

),

coverage as (

    select
        source_groups.measure,
        group_start.data_from
    from source_groups
    left join group_start on source_groups.source_group = group_start.source_group

),

areas as (

    -- the monthly mart's areas, measures and denominators (one row per area and measure)
    select distinct
        area_type,
        area_code,
        parent_code,
        measure,
        population
    from monthly

),

area_members as (

    select
        'ward' as area_type,
        ward_code as area_code,
        lsoa21_code
    from lsoas
    union all
    select
        'lad' as area_type,
        lad_code as area_code,
        lsoa21_code
    from lsoas
    union all
    select
        'force' as area_type,
        'force' as area_code,
        lsoa21_code
    from lsoas

),

counts as (

    select
        area_members.area_type,
        area_members.area_code,
        items.measure,
        count(distinct items.unit_key) filter (where items.month_start >= period.last_start) as raw_last,
        count(distinct items.unit_key) filter (where items.month_start < period.last_start) as raw_previous
    from items
    cross join period
    inner join area_members on items.lsoa21_code = area_members.lsoa21_code
    group by area_members.area_type, area_members.area_code, items.measure

),

joined as (

    select
        areas.*,
        coverage.data_from,
        coalesce(coverage.data_from <= (select period.previous_start from period), false) as is_previous_covered,
        coalesce(counts.raw_last, 0) as raw_last,
        coalesce(counts.raw_previous, 0) as raw_previous
    from areas
    inner join coverage on areas.measure = coverage.measure
    left join counts
        on
            areas.area_type = counts.area_type
            and areas.area_code = counts.area_code
            and areas.measure = counts.measure

),

final as (

    select
        md5(area_type || '|' || area_code || '|' || measure) as serious_violence_area_trend_key,
        area_type,
        area_code,
        parent_code,
        measure,
        (select period.previous_start from period) as previous_start,
        (select period.last_start from period) as last_start,
        (select period.period_end from period) as period_end,
        round(population, 1) as population,
        cast({{ vrdp.when_publishable('raw_last', 'raw_last') }} as bigint) as events_last_12,
        {{ vrdp.when_publishable('raw_last', '1000.0 * raw_last / nullif(population, 0)') }} as rate_per_1000_last_12,
        {{ vrdp.when_publishable('raw_last', vrdp.needs_wilson('raw_last', 'population', 'lower')) }}
            as rate_ci95_low_last_12,
        {{ vrdp.when_publishable('raw_last', vrdp.needs_wilson('raw_last', 'population', 'upper')) }}
            as rate_ci95_high_last_12,
        cast({{ vrdp.when_publishable('raw_previous', 'raw_previous') }} as bigint)
            as events_previous_12,
        {{ vrdp.when_publishable('raw_previous', '1000.0 * raw_previous / nullif(population, 0)') }}
            as rate_per_1000_previous_12,
        data_from,
        is_previous_covered,
        case
            when
                is_previous_covered
                and {{ vrdp.publishable('raw_last') }}
                and {{ vrdp.publishable('raw_previous') }}
                then raw_last - raw_previous
        end as change_in_events,
        case
            when is_previous_covered and raw_last >= 5 and raw_previous >= 5
                then 1.0 * (raw_last - raw_previous) / cast(raw_previous as double)
        end as change_share,
        raw_last > 0 and raw_last < 5 as is_suppressed_last_12,
        raw_previous > 0 and raw_previous < 5 as is_suppressed_previous_12
    from joined

)

select * from final

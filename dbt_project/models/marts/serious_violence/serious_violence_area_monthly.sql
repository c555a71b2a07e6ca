{#- The serious violence overview by area and month: for the force, each local
    authority district and each ward (May 2025) of the force, and each measure of
    fct_serious_violence_items, the count in each of the 24 whole months of the
    period and its rate per 1,000 residents (residents under 25 for the under-25
    measures) with a 95% Wilson interval. Partner output: a count of 1 to 4 and
    everything derived from it are null (is_suppressed); zero is published, as in
    vrdp.governance.suppression. No area names (they are reference data) and no
    person-level column. -#}
with

items as (

    select * from {{ ref('fct_serious_violence_items') }}

),

lsoas as (

    select * from {{ ref('needs_lsoa_population') }}

),

period as (

    select
        min(period_start) as period_start,
        max(period_end) as period_end
    from items

),

months as (

    select cast(month_range.month_start as date) as month_start
    from period
    cross join
        {{ vrdp.time_series(
            'cast(period.period_start as timestamp)',
            'cast(period.period_end as timestamp)',
            'interval 1 month',
        ) }} as month_range (month_start)

),

measures as (

    select measure_list.measure
    from
        (
            values
            ('serious_violence_crimes'),
            ('homicide'),
            ('violence_with_injury'),
            ('robbery'),
            ('possession_of_weapons'),
            ('knife_crimes'),
            ('ae_assaults'),
            ('ae_knife_assaults'),
            ('victims_under_25'),
            ('suspects_under_25')
        ) as measure_list (measure)

),

area_members as (

    -- every LSOA of the force in its ward, its district and the force
    select
        'ward' as area_type,
        ward_code as area_code,
        lad_code as parent_code,
        lsoa21_code,
        residents,
        residents_0_9 + residents_10_17 + residents_18_24 as residents_under_25
    from lsoas
    union all
    select
        'lad' as area_type,
        lad_code as area_code,
        'force' as parent_code,
        lsoa21_code,
        residents,
        residents_0_9 + residents_10_17 + residents_18_24 as residents_under_25
    from lsoas
    union all
    select
        'force' as area_type,
        'force' as area_code,
        cast(null as string) as parent_code,
        lsoa21_code,
        residents,
        residents_0_9 + residents_10_17 + residents_18_24 as residents_under_25
    from lsoas

),

areas as (

    select
        area_type,
        area_code,
        min(parent_code) as parent_code,
        sum(residents) as residents,
        sum(residents_under_25) as residents_under_25
    from area_members
    group by area_type, area_code

),

counts as (

    select
        area_members.area_type,
        area_members.area_code,
        items.measure,
        items.month_start,
        count(distinct items.unit_key) as raw_count
    from items
    inner join area_members on items.lsoa21_code = area_members.lsoa21_code
    group by area_members.area_type, area_members.area_code, items.measure, items.month_start

),

grid as (

    select
        areas.area_type,
        areas.area_code,
        areas.parent_code,
        measures.measure,
        months.month_start,
        case
            when measures.measure in ('victims_under_25', 'suspects_under_25') then areas.residents_under_25
            else areas.residents
        end as population,
        coalesce(counts.raw_count, 0) as raw_count
    from areas
    cross join measures
    cross join months
    left join counts
        on
            areas.area_type = counts.area_type
            and areas.area_code = counts.area_code
            and measures.measure = counts.measure
            and months.month_start = counts.month_start

),

final as (

    select
        md5(area_type || '|' || area_code || '|' || measure || '|' || cast(month_start as string))
            as serious_violence_area_month_key,
        area_type,
        area_code,
        parent_code,
        measure,
        month_start,
        (select period.period_start from period) as period_start,
        (select period.period_end from period) as period_end,
        cast({{ vrdp.when_publishable('raw_count', 'raw_count') }} as bigint) as events,
        round(population, 1) as population,
        {{ vrdp.when_publishable('raw_count', '1000.0 * raw_count / nullif(population, 0)') }} as rate_per_1000,
        {{ vrdp.when_publishable('raw_count', vrdp.needs_wilson('raw_count', 'population', 'lower')) }}
            as rate_ci95_low,
        {{ vrdp.when_publishable('raw_count', vrdp.needs_wilson('raw_count', 'population', 'upper')) }}
            as rate_ci95_high,
        raw_count > 0 and raw_count < 5 as is_suppressed
    from grid

)

select * from final

{#- Strategic needs assessment by area (LSOA 2021, ward, force): counts, rates per
    1,000 residents and 95% Wilson intervals of each indicator and age band in the
    12 months to the latest crime, call or A&E assault, with the area's IMD 2019
    decile (national and within the force). Partner output: counts under 5 and
    everything derived from them are null (is_suppressed). -#}
with

items as (

    select * from {{ ref('fct_needs_items') }}

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

bands as (

    -- each indicator's age bands; "all" is the indicator's whole population
    select
        indicator,
        age_band
    from items
    where age_band is not null and indicator not in ('violent_crimes', 'violence_calls', 'ae_assaults')
    group by indicator, age_band

    union

    select
        indicator,
        'all' as age_band
    from items
    group by indicator

),

item_bands as (

    select
        items.indicator,
        items.unit_key,
        items.lsoa21_code,
        items.age_band
    from items

    union all

    select
        items.indicator,
        items.unit_key,
        items.lsoa21_code,
        'all' as age_band
    from items

),

located as (

    select
        item_bands.*,
        lsoas.ward_code
    from item_bands
    inner join lsoas on item_bands.lsoa21_code = lsoas.lsoa21_code

),

lsoa_residents as (

    -- residents by LSOA and age band, long
    select
        lsoa21_code,
        ward_code,
        '0-9' as age_band,
        residents_0_9 as residents
    from lsoas
    union all
    select
        lsoa21_code,
        ward_code,
        '10-17' as age_band,
        residents_10_17 as residents
    from lsoas
    union all
    select
        lsoa21_code,
        ward_code,
        '18-24' as age_band,
        residents_18_24 as residents
    from lsoas
    union all
    select
        lsoa21_code,
        ward_code,
        '25+' as age_band,
        residents_25_plus as residents
    from lsoas

),

areas as (

    select
        'lsoa' as area_type,
        lsoa21_code as area_code,
        lsoa21_name as area_name,
        lsoa21_code,
        imd_decile_national,
        imd_decile_force,
        imd_rank * 1.0 as imd_rank
    from lsoas

),

ward_imd as (

    select
        ward_code,
        min(ward_name) as ward_name,
        sum(imd_rank * residents) / sum(residents) as imd_rank
    from lsoas
    group by ward_code

),

ward_areas as (

    select
        'ward' as area_type,
        ward_code as area_code,
        ward_name as area_name,
        imd_rank,
        cast(least(greatest(ceil(imd_rank * 10.0 / 32844), 1), 10) as integer) as imd_decile_national,
        cast(ntile(10) over (order by imd_rank) as integer) as imd_decile_force
    from ward_imd

),

area_members as (

    -- every LSOA in its own area, its ward and the force
    select
        'lsoa' as area_type,
        lsoa21_code as area_code,
        lsoa21_code
    from lsoas
    union all
    select
        'ward' as area_type,
        ward_code as area_code,
        lsoa21_code
    from lsoas
    union all
    select
        'force' as area_type,
        'force' as area_code,
        lsoa21_code
    from lsoas

),

area_residents as (

    select
        area_members.area_type,
        area_members.area_code,
        lsoa_residents.age_band,
        sum(lsoa_residents.residents) as residents
    from area_members
    inner join lsoa_residents on area_members.lsoa21_code = lsoa_residents.lsoa21_code
    group by area_members.area_type, area_members.area_code, lsoa_residents.age_band

),

area_counts as (

    select
        area_members.area_type,
        area_members.area_code,
        located.indicator,
        located.age_band,
        count(distinct located.unit_key) as events
    from located
    inner join area_members on located.lsoa21_code = area_members.lsoa21_code
    group by area_members.area_type, area_members.area_code, located.indicator, located.age_band

),

grid as (

    select
        area_keys.area_type,
        area_keys.area_code,
        bands.indicator,
        bands.age_band
    from (select distinct
        area_type,
        area_code
    from area_members) as area_keys
    cross join bands

),

denominators as (

    -- "all" of an under-25 indicator counts residents under 25; of children in
    -- need referrals, residents under 18; of the rest, every resident
    select
        grid.area_type,
        grid.area_code,
        grid.indicator,
        grid.age_band,
        sum(area_residents.residents) as population
    from grid
    inner join area_residents
        on
            grid.area_type = area_residents.area_type
            and grid.area_code = area_residents.area_code
            and (
                grid.age_band = area_residents.age_band
                or (
                    grid.age_band = 'all'
                    and (
                        (
                            grid.indicator in ('victims_under_25', 'suspects_under_25')
                            and area_residents.age_band != '25+'
                        )
                        or (grid.indicator = 'cin_referrals' and area_residents.age_band in ('0-9', '10-17'))
                        or grid.indicator not in ('victims_under_25', 'suspects_under_25', 'cin_referrals')
                    )
                )
            )
    group by grid.area_type, grid.area_code, grid.indicator, grid.age_band

),

described as (

    select
        denominators.*,
        coalesce(area_counts.events, 0) as raw_events,
        coalesce(areas.area_name, ward_areas.area_name, 'Force area') as area_name,
        coalesce(areas.imd_decile_national, ward_areas.imd_decile_national) as imd_decile_national,
        coalesce(areas.imd_decile_force, ward_areas.imd_decile_force) as imd_decile_force
    from denominators
    left join area_counts
        on
            denominators.area_type = area_counts.area_type
            and denominators.area_code = area_counts.area_code
            and denominators.indicator = area_counts.indicator
            and denominators.age_band = area_counts.age_band
    left join areas
        on denominators.area_type = areas.area_type and denominators.area_code = areas.area_code
    left join ward_areas
        on denominators.area_type = ward_areas.area_type and denominators.area_code = ward_areas.area_code

),

final as (

    select
        md5(area_type || '|' || area_code || '|' || indicator || '|' || age_band) as needs_area_rate_key,
        area_type,
        area_code,
        indicator,
        age_band,
        (select period.period_start from period) as period_start,
        (select period.period_end from period) as period_end,
        {{ vrdp.needs_rate_columns('raw_events', 'population') }},
        imd_decile_national,
        imd_decile_force
    from described

)

select * from final

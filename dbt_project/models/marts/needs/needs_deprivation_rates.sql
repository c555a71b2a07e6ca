{#- Rates per 1,000 with 95% Wilson intervals of each indicator and age band by
    IMD 2019 decile of the LSOA (national deciles, and deciles within the force),
    in the needs period. Partner output: counts under 5 are suppressed. -#}
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

lsoa_deciles as (

    select
        lsoa21_code,
        'national' as imd_basis,
        imd_decile_national as imd_decile
    from lsoas
    union all
    select
        lsoa21_code,
        'force' as imd_basis,
        imd_decile_force as imd_decile
    from lsoas

),

lsoa_residents as (

    select
        lsoa21_code,
        '0-9' as age_band,
        residents_0_9 as residents
    from lsoas
    union all
    select
        lsoa21_code,
        '10-17' as age_band,
        residents_10_17 as residents
    from lsoas
    union all
    select
        lsoa21_code,
        '18-24' as age_band,
        residents_18_24 as residents
    from lsoas
    union all
    select
        lsoa21_code,
        '25+' as age_band,
        residents_25_plus as residents
    from lsoas

),

item_bands as (

    select
        indicator,
        unit_key,
        lsoa21_code,
        age_band
    from items
    where age_band is not null and indicator not in ('violent_crimes', 'violence_calls', 'ae_assaults')

    union all

    select
        indicator,
        unit_key,
        lsoa21_code,
        'all' as age_band
    from items

),

bands as (

    select distinct
        indicator,
        age_band
    from item_bands

),

counts as (

    select
        lsoa_deciles.imd_basis,
        lsoa_deciles.imd_decile,
        item_bands.indicator,
        item_bands.age_band,
        count(distinct item_bands.unit_key) as events
    from item_bands
    inner join lsoa_deciles on item_bands.lsoa21_code = lsoa_deciles.lsoa21_code
    group by lsoa_deciles.imd_basis, lsoa_deciles.imd_decile, item_bands.indicator, item_bands.age_band

),

denominators as (

    select
        lsoa_deciles.imd_basis,
        lsoa_deciles.imd_decile,
        bands.indicator,
        bands.age_band,
        sum(lsoa_residents.residents) as population
    from lsoa_deciles
    cross join bands
    inner join lsoa_residents
        on
            lsoa_deciles.lsoa21_code = lsoa_residents.lsoa21_code
            and (
                bands.age_band = lsoa_residents.age_band
                or (
                    bands.age_band = 'all'
                    and (
                        (
                            bands.indicator in ('victims_under_25', 'suspects_under_25')
                            and lsoa_residents.age_band != '25+'
                        )
                        or (bands.indicator = 'cin_referrals' and lsoa_residents.age_band in ('0-9', '10-17'))
                        or bands.indicator not in ('victims_under_25', 'suspects_under_25', 'cin_referrals')
                    )
                )
            )
    group by lsoa_deciles.imd_basis, lsoa_deciles.imd_decile, bands.indicator, bands.age_band

),

joined as (

    select
        denominators.*,
        coalesce(counts.events, 0) as raw_events
    from denominators
    left join counts
        on
            denominators.imd_basis = counts.imd_basis
            and denominators.imd_decile = counts.imd_decile
            and denominators.indicator = counts.indicator
            and denominators.age_band = counts.age_band

),

final as (

    select
        md5(imd_basis || '|' || cast(imd_decile as string) || '|' || indicator || '|' || age_band)
            as needs_deprivation_rate_key,
        imd_basis,
        cast(imd_decile as integer) as imd_decile,
        indicator,
        age_band,
        (select period.period_start from period) as period_start,
        (select period.period_end from period) as period_end,
        {{ vrdp.needs_rate_columns('raw_events', 'population') }}
    from joined

)

select * from final

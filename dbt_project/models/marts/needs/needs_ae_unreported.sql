{#- Share of A&E-treated violence (ISTV assaults) that never reaches police records,
    by LSOA 2021, ward and force, in the needs period. An attendance reached the
    police when a violent crime or violence call is recorded within 300 m and 3
    hours of the reported assault time (patients give the time to the hour).
    Only attendances geocoded with confidence (geocode_score >= 0.85, the
    gazetteer's match threshold) are matched, because a wrongly geocoded place
    misses its police record and inflates the share (on the small simulated world:
    0.63 with every geocoded row, 0.35 with confident ones, against 0.34 true).
    95% Wilson interval of the share. Partner output: counts under 5 are suppressed.
    The match is a hash join on 300 m grid cells (each attendance's cell and its
    eight neighbours) before the distance and time conditions: as a range join over
    every pair it took 17.3 s on the large world's 100k attendances and 1M violent
    police records, 0.3 s now, the same rows. -#}
with

events as (

    select * from {{ ref('fct_events') }}

),

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

attendances as (

    select events.*
    from events
    cross join period
    where
        events.event_type = 'ae_assault'
        and events.easting_m is not null
        and events.geocode_score >= 0.85
        and coalesce(events.in_force_area, false)
        and events.occurred_on between period.period_start and period.period_end

),

police as (

    select
        easting_m,
        northing_m,
        occurred_from,
        cast(floor(easting_m / 300.0) as bigint) as cell_x,
        cast(floor(northing_m / 300.0) as bigint) as cell_y
    from events
    where event_type in ('crime', 'incident') and is_violence and easting_m is not null

),

-- A police record within 300 m lies in the attendance's 300 m grid cell or one
-- of its eight neighbours: the join is an equality on cells (a hash join)
-- instead of a range join over every pair.
neighbour_offsets as (

    select -1 as offset_cells
    union all
    select 0 as offset_cells
    union all
    select 1 as offset_cells

),

attendance_cells as (

    select
        attendances.event_key,
        attendances.lsoa21_code,
        attendances.easting_m,
        attendances.northing_m,
        attendances.occurred_from,
        cast(floor(attendances.easting_m / 300.0) as bigint) + dx.offset_cells as cell_x,
        cast(floor(attendances.northing_m / 300.0) as bigint) + dy.offset_cells as cell_y
    from attendances
    cross join neighbour_offsets as dx
    cross join neighbour_offsets as dy

),

matched as (

    select
        attendances.event_key,
        attendances.lsoa21_code,
        bool_or(police.occurred_from is not null) as reached_police
    from attendance_cells as attendances
    left join police
        on
            attendances.cell_x = police.cell_x
            and attendances.cell_y = police.cell_y
            and abs(police.easting_m - attendances.easting_m) <= 300
            and abs(police.northing_m - attendances.northing_m) <= 300
            and police.occurred_from between attendances.occurred_from - interval 3 hour
            and attendances.occurred_from + interval 3 hour
            and (police.easting_m - attendances.easting_m) * (police.easting_m - attendances.easting_m)
            + (police.northing_m - attendances.northing_m) * (police.northing_m - attendances.northing_m)
            <= 90000
    group by attendances.event_key, attendances.lsoa21_code

),

area_members as (

    select
        'lsoa' as area_type,
        lsoa21_code as area_code,
        lsoa21_name as area_name,
        lsoa21_code
    from lsoas
    union all
    select
        'ward' as area_type,
        ward_code as area_code,
        ward_name as area_name,
        lsoa21_code
    from lsoas
    union all
    select
        'force' as area_type,
        'force' as area_code,
        'Force area' as area_name,
        lsoa21_code
    from lsoas

),

by_area as (

    select
        area_members.area_type,
        area_members.area_code,
        min(area_members.area_name) as area_name,
        count(matched.event_key) as raw_attendances,
        count(matched.event_key) filter (where not matched.reached_police) as raw_unreported
    from area_members
    left join matched on area_members.lsoa21_code = matched.lsoa21_code
    group by area_members.area_type, area_members.area_code

),

final as (

    select
        md5(area_type || '|' || area_code) as needs_ae_unreported_key,
        area_type,
        area_code,
        (select period.period_start from period) as period_start,
        (select period.period_end from period) as period_end,
        cast({{ vrdp.needs_suppress('raw_attendances', 'raw_attendances') }} as bigint) as ae_assaults_located,
        -- both counts must be 5 or more to show either (a count of 5 and a share
        -- of 100% would give the small complement away)
        cast(case when raw_unreported >= 5 and raw_attendances - raw_unreported >= 5 then raw_unreported end as bigint)
            as ae_assaults_not_in_police_records,
        case
            when raw_unreported >= 5 and raw_attendances - raw_unreported >= 5
                then 1.0 * raw_unreported / cast(raw_attendances as double)
        end as share_not_in_police_records,
        case
            when raw_unreported >= 5 and raw_attendances - raw_unreported >= 5
                then {{ vrdp.needs_wilson('raw_unreported', 'raw_attendances', 'lower') }} / 1000.0
        end as share_ci95_low,
        case
            when raw_unreported >= 5 and raw_attendances - raw_unreported >= 5
                then {{ vrdp.needs_wilson('raw_unreported', 'raw_attendances', 'upper') }} / 1000.0
        end as share_ci95_high,
        'wilson' as ci_method,
        not(raw_unreported >= 5 and raw_attendances - raw_unreported >= 5) as is_suppressed
    from by_area

)

select * from final

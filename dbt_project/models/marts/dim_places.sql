{#- Places events and people are tied to: H3 cells (where located events fall)
    and address places (people's addresses, by a keyed pseudonym; the address
    itself is only in identity.address_places). No coordinates of addresses. -#}
with

events as (

    select * from {{ ref('int_events_unioned') }}

),

address_places as (

    select * from {{ ref('int_address_places') }}

),

address_locations as (

    select * from {{ ref('int_address_locations') }}

),

wards as (

    select * from {{ ref('ons_wards_2025') }}

),

cell_areas as (

    select
        h3_cell,
        h3_resolution,
        lsoa21_code,
        ward_code,
        count(*) as events
    from events
    where h3_cell is not null
    group by 1, 2, 3, 4

    union all

    -- cells known only from addresses still get a row
    select
        h3_cell,
        h3_resolution,
        lsoa21_code,
        ward_code,
        0 as events
    from address_locations
    where h3_cell is not null

),

cells as (

    select
        h3_cell,
        h3_resolution,
        lsoa21_code,
        ward_code,
        sum(events) over (partition by h3_cell) as events,
        -- a cell can straddle boundaries: it takes the LSOA and ward most of its events fall in
        row_number() over (
            partition by h3_cell order by events desc, lsoa21_code asc nulls last, ward_code asc nulls last
        ) as rank_in_cell
    from cell_areas

),

cell_places as (

    select
        {{ vrdp.h3_place_key('h3_cell') }} as place_key,
        'h3_cell' as kind,
        h3_cell,
        cast(h3_resolution as integer) as h3_resolution,
        lsoa21_code,
        ward_code,
        cast(events as {{ dbt.type_bigint() }}) as events,
        cast(null as string) as located_by
    from cells
    where rank_in_cell = 1

),

address_rows as (

    select
        address_places.place_key,
        'address' as kind,
        address_locations.h3_cell,
        address_locations.h3_resolution,
        address_locations.lsoa21_code,
        address_locations.ward_code,
        cast(null as {{ dbt.type_bigint() }}) as events,
        address_locations.located_by
    from address_places
    left join address_locations on address_places.place_key = address_locations.place_key

),

unioned as (

    select * from cell_places
    union all
    select * from address_rows

),

final as (

    select
        unioned.place_key,
        unioned.kind,
        unioned.h3_cell,
        cast(unioned.h3_resolution as integer) as h3_resolution,
        unioned.lsoa21_code,
        unioned.ward_code,
        wards.ward_name,
        wards.lad_code,
        wards.lad_name,
        unioned.located_by,
        unioned.events
    from unioned
    left join wards on unioned.ward_code = wards.ward_code

)

select * from final

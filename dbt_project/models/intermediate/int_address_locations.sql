{#- Where each address place is, from the force's own located records: crimes
    and calls whose location text names the address ("<line>, <town>, <postcode>")
    locate it exactly; otherwise the events in its postcode locate it to that
    postcode. The most frequent H3 cell, LSOA and ward of those events wins (ties:
    the lowest cell, LSOA and ward code, so every build picks the same).
    Points of interest, delivered with their postcode, locate postcodes too.
    Location text comes from the police staging models, which carry it for this
    model alone (no mart selects it). -#}
{%- set trailing_postcode = vrdp.trailing_postcode('texts.location_text') -%}
with

places as (

    select * from {{ ref('int_address_places') }}

),

occurrence_texts as (

    select
        occurrence_ref as source_ref,
        location_text
    from {{ ref('stg_police__occurrences') }}

),

cad_texts as (

    select
        incident_ref as source_ref,
        location_text
    from {{ ref('stg_police__cad_incidents') }}

),

pois as (

    select * from {{ ref('stg_places__pois') }}

),

located as (

    select
        events.source_system,
        events.source_ref,
        events.h3_cell,
        events.h3_resolution,
        events.lsoa21_code,
        events.ward_code
    from {{ ref('int_events_unioned') }} as events
    where events.source_system in ('police_rms', 'police_cad') and events.h3_cell is not null

),

texts as (

    select
        source_ref,
        location_text,
        'police_rms' as source_system
    from occurrence_texts

    union all

    select
        source_ref,
        location_text,
        'police_cad' as source_system
    from cad_texts

),

event_addresses as (

    select
        located.h3_cell,
        located.h3_resolution,
        located.lsoa21_code,
        located.ward_code,
        {{ vrdp.std_address_line('texts.location_text') }} as address_line,
        {{ vrdp.std_postcode(trailing_postcode) }} as postcode

    from located
    inner join texts
        on located.source_system = texts.source_system and located.source_ref = texts.source_ref

),

by_address as (

    select
        h3_cell,
        h3_resolution,
        lsoa21_code,
        ward_code,
        address_line || '|' || postcode as address_text,
        count(*) as events
    from event_addresses
    where postcode is not null and address_line is not null
    group by 1, 2, 3, 4, 5

),

postcode_points as (

    select
        postcode,
        h3_cell,
        h3_resolution,
        lsoa21_code,
        ward_code
    from event_addresses

    union all

    select
        {{ vrdp.std_postcode('postcode') }} as postcode,
        h3_cell,
        h3_resolution,
        lsoa21_code,
        ward_code
    from pois
    where h3_cell is not null

),

by_postcode as (

    select
        postcode,
        h3_cell,
        h3_resolution,
        lsoa21_code,
        ward_code,
        count(*) as events
    from postcode_points
    where postcode is not null
    group by 1, 2, 3, 4, 5

),

address_best as (

    select
        *,
        row_number() over (
            partition by address_text
            order by events desc, h3_cell asc, lsoa21_code asc nulls last, ward_code asc nulls last
        ) as rank_in_address
    from by_address

),

postcode_best as (

    select
        *,
        row_number() over (
            partition by postcode
            order by events desc, h3_cell asc, lsoa21_code asc nulls last, ward_code asc nulls last
        ) as rank_in_postcode
    from by_postcode

),

final as (

    select
        places.place_key,
        coalesce(address_best.h3_cell, postcode_best.h3_cell) as h3_cell,
        coalesce(address_best.h3_resolution, postcode_best.h3_resolution) as h3_resolution,
        coalesce(address_best.lsoa21_code, postcode_best.lsoa21_code) as lsoa21_code,
        coalesce(address_best.ward_code, postcode_best.ward_code) as ward_code,
        case
            when address_best.h3_cell is not null then 'address'
            when postcode_best.h3_cell is not null then 'postcode'
        end as located_by

    from places
    left join address_best
        on places.address_text = address_best.address_text and address_best.rank_in_address = 1
    left join postcode_best
        on places.postcode = postcode_best.postcode and postcode_best.rank_in_postcode = 1

)

select * from final

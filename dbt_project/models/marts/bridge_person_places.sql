{#- Address history: each person's address places with the dates they were
    recorded there. Records of a person, ordered by the date each agency saw
    them, are cut into spells wherever the address changes (a move);
    valid_from is the first sighting of the spell, valid_to the first
    sighting at the next address (null while current). -#}
with

links as (

    select
        record_uid,
        person_key
    from {{ ref('int_person_records_linked') }}

),

addresses as (

    select * from {{ ref('int_person_addresses') }}

),

places as (

    select * from {{ ref('int_address_places') }}

),

sightings as (

    select
        links.person_key,
        places.place_key,
        addresses.agency,
        addresses.seen_on,
        addresses.record_uid
    from addresses
    inner join links on addresses.record_uid = links.record_uid
    inner join places on addresses.address_text = places.address_text
    where addresses.seen_on is not null

),

ordered as (

    select
        *,
        lag(place_key) over (partition by person_key order by seen_on, record_uid) as previous_place_key
    from sightings

),

spell_starts as (

    select
        *,
        sum(case when previous_place_key is null or previous_place_key != place_key then 1 else 0 end)
            over (partition by person_key order by seen_on, record_uid rows unbounded preceding)
            as spell_number
    from ordered

),

spells as (

    select
        person_key,
        spell_number,
        place_key,
        cast(count(*) as integer) as records,
        min(seen_on) as valid_from,
        max(seen_on) as last_seen_on,
        {{ vrdp.string_agg_distinct('agency', '|') }} as sources
    from spell_starts
    group by person_key, spell_number, place_key

),

final as (

    select
        person_key,
        place_key,
        valid_from,
        last_seen_on,
        sources,
        records,
        cast(spell_number as integer) as spell_number,
        md5(person_key || '|' || cast(spell_number as string)) as person_place_key,
        lead(valid_from) over (partition by person_key order by spell_number) as valid_to,
        lead(valid_from) over (partition by person_key order by spell_number) is null as is_current
    from spells

)

select * from final

{#- The location columns every located staging model carries (the located-table
    contract), selected from `alias`; geocode_score is 1.0 for delivered
    coordinates that located, and is_located says whether the row has a cell. -#}
{% macro event_location_columns(alias, geocode_score=none, is_located=none) -%}
        {{ alias }}.easting_m,
        {{ alias }}.northing_m,
        {{ alias }}.longitude,
        {{ alias }}.latitude,
        {{ alias }}.h3_cell,
        cast({{ alias }}.h3_resolution as integer) as h3_resolution,
        {{ alias }}.lsoa21_code,
        {{ alias }}.ward_code,
        coalesce({{ alias }}.in_force_area, false) as in_force_area,
        {{ is_located if is_located else alias ~ '.h3_cell is not null' }} as is_located,
        {{ geocode_score if geocode_score else 'case when ' ~ alias ~ '.h3_cell is not null then 1.0 end' }}
            as geocode_score
{%- endmacro %}

{#- Null location columns for events delivered without a place (referrals, probation). -#}
{% macro no_event_location() -%}
        cast(null as double) as easting_m,
        cast(null as double) as northing_m,
        cast(null as double) as longitude,
        cast(null as double) as latitude,
        cast(null as string) as h3_cell,
        cast(null as integer) as h3_resolution,
        cast(null as string) as lsoa21_code,
        cast(null as string) as ward_code,
        false as in_force_area,
        false as is_located,
        cast(null as double) as geocode_score
{%- endmacro %}

{#- Place key of an H3 cell: md5 of 'h3:' || cell, a hex digest like every key of
    the marts (address places are HMAC digests; dim_places.kind tells them apart). -#}
{% macro h3_place_key(h3_cell) -%}
    md5('h3:' || {{ h3_cell }})
{%- endmacro %}

{#- Event key of the fact table: md5 of source_system || ':' || source_ref. -#}
{% macro event_key(source_system, source_ref) -%}
    md5({{ source_system }} || ':' || {{ source_ref }})
{%- endmacro %}

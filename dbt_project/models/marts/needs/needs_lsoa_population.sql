{#- The needs pack's denominators, one row per LSOA 2021: the force's own delivered
    ONS population estimates (source needs.lsoa_population) when there are any,
    else the shipped demo seed needs_lsoa21_population. Same columns either way,
    so the needs marts read one relation whatever the force. -#}
{%- set columns = {
    'lsoa21_code': 'string',
    'lsoa21_name': 'string',
    'lad_code': 'string',
    'ward_code': 'string',
    'ward_name': 'string',
    'residents': 'double',
    'residents_0_9': 'double',
    'residents_10_17': 'double',
    'residents_18_24': 'double',
    'residents_25_plus': 'double',
    'imd_rank': 'integer',
    'imd_decile_national': 'integer',
    'imd_decile_force': 'integer',
} -%}
{%- set casts = [] -%}
{%- for name, type in columns.items() -%}
    {%- do casts.append('cast(' ~ name ~ ' as ' ~ type ~ ') as ' ~ name) -%}
{%- endfor -%}
with

delivered as (

    select * from {{ source('needs', 'lsoa_population') }}

),

demo_seed as (

    select * from {{ ref('needs_lsoa21_population') }}

),

chosen as (

    select
        {{ columns.keys() | join(',\n        ') }},
        'delivered' as population_source
    from delivered

    union all

    select
        {{ columns.keys() | join(',\n        ') }},
        'demo_seed' as population_source
    from demo_seed
    where not exists (select 1 from delivered)

),

final as (

    select
        {{ casts | join(',\n        ') }},
        cast(population_source as string) as population_source
    from chosen

)

select * from final

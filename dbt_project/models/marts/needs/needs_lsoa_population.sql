{#- The needs pack's denominators, one row per LSOA 2021: the force's own delivered
    ONS population estimates (source needs.lsoa_population) when there are any,
    else the shipped demo seed needs_lsoa21_population. Same columns either way,
    so the needs marts read one relation whatever the force. -#}
with

delivered as (

    select * from {{ source('needs', 'lsoa_population') }}

),

demo_seed as (

    select * from {{ ref('needs_lsoa21_population') }}

),

chosen as (

    select
        lsoa21_code,
        lsoa21_name,
        lad_code,
        ward_code,
        ward_name,
        residents,
        residents_0_9,
        residents_10_17,
        residents_18_24,
        residents_25_plus,
        imd_rank,
        imd_decile_national,
        imd_decile_force,
        'delivered' as population_source
    from delivered

    union all

    select
        lsoa21_code,
        lsoa21_name,
        lad_code,
        ward_code,
        ward_name,
        residents,
        residents_0_9,
        residents_10_17,
        residents_18_24,
        residents_25_plus,
        imd_rank,
        imd_decile_national,
        imd_decile_force,
        'demo_seed' as population_source
    from demo_seed
    where not exists (select 1 from delivered)

),

final as (

    select
        cast(lsoa21_code as varchar) as lsoa21_code,
        cast(lsoa21_name as varchar) as lsoa21_name,
        cast(lad_code as varchar) as lad_code,
        cast(ward_code as varchar) as ward_code,
        cast(ward_name as varchar) as ward_name,
        cast(residents as double) as residents,
        cast(residents_0_9 as double) as residents_0_9,
        cast(residents_10_17 as double) as residents_10_17,
        cast(residents_18_24 as double) as residents_18_24,
        cast(residents_25_plus as double) as residents_25_plus,
        cast(imd_rank as integer) as imd_rank,
        cast(imd_decile_national as integer) as imd_decile_national,
        cast(imd_decile_force as integer) as imd_decile_force,
        cast(population_source as varchar) as population_source
    from chosen

)

select * from final

{#- Harm-weighted counts per H3 cell, month and crime type: the grain hot spot
    ranking and briefings aggregate from. -#}
with

crimes as (

    select * from {{ ref('stg_police_uk__street_crimes') }}

),

weights as (

    select * from {{ ref('cchi_harm_weights') }}

),

crime_types as (

    select * from {{ ref('police_uk_crime_types') }}

),

aggregated as (

    select
        crimes.h3_cell,
        crimes.h3_resolution,
        crimes.month,
        crimes.crime_type,
        cast(count(*) as {{ dbt.type_bigint() }}) as events,
        cast(sum(case when crimes.in_force_area then 1 else 0 end) as {{ dbt.type_bigint() }})
            as events_in_force_area

    from crimes
    group by 1, 2, 3, 4

),

final as (

    select
        {{ dbt.concat([
            "aggregated.h3_cell", "'|'",
            dbt.cast("aggregated.month", dbt.type_string()), "'|'",
            "aggregated.crime_type",
        ]) }} as cell_month_crime_key,
        aggregated.h3_cell,
        aggregated.h3_resolution,
        aggregated.month,
        aggregated.crime_type,
        crime_types.is_police_generated,
        aggregated.events,
        aggregated.events_in_force_area,
        weights.harm_weight_days,
        aggregated.events * weights.harm_weight_days as harm_days

    from aggregated
    inner join weights on aggregated.crime_type = weights.crime_type
    inner join crime_types on aggregated.crime_type = crime_types.crime_type

)

select * from final

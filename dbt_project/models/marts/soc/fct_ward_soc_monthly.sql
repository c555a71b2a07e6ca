{#- Ward x month x SOC category (see int_ward_soc_periods). -#}
with

periods as (

    select * from {{ ref('int_ward_soc_periods') }}

),

final as (

    select
        ward_code,
        ward_name,
        period_start,
        soc_category,
        crimes,
        incidents,
        intelligence_logs,
        intelligence_grade_a,
        intelligence_grade_b,
        intelligence_grade_c,
        intelligence_grade_d,
        intelligence_grade_e,
        intelligence_source_reliable,
        soc_events,
        population,
        imd_decile,
        previous_3_mean,
        crimes_per_1000,
        incidents_per_1000,
        intelligence_per_1000,
        soc_events_per_1000,
        trend
    from periods
    where grain = 'month'

)

select * from final

{#- The 3x5x2 grading of each intelligence log, keyed like fct_events. -#}
with

logs as (

    select * from {{ ref('stg_police__intelligence_logs') }}

),

final as (

    select
        {{ vrdp.event_key("'police_intelligence'", 'log_id') }} as event_key,
        log_id,
        grading_source,
        grading_intelligence,
        grading_handling
    from logs

)

select * from final

with

source as (

    {{ vrdp.latest_version(source('community', 'streetsafe_reports'), 'report_id') }}

),

final as (

    select
        report_id,
        delivery,
        submitted_at,
        cast(submitted_at as date) as submitted_on,
        category,
        free_text,
        {{ vrdp.located_columns() }}

    from source

)

select * from final

with

current_versions as (

    {{ vrdp.latest_version(source('police', 'occurrences'), 'occurrence_ref') }}

),

final as (

    select
        occurrence_ref,
        delivery,
        recorded_at,
        committed_from,
        offence_code,
        offence_description,
        domestic_abuse_flag,
        outcome,
        -- address text: read by int_address_locations only, never passed to a mart
        location_text,
        {{ vrdp.located_columns() }},
        coalesce(committed_to, committed_from) as committed_to

    from current_versions

)

select * from final

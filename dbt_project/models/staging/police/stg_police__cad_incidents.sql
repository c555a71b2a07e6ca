with

current_versions as (

    {{ vrdp.latest_version(source('police', 'cad_incidents'), 'incident_ref') }}

),

final as (

    select
        incident_ref,
        delivery,
        call_received_at,
        call_source,
        opening_classification,
        grade,
        first_arrival_at,
        closed_at,
        closing_classification,
        -- address text: read by int_address_locations only, never passed to a mart
        location_text,
        {{ vrdp.located_columns() }},
        nullif(linked_occurrence_ref, '') as linked_occurrence_ref

    from current_versions

)

select * from final

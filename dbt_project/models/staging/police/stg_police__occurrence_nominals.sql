with

current_versions as (

    {{ vrdp.latest_version(source('police', 'occurrence_nominals'), 'link_id') }}

),

final as (

    select
        link_id,
        delivery,
        occurrence_ref,
        nominal_id,
        linked_at,
        lower(role) as person_role

    from current_versions

)

select * from final

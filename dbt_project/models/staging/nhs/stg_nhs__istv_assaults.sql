with

current_versions as (

    {{ vrdp.latest_version(source('nhs', 'istv_assaults'), 'attendance_ref') }}

),

final as (

    select
        attendance_ref,
        delivery,
        site_code,
        arrival_dt as arrived_at,
        assault_dt as assaulted_at,
        assault_method_code,
        location_type_code,
        {{ vrdp.located_columns() }},
        geocode_kind,
        geocode_match,
        cast(geocode_score as double) as geocode_score,
        coalesce(is_located, false) as is_located

    from current_versions

)

select * from final

{#- Spark's int_address_places (enabled on the spark target only; DuckDB builds the
    Python model ../int_address_places.py): one row per distinct normalised address
    of int_person_addresses with its place_key, the same hex HMAC-SHA256 of
    "address|" || address_text. The secret is the session variable
    vrdp_pseudonym_secret, which the platform declares in its SparkSession before
    dbt runs (vrdp.engines.spark.prepare_dbt_session), so it never appears in the
    compiled SQL dbt writes to target/ and its logs. -#}
with

addresses as (

    select * from {{ ref('int_person_addresses') }}

),

places as (

    -- address_line and postcode are one value per address_text (it is made of them)
    select
        address_text,
        min(address_line) as address_line,
        min(postcode) as postcode,
        count(*) as records
    from addresses
    group by address_text

),

final as (

    select
        address_text,
        address_line,
        postcode,
        records,
        lower(hex(hmac(cast(vrdp_pseudonym_secret as binary), 'address|' || address_text))) as place_key
    from places

)

select
    place_key,
    address_text,
    address_line,
    postcode,
    records
from final

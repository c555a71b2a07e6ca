{#- Standardisation shared by the staging models of every agency. -#}

{#- Upper case, letters and spaces only, single spaces: "o'brien-smith " -> "OBRIEN SMITH". -#}
{% macro std_name(column) -%}
    {{ return(adapter.dispatch('std_name', 'vrdp')(column)) }}
{%- endmacro %}

{% macro default__std_name(column) -%}
    nullif(trim(regexp_replace(regexp_replace(upper({{ column }}), '[^A-Z ]', '', 'g'), ' +', ' ', 'g')), '')
{%- endmacro %}

{#- Upper case, inner space before the inward code; null unless it looks like a UK postcode. -#}
{% macro std_postcode(column) -%}
    {{ return(adapter.dispatch('std_postcode', 'vrdp')(column)) }}
{%- endmacro %}

{% macro default__std_postcode(column) -%}
    case
        when regexp_full_match(regexp_replace(upper({{ column }}), '[^A-Z0-9]', '', 'g'), '[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}')
            then regexp_replace(regexp_replace(upper({{ column }}), '[^A-Z0-9]', '', 'g'), '([0-9][A-Z]{2})$', ' \1')
    end
{%- endmacro %}

{#- NHS number with a valid modulus-11 check digit, else null. -#}
{% macro valid_nhs_number(column) -%}
    {{ return(adapter.dispatch('valid_nhs_number', 'vrdp')(column)) }}
{%- endmacro %}

{% macro default__valid_nhs_number(column) -%}
    case
        when regexp_full_match({{ column }}, '[0-9]{10}')
            and (11 - ({% for i in range(9) %}cast(substr({{ column }}, {{ i + 1 }}, 1) as integer) * {{ 10 - i }}{% if not loop.last %} + {% endif %}{% endfor %}) % 11) % 11
            = cast(substr({{ column }}, 10, 1) as integer)
            then {{ column }}
    end
{%- endmacro %}

{#- PNC id YYYY/NNNNNNNL whose check letter matches (YY * 10^7 + serial) mod 23, else null. -#}
{% macro valid_pnc_id(column) -%}
    {{ return(adapter.dispatch('valid_pnc_id', 'vrdp')(column)) }}
{%- endmacro %}

{% macro default__valid_pnc_id(column) -%}
    case
        when regexp_full_match(upper({{ column }}), '[0-9]{4}/[0-9]{7}[A-Z]')
            and substr('ZABCDEFGHJKLMNPQRTUVWXY',
                cast((cast(substr({{ column }}, 3, 2) as bigint) * 10000000 + cast(substr({{ column }}, 6, 7) as bigint)) % 23 as integer) + 1, 1)
            = upper(substr({{ column }}, 13, 1))
            then upper({{ column }})
    end
{%- endmacro %}

{#- The located columns every located lake table carries (vrdp.geo.locate_points),
    typed for staging: BNG metres, WGS84, H3 cell, LSOA 2021/2011, ward and
    in_force_area; null where a row has no usable point. -#}
{% macro located_columns() -%}
    cast(easting_m as double) as easting_m,
    cast(northing_m as double) as northing_m,
    cast(longitude as double) as longitude,
    cast(latitude as double) as latitude,
    h3_cell,
    cast(h3_resolution as integer) as h3_resolution,
    lsoa21_code,
    lsoa11_code,
    ward_code,
    in_force_area
{%- endmacro %}

{#- UPN (unique pupil number): a letter, 11 digits and a letter or digit, upper-cased; else null. -#}
{% macro valid_upn(column) -%}
    {{ return(adapter.dispatch('valid_upn', 'vrdp')(column)) }}
{%- endmacro %}

{% macro default__valid_upn(column) -%}
    case when regexp_full_match(upper({{ column }}), '[A-Z][0-9]{11}[A-Z0-9]') then upper({{ column }}) end
{%- endmacro %}

{#- A date from text, null when the text is not one (DuckDB's try_cast). -#}
{% macro try_cast_date(expression) -%}
    {{ return(adapter.dispatch('try_cast_date', 'vrdp')(expression)) }}
{%- endmacro %}

{% macro default__try_cast_date(expression) -%}
    try_cast({{ expression }} as date)
{%- endmacro %}

{#- The first line of an address as one text: the part before any comma, upper
    case, runs of white space as one space; null when empty. -#}
{% macro std_address_line(column) -%}
    {{ return(adapter.dispatch('std_address_line', 'vrdp')(column)) }}
{%- endmacro %}

{% macro default__std_address_line(column) -%}
    nullif(
            trim(regexp_replace(split_part(upper({{ column }}), ',', 1), '\s+', ' ', 'g')), ''
        )
{%- endmacro %}

{#- The postcode-shaped text that ends `column` (upper case), '' when none does. -#}
{% macro trailing_postcode(column) -%}
    {{ return(adapter.dispatch('trailing_postcode', 'vrdp')(column)) }}
{%- endmacro %}

{% macro default__trailing_postcode(column) -%}
    regexp_extract(upper({{ column }}), '[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$')
{%- endmacro %}

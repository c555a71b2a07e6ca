{#- Spark versions of the macros whose SQL differs by engine (VRDP_ENGINE=spark, the `spark` target
    of profiles.yml). Each is picked by adapter.dispatch from the macro of the same
    name without the prefix; the default__ version is DuckDB's. -#}

{#- A lake source read straight from its Parquet files: Spark has no DuckDB
    external_location, so the path is the one the sources' meta names. Every
    source a Spark run selects must have at least one delivery (Spark cannot
    list a glob inside Jinja to fall back to an empty relation as DuckDB does). -#}
{% macro spark__lake_source(source_name, table_name) -%}
    parquet.`{{ env_var('VRDP_DATA_ROOT') }}/lake/{{ source_name }}/{{ table_name }}/*/*.parquet`
{%- endmacro %}

{#- No `qualify` before Spark 4: the latest version by a ranked subquery. The
    rank column `_version_rank` stays in the result; staging models select named
    columns from it. -#}
{% macro spark__latest_version(relation, key, version_columns=[]) -%}
    select * from (
        select
            *,
            row_number() over (
                partition by {{ key }}
                order by delivery desc
                    {%- for column in version_columns %}, {{ column }} desc nulls last{% endfor %},
                    source_file desc, `row_number` desc
            ) as _version_rank
        from {{ relation }}
    ) as ranked
    where _version_rank = 1
{%- endmacro %}

{#- Spark's regexp_replace replaces every match (no 'g' flag); rlike with anchors
    for DuckDB's regexp_full_match (`\z`, not `$`: Java's `$` also matches before
    a final line break); `$1` for a group in the replacement. -#}
{% macro spark__std_name(column) -%}
    nullif(trim(regexp_replace(regexp_replace(upper({{ column }}), '[^A-Z ]', ''), ' +', ' ')), '')
{%- endmacro %}

{% macro spark__std_postcode(column) -%}
    case
        when regexp_replace(upper({{ column }}), '[^A-Z0-9]', '') rlike '^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$'
            then regexp_replace(regexp_replace(upper({{ column }}), '[^A-Z0-9]', ''), '([0-9][A-Z]{2})$', ' $1')
    end
{%- endmacro %}

{% macro spark__valid_nhs_number(column) -%}
    case
        when {{ column }} rlike '^[0-9]{10}\\z'
            and (11 - ({% for i in range(9) %}cast(substr({{ column }}, {{ i + 1 }}, 1) as integer) * {{ 10 - i }}{% if not loop.last %} + {% endif %}{% endfor %}) % 11) % 11
            = cast(substr({{ column }}, 10, 1) as integer)
            then {{ column }}
    end
{%- endmacro %}

{% macro spark__valid_pnc_id(column) -%}
    case
        when upper({{ column }}) rlike '^[0-9]{4}/[0-9]{7}[A-Z]\\z'
            and substr('ZABCDEFGHJKLMNPQRTUVWXY',
                cast((cast(substr({{ column }}, 3, 2) as bigint) * 10000000 + cast(substr({{ column }}, 6, 7) as bigint)) % 23 as integer) + 1, 1)
            = upper(substr({{ column }}, 13, 1))
            then upper({{ column }})
    end
{%- endmacro %}

{#- `\z`, not `$`: Java's `$` also matches before a final line break, DuckDB's
    regexp_full_match does not. -#}
{% macro spark__valid_upn(column) -%}
    case when upper({{ column }}) rlike '^[A-Z][0-9]{11}[A-Z0-9]\\z' then upper({{ column }}) end
{%- endmacro %}

{#- Spark's cast to date takes more than DuckDB's ('1990', '1990-01', '+1990-01-02',
    anything after a space or a T) and fewer separators ('-' only; DuckDB also takes
    '/', ' ' and '\' used twice), so only text of DuckDB's shape is cast: a four-digit
    year, month and day with one separator, optionally an ISO time and offset, with
    the separators made '-'. Left out (null here, a date on DuckDB): years of other
    than four digits, BC dates, text after a time. -#}
{% macro spark__try_cast_date(expression) -%}
    case
        when {{ expression }} rlike '^\\s*[0-9]{4}([-/ \\\\])[0-9]{1,2}\\1[0-9]{1,2}(\\s*|[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(\\s*Z|\\s*[+-][0-9]{2}(:?[0-9]{2})?)?\\s*)\\z'
            then try_cast(regexp_replace({{ expression }}, '^\\s*([0-9]{4})[-/ \\\\]([0-9]{1,2})[-/ \\\\]([0-9]{1,2})', '$1-$2-$3') as date)
    end
{%- endmacro %}

{#- get_json_object: a string unquoted, anything else as compact JSON, like
    DuckDB's json_extract_string. -#}
{% macro spark__json_text(column, path) -%}
    get_json_object({{ column }}, '{{ path }}')
{%- endmacro %}

{#- array_join leaves nulls out like DuckDB's array_to_string, but joins an array of
    nulls only to '' where DuckDB gives null. -#}
{% macro spark__json_string_array_join(column, separator) -%}
    case
        when size(from_json({{ column }}, 'array<string>')) = 0
            or exists(from_json({{ column }}, 'array<string>'), x -> x is not null)
            then array_join(from_json({{ column }}, 'array<string>'), '{{ separator }}')
    end
{%- endmacro %}

{#- explode drops an empty or null array like DuckDB's unnest. -#}
{% macro spark__unnest_json_objects(column, fields) -%}
    explode(
        from_json(
            {{ column }},
            'array<struct<{% for field in fields %}`{{ field }}`: string{{ ", " if not loop.last }}{% endfor %}>>'
        )
    )
{%- endmacro %}

{#- The restricted layer (generate_schema_name: restricted_intermediate,
    restricted_identity) keeps its files in `<data root>/restricted/spark`, which
    the platform creates owner-only (0700) before dbt runs
    (vrdp.engines.spark.prepare_dbt_session); every other schema stays in the
    session's warehouse folder. -#}
{% macro spark__create_schema(relation) -%}
    {%- call statement('create_schema') -%}
        create schema if not exists {{ relation }}
        {%- if relation.schema.startswith('restricted_') %}
            location '{{ env_var("VRDP_DATA_ROOT") }}/restricted/spark/{{ relation.schema }}'
        {%- endif %}
    {%- endcall -%}
{%- endmacro %}

{#- Java's `\s` also matches a vertical tab (RE2's does not): the class is spelled
    out. -#}
{% macro spark__std_address_line(column) -%}
    nullif(trim(regexp_replace(split_part(upper({{ column }}), ',', 1), '[\\t\\n\\f\\r ]+', ' ')), '')
{%- endmacro %}

{#- Group 0 (Spark's default is group 1); `\z` for RE2's `$` (see spark__valid_upn). -#}
{% macro spark__trailing_postcode(column) -%}
    regexp_extract(upper({{ column }}), '[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}\\z', 0)
{%- endmacro %}

{#- split takes a regular expression: the separator is quoted (\Q...\E). It keeps
    empty elements, trailing ones too, like DuckDB's string_split. -#}
{% macro spark__split_to_rows(column, sep) -%}
    explode(split({{ column }}, '\\Q{{ sep }}\\E'))
{%- endmacro %}

{#- sequence includes its end; the end is the truncated last date, as DuckDB's range
    stops before the period after it. -#}
{% macro spark__period_series(grain, first_date, last_date) -%}
    select cast(period_start as date) as period_start
    from explode(sequence(
        cast({{ dbt.date_trunc(grain, first_date) }} as timestamp),
        cast({{ dbt.date_trunc(grain, last_date) }} as timestamp),
        interval 1 {{ grain }}
    )) as periods (period_start)
{%- endmacro %}

{#- LATERAL for a reference to the tables before it; sequence includes `stop`,
    DuckDB's range does not. -#}
{% macro spark__time_series(start, stop, step) -%}
    lateral explode(filter(sequence({{ start }}, {{ stop }}, {{ step }}), t -> t < {{ stop }}))
{%- endmacro %}

{#- A sorted set, not Spark 4's string_agg(distinct ...) within group: that one
    fails beside another distinct aggregate (count(distinct ...) in dim_persons:
    ClassCastException in RewriteDistinctAggregates, Spark 4.3). Null for no
    values, as on DuckDB. -#}
{% macro spark__string_agg_distinct(column, sep) -%}
    case when count({{ column }}) > 0 then array_join(array_sort(collect_set({{ column }})), '{{ sep }}') end
{%- endmacro %}

{#- dbt-spark's session method puts seed values into its insert statement
    unescaped ('Jennett's Park' ends the string literal) and nulls as the text
    'None': here each value is a literal, its quotes and backslashes escaped, a
    null is null. -#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {%- do types.append(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- if value is none -%} cast(null as {{ types[loop.index0] }})
                    {%- else -%} cast('{{ (value | string) | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ types[loop.index0] }})
                    {%- endif -%}{{ ", " if not loop.last }}
                {%- endfor -%}){{ "," if not loop.last }}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) if loop.first -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{%- endmacro %}

{#- Snapshots on Spark in the platform's Parquet tables. dbt-spark's own
    snapshot materialization builds only Delta, Iceberg or Hudi tables (it ends
    in a MERGE, which a Parquet table has not); the platform's session writes
    Parquet and the pinned wheels bring no Delta, Iceberg or Hudi jars. This is
    dbt-spark 1.11's materialization with the MERGE replaced by what it does,
    written as a new table: the target's rows, each current version closed
    (dbt_valid_to set) where the staging relation says it was updated or
    deleted, then the staging relation's new versions; the new table then takes
    the target's name. The first build, the strategies, the staging relation and
    the snapshot's columns are dbt's and dbt-spark's own macros, so the rows are
    those of DuckDB's snapshot (dbt-duckdb's MERGE-free update and insert). A
    reader between the drop and the rename finds no table: the dbt step has the
    warehouse alone (assets/warehouse/dbt.py). -#}
{% materialization snapshot, adapter='spark' %}

  {%- set target_table = model.get('alias', model.get('name')) -%}
  {%- set strategy_name = config.get('strategy') -%}
  {%- set file_format = config.get('file_format') or 'parquet' -%}
  {%- set grant_config = config.get('grants') -%}

  {%- if file_format in ['delta', 'iceberg', 'hudi'] -%}
    {% do exceptions.raise_compiler_error(
        "the project's snapshot materialization is for Parquet tables; " ~ file_format
        ~ " tables would use dbt-spark's MERGE (remove macros/spark/snapshot.sql)") %}
  {%- endif -%}

  {% set target_relation_exists, target_relation = get_or_create_relation(
          database=none,
          schema=model.schema,
          identifier=target_table,
          type='table') -%}

  {% if not adapter.check_schema_exists(model.database, model.schema) %}
    {% do create_schema(model.schema) %}
  {% endif %}

  {%- if not target_relation.is_table -%}
    {% do exceptions.relation_wrong_type(target_relation, 'table') %}
  {%- endif -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% set strategy_macro = strategy_dispatch(strategy_name) %}
  {% set strategy = strategy_macro(model, "snapshotted_data", "source_data", model['config'], target_relation_exists) %}

  {% if not target_relation_exists %}

      {% set build_sql = build_snapshot_table(strategy, model['compiled_code']) %}
      {% call statement('main') %}
          {{ create_table_as(False, target_relation, build_sql) }}
      {% endcall %}

  {% else %}

      {% set columns = config.get("snapshot_table_column_names") or get_snapshot_table_column_names() %}
      {{ adapter.valid_snapshot_target(target_relation, columns) }}

      {% set staging_table = spark_build_snapshot_staging_table(strategy, sql, target_relation) %}

      {% set missing_columns = adapter.get_missing_columns(staging_table, target_relation)
                                   | rejectattr('name', 'equalto', 'dbt_change_type')
                                   | rejectattr('name', 'equalto', 'DBT_CHANGE_TYPE')
                                   | rejectattr('name', 'equalto', 'dbt_unique_key')
                                   | rejectattr('name', 'equalto', 'DBT_UNIQUE_KEY')
                                   | list %}
      {% do create_columns(target_relation, missing_columns) %}

      {% set merged_relation = api.Relation.create(
            identifier=target_table ~ '__dbt_merged', schema=model.schema, database=none, type='table') %}
      {% do adapter.drop_relation(merged_relation) %}
      {% set target_columns = adapter.get_columns_in_relation(target_relation) %}

      {% call statement('main') %}
          {{ create_table_as(False, merged_relation, vrdp_snapshot_merged_sql(
                target_relation, staging_table, target_columns, columns)) }}
      {% endcall %}

      {% do adapter.drop_relation(target_relation) %}
      {% do adapter.rename_relation(merged_relation, target_relation) %}

  {% endif %}

  {% set should_revoke = should_revoke(target_relation_exists, full_refresh_mode) %}
  {% do apply_grants(target_relation, grant_config, should_revoke) %}
  {% do persist_docs(target_relation, model) %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}

  {% if staging_table is defined %}
      {% do post_snapshot(staging_table) %}
  {% endif %}

  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}


{#- What dbt-spark's snapshot MERGE leaves in the target, as a query: the target's
    rows with a current version closed where the staging relation has an update
    or a delete for it (matched on dbt_scd_id), then the staging relation's
    inserts; columns in the target's order, by name. -#}
{% macro vrdp_snapshot_merged_sql(target, staging, target_columns, columns) -%}
    {%- set scd_id = adapter.quote(columns.dbt_scd_id) -%}
    {%- set valid_to = adapter.quote(columns.dbt_valid_to) -%}
    select
        {%- for column in target_columns %}
        {%- set name = adapter.quote(column.name) %}
        {% if column.name | lower == columns.dbt_valid_to | lower -%}
        case when closing.{{ scd_id }} is not null then closing.{{ valid_to }} else current_rows.{{ name }} end as {{ name }}
        {%- else -%}
        current_rows.{{ name }}
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ target }} as current_rows
    left join (
        select {{ scd_id }}, {{ valid_to }}
        from {{ staging }}
        where dbt_change_type in ('update', 'delete')
    ) as closing
        on closing.{{ scd_id }} = current_rows.{{ scd_id }}
        {% if config.get("dbt_valid_to_current") -%}
        and (current_rows.{{ valid_to }} = {{ config.get('dbt_valid_to_current') }} or current_rows.{{ valid_to }} is null)
        {%- else -%}
        and current_rows.{{ valid_to }} is null
        {%- endif %}
    union all
    select
        {%- for column in target_columns %}
        {{ adapter.quote(column.name) }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ staging }}
    where dbt_change_type = 'insert'
{%- endmacro %}

"""dbt on Spark (dbt-spark, session method) builds the whole project like DuckDB does.

Every model runs on ``--target spark``: the 21 staging models (:data:`MODELS`),
through the Spark versions of the shared macros (``dbt_project/macros/spark``),
and every intermediate, identity and mart model (:data:`TABLES`), the seeds
loaded on each engine. The lake is built the way the source assets build it:
every agency delivery of the small world through
:func:`assets.sources.agencies.ingest_agency_delivery` (located against the
world's force area; A&E attendances geocoded against the gazetteer built from
the loaded places and police locations), the data.police.uk tables from the
shipped real files in ``public_data/`` through the police.uk assets' own
functions, the needs denominators as the needs population asset writes them
when nothing was delivered, and the person links as the linkage asset writes
them (to the DuckDB warehouse and the lake), made from the simulated world's
true persons (Splink's own engine comparison is in test_linkage_spark.py).
Every column of every row of each table is compared: equal, doubles to
:data:`FLOAT_TOLERANCE` (docs/spark.md).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from bench.dbt_spark import dbt_args as _dbt_args
from bench.dbt_spark import run_dbt as _dbt
from config.settings import REPO_ROOT

MODELS = (
    "stg_police__nominals",
    "stg_police__occurrence_nominals",
    "stg_probation__cases",
    "stg_nhs__safeguarding_referrals",
    "stg_police__occurrences",
    "stg_police__cad_incidents",
    "stg_police__intelligence_logs",
    "stg_police__intelligence_subjects",
    "stg_social_care__cin_referrals",
    "stg_nhs__istv_assaults",
    "stg_places__addresses",
    "stg_places__pois",
    "stg_places__streets",
    "stg_soc__chb_sites",
    "stg_soc__disruptions",
    "stg_community__streetsafe_reports",
    "stg_community__voluntary_referrals",
    "stg_police_uk__street_crimes",
    "stg_police_uk__stop_searches",
    "stg_police_uk__quarantined_rows",
    "stg_linkage__person_record_links",
)
#: agency datasets the models read; their deliveries in the small world are loaded
SOURCES = (
    "police.nominals",
    "police.occurrence_nominals",
    "probation.cases",
    "nhs.safeguarding",
    "police.occurrences",
    "police.cad_incidents",
    "police.intelligence",
    "social_care.cin_referrals",
    "nhs.istv_assaults",
    "places.addresses",
    "places.pois",
    "places.streets",
    "soc.chb_sites",
    "soc.disruptions",
    "community.streetsafe_reports",
    "community.voluntary_referrals",
)
#: data.police.uk files shipped in public_data/ (real Thames Valley data): two
#: street-level months (their rows without a location are the quarantined rows)
#: and the 40-row stop and search sample
STREET_MONTHS = ("2025-01", "2025-02")
STOP_SEARCH_SAMPLE = "2022-01-thames-valley-stop-and-search.sample40.csv"
COMPARED = {model: "*" for model in MODELS} | {
    "stg_police__nominals": (
        "nominal_id, delivery, forename, middle_names, surname, date_of_birth, sex, "
        "pnc_id, pnc_id_invalid, address_line, town, postcode"
    ),
}
KEYS = {
    "stg_police__nominals": ("nominal_id",),
    "stg_police__occurrence_nominals": ("link_id",),
    "stg_probation__cases": ("event_id",),
    "stg_nhs__safeguarding_referrals": ("referral_id",),
    "stg_police__occurrences": ("occurrence_ref",),
    "stg_police__cad_incidents": ("incident_ref",),
    "stg_police__intelligence_logs": ("log_id",),
    "stg_police__intelligence_subjects": ("subject_id",),
    "stg_social_care__cin_referrals": ("referral_id",),
    "stg_nhs__istv_assaults": ("attendance_ref",),
    "stg_places__addresses": ("uprn",),
    "stg_places__pois": ("poi_id",),
    "stg_places__streets": ("usrn",),
    "stg_soc__chb_sites": ("site_phase_id",),
    "stg_soc__disruptions": ("disruption_id",),
    "stg_community__streetsafe_reports": ("report_id",),
    "stg_community__voluntary_referrals": ("referral_id",),
    "stg_police_uk__street_crimes": ("event_id",),
    "stg_police_uk__stop_searches": ("stop_search_ref",),
    "stg_police_uk__quarantined_rows": ("source_file", "source_row_number"),
    "stg_linkage__person_record_links": ("record_uid",),
}
#: fewest rows each model must have on DuckDB (the small world's CHB register has
#: 9 site phases; the shipped stop and search sample has 40 rows)
MIN_ROWS = {"stg_soc__chb_sites": 5, "stg_police_uk__stop_searches": 30}
#: the pseudonymisation secret of the run (person keys, address place keys)
SECRET = "test-secret"
#: every table and view dbt builds after staging, by its DuckDB name (the restricted
#: database's are ``restricted_<schema>.<name>`` on Spark)
TABLES = (
    "intermediate.int_address_locations",
    "intermediate.int_chb_site_phases",
    "intermediate.int_community_reports_located",
    "intermediate.int_disruptions",
    "intermediate.int_events_unioned",
    "intermediate.int_intelligence_gradings",
    "intermediate.int_person_event_roles",
    "restricted.intermediate.int_address_places",
    "restricted.intermediate.int_person_addresses",
    "restricted.intermediate.int_person_records_linked",
    "restricted.intermediate.int_person_records_unioned",
    "restricted.identity.address_places",
    "restricted.identity.exploitation_links",
    "restricted.identity.person_identifiers",
    "marts.bridge_person_events",
    "marts.bridge_person_places",
    "marts.dim_chb_site_phases",
    "marts.dim_persons",
    "marts.dim_places",
    "marts.fct_cell_community_context",
    "marts.fct_cell_monthly_harm",
    "marts.fct_community_reports",
    "marts.fct_disruptions",
    "marts.fct_events",
    "marts.fct_needs_items",
    "marts.fct_person_timeline",
    "marts.fct_serious_violence_items",
    "marts.fct_soc_events",
    "marts.fct_ward_disruption_overlay",
    "marts.fct_ward_exploitation_counts",
    "marts.fct_ward_soc_monthly",
    "marts.fct_ward_soc_weekly",
    "marts.needs_ae_unreported",
    "marts.needs_area_rates",
    "marts.needs_deprivation_rates",
    "marts.needs_lsoa_population",
    "marts.serious_violence_area_monthly",
    "marts.serious_violence_area_trend",
)
#: Doubles agree to this relative (and, near zero, absolute) difference: the needs and
#: serious violence rates and Wilson intervals mix decimal literals (1000.0, z^2) with
#: doubles, which each engine rounds in its own order (measured: 1.1e-15 relative;
#: a lower bound of 0 by formula, 1e-19 against 0).
FLOAT_TOLERANCE = 1e-12
#: The key each table's rows are sorted by before comparing (others: every column;
#: a key keeps rows whose doubles differ in the last bits in the same order).
#: Every ranking in the project breaks its ties (an address seen as often in two
#: LSOAs of one H3 cell, a person with two places from the same day): before it
#: did, 44 of 4,824 address places and 30 of 6,719 needs items took another LSOA
#: on Spark than on DuckDB, and two DuckDB builds differed from each other too.
TABLE_KEYS = {
    "intermediate.int_address_locations": ("place_key",),
    "marts.dim_places": ("place_key",),
    "marts.fct_needs_items": ("indicator", "unit_key"),
    "marts.needs_area_rates": ("needs_area_rate_key",),
    "marts.needs_deprivation_rates": ("needs_deprivation_rate_key",),
}


def _load_lake(world, root):
    """The lake as the source assets write it (their own functions, no Dagster)."""
    from support import PUBLIC, THAMES_VALLEY_BOX, TVP_STREET

    from assets.partners.needs_population import population_lake_paths
    from assets.sources.agencies import LANDING_SOURCES, boundary_layers, ingest_agency_delivery
    from assets.sources.gazetteer import build_lake_gazetteer, gazetteer_path, read_gazetteer
    from assets.sources.police_uk import ingest_street_month
    from assets.sources.police_uk_stop_search import ingest_stop_search_month
    from config.resources import PlatformConfig
    from vrdp.lake import write_parquet_atomic
    from vrdp.needs.population import empty_lsoa_population

    lake = root / "lake"
    # the simulated world's force area (VRDP_FORCE_DISTRICTS), cut from the national pack
    layers = boundary_layers(PlatformConfig())
    specs = [s for s in LANDING_SOURCES if s.source in SOURCES]
    # datasets geocoded from text go last: the gazetteer is built from the others
    built_gazetteer = None
    for spec in sorted(specs, key=lambda s: s.locate == "gazetteer"):
        gazetteer = None
        if spec.locate == "gazetteer":
            if built_gazetteer is None:  # the gazetteer asset's work, once
                built, _, _ = build_lake_gazetteer(lake)
                write_parquet_atomic(built.entries, gazetteer_path(lake))
                built_gazetteer = read_gazetteer(lake)
            gazetteer = built_gazetteer
        for folder in sorted((world / "landing" / spec.agency / spec.dataset).iterdir()):
            ingest_agency_delivery(
                spec,
                sorted(folder.glob(spec.file_glob)),
                delivery=folder.name,
                lake_dir=lake,
                validated_on=date.today(),
                layers=layers if spec.locate else None,
                h3_resolution=9,
                gazetteer=gazetteer,
                area=THAMES_VALLEY_BOX,
            )
    for month in STREET_MONTHS:
        ingest_street_month(
            TVP_STREET / f"{month}-thames-valley-street.csv.gz",
            month=month,
            lake_dir=lake,
            h3_resolution=9,
            lsoa21=layers.lsoa21,
            lsoa11=layers.lsoa11,
            wards=layers.wards,
        )
    ingest_stop_search_month(
        PUBLIC / "police_uk" / "thames_valley" / "stop_and_search" / STOP_SEARCH_SAMPLE,
        month=STOP_SEARCH_SAMPLE[:7],
        lake_dir=lake,
        validated_on=date.today(),
        force="thames-valley",
        layers=layers,
        h3_resolution=9,
        area=THAMES_VALLEY_BOX,
    )
    # the needs population asset's file when no estimates were delivered (the
    # needs marts then read the demo seed)
    write_parquet_atomic(empty_lsoa_population(), population_lake_paths(lake, "current")[2])


def _link_persons(root, world) -> None:
    """The linkage output where the linkage asset writes it (the DuckDB warehouse and
    the lake), from the world's true persons instead of Splink: the same input for
    both engines' marts, in seconds."""
    from assets.warehouse.linkage import person_links_lake_path
    from vrdp.governance.permissions import attach_restricted
    from vrdp.lake import write_parquet_atomic
    from vrdp.linkage.keys import person_links
    from vrdp.linkage.metrics import truth_person_ids
    from vrdp.linkage.stable_ids import assign_stable_ids

    con = duckdb.connect(str(root / "warehouse" / "vrdp.duckdb"))
    try:
        attach_restricted(con, root / "restricted" / "identity.duckdb", read_only=True)
        records = con.execute(
            "select record_uid from restricted.intermediate.int_person_records_unioned"
        ).df()
        clusters = records.merge(truth_person_ids(world / "truth"), on="record_uid", how="left")
        clusters["cluster_id"] = clusters["person_id"].fillna(clusters["record_uid"])
        ids, _ = assign_stable_ids(clusters[["record_uid", "cluster_id"]], None)
        links = person_links(ids, SECRET.encode())
        con.register("links_df", links)
        con.execute("create schema linkage")
        con.execute("create table linkage.person_record_links as select * from links_df")
    finally:
        con.close()
    write_parquet_atomic(links, person_links_lake_path(root / "lake"))


@pytest.fixture(scope="module")
def built(spark, small_world, tmp_path_factory):
    """The whole project built on each engine from the same lake and person links."""
    from support import apply_env, world_env

    from vrdp.engines import prepare_dbt_session
    from vrdp.governance.permissions import ensure_restricted_db

    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("dbt_spark") / "data"
    apply_env(mp, world_env(root, VRDP_PSEUDONYM_SECRET=SECRET))
    _load_lake(small_world, root)
    (root / "warehouse").mkdir(parents=True)
    ensure_restricted_db(root / "restricted" / "identity.duckdb")
    _dbt(root, "dev", "seed")
    _dbt(root, "dev", "run", "--select", "+int_person_records_unioned")
    _link_persons(root, small_world)  # as the linkage asset, between the two dbt steps
    _dbt(root, "dev", "run")
    _dbt(root, "dev", "snapshot")
    prepare_dbt_session(spark, root, SECRET.encode())
    _dbt(root, "spark", "seed")
    _dbt(root, "spark", "run")  # every model, in the session of the `spark` fixture
    _dbt(root, "spark", "snapshot")  # the project's Parquet snapshot materialization
    yield root
    mp.undo()


def test_every_lake_table_has_one_parquet_type_per_column(built):
    """Spark reads a lake table only when all its deliveries' files agree on each
    column's type (DuckDB's union_by_name unifies them): a delivery where a column
    is empty in every row must not be written with another type (the voluntary
    referrals' ``dob``, a date, once came out as a timestamp; ``geocode_kind`` as
    Arrow's null type when no row matched)."""
    import pyarrow.parquet as pq

    lake = built / "lake"
    tables = {p.parent.parent for p in lake.glob("*/*/*/*.parquet")}
    assert len(tables) > len(SOURCES)
    differ = {}
    for table in sorted(tables):
        types: dict[str, set[str]] = {}
        for part in table.glob("*/*.parquet"):
            for field in pq.read_schema(part):
                types.setdefault(field.name, set()).add(str(field.type))
        differ |= {f"{table.relative_to(lake)}.{c}": t for c, t in types.items() if len(t) > 1}
    assert not differ


@pytest.mark.parametrize("model", MODELS)
def test_ported_models_have_the_same_rows_and_keys_as_duckdb(spark, built, model):
    cols = COMPARED[model]
    con = duckdb.connect(str(built / "warehouse" / "vrdp.duckdb"), read_only=True)
    try:
        duck = con.execute(f"select {cols} from staging.{model}").df()
    finally:
        con.close()
    spark_df = spark.sql(f"select {cols} from staging.{model}").toPandas()
    # Spark's latest_version keeps its rank column (_version_rank); nothing else is extra
    assert set(spark_df.columns) - set(duck.columns) <= {"_version_rank"}
    key = list(KEYS[model])
    assert len(duck) > MIN_ROWS.get(model, 100)
    assert not duck.duplicated(key).any()
    assert len(spark_df) == len(duck)
    assert set(map(tuple, spark_df[key].to_numpy())) == set(map(tuple, duck[key].to_numpy()))
    # Every compared value equal, as text (floats print their shortest round-trip
    # form, so equal text is equal value; a null is null on both).
    a = duck.sort_values(key).reset_index(drop=True).astype(str)
    b = spark_df[list(duck.columns)].sort_values(key).reset_index(drop=True).astype(str)
    pd.testing.assert_frame_equal(a, b)


def _sorted_text(df: pd.DataFrame, floats: list[str], key: list[str]) -> pd.DataFrame:
    """Every column but the doubles as text (a null is "None"), sorted by ``key`` then
    every other column."""
    df = df.copy()
    for c in df.columns:
        if c in floats:
            df[c] = pd.to_numeric(df[c]).astype(float)
        else:
            df[c] = df[c].astype(str).fillna("None")
    order = key + [c for c in df.columns if c not in key]
    return df.sort_values(order, kind="mergesort").reset_index(drop=True)


def _differ(a: pd.Series, b: pd.Series, is_float: bool) -> np.ndarray:
    """Rows whose values differ (doubles beyond :data:`FLOAT_TOLERANCE`)."""
    if not is_float:
        return (a != b).to_numpy()
    x, y = a.to_numpy(), b.to_numpy()
    close = np.isclose(x, y, rtol=FLOAT_TOLERANCE, atol=FLOAT_TOLERANCE, equal_nan=True)
    return ~close


def _unequal(duck: pd.DataFrame, other: pd.DataFrame, key=()) -> dict[str, int]:
    """Columns of ``duck`` whose values differ in ``other``, with how many rows: both
    sorted by ``key`` then every column, doubles compared to :data:`FLOAT_TOLERANCE`."""
    floats = [c for c in duck.columns if "f" in (duck[c].dtype.kind, other[c].dtype.kind)]
    a = _sorted_text(duck, floats, list(key))
    b = _sorted_text(other[list(duck.columns)], floats, list(key))
    differ = {c: _differ(a[c], b[c], c in floats) for c in duck.columns}
    return {c: int(d.sum()) for c, d in differ.items() if d.any()}


def test_every_table_after_staging_is_compared():
    """TABLES names every table and view dbt builds in intermediate, identity and marts."""

    models = {
        p.stem
        for layer in ("intermediate", "identity", "marts")
        for p in (REPO_ROOT / "dbt_project" / "models" / layer).rglob("*")
        if p.suffix in (".sql", ".py")
    }
    assert models == {t.rsplit(".", 1)[1] for t in TABLES}


@pytest.mark.parametrize("table", TABLES)
def test_every_model_has_duckdbs_rows_on_spark(spark, built, table):
    """Every column of every row, Spark against DuckDB: equal, doubles to
    :data:`FLOAT_TOLERANCE`."""
    from support import read_warehouse

    duck = read_warehouse(built, f"select * from {table}")
    spark_df = spark.table(table.replace("restricted.", "restricted_")).toPandas()
    assert list(spark_df.columns) == list(duck.columns)
    assert len(spark_df) == len(duck) > 0
    assert not _unequal(duck, spark_df, TABLE_KEYS.get(table, ()))


def test_restricted_layer_lives_in_the_owner_only_folder(spark, built):
    """The restricted schemas' files are under ``restricted/spark`` (0700), and the
    secret behind the address place keys is in no file dbt wrote."""
    import stat

    folder = built / "restricted" / "spark"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for table in TABLES:
        if table.startswith("restricted."):
            name = table.replace("restricted.", "restricted_")
            info = {r[0]: r[1] for r in spark.sql(f"describe table extended {name}").collect()}
            if info["Type"] != "VIEW":  # a view holds no files
                assert info["Location"].removeprefix("file:").startswith(f"{folder}/"), table
    written = [p for p in (built / "dbt_target_spark").rglob("*") if p.is_file()]
    written += [p for p in (built / "dbt_logs").rglob("*") if p.is_file()]
    assert written and not [p for p in written if SECRET.encode() in p.read_bytes()]


def test_dbt_tests_pass_on_spark(built):
    """dbt's data tests and unit tests of every model and the snapshot, on Spark."""
    _dbt(built, "spark", "test")


#: the snapshot's columns that hold when it was taken (and dbt_scd_id, a hash of
#: the key and that time): the rest are compared
SNAPSHOT_TIMES = ("dbt_updated_at", "dbt_valid_from", "dbt_valid_to", "dbt_scd_id")


def test_snapshot_on_spark_has_duckdbs_rows(spark, built):
    """The first snapshot of the occurrences' classifications: on Spark (the
    project's Parquet materialization, macros/spark/snapshot.sql) the rows of
    DuckDB's, every version current; when each was taken aside."""
    from support import read_warehouse

    duck = read_warehouse(built, "select * from snapshots.snp_police__occurrence_classifications")
    spark_df = spark.table("snapshots.snp_police__occurrence_classifications").toPandas()
    assert list(spark_df.columns) == list(duck.columns)
    assert len(spark_df) == len(duck) > 1000
    assert duck["dbt_valid_to"].isna().all() and spark_df["dbt_valid_to"].isna().all()
    compared = [c for c in duck.columns if c not in SNAPSHOT_TIMES]
    assert not _unequal(duck[compared], spark_df[compared], ["occurrence_ref"])


#: Text the simulated world never delivers, through the macros whose Spark
#: versions stand in for DuckDB functions: each value's result must be the same
#: on both engines. (Known differences are in the macros' comments and not here.)
PROBE_TEXT = (
    "'1990-01-02'", "' 1990-1-2 '", "'1990/01/02'", "'1990 01 02'", "'1990.01.02'",
    "'1990'", "'1990-01'", "'+1990-01-02'", "'1990-02-30'", "'1990-01-02T10:00'",
    "'1990-01-02 10:00:00+01'", "'1990-01-02T'", "'1990-01-02 garbage'", "'19900102'",
    "'1990-01-02' || chr(10)", "'A12345678901B'", "'a12345678901b'",
    "'A12345678901B' || chr(10)", "'2015/9328198Y'", "'2015/9328198y' || chr(10)",
    "'9434765919'", "'9434765919' || chr(10)", "'sw1a 1aa'", "' o-brien  smith2 jr '",
    "''", "null",
)  # fmt: skip
PROBE_JSON = (
    """'{"source": "1", "intelligence": "A"}'""", """'{"source": 2}'""",
    """'{"source": null}'""", """'{"source": ["a", "b"]}'""", """'{"source": {"x": 1}}'""",
    """'{"source": true}'""", "'{}'", "null",
)  # fmt: skip
PROBE_ARRAYS = (
    """'["a", "b"]'""", "'[]'", """'["a", null, "b"]'""", """'[1, "x"]'""", "'[null]'",
    """'["", null]'""", "'[null, null]'", "null",
)  # fmt: skip
PROBE_OBJECTS = (
    """'[{"id": "1", "name": "A"}, {"id": 2}]'""", "'[]'", "'[null]'", "null",
    """'[{"name": "B", "other": "x"}]'""",
)  # fmt: skip


def _values(name: str, texts: tuple[str, ...]) -> str:
    rows = ", ".join(f"({i}, {t})" for i, t in enumerate(texts))
    return f"select * from (values {rows}) as {name} (i, v)"


PROBE = f"""
with text_in as ({_values("text_in", PROBE_TEXT)}),
json_in as ({_values("json_in", PROBE_JSON)}),
arrays_in as ({_values("arrays_in", PROBE_ARRAYS)}),
objects_in as ({_values("objects_in", PROBE_OBJECTS)}),
objects as (select i, {{{{ vrdp.unnest_json_objects('v', ['id', 'name']) }}}} as o from objects_in)
select 'text' as probe, i, cast({{{{ vrdp.try_cast_date('v') }}}} as string) as a,
    {{{{ vrdp.valid_upn('v') }}}} as b, {{{{ vrdp.valid_pnc_id('v') }}}} as c,
    {{{{ vrdp.valid_nhs_number('v') }}}} as d,
    coalesce({{{{ vrdp.std_postcode('v') }}}}, '-') || '/'
        || coalesce({{{{ vrdp.std_name('v') }}}}, '-') as e
from text_in
union all
select 'json', i, {{{{ vrdp.json_text('v', '$.source') }}}}, {{{{ vrdp.json_text('v', '$.x') }}}},
    null, null, null
from json_in
union all
select 'arrays', i, {{{{ vrdp.json_string_array_join('v', '|') }}}}, null, null, null, null
from arrays_in
union all
select 'objects', i, o.id, o.name, null, null, null from objects
"""


def _compiled(root, target: str) -> str:
    """The probe compiled for ``target`` by dbt (the dispatched macro versions); DuckDB's
    in a subprocess like its run, Spark's in-process (a new process would start a JVM)."""
    args = _dbt_args(root, target, "compile", "--inline", PROBE)
    if target == "spark":
        from dbt.cli.main import dbtRunner

        result = dbtRunner().invoke(args)
        assert result.success, result.exception
        return result.result.results[0].node.compiled_code
    out = root / "probe_duckdb.sql"
    code = "from dbt.cli.main import dbtRunner; import pathlib, sys; "
    code += "r = dbtRunner().invoke(sys.argv[2:]); r.success or sys.exit(1); "
    code += "pathlib.Path(sys.argv[1]).write_text(r.result.results[0].node.compiled_code)"
    subprocess.run([sys.executable, "-c", code, str(out), *args], check=True)
    return out.read_text()


def test_spark_macros_give_duckdbs_results_on_edge_cases(spark, built):
    """Values no staging model meets on the small world: dates in other shapes,
    trailing line breaks, lower-case ids, JSON values of every kind, arrays with
    nulls, objects with missing or extra fields."""
    duck_sql, spark_sql = _compiled(built, "dev"), _compiled(built, "spark")
    assert "json_extract_string" in duck_sql and "get_json_object" in spark_sql
    con = duckdb.connect()
    try:
        duck = con.execute(duck_sql).df()
    finally:
        con.close()
    spark_df = spark.sql(spark_sql).toPandas()
    key = ["probe", "i", "a", "b"]
    a = duck.astype(str).sort_values(key, na_position="first").reset_index(drop=True)
    b = spark_df.astype(str).sort_values(key, na_position="first").reset_index(drop=True)
    assert len(a) == len(PROBE_TEXT) + len(PROBE_JSON) + len(PROBE_ARRAYS) + 4
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


# --- what make run does with VRDP_ENGINE=spark: dbt on Spark, served from DuckDB ---

#: Spark's schemas of the project's relations (the restricted layer's prefixed)
SPARK_SCHEMAS = (
    "reference",
    "staging",
    "intermediate",
    "marts",
    "restricted_intermediate",
    "restricted_identity",
    "snapshots",
)


@pytest.fixture(scope="module")
def published(spark, built):
    """Every relation Spark built, published into a fresh DuckDB warehouse and
    restricted file as the Spark dbt step publishes them; their data root."""
    from vrdp.engines.dbt_spark import Built, publish_to_duckdb

    relations = [
        Built(schema, t.name, schema.startswith("restricted_"), t.tableType == "VIEW")
        for schema in SPARK_SCHEMAS
        for t in spark.catalog.listTables(schema)
        if not t.isTemporary
    ]
    root = built.parent / "published"
    (root / "warehouse").mkdir(parents=True)
    rows = publish_to_duckdb(
        spark,
        relations,
        root / "warehouse" / "vrdp.duckdb",
        root / "restricted" / "identity.duckdb",
        scratch=root / "scratch",
        restricted_scratch=built / "restricted" / "spark" / "_publish",
    )
    assert len(rows) == len(relations)
    return root


def _relations(root) -> dict[str, str]:
    """Every relation dbt builds in a DuckDB warehouse (both files): name -> kind."""
    from support import read_warehouse

    found = read_warehouse(
        root,
        "select table_catalog, table_schema, table_name, table_type from information_schema.tables "
        f"where table_schema in {tuple(s.removeprefix('restricted_') for s in SPARK_SCHEMAS)}",
    )
    return {
        (f"restricted.{s}.{n}" if c == "restricted" else f"{s}.{n}"): t
        for c, s, n, t in found.itertuples(index=False)
    }


def test_publication_serves_every_relation_dbt_builds(built, published):
    """The published warehouse holds every relation of DuckDB's own build (staging's
    views as tables), each in the same file: the restricted layer only in the
    owner-only restricted file, nothing of it in the analysts' warehouse file."""
    import stat

    from support import analyst_schemas

    duck, served = _relations(built), _relations(published)
    assert set(served) == set(duck)
    assert len(duck) == len(TABLES) + len(MODELS) + 8 + 1  # the 8 seeds, the snapshot
    assert set(served.values()) == {"BASE TABLE"}
    restricted = published / "restricted" / "identity.duckdb"
    assert stat.S_IMODE(restricted.stat().st_mode) == 0o600
    assert "identity" not in analyst_schemas(published)
    assert not list((built / "restricted" / "spark" / "_publish").glob("*/*"))
    assert not list((published / "scratch").glob("*/*"))


#: Where a column's type in the published warehouse is not DuckDB's own: each
#: engine's type for the same expression (values equal, compared below).
#: (relation, column) -> (DuckDB's, published). The SOC overlay's sums of
#: bigints: DuckDB's ``sum`` widens to hugeint, Spark's stays bigint (its
#: contract names each target's type, _soc__models.yml).
TYPE_DIFFERENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("marts.fct_ward_disruption_overlay", c): ("HUGEINT", "BIGINT")
    for c in ("soc_events", "soc_events_3m_before", "soc_events_3m_after")
}


def _types(root, relation: str) -> dict[str, str]:
    from support import read_warehouse

    described = read_warehouse(root, f"describe select * from {relation}")
    return dict(zip(described["column_name"], described["column_type"], strict=True))


@pytest.mark.parametrize("relation", [*TABLES, *(f"staging.{m}" for m in MODELS)])
def test_published_relation_has_duckdbs_columns_types_and_rows(built, published, relation):
    """Each published relation against DuckDB's own build: the same columns in the
    same order, the same types (but :data:`TYPE_DIFFERENCES`), every row's values
    equal (doubles to :data:`FLOAT_TOLERANCE`)."""
    from support import read_warehouse

    duck_types, served_types = _types(built, relation), _types(published, relation)
    assert list(served_types) == list(duck_types)
    differ = {
        (relation, c): (duck_types[c], served_types[c])
        for c in duck_types
        if duck_types[c] != served_types[c]
    }
    assert differ == {k: v for k, v in TYPE_DIFFERENCES.items() if k[0] == relation}
    duck = read_warehouse(built, f"select * from {relation}")
    served = read_warehouse(published, f"select * from {relation}")
    assert len(served) == len(duck) > 0
    key = TABLE_KEYS.get(relation, KEYS.get(relation.removeprefix("staging."), ()))
    assert not _unequal(duck, served, key)


def _parsed(root, target: str) -> dict:
    """dbt's manifest of the project on ``target`` (``dbt parse``)."""
    import json

    _dbt(root, target, "parse")
    return json.loads((root / f"dbt_target_{target}" / "manifest.json").read_text())


def test_every_selector_dagster_writes_selects_the_same_node_on_spark(tmp_path, monkeypatch):
    """dagster-dbt selects the nodes of a run by their fqn in DuckDB's manifest
    (``vrdp.intermediate.int_address_places``); on Spark each such selector must
    select the node of the same name and no other, or a Spark run of that
    selection builds something else or misses a model (the Python
    ``int_address_places``, whose Spark SQL lives in a folder named after it for
    this). dbt's own fqn matching decides, on both targets' parsed manifests."""
    from dbt.graph.selector_methods import is_selected_node

    monkeypatch.setenv("VRDP_DATA_ROOT", str(tmp_path))  # profiles.yml names it
    duck, spark_manifest = _parsed(tmp_path, "dev"), _parsed(tmp_path, "spark")
    kinds = ("model", "seed", "snapshot", "test")
    on_spark = [n for n in spark_manifest["nodes"].values() if n["resource_type"] in kinds]
    wrong = {}
    for node in duck["nodes"].values():
        if node["resource_type"] not in kinds:
            continue
        selector = ".".join(node["fqn"])
        names = {s["name"] for s in on_spark if is_selected_node(s["fqn"], selector, False)}
        if names != {node["name"]}:
            wrong[selector] = sorted(names)
    assert len(duck["nodes"]) > 300 and not wrong


#: two dbt steps of the warehouse asset, as make run's Dagster runs them on Spark
#: (each its own dbt process): the second's models read the first's views, and
#: the snapshot is taken in both, a corrected occurrence delivered in between
SNAPSHOT = "snapshots/snp_police__occurrence_classifications"
FIRST_STEP = (
    "staging/stg_soc__chb_sites",
    "staging/stg_soc__disruptions",
    "staging/stg_police__occurrences",
    SNAPSHOT,
)
SECOND_STEP = (
    "intermediate/int_chb_site_phases",
    "intermediate/int_disruptions",
    "marts/dim_chb_site_phases",
    "marts/fct_disruptions",
    SNAPSHOT,
)


def _lake_with_own_occurrences(built, root) -> None:
    """``root``'s lake: the built lake's tables linked, the occurrences copied (the
    test delivers a correction into them)."""
    import shutil

    for table in sorted((built / "lake").glob("*/*")):
        own = root / "lake" / table.relative_to(built / "lake")
        own.parent.mkdir(parents=True, exist_ok=True)
        if table.name == "occurrences":
            shutil.copytree(table, own)
        else:
            own.symlink_to(table)


def _deliver_correction(root, refs: int = 2) -> pd.DataFrame:
    """A later delivery re-sending the first ``refs`` occurrences with another
    offence code (as a force's corrected extract); the re-sent rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = root / "lake" / "police" / "occurrences"
    latest = sorted(folder.glob("*/*.parquet"))[-1]
    table = pq.read_table(latest)
    rows = table.slice(0, refs).to_pandas()
    rows["offence_code"] = rows["offence_code"] + "X"
    rows["delivery"] = "2099-01"
    (folder / "2099-01").mkdir()
    pq.write_table(
        pa.Table.from_pandas(rows, schema=table.schema, preserve_index=False),
        folder / "2099-01" / "part-0.parquet",
    )
    return rows


def test_warehouse_asset_builds_on_spark_and_serves_from_duckdb(built, tmp_path):
    """``VRDP_ENGINE=spark``: the Dagster dbt asset runs ``dbt --target spark``
    through assets/warehouse/bin/dbt-spark, one process per step; Spark's catalog (Hive,
    in Derby under the data root) outlives the process, so the second step's models
    find the first's; each step publishes what it built into the DuckDB warehouse,
    where the assets after dbt read it: the same rows as DuckDB's build. dbt's
    tests of those models run on Spark as the asset's checks. The snapshot (the
    project's Parquet materialization, macros/spark/snapshot.sql) closes the
    corrected occurrences' versions and adds the new ones, as on DuckDB."""
    import dagster as dg
    from support import apply_env, read_warehouse, world_env

    from assets.warehouse.dbt import warehouse_dbt_assets
    from orchestration.definitions import build_defs

    root = tmp_path / "data"
    _lake_with_own_occurrences(built, root)
    mp = pytest.MonkeyPatch()
    apply_env(mp, world_env(root, VRDP_PSEUDONYM_SECRET=SECRET, VRDP_ENGINE="spark"))
    instance = dg.DagsterInstance.ephemeral()

    def materialize(step):
        keys = [dg.AssetKey.from_user_string(k) for k in step]
        return dg.materialize(
            [warehouse_dbt_assets()],
            selection=dg.AssetSelection.assets(*keys),
            instance=instance,
            resources=build_defs().resources,
        )

    try:
        results = [materialize(FIRST_STEP)]
        history = [read_warehouse(root, f"select * from {SNAPSHOT.replace('/', '.')}")]
        corrected = _deliver_correction(root)
        results.append(materialize(SECOND_STEP))
        history.append(read_warehouse(root, f"select * from {SNAPSHOT.replace('/', '.')}"))
    finally:
        mp.undo()
    for result, step in zip(results, (FIRST_STEP, SECOND_STEP), strict=True):
        assert result.success
        done = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
        assert done == set(step)
        checks = result.get_asset_check_evaluations()
        assert checks and all(c.passed for c in checks)
    assert (root / "spark" / "metastore" / "metastore_db").is_dir()
    for key in (*FIRST_STEP[:-1], *SECOND_STEP[:-1]):
        relation = key.replace("/", ".")
        duck = read_warehouse(built, f"select * from {relation}")
        served = read_warehouse(root, f"select * from {relation}")
        assert len(served) == len(duck) > 0
        assert list(served.columns) == list(duck.columns)
        assert not _unequal(duck, served)
    # the snapshot: every occurrence once and current after the first step; after
    # the second, the corrected ones twice: the old version closed when the new
    # one starts, the new one current with the corrected code
    first, second = history
    occurrences = read_warehouse(built, "select count(*) as n from staging.stg_police__occurrences")
    assert len(first) == occurrences["n"][0] and first["dbt_valid_to"].isna().all()
    assert len(second) == len(first) + len(corrected)
    refs = set(corrected["occurrence_ref"])
    changed = second[second["occurrence_ref"].isin(refs)]
    changed = changed.sort_values(["occurrence_ref", "dbt_valid_from"])
    assert len(changed) == 2 * len(refs)
    old, new = changed.iloc[::2], changed.iloc[1::2]
    assert (old["dbt_valid_to"].to_numpy() == new["dbt_valid_from"].to_numpy()).all()
    assert new["dbt_valid_to"].isna().all() and set(new["delivery"]) == {"2099-01"}
    assert set(new["offence_code"]) == set(corrected["offence_code"])
    unchanged = second[~second["occurrence_ref"].isin(refs)]
    assert unchanged["dbt_valid_to"].isna().all()
    pd.testing.assert_frame_equal(
        _sorted_text(unchanged, [], ["occurrence_ref"]),
        _sorted_text(first[~first["occurrence_ref"].isin(refs)], [], ["occurrence_ref"]),
    )

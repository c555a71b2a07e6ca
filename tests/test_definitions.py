import json
import os
import subprocess
import sys

import dagster as dg
import pytest
from support import REPO

from orchestration.definitions import build_defs

EXPECTED_KEYS = {
    "exports/transparency_page",
    "exports/disparity_report",
    "governance/retention_purge",
    "staging/stg_police__nominals",
    "staging/stg_police__intelligence_subjects",
    "staging/stg_police__intelligence_logs",
    "staging/stg_police__occurrences",
    "staging/stg_police__occurrence_nominals",
    "snapshots/snp_police__occurrence_classifications",
    "staging/stg_police__cad_incidents",
    "staging/stg_social_care__cin_referrals",
    "staging/stg_probation__cases",
    "staging/stg_nhs__safeguarding_referrals",
    "staging/stg_nhs__istv_assaults",
    "staging/stg_places__pois",
    "staging/stg_places__addresses",
    "staging/stg_places__streets",
    "staging/stg_police_uk__stop_searches",
    "places/gazetteer",
    "police_uk/stop_searches",
    "quarantine/police_uk_stop_searches",
    "landing/police_uk_stop_search_files",
    "intermediate/int_person_records_unioned",
    "linkage/person_record_links",
    "identity/person_identifiers",
    "marts/dim_persons",
    "geography/force_area",
    "geography/force_outline",
    "geography/lsoa11_boundaries",
    "geography/lsoa21_boundaries",
    "geography/wards_boundaries",
    "landing/police_uk_street_files",
    "police_uk/street_crimes",
    "quarantine/police_uk_street_crimes",
    "reference/cchi_harm_weights",
    "reference/police_uk_crime_types",
    "staging/stg_police_uk__street_crimes",
    "staging/stg_police_uk__quarantined_rows",
    "marts/fct_cell_monthly_harm",
    "hotspots/top_harm_cells",
    "hotspots/study_events",
    "hotspots/cell_harm_windows",
    "hotspots/gi_star",
    "hotspots/kde",
    "hotspots/classification",
    "hotspots/forecast",
    "hotspots/backtest",
    "hotspots/hotspot_list",
    *(
        f"force_hotspots/{n}"
        for n in (
            "study_events",
            "cell_harm_windows",
            "gi_star",
            "kde",
            "classification",
            "forecast",
            "backtest",
            "hotspot_list",
        )
    ),
    "marts/fct_events",
    "reference/home_office_offence_codes",
    "reference/ons_wards_2025",
    "intermediate/int_events_unioned",
    "intermediate/int_person_addresses",
    "intermediate/int_address_places",
    "intermediate/int_address_locations",
    "identity/address_places",
    "marts/dim_places",
    "marts/bridge_person_events",
    "marts/bridge_person_places",
    "exports/hotspot_tasking_export",
    "exports/persons_analyst_export",
    "exports/persons_safeguarding_export",
    "risk_terrain/police_uk_rtm",
    "risk_terrain/simulated_world_rtm",
    "patrol/trial_units",
    "patrol/trial_allocation",
    "patrol/visits",
    "patrol/daily_dosage",
    "patrol/compliance",
    "patrol/supervisor_dosage",
    "patrol/itt_table",
    "patrol/trial_effect",
    "patrol/daily_tasking",
    "exports/patrol_tasking_export",
    # issue 17: community sources, needs pack, partnership and cohorts
    "staging/stg_community__streetsafe_reports",
    "staging/stg_community__voluntary_referrals",
    "intermediate/int_community_reports_located",
    "marts/fct_community_reports",
    "marts/fct_cell_community_context",
    "reference/needs_lsoa21_population",
    "landing/ons_lsoa_population_files",
    "ons/lsoa_population",
    "quarantine/ons_lsoa_population",
    "needs/lsoa_population",
    "marts/needs_lsoa_population",
    "marts/fct_needs_items",
    "marts/needs_area_rates",
    "marts/needs_deprivation_rates",
    "marts/needs_ae_unreported",
    "marts/fct_person_timeline",
    "exports/needs_pack_export",
    "exports/partnership_export",
    "exports/cohorts_export",
    "identity/exploitation_links",
    "intermediate/int_chb_site_phases",
    "intermediate/int_disruptions",
    "intermediate/int_intelligence_gradings",
    "intermediate/int_person_event_roles",
    "intermediate/int_person_records_linked",
    "marts/dim_chb_site_phases",
    "marts/fct_disruptions",
    "marts/fct_soc_events",
    "marts/fct_ward_disruption_overlay",
    "marts/fct_ward_exploitation_counts",
    "marts/fct_ward_soc_monthly",
    "marts/fct_ward_soc_weekly",
    "reference/soc_categories",
    "reference/soc_category_map",
    "reference/ward_profiles",
    "soc/chb_evaluation",
    "soc/early_warning_alarms",
    "soc/early_warning_scores",
    "exports/lost_subject_export",
    "staging/stg_linkage__person_record_links",
    "staging/stg_soc__chb_sites",
    "staging/stg_soc__disruptions",
    # the serious violence overview (dashboard /violence)
    "marts/fct_serious_violence_items",
    "marts/serious_violence_area_monthly",
    "marts/serious_violence_area_trend",
}


def _agency_keys() -> set[str]:
    from assets.sources.agencies import LANDING_SOURCES, source_keys

    return {k.to_user_string() for spec in LANDING_SOURCES for k in source_keys(spec)}


@pytest.fixture(scope="module")
def defs():
    return build_defs()


def test_definitions_load_and_hold_every_asset(defs):
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == EXPECTED_KEYS | _agency_keys()
    assert len(_agency_keys()) == 60  # 20 agency datasets x (rows, quarantine, files)
    assert "police_uk_street_files" in {s.name for s in defs.sensors}
    assert "police_nominals_deliveries" in {s.name for s in defs.sensors}


def test_lineage_is_one_unbroken_graph_from_source_to_export(defs):
    graph = defs.resolve_asset_graph()
    source = dg.AssetKey(["police_uk", "street_crimes"])
    staging = dg.AssetKey(["staging", "stg_police_uk__street_crimes"])
    assert source in graph.get(staging).parent_keys  # dbt source == Python asset key
    downstream = dg.AssetSelection.assets(source).downstream().resolve(graph)
    assert dg.AssetKey(["exports", "hotspot_tasking_export"]) in downstream
    roots = {k for k in graph.get_all_asset_keys() if not graph.get(k).parent_keys}
    landing = {k for k in _agency_keys() if k.startswith("landing/")}
    assert {k.to_user_string() for k in roots} - landing == {
        "landing/police_uk_street_files",
        "landing/police_uk_stop_search_files",
        "reference/cchi_harm_weights",
        "reference/police_uk_crime_types",
        "reference/home_office_offence_codes",
        "reference/ons_wards_2025",
        "exports/transparency_page",  # reads the versioned registers under governance/
        "governance/retention_purge",  # runs on its own schedule over the whole data root
        "reference/needs_lsoa21_population",
        "landing/ons_lsoa_population_files",
        "reference/soc_categories",
        "reference/soc_category_map",
        "reference/ward_profiles",
    }


def test_a_model_read_by_another_asset_is_its_declared_dependency(defs):
    """The force forecast scores cells with the simulated world's RTM model: it waits for it."""
    from assets.hotspots.analysis import RTM_MODEL_KEY
    from assets.risk_terrain.models import SIMULATED_RTM_KEY

    graph = defs.resolve_asset_graph()
    assert RTM_MODEL_KEY == SIMULATED_RTM_KEY
    assert SIMULATED_RTM_KEY in graph.get(dg.AssetKey(["force_hotspots", "forecast"])).parent_keys
    assert SIMULATED_RTM_KEY not in graph.get(dg.AssetKey(["hotspots", "forecast"])).parent_keys


def test_every_warehouse_asset_is_in_the_single_writer_pool(defs):
    pools = {}
    for assets_def in defs.assets:
        if not isinstance(assets_def, dg.AssetsDefinition):
            continue  # external asset specs run nothing
        for key in assets_def.keys:
            pools[key.to_user_string()] = assets_def.op.pool
    assert pools["marts/fct_cell_monthly_harm"] == "duckdb_warehouse"
    assert pools["hotspots/top_harm_cells"] == "duckdb_warehouse"
    config = (REPO / "orchestration" / "dagster.yaml").read_text()
    assert "default_limit: 2" in config and "enabled: false" in config


def test_every_asset_has_a_description(defs):
    graph = defs.resolve_asset_graph()
    missing = [
        k.to_user_string()
        for k in graph.get_all_asset_keys()
        if not (graph.get(k).description or "").strip()
    ]
    assert missing == []


def test_import_does_no_work(tmp_path):
    """Importing the code location reads nothing, creates nothing, parses no dbt."""
    root = tmp_path / "never-created"
    code = (
        "import sys, orchestration.definitions as d; "
        "import json; print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'dagster_dbt', 'duckdb', 'geopandas', 'assets', 'serving'})))"
    )
    env = {**os.environ, "VRDP_DATA_ROOT": str(root), "HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, check=True, capture_output=True, text=True
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []
    assert not root.exists()


def test_downstream_assets_update_themselves_and_sources_wait_for_sensors(defs):
    graph = defs.resolve_asset_graph()
    mart = graph.get(dg.AssetKey(["marts", "fct_cell_monthly_harm"]))
    source = graph.get(dg.AssetKey(["police", "occurrences"]))
    assert mart.automation_condition is not None
    assert source.automation_condition is None
    nightly = next(s for s in defs.schedules if s.name == "nightly_refresh")
    assert nightly.job_name == "refresh_analytics"
    assert nightly.cron_schedule == "0 2 * * *"
    assert nightly.execution_timezone == "Europe/London"


def test_the_dbt_resource_knows_the_version_of_the_dbt_it_runs():
    """The version dagster-dbt would ask ``dbt --version`` for comes from dbt-core's metadata."""
    import subprocess

    from assets.warehouse.dbt import WarehouseDbtResource, dbt_resource

    resource = dbt_resource()
    assert isinstance(resource, WarehouseDbtResource)
    out = subprocess.check_output([resource.dbt_executable, "--version"], text=True)
    assert f"installed: {resource._cli_version}" in out
    assert resource._initialize_dbt_core_adapter(["build"]) is None

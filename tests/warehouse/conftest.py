"""One small-world warehouse for the warehouse tests, built in-process once per session.

Lands every agency dataset (all but its last delivery), materializes the source
assets, the dbt warehouse (staging, intermediate, marts), Splink linkage and the
linked marts; then lands each dataset's last delivery and runs again, so tests
can check that people keep their keys.
"""

import time

import dagster as dg
import pytest
from support import COL_STREET, apply_env, land, world_env
from warehouse_support import read_warehouse

from assets.geography.boundaries import boundary_assets
from assets.sources.agencies import LANDING_SOURCES, agency_source_assets, source_keys
from assets.sources.police_uk import (
    POLICE_UK_MONTHS,
    STREET_CRIMES_KEY,
    STREET_QUARANTINE_KEY,
    police_uk_street_crimes,
)
from assets.warehouse.dbt import warehouse_dbt_assets, warehouse_linked_dbt_assets
from assets.warehouse.linkage import PERSON_LINKS_KEY, person_linkage
from orchestration.definitions import build_defs
from vrdp.governance.permissions import copy_owner_only

#: deliveries per dataset in the first run (the next one arrives in the second run)
FIRST = 5
#: datasets loaded with their whole history (all but the last delivery in the first
#: run): the RMS person master, and the crimes and calls whose located addresses
#: place people's addresses
FULL_HISTORY = {"police.nominals", "police.occurrences", "police.cad_incidents"}
#: one month of real (tiny) City of London police.uk data: the harm seeds' tests
#: also read the street crimes source, which must exist
POLICE_UK_MONTH = "2025-01"
#: the marts (and restricted tables) every run builds, with everything upstream of them
#: but the sources
MART_KEYS = [
    *(
        dg.AssetKey(["marts", name])
        for name in ("fct_events", "dim_places", "bridge_person_events", "bridge_person_places")
    ),
    dg.AssetKey(["identity", "address_places"]),
    # the needs marts' denominators (the demo seed, or a force's delivered estimates)
    dg.AssetKey(["marts", "needs_lsoa_population"]),
    # the community report layer (not upstream of any other mart)
    dg.AssetKey(["marts", "fct_cell_community_context"]),
    dg.AssetKey(["marts", "fct_community_reports"]),
    # read by identity.exploitation_links, which the linked build makes
    dg.AssetKey(["marts", "fct_soc_events"]),
]


def _land_and_load(root, instance, defs, spec, folders):
    for folder in folders:  # as the demo lands deliveries: owner-only on creation
        for f in sorted(folder.iterdir()):
            copy_owner_only(f, root / "landing" / spec.agency / spec.dataset / folder.name / f.name)
    instance.add_dynamic_partitions(f"{spec.slug}_deliveries", [f.name for f in folders])
    for folder in folders:
        assert dg.materialize(
            defs["everything"],
            selection=dg.AssetSelection.assets(*source_keys(spec)[:2]),
            partition_key=folder.name,
            instance=instance,
            resources=defs["resources"],
        ).success


def _warehouse_run(instance, defs):
    upstream = dg.AssetSelection.assets(*MART_KEYS).upstream() - dg.AssetSelection.groups(
        "sources", "quarantine", "landing", "geography"
    )
    selection = upstream | dg.AssetSelection.assets(PERSON_LINKS_KEY).downstream()
    result = dg.materialize(
        defs["everything"], selection=selection, instance=instance, resources=defs["resources"]
    )
    assert result.success


@pytest.fixture(scope="session")
def warehouse(small_world, tmp_path_factory):
    """The small world's warehouse after two runs; root, first links, instance, timings."""
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("warehouse") / "data"
    # the agencies' deliveries are the simulated (Thames Valley) world's: its area, configured
    env = world_env(root, VRDP_PSEUDONYM_SECRET="test-secret")
    apply_env(mp, env)
    specs = [s for s in LANDING_SOURCES if s.agency != "patrol"]
    full = build_defs()
    defs = {
        "everything": [
            *boundary_assets(),
            police_uk_street_crimes,
            *agency_source_assets(),
            warehouse_dbt_assets(),
            person_linkage,
            warehouse_linked_dbt_assets(),
            *full.asset_checks,
        ],
        "resources": full.resources,
    }
    instance = dg.DagsterInstance.ephemeral()
    later = {}
    t0 = time.perf_counter()
    assert dg.materialize(
        defs["everything"],
        selection=dg.AssetSelection.groups("geography"),
        instance=instance,
        resources=defs["resources"],
    ).success
    land(root, COL_STREET / f"{POLICE_UK_MONTH}-city-of-london-street.csv.gz")
    instance.add_dynamic_partitions(POLICE_UK_MONTHS.name, [POLICE_UK_MONTH])
    assert dg.materialize(
        defs["everything"],
        selection=dg.AssetSelection.assets(STREET_CRIMES_KEY, STREET_QUARANTINE_KEY),
        partition_key=POLICE_UK_MONTH,
        instance=instance,
        resources=defs["resources"],
    ).success
    for spec in specs:
        src = small_world / "landing" / spec.agency / spec.dataset
        folders = sorted(p for p in src.iterdir() if p.is_dir())
        start = 0 if spec.source in FULL_HISTORY else -FIRST - 1
        first, later[spec.source] = folders[start:-1], folders[-1]
        _land_and_load(root, instance, defs, spec, first)
    _warehouse_run(instance, defs)
    first_links = read_warehouse(root, "select * from linkage.person_record_links")
    t1 = time.perf_counter()
    for spec in specs:
        _land_and_load(root, instance, defs, spec, [later[spec.source]])
    _warehouse_run(instance, defs)
    t2 = time.perf_counter()
    mp.undo()  # tests re-enter the environment (``_warehouse_env``, ``using_env``)
    yield {
        "root": root,
        "first_links": first_links,
        "instance": instance,
        "timings": {"first_s": t1 - t0, "second_s": t2 - t1},
        "world": small_world,
        "env": env,
    }


@pytest.fixture(autouse=True)
def _warehouse_env(request, monkeypatch):
    """A test of the session warehouse runs in its environment (its data root)."""
    if "warehouse" in request.fixturenames:
        apply_env(monkeypatch, request.getfixturevalue("warehouse")["env"])


@pytest.fixture(scope="module")
def needs_dashboard(warehouse):
    """The needs pack published from the test warehouse, and the dashboard serving it
    (the needs and serious violence views' tests)."""
    from surface_support import served

    from assets.partners.needs_pack import needs_pack_export
    from dashboard.app import create_app

    root = warehouse["root"]
    mp = pytest.MonkeyPatch()
    apply_env(mp, warehouse["env"])
    result = dg.materialize(
        [needs_pack_export], instance=warehouse["instance"], resources=build_defs().resources
    )
    assert result.success
    mp.setenv("VRDP_API_DEMO_TOKENS", "1")
    with served(create_app(root)) as url:
        yield url, root
    mp.undo()

"""One small-world SOC warehouse per test session: the SOC sources loaded, the dbt
marts upstream of the SOC assets built in-process, then the SOC assets run."""

import shutil
from datetime import date

import dagster as dg
import pytest
from support import COL_STREET, apply_env, land, world_env

from assets.geography.boundaries import boundary_assets
from assets.soc import ALARMS_KEY, CHB_EVALUATION_KEY, SCORES_KEY, soc_assets
from assets.sources.agencies import LANDING_SOURCES, ingest_agency_delivery
from assets.sources.police_uk import (
    POLICE_UK_MONTHS,
    STREET_CRIMES_KEY,
    STREET_QUARANTINE_KEY,
    police_uk_street_crimes,
)
from assets.warehouse.dbt import warehouse_dbt_assets
from orchestration.definitions import build_defs

#: what the SOC views read: crimes, calls, intelligence, the CHB register, disruptions
DATASETS = (
    "police.occurrences",
    "police.cad_incidents",
    "police.intelligence",
    "soc.chb_sites",
    "soc.disruptions",
)


def load_sources(world, root):
    """Land and load the SOC-relevant deliveries with the source assets' own function."""
    from assets.sources.agencies import boundary_layers
    from config.resources import PlatformConfig

    # the simulated world's force area (VRDP_FORCE_DISTRICTS), cut from the national pack
    layers = boundary_layers(PlatformConfig())
    for spec in LANDING_SOURCES:
        if spec.source not in DATASETS:
            continue
        src = world / "landing" / spec.agency / spec.dataset
        dst = root / "landing" / spec.agency / spec.dataset
        shutil.copytree(src, dst)
        for folder in sorted(p for p in dst.iterdir() if p.is_dir()):
            ingest_agency_delivery(
                spec,
                sorted(folder.glob(spec.file_glob)),
                delivery=folder.name,
                lake_dir=root / "lake",
                validated_on=date.today(),
                layers=layers if spec.locate else None,
            )


@pytest.fixture(scope="session")
def soc_warehouse(small_world, tmp_path_factory):
    """Data root of the small world's SOC warehouse and SOC analysis outputs."""
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("soc") / "data"
    apply_env(mp, world_env(root))
    load_sources(small_world, root)
    resources = build_defs().resources
    instance = dg.DagsterInstance.ephemeral()
    everything = [
        *boundary_assets(),
        police_uk_street_crimes,
        warehouse_dbt_assets(),
        *soc_assets(),
    ]
    assert dg.materialize(
        everything,
        selection=dg.AssetSelection.groups("geography"),
        instance=instance,
        resources=resources,
    ).success
    # one tiny police.uk month: the seeds' tests also read the street crimes source
    land(root, COL_STREET / "2025-01-city-of-london-street.csv.gz")
    instance.add_dynamic_partitions(POLICE_UK_MONTHS.name, ["2025-01"])
    assert dg.materialize(
        everything,
        selection=dg.AssetSelection.assets(STREET_CRIMES_KEY, STREET_QUARANTINE_KEY),
        partition_key="2025-01",
        instance=instance,
        resources=resources,
    ).success
    marts = ("fct_ward_soc_monthly", "fct_disruptions", "fct_ward_disruption_overlay")
    keys = [SCORES_KEY, ALARMS_KEY, CHB_EVALUATION_KEY, *(dg.AssetKey(["marts", m]) for m in marts)]
    result = dg.materialize(
        everything,
        selection=dg.AssetSelection.assets(*keys).upstream()
        - dg.AssetSelection.assets(STREET_CRIMES_KEY, STREET_QUARANTINE_KEY)
        - dg.AssetSelection.groups("geography"),
        instance=instance,
        resources=resources,
    )
    assert result.success
    mp.undo()  # tests re-enter the environment (``_soc_env``)
    yield root


@pytest.fixture(autouse=True)
def _soc_env(request, monkeypatch):
    """A test of the session SOC warehouse runs in its environment (its data root)."""
    if "soc_warehouse" in request.fixturenames:
        apply_env(monkeypatch, world_env(request.getfixturevalue("soc_warehouse")))

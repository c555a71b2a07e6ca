"""The dbt warehouse (dbt_project/) as assets in the same graph as the Python assets.

The manifest is prepared by ``make prepare`` (``python -m orchestration.prepare``),
never at import; dbt sources ``police_uk.street_crimes`` and
``quarantine.police_uk_street_crimes`` map to the Python source assets of the
same keys, so lineage runs unbroken from landing file to mart.
"""

import os
import sys
from collections.abc import Mapping
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from config.resources import WAREHOUSE_POOL, PlatformConfig, warehouse_lock
from config.settings import REPO_ROOT

__all__ = [
    "dbt_project",
    "dbt_resource",
    "WarehouseDbtResource",
    "dbt_build_args",
    "warehouse_dbt_assets",
    "warehouse_linked_dbt_assets",
    "LINKED_SELECTION",
]

#: dbt nodes downstream of the Python person-linkage asset (source linkage.*):
#: built by a second dbt asset definition so the graph runs staging ->
#: intermediate -> linkage (Python) -> marts.
LINKED_SELECTION = "source:linkage+"

DBT_DIR = REPO_ROOT / "dbt_project"

#: dbt's indirect test selection for every build: "buildable" runs a test when
#: each of its parents is selected or upstream of the selection (dbt's default,
#: "eager", would run bridge_person_events' relationships tests with fct_events,
#: in the build before the bridge exists).
INDIRECT_SELECTION_ENV = "DBT_INDIRECT_SELECTION"
INDIRECT_SELECTION = "buildable"


@cache
def dbt_project() -> DbtProject:
    """The dbt project, built once (absolute paths; nothing parsed here)."""
    return DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


class WarehouseDbtResource(DbtCliResource):
    """dagster-dbt's CLI resource without two fixed costs of every dbt step (about 3.6 s).

    Before each invocation ``DbtCliResource.cli`` (dagster-dbt 0.29) runs
    ``dbt --version`` in a subprocess (1.8 s, measured with pyinstrument on the
    warehouse step) and builds a dbt adapter in this process, loading the
    project's macros (1.8 s). The adapter only serves
    ``fetch_column_metadata`` and ``fetch_row_counts``, which the warehouse does
    not call; and the executable is the dbt-core installed beside this Python
    (:func:`dbt_resource`), whose version the package metadata gives. make run
    has four dbt steps, each on its critical path.
    """

    @cached_property
    def _cli_version(self):
        from importlib.metadata import version as installed

        from packaging import version

        return version.parse(installed("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


def dbt_resource() -> DbtCliResource:
    """Dbt CLI resource for the project, using the dbt installed beside this Python.

    That dbt is this environment's dbt-core: :class:`WarehouseDbtResource` skips
    the version subprocess. Any other ``dbt`` on the PATH gets dagster-dbt's own
    resource.
    """
    dbt_exe = Path(sys.executable).parent / "dbt"
    if dbt_exe.exists():
        return WarehouseDbtResource(project_dir=dbt_project(), dbt_executable=str(dbt_exe))
    return DbtCliResource(project_dir=dbt_project(), dbt_executable="dbt")


def dbt_build_args(full_refresh: bool = False) -> list[str]:
    """Arguments of the dbt invocation the warehouse asset runs.

    >>> dbt_build_args()
    ['build']
    >>> dbt_build_args(full_refresh=True)
    ['build', '--full-refresh']
    """
    return ["build", *(["--full-refresh"] if full_refresh else [])]


class WarehouseTranslator(DagsterDbtTranslator):
    """Groups dbt nodes by layer (staging, marts, reference) in the UI."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """The layer folder of a model, ``reference`` for seeds."""
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "warehouse"


class DbtBuildConfig(dg.Config):
    """Run-time options of the dbt build."""

    full_refresh: bool = False


def _dbt_assets(name: str, select: str, exclude: str | None) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=dbt_project().manifest_path,
        project=dbt_project(),
        dagster_dbt_translator=WarehouseTranslator(),
        pool=WAREHOUSE_POOL,
        name=name,
        select=select,
        exclude=exclude,
    )
    def _assets(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        platform: PlatformConfig,
        config: DbtBuildConfig,
    ):
        """Build the selected dbt models and seeds, and run their tests."""
        s = platform.resolve()
        s.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        # dbt (a subprocess) inherits this environment; pin the resolved absolute
        # root so the views it creates over the lake work from any directory.
        os.environ["VRDP_DATA_ROOT"] = str(s.data_root)
        # A test between models of the two dbt assets (bridge -> fct_events) runs
        # with the asset that builds its last parent, never before that parent exists.
        os.environ[INDIRECT_SELECTION_ENV] = INDIRECT_SELECTION
        yield from _build_with_restricted_db(s, dbt, config, context)

    return _assets


def _build_with_restricted_db(s, dbt, config, context):
    """Run dbt with the restricted identity database owner-only from its creation.

    The analysts' warehouse file is created first with the ordinary umask; the
    restricted file (profiles.yml ``attach``) is created 0600, and dbt (a
    subprocess inheriting the umask) runs under ``umask 077`` so the write-ahead
    logs of both files are owner-only too.
    """
    import duckdb

    from vrdp.governance.permissions import ensure_restricted_db, owner_only

    # dbt writes both files: it has them alone (readers in other processes wait)
    with warehouse_lock(s.warehouse_path, exclusive=True):
        if not s.warehouse_path.exists():
            duckdb.connect(str(s.warehouse_path)).close()
        ensure_restricted_db(s.identity_db_path)
        with owner_only():
            invocation = _engine_dbt(dbt, s.engine).cli(
                dbt_build_args(config.full_refresh), context=context
            )
            yield from invocation.stream()


def _engine_dbt(dbt: DbtCliResource, engine: str) -> DbtCliResource:
    """The dbt resource for the configured engine.

    DuckDB: ``dbt`` itself. Spark: ``--target spark`` run by
    :data:`assets.warehouse.dbt_spark.EXECUTABLE`, which runs dbt in a prepared
    SparkSession (a Hive catalog, so the next dbt step finds this one's tables)
    and publishes what it built into the DuckDB warehouse, which the assets
    after dbt read whichever engine built it.
    """
    if engine != "spark":
        return dbt
    from assets.warehouse.dbt_spark import EXECUTABLE

    os.environ["VRDP_PYTHON"] = sys.executable  # the platform's Python runs the wrapper
    return WarehouseDbtResource(
        project_dir=dbt_project(), dbt_executable=str(EXECUTABLE), target="spark"
    )


def warehouse_dbt_assets() -> dg.AssetsDefinition:
    """Every dbt model, seed and test upstream of person linkage, in the warehouse pool."""
    return _dbt_assets("warehouse_dbt", "fqn:*", LINKED_SELECTION)


def warehouse_linked_dbt_assets() -> dg.AssetsDefinition:
    """The dbt models built on person linkage (identity, person marts), in the warehouse pool."""
    return _dbt_assets("warehouse_linked_dbt", LINKED_SELECTION, None)

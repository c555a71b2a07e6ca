"""Paths and helpers shared by tests (import as ``support``; tests/ is on pythonpath)."""

import shutil
from pathlib import Path

import duckdb

from vrdp.governance.permissions import attach_restricted

REPO = Path(__file__).resolve().parents[1]
PUBLIC = REPO / "public_data"
COL_STREET = PUBLIC / "police_uk" / "city_of_london" / "street"
TVP_STREET = PUBLIC / "police_uk" / "thames_valley" / "street"


def land(data_root: Path, *files: Path) -> Path:
    """Copy files into the street-level landing folder and return the folder."""
    landing = data_root / "landing" / "police_uk" / "street"
    landing.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copy(f, landing / f.name)
    return landing


def _demo_box():
    from config.demo import DEMO_WORLD_BOX_BNG
    from vrdp.coords import AreaBox

    return AreaBox(**DEMO_WORLD_BOX_BNG)


#: The simulated (Thames Valley) world's area box, for tests that load its deliveries.
THAMES_VALLEY_BOX = _demo_box()

#: The simulated world's force area (Thames Valley Police's 13 districts), for tests that
#: load its deliveries without landing the real police.uk files the area is inferred from.
DEMO_WORLD_DISTRICTS = (
    "E06000036,E06000037,E06000038,E06000039,E06000040,E06000041,E06000042,E06000060,"
    "E07000177,E07000178,E07000179,E07000180,E07000181"
)


def world_env(root: Path, **extra: str) -> dict[str, str]:
    """The environment of a session-wide small-world data root (its force area, its home).

    Session fixtures build under it and then restore the environment, so one session
    fixture never leaks its data root into another's tests on the same worker; tests
    and module fixtures re-enter it with :func:`using_env`.
    """
    return {
        "VRDP_DATA_ROOT": str(root),
        "HOME": str(root.parent / "home"),
        "VRDP_POLICE_UK_FORCE": "city-of-london",
        "VRDP_FORCE_DISTRICTS": DEMO_WORLD_DISTRICTS,
        **extra,
    }


def apply_env(mp, env: dict[str, str]) -> None:
    """Set ``env`` through a pytest MonkeyPatch (undone with it); no DAGSTER_HOME."""
    for key, value in env.items():
        mp.setenv(key, value)
    mp.delenv("DAGSTER_HOME", raising=False)


def read_warehouse(root, sql):
    """Run ``sql`` on the test warehouse (read-only) and return a DataFrame.

    The restricted identity database is attached as ``restricted`` when it exists.
    """
    con = duckdb.connect(str(root / "warehouse" / "vrdp.duckdb"), read_only=True)
    try:
        restricted = root / "restricted" / "identity.duckdb"
        if restricted.exists():
            attach_restricted(con, restricted, read_only=True)
        return con.execute(sql).df()
    finally:
        con.close()


#: the warehouse's schemas whose columns dbt documents
DOCUMENTED_SCHEMAS = ("staging", "intermediate", "identity", "marts")


def analyst_schemas(root) -> set[str]:
    """The schemas of the analysts' warehouse file alone (the restricted file not attached)."""
    con = duckdb.connect(str(root / "warehouse" / "vrdp.duckdb"), read_only=True)
    try:
        return {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
    finally:
        con.close()


def described_columns(root):
    """Every column of the dbt models built under ``root``, and whether dbt describes it.

    Columns come from the built warehouse (information_schema), descriptions from the
    dbt manifest (doc blocks rendered), so a column added to a model without a
    description shows here as ``described = False``.
    """
    import json

    from config.settings import REPO_ROOT

    manifest = json.loads((REPO_ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    described, models = {}, set()
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model":
            models.add(node["name"])
            for name, col in node["columns"].items():
                described[(node["name"], name)] = (col.get("description") or "").strip()
    columns = read_warehouse(
        root,
        "select table_schema, table_name, column_name from information_schema.columns "
        f"where table_schema in {DOCUMENTED_SCHEMAS}",
    )
    columns = columns[columns["table_name"].isin(models)]  # dbt's own tables only
    has = [
        bool(described.get((t, c)))
        for t, c in zip(columns["table_name"], columns["column_name"], strict=True)
    ]
    return columns.assign(described=has)

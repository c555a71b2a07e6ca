"""Every environment variable the platform reads, with its default.

This is the one place that names them. Values are read when a function here is
called (at run time), never at import, so tests can point the platform at a
temporary data root with ``monkeypatch.setenv``. dbt's ``profiles.yml`` and
``dbt_project.yml`` read the same variables with the same defaults.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from config.demo import DEMO_FORCE

__all__ = ["REPO_ROOT", "ENV_VARS", "Settings", "settings"]

REPO_ROOT = Path(__file__).resolve().parents[1]

#: name -> (default, meaning). The defaults are what ``make run`` uses.
ENV_VARS: dict[str, tuple[str, str]] = {
    "VRDP_DATA_ROOT": (
        str(REPO_ROOT / "data"),
        "root of all generated data: landing zone, lake, warehouse, exports, Dagster home",
    ),
    "VRDP_PUBLIC_DATA": (
        str(REPO_ROOT / "public_data"),
        "the real public data shipped with the repository (data.police.uk, ONS, OSM, CCHI)",
    ),
    "VRDP_POLICE_UK_FORCE": (
        DEMO_FORCE,
        "data.police.uk force slug(s) whose files are loaded (e.g. city-of-london); "
        "a comma-separated list for a unit covering several forces",
    ),
    "VRDP_FORCE_DISTRICTS": (
        "",
        "the force area as local authority district codes (comma-separated, e.g. "
        "E09000001); empty: inferred from the LSOAs the force's own files report",
    ),
    "VRDP_WORLD_SCALE": (
        "medium",
        "simulated multi-agency world make run lands: small, medium, large, or none "
        "(none by default when another force than the demo's is configured: the world "
        "is built on the demo force's geography)",
    ),
    "VRDP_WORLD_SEED": ("7", "seed of the simulated world"),
    "VRDP_PSEUDONYM_SECRET": (
        "",
        "HMAC secret for person_key and officer pseudonyms; required (make run sets a demo one)",
    ),
    "VRDP_H3_RESOLUTION": ("9", "H3 resolution of the hot spot grid (9 is about 0.1 km2)"),
    "VRDP_HOTSPOT_WINDOW_MONTHS": ("3", "months of data (the latest delivered) hot spots use"),
    "VRDP_HOTSPOT_TOP_N": ("50", "how many hot spot cells the tasking export lists"),
    "VRDP_GOVERNANCE_DIR": (
        str(REPO_ROOT / "governance"),
        "the versioned lawful-basis and retention registers (YAML) the platform enforces",
    ),
    "VRDP_TRIAL_SOURCE": (
        "platform",
        "who allocates patrol/control: platform (randomised here) or import (a delivered schedule)",
    ),
    "VRDP_TRIAL_START": ("", "first day of the platform's trial (YYYY-MM-DD); empty: no trial"),
    "VRDP_TRIAL_DAYS": ("28", "length of the platform's trial in days"),
    "VRDP_TRIAL_UNITS": ("24", "how many hot spots the platform's trial cohort takes"),
    "VRDP_TRIAL_DESIGN": ("simple_daily", "randomisation: simple_daily, block or crossover"),
    "VRDP_TRIAL_SEED": ("15", "seed of the trial randomisation and of the daily risk draw"),
    "VRDP_TWIN_DAYS": (
        "3",
        "days make run steps the simulated force after the world ends (0: none), each "
        "answering the platform's own published tasking",
    ),
    "VRDP_MEMORY_TUNING": (
        "1",
        "make run starts its processes with NumPy's huge-page advice off and glibc keeping "
        "freed memory (config.runtime); 0: the interpreter's defaults",
    ),
    "VRDP_MAP_TILE_URL": (
        "",
        "basemap tile URL template for the map, e.g. https://tiles.example.police.uk/{z}/{x}/{y}.png"
        " (a force's own tile server); empty: no basemap, the shipped street layer only",
    ),
    "VRDP_MAP_TILE_ATTRIBUTION": ("", "attribution shown with the basemap tiles"),
    "VRDP_ENGINE": (
        "duckdb",
        "engine of the heavy steps: duckdb (one machine) or spark (GPS dwell and dosage, "
        "Splink linkage and dbt on Apache Spark; see docs/spark.md)",
    ),
    "VRDP_SPARK_MASTER": (
        "local[2]",
        "Spark master URL when VRDP_ENGINE=spark: local[N] on this machine, or a cluster "
        "(spark://host:7077, yarn, k8s://...)",
    ),
    "VRDP_SPARK_DRIVER_MEMORY": (
        "2g",
        "memory of the Spark driver JVM (in local mode, of its executors too), e.g. 8g: "
        "Splink on Spark needs more than the default for a million person records",
    ),
    "VRDP_RTM_STUDY_AREA": (
        "",
        "risk terrain study area on the force's own POIs: local authority district and/or "
        "ward codes (comma-separated, e.g. E09000001 or E05009289,E05009290); empty: the "
        "force district with the most located street crimes in the model period",
    ),
}


def _env(name: str) -> str:
    default, _meaning = ENV_VARS[name]
    value = os.environ.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build one with :func:`settings`."""

    data_root: Path
    public_data: Path
    police_uk_forces: tuple[str, ...]
    force_districts: tuple[str, ...]
    world_scale: str
    world_seed: int
    h3_resolution: int
    hotspot_window_months: int
    hotspot_top_n: int
    trial_source: str = "platform"
    trial_start: str = ""
    trial_days: int = 28
    trial_units: int = 24
    trial_design: str = "simple_daily"
    trial_seed: int = 15
    twin_days: int = 3

    @property
    def police_uk_force(self) -> str:
        """The configured force slug(s) as one label (``a,b`` for several forces)."""
        return ",".join(self.police_uk_forces)

    @property
    def national_boundaries_dir(self) -> Path:
        """The shipped national boundary pack (every LSOA 2021 and ward in England and Wales)."""
        return self.public_data / "boundaries" / "england_wales"

    map_tile_url: str = ""
    map_tile_attribution: str = ""
    engine: str = "duckdb"
    spark_master: str = "local[2]"
    spark_driver_memory: str = "2g"
    #: ``VRDP_RTM_STUDY_AREA``: district/ward codes of the police.uk risk terrain model
    rtm_study_area: tuple[str, ...] = ()

    @property
    def landing_dir(self) -> Path:
        """Where agencies' files arrive (and ``rejected/`` sits beside it)."""
        return self.data_root / "landing"

    @property
    def rejected_dir(self) -> Path:
        """Files that could not be parsed at all, moved out of the landing zone."""
        return self.data_root / "rejected"

    @property
    def lake_dir(self) -> Path:
        """Typed Parquet written by source and analytics assets; dbt reads it."""
        return self.data_root / "lake"

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB warehouse file dbt builds (one writer at a time)."""
        return self.data_root / "warehouse" / "vrdp.duckdb"

    @property
    def governance_dir(self) -> Path:
        """The lawful-basis and retention registers (``VRDP_GOVERNANCE_DIR``)."""
        return Path(_env("VRDP_GOVERNANCE_DIR")).resolve()

    @property
    def restricted_dir(self) -> Path:
        """Owner-only folder (0700) of the restricted identity database."""
        return self.data_root / "restricted"

    @property
    def identity_db_path(self) -> Path:
        """The restricted DuckDB file (direct identifiers), never the analysts' warehouse.

        dbt attaches it as ``restricted``: ``restricted.identity.*`` and the
        person-level ``restricted.intermediate.*`` tables live here, created 0600.
        """
        return self.restricted_dir / "identity.duckdb"

    @property
    def exports_dir(self) -> Path:
        """Versioned exports: ``<version>/`` folders and a ``latest`` link."""
        return self.data_root / "exports"

    @property
    def world_dir(self) -> Path:
        """Where the simulated world is generated (landing files and truth)."""
        return self.data_root / "world" / f"{self.world_scale}-seed{self.world_seed}"

    @property
    def world_truth_dir(self) -> Path | None:
        """The simulated world's truth tables, when the demo generated one.

        Only evaluation metadata (linkage quality, planted hot spot recall,
        RTM factor recovery) reads it, and says so; no output is computed from
        it. None when ``VRDP_WORLD_SCALE=none`` or the world is not generated.
        """
        if self.world_scale == "none":
            return None
        truth = self.world_dir / "truth"
        return truth if (truth / "world.json").exists() else None

    @property
    def dagster_home(self) -> Path:
        """Persistent Dagster instance used by ``make run`` and ``make ui``."""
        return self.data_root / "dagster_home"


def settings() -> Settings:
    """Read the environment now and return resolved settings.

    Raises
    ------
    ValueError
        If a numeric variable does not parse or is out of range; the message
        names the variable.
    """

    def _int(name: str, lo: int, hi: int) -> int:
        raw = _env(name)
        try:
            value = int(raw)
        except ValueError as exc:
            raise ValueError(f"{name}={raw!r} is not an integer") from exc
        if not lo <= value <= hi:
            raise ValueError(f"{name}={value} is outside {lo}..{hi}")
        return value

    def _choice(name: str, allowed: tuple[str, ...]) -> str:
        value = _env(name)
        if value not in allowed:
            raise ValueError(f"{name}={value!r} is not one of {', '.join(allowed)}")
        return value

    def _memory(name: str) -> str:
        value = _env(name).strip().lower()
        if not re.fullmatch(r"[1-9]\d*[kmgt]", value):
            raise ValueError(f"{name}={value!r} is not a JVM memory size such as 2g or 512m")
        return value

    def _list(name: str, *, required: bool = True) -> tuple[str, ...]:
        items = [t.strip() for t in _env(name).replace(" ", ",").split(",")]
        value = tuple(dict.fromkeys(t for t in items if t))
        if required and not value:
            raise ValueError(f"{name} names nothing")
        return value

    def _world_scale(forces: tuple[str, ...]) -> str:
        # The simulated world lies in the demo force's area: another force gets none
        # unless asked for (its deliveries would all be out of that force's area).
        if forces != (DEMO_FORCE,) and not os.environ.get("VRDP_WORLD_SCALE", "").strip():
            return "none"
        return _choice("VRDP_WORLD_SCALE", ("small", "medium", "large", "none"))

    forces = _list("VRDP_POLICE_UK_FORCE")

    def _date(name: str) -> str:
        value = _env(name)
        if value:
            import datetime as _dt

            try:
                _dt.date.fromisoformat(value)
            except ValueError as exc:
                raise ValueError(f"{name}={value!r} is not a date (YYYY-MM-DD)") from exc
        return value

    return Settings(
        data_root=Path(_env("VRDP_DATA_ROOT")).resolve(),
        public_data=Path(_env("VRDP_PUBLIC_DATA")).resolve(),
        police_uk_forces=forces,
        force_districts=tuple(d.upper() for d in _list("VRDP_FORCE_DISTRICTS", required=False)),
        world_scale=_world_scale(forces),
        world_seed=_int("VRDP_WORLD_SEED", 0, 2**31 - 1),
        h3_resolution=_int("VRDP_H3_RESOLUTION", 0, 15),
        hotspot_window_months=_int("VRDP_HOTSPOT_WINDOW_MONTHS", 1, 120),
        hotspot_top_n=_int("VRDP_HOTSPOT_TOP_N", 1, 100_000),
        trial_source=_choice("VRDP_TRIAL_SOURCE", ("platform", "import")),
        trial_start=_date("VRDP_TRIAL_START"),
        trial_days=_int("VRDP_TRIAL_DAYS", 1, 3660),
        trial_units=_int("VRDP_TRIAL_UNITS", 2, 10_000),
        trial_design=_choice("VRDP_TRIAL_DESIGN", ("simple_daily", "block", "crossover")),
        trial_seed=_int("VRDP_TRIAL_SEED", 0, 2**31 - 1),
        twin_days=_int("VRDP_TWIN_DAYS", 0, 366),
        map_tile_url=_env("VRDP_MAP_TILE_URL"),
        map_tile_attribution=_env("VRDP_MAP_TILE_ATTRIBUTION"),
        engine=_choice("VRDP_ENGINE", ("duckdb", "spark")),
        spark_master=_env("VRDP_SPARK_MASTER"),
        spark_driver_memory=_memory("VRDP_SPARK_DRIVER_MEMORY"),
        rtm_study_area=tuple(d.upper() for d in _list("VRDP_RTM_STUDY_AREA", required=False)),
    )

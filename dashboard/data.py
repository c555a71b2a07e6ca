"""What the dashboard shows, read from a short-lived read-only view of the warehouse.

Each load opens the DuckDB file read-only, copies the SOC marts it needs into pandas
and closes it at once (a connection held open would block the pipeline's next
warehouse run); the SOC analysis Parquet (alarms) and the force hot spot list come
from the lake. Loads are cached by the files' modification times.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from config.locks import open_warehouse

__all__ = ["DashboardData", "load", "suppress"]

#: Partner-facing counts below this are suppressed.
SMALL_COUNT = 5


def suppress(n) -> str:
    """A count as shown to partners: below 5 (and above 0) becomes '<5'.

    >>> suppress(0), suppress(3), suppress(12)
    ('0', '<5', '12')
    """
    n = int(n)
    return "<5" if 0 < n < SMALL_COUNT else str(n)


@dataclass
class DashboardData:
    """Tables behind the views (pandas), one snapshot."""

    wards: pd.DataFrame
    monthly: pd.DataFrame
    soc_events: pd.DataFrame
    chb: pd.DataFrame
    disruptions: pd.DataFrame
    overlay: pd.DataFrame
    alarms: pd.DataFrame
    hotspots: pd.DataFrame
    exploitation: pd.DataFrame | None
    ward_shapes: dict = field(default_factory=dict)
    note: str = ""
    #: the published needs pack (partner-facing, already suppressed): its tables by
    #: name and its manifest; empty until ``exports/needs_pack`` is published
    needs: dict = field(default_factory=dict)
    needs_manifest: dict = field(default_factory=dict)
    #: the patrol compliance tables (``assets/patrol/compliance.py``) by name, see
    #: :data:`PATROL_TABLES`; empty until the patrol assets have run
    patrol: dict = field(default_factory=dict)
    #: the serious violence marts (``monthly``, ``trend``: partner-facing, already
    #: suppressed) and ``areas`` (ward and district names, reference seed); empty
    #: until the warehouse has them
    violence: dict = field(default_factory=dict)


def _table(con, schema: str, name: str, sql: str | None = None) -> pd.DataFrame:
    q = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    if not con.execute(q, [schema, name]).fetchone()[0]:
        return pd.DataFrame()
    return con.execute(sql or f"select * from {schema}.{name}").df()


def _mtime(p: Path) -> int:
    return p.stat().st_mtime_ns if p.exists() else 0


def load(data_root: Path) -> DashboardData:
    """The current snapshot (re-read when the warehouse or the lake files change)."""
    wh = data_root / "warehouse" / "vrdp.duckdb"
    lake = data_root / "lake"
    files = (
        wh,
        lake / "soc_analysis" / "early_warning_alarms.parquet",
        lake / "force_hotspots" / "hotspot_list.parquet",
        _needs_version(data_root),
        *(data_root / "lake" / "patrol" / f for f in PATROL_TABLES.values()),
    )
    return _load(str(data_root), tuple(_mtime(f) for f in files))


@lru_cache(maxsize=2)
def _load(root: str, _stamp: tuple) -> DashboardData:
    import duckdb

    data_root = Path(root)
    wh = data_root / "warehouse" / "vrdp.duckdb"
    patrol = _patrol(data_root)
    if not wh.exists() and not patrol:
        raise FileNotFoundError(f"{wh}: no warehouse yet (make run first)")
    # no warehouse but patrol tables (a patrol-only data root): the SOC views are empty
    tables = _warehouse_tables(duckdb, wh)
    monthly, soc_events, chb, disruptions, overlay, exploitation, violence = tables
    lake = data_root / "lake"
    alarms_p = lake / "soc_analysis" / "early_warning_alarms.parquet"
    alarms = pd.read_parquet(alarms_p) if alarms_p.exists() else pd.DataFrame()
    hs_p = lake / "force_hotspots" / "hotspot_list.parquet"
    hotspots = pd.read_parquet(hs_p) if hs_p.exists() else pd.DataFrame()
    if len(hotspots) and "h3_cell" in hotspots and "latitude" not in hotspots:
        import h3

        ll = [h3.cell_to_latlng(c) for c in hotspots["h3_cell"]]
        hotspots = hotspots.assign(latitude=[a for a, _ in ll], longitude=[b for _, b in ll])
    wards = (
        monthly[["ward_code", "ward_name", "population", "imd_decile"]]
        .drop_duplicates()
        .sort_values("ward_name")
        .reset_index(drop=True)
        if len(monthly)
        else pd.DataFrame(columns=["ward_code", "ward_name", "population", "imd_decile"])
    )
    needs = _needs(data_root)
    if wards.empty and needs:  # no SOC marts (e.g. a partners-only warehouse): the pack's wards
        w = needs["needs"]["needs_area_rates"]
        w = w[(w["area_type"] == "ward") & (w["indicator"] == w["indicator"].min())]
        wards = (
            w.assign(ward_code=w["area_code"], ward_name=w["area_name"])
            .groupby(["ward_code", "ward_name"], as_index=False)
            .agg(population=("population", "max"), imd_decile=("imd_decile_national", "max"))
            .sort_values("ward_name")
            .reset_index(drop=True)
        )
    return DashboardData(
        wards=wards,
        monthly=monthly,
        soc_events=soc_events,
        chb=chb,
        disruptions=disruptions,
        overlay=overlay,
        alarms=alarms,
        hotspots=hotspots,
        exploitation=exploitation if len(exploitation) else None,
        ward_shapes=_ward_shapes(lake),
        patrol=patrol,
        violence=violence,
        **needs,
    )


def _violence(con) -> dict:
    """The serious violence marts and the area names ({} until the marts are built).

    The marts hold no area names (so no name-like value sits beside the figures);
    names come from the ward reference seed (``reference.ons_wards_2025``).
    """
    monthly = _table(con, "marts", "serious_violence_area_monthly")
    if monthly.empty:
        return {}
    return {
        "monthly": monthly,
        "trend": _table(con, "marts", "serious_violence_area_trend"),
        "areas": _table(con, "reference", "ons_wards_2025"),
    }


#: The patrol compliance files the patrol view reads (under ``lake/patrol``): per
#: tasked spot-day, per team and day, and the supervisor's officers (pseudonyms).
PATROL_TABLES = {
    "spot_days": "tasked_dosage.parquet",
    "team_day": "compliance_team_day.parquet",
    "officers": "supervisor/officer_dosage.parquet",
}


def _patrol(data_root: Path) -> dict:
    """The patrol compliance tables written by the compliance assets ({} if none yet).

    The officer table holds pseudonymised officer keys only; it stays on the server
    and the patrol view draws it for supervisor roles only.
    """
    folder = data_root / "lake" / "patrol"
    if not (folder / PATROL_TABLES["team_day"]).exists():
        return {}
    return {
        name: pd.read_parquet(folder / f) if (folder / f).exists() else pd.DataFrame()
        for name, f in PATROL_TABLES.items()
    }


#: The needs pack tables the needs view reads (``assets.partners.needs_pack``).
NEEDS_TABLES = ("needs_area_rates", "needs_deprivation_rates", "needs_ae_unreported")


def _needs_version(data_root: Path) -> Path:
    """The needs pack version ``latest`` points to (its folder's time stamps the cache)."""
    latest = data_root / "exports" / "needs_pack" / "latest"
    return latest.resolve() if latest.exists() else latest


def _needs(data_root: Path) -> dict:
    """The published needs pack: the partner export, never the marts (already suppressed)."""
    version = _needs_version(data_root)
    if not (version / "manifest.json").exists():
        return {}
    manifest = json.loads((version / "manifest.json").read_text())
    tables = {t: pd.read_parquet(version / f"{t}.parquet") for t in NEEDS_TABLES}
    return {"needs": tables, "needs_manifest": manifest}


def _ward_shapes(lake: Path) -> dict:
    """Ward outlines (WGS84 exterior rings) by ward code, from the force's boundary asset.

    ``geography/wards_boundaries`` is cut from the national pack for the configured
    force, so the map shows that force's wards; empty before it is materialized.
    """
    path = lake / "geography" / "wards_boundaries.parquet"
    if not path.exists():
        return {}
    st = path.stat()
    return _ward_shapes_of(str(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=2)
def _ward_shapes_of(path: str, mtime_ns: int, size: int) -> dict:
    import geopandas as gpd

    wards = gpd.read_parquet(path, columns=["WD25CD", "geometry"]).to_crs(4326)
    out = {}
    for code, geom in zip(wards["WD25CD"], wards.geometry, strict=True):
        polys = getattr(geom, "geoms", [geom])
        out[code] = [[list(xy) for xy in poly.exterior.coords] for poly in polys]
    return out


def _warehouse_tables(duckdb, wh: Path) -> tuple:
    """The dashboard's marts, read in one connection (an empty one without a warehouse).

    Under the warehouse's shared lock: a pipeline step writing the warehouse
    has it alone, and the dashboard waits for it instead of failing to open it.
    """
    if not wh.exists():
        con = duckdb.connect(":memory:")
        try:
            return _marts(con)
        finally:
            con.close()
    with open_warehouse(wh) as con:
        return _marts(con)


def _marts(con) -> tuple:
    """The marts the dashboard shows (empty frames for those not built)."""
    monthly = _table(con, "marts", "fct_ward_soc_monthly")
    soc_events = _table(
        con,
        "marts",
        "fct_soc_events",
        "select event_type, soc_category, ward_code, occurred_on, longitude, latitude,"
        " grading_intelligence from marts.fct_soc_events where ward_code is not null",
    )
    chb = _table(con, "marts", "dim_chb_site_phases")
    disruptions = _table(con, "marts", "fct_disruptions")
    overlay = _table(con, "marts", "fct_ward_disruption_overlay")
    exploitation = _table(con, "marts", "fct_ward_exploitation_counts")
    return monthly, soc_events, chb, disruptions, overlay, exploitation, _violence(con)

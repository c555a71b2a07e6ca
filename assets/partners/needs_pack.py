"""The strategic needs assessment pack as a BI-friendly, versioned export for partners."""

import dagster as dg

from config.resources import WAREHOUSE_POOL, PlatformConfig

__all__ = ["NEEDS_TABLES", "NEEDS_SUBDIR", "needs_pack_export", "needs_export_files"]

#: Partner-facing marts of the pack (schema marts), each published as Parquet and CSV.
NEEDS_TABLES = ("needs_area_rates", "needs_deprivation_rates", "needs_ae_unreported")
NEEDS_SUBDIR = "needs_pack"


_NAMES = """
    select distinct 'lsoa' as area_type, lsoa21_code as area_code, lsoa21_name as area_name
    from marts.needs_lsoa_population
    union all
    select distinct 'ward', ward_code, ward_name from marts.needs_lsoa_population
    union all
    select 'force', 'force', 'Force area'
"""


_POPULATION_NOTE = {
    "demo": "2011 census residents on LSOA 2021; age bands by England and Wales 2011 "
    "shares (vrdp.needs.reference, the shipped demo seed)",
    "delivered": "ONS mid-year population estimates by LSOA 2021 delivered by the force; "
    "age bands from single years of age (vrdp.needs.population)",
}


def _named(table: str) -> str:
    """SQL reading a needs mart, with each area's public name (LSOA, ward) when it has areas."""
    if table == "needs_deprivation_rates":
        return f"select * from marts.{table} order by 1"
    return (
        f"select t.*, n.area_name from marts.{table} as t left join ({_NAMES}) as n "
        "on t.area_type = n.area_type and t.area_code = n.area_code order by 1"
    )


def needs_export_files(tables: dict) -> list:
    """Parquet and CSV of each table (``exports.format.ExportFile``), CSV for BI tools."""
    from exports.format import ExportFile

    files = []
    for name, df in sorted(tables.items()):

        def parquet(path, df=df):
            df.to_parquet(path, index=False)

        def csv(path, df=df):
            df.to_csv(path, index=False, date_format="%Y-%m-%d")

        files.append(ExportFile(f"{name}.parquet", len(df), parquet))
        files.append(ExportFile(f"{name}.csv", len(df), csv))
    return files


@dg.asset(
    key=dg.AssetKey(["exports", "needs_pack_export"]),
    deps=[dg.AssetKey(["marts", t]) for t in (*NEEDS_TABLES, "needs_lsoa_population")],
    group_name="serving",
    kinds={"python", "duckdb", "parquet", "csv"},
    pool=WAREHOUSE_POOL,
    code_version="1",
)
def needs_pack_export(
    context: dg.AssetExecutionContext, platform: PlatformConfig
) -> dg.MaterializeResult:
    """Strategic needs assessment pack for partners, as Parquet and CSV with a manifest.

    Rates per 1,000 with 95% CIs by ward, LSOA, age band and deprivation decile, and
    A&E violence not in police records; publication blocked if a count under 5 shows.
    """
    from exports.format import ExportRejected, publish_export
    from vrdp.governance.register import bases_for, load_register
    from vrdp.needs.rates import SUPPRESS_BELOW, small_count_findings

    s = platform.resolve()
    with platform.warehouse(read_only=True) as con:
        tables = {t: con.execute(_named(t)).df() for t in NEEDS_TABLES}
        sources = con.execute(
            "select distinct population_source from marts.needs_lsoa_population"
        ).df()["population_source"]
    rates = tables["needs_area_rates"]
    period_end = str(rates["period_end"].max())[:10] if len(rates) else "empty"
    try:
        published = publish_export(
            s.exports_dir / NEEDS_SUBDIR,
            needs_export_files(tables),
            as_of=period_end,
            parameters={
                "period_start": str(rates["period_start"].min())[:10] if len(rates) else None,
                "period_end": period_end,
                "suppress_counts_below": SUPPRESS_BELOW,
                "ci": "Wilson score interval, 95%",
                "population": _POPULATION_NOTE[
                    "delivered" if "delivered" in set(sources) else "demo"
                ],
            },
            check=lambda _staged: small_count_findings(tables),
            lawful_bases=bases_for(load_register(s.governance_dir), "needs_pack"),
        )
    except ExportRejected as exc:
        raise dg.Failure(str(exc), metadata={"findings": exc.findings[:20]}) from exc
    shown = rates[rates["area_type"] == "ward"]
    return dg.MaterializeResult(
        metadata={
            "version": published.version,
            "created_new_version": published.created,
            "path": dg.MetadataValue.path(str(published.path)),
            "files": dg.MetadataValue.json(published.manifest["files"]),
            "ward_rows": len(shown),
            "ward_rows_suppressed": int(shown["is_suppressed"].sum()) if len(shown) else 0,
            "dagster/row_count": sum(len(t) for t in tables.values()),
        }
    )

"""The lost-subject search's data: places of interest and a locator, a restricted export.

Thin wrapper over :mod:`vrdp.lost_subject`: reads the SOC marts, the addresses of
people linked to SOC events as perpetrators (keyed ``place_key`` and the address's
H3 cell, never the address text) and the gazetteer, and publishes them owner-only
under ``exports/restricted/lost_subject`` for the read API's surveillance route.
"""

import dagster as dg

from config.resources import WAREHOUSE_POOL, PlatformConfig

__all__ = ["LOST_SUBJECT_KEY", "LOST_SUBJECT_SUBDIR", "lost_subject_export", "ADDRESSES_SQL"]

LOST_SUBJECT_KEY = dg.AssetKey(["exports", "lost_subject_export"])
#: under the exports folder; the API's surveillance route reads it
LOST_SUBJECT_SUBDIR = "restricted/lost_subject"

#: people on SOC events in a perpetrator role, and their address spells (cells only)
ADDRESSES_SQL = """
with perp as (
    select be.person_key, be.role, se.soc_category, max(se.occurred_on) as last_event_on
    from marts.bridge_person_events as be
    inner join marts.fct_soc_events as se on be.event_key = se.event_key
    where be.role in ('suspect', 'offender', 'subject')
    group by all
)
select pp.place_key, perp.person_key, perp.role, perp.soc_category, perp.last_event_on,
    pp.valid_from, pp.valid_to, pl.h3_cell, pl.ward_code
from perp
inner join marts.bridge_person_places as pp on perp.person_key = pp.person_key
inner join marts.dim_places as pl on pp.place_key = pl.place_key
where pl.kind = 'address' and pl.h3_cell is not null
"""

#: one row per address cell and postcode (the postcode centroids of the locator)
POSTCODES_SQL = """
select a.postcode, p.h3_cell
from restricted.identity.address_places as a
inner join marts.dim_places as p on a.place_key = p.place_key
where a.postcode is not null and p.h3_cell is not null
"""


def _has(con, catalog: str | None, schema: str, name: str) -> bool:
    q = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    args = [schema, name]
    if catalog:
        q += " and table_catalog = ?"
        args.append(catalog)
    return bool(con.execute(q, args).fetchone()[0])


def _cell_points(df):
    import h3

    ll = [h3.cell_to_latlng(c) for c in df["h3_cell"]]
    return df.assign(latitude=[a for a, _ in ll], longitude=[b for _, b in ll])


@dg.asset(
    key=LOST_SUBJECT_KEY,
    deps=[
        dg.AssetKey(["marts", "fct_soc_events"]),
        dg.AssetKey(["marts", "dim_chb_site_phases"]),
        dg.AssetKey(["marts", "fct_disruptions"]),
        dg.AssetKey(["marts", "bridge_person_events"]),
        dg.AssetKey(["marts", "bridge_person_places"]),
        dg.AssetKey(["marts", "dim_places"]),
        dg.AssetKey(["identity", "address_places"]),
        dg.AssetKey(["places", "gazetteer"]),
    ],
    group_name="serving",
    kinds={"python", "duckdb", "parquet"},
    pool=WAREHOUSE_POOL,
    code_version="1",
)
def lost_subject_export(
    context: dg.AssetExecutionContext, platform: PlatformConfig
) -> dg.MaterializeResult:
    """Places of interest for the surveillance role's lost-subject search (restricted export).

    SOC events with gradings, known addresses of people linked to SOC events as
    perpetrators (cell centres, pseudonymous keys), CHB sites and disruptions, with a
    street, place and postcode locator; owner-only, read by the API's audited route.
    """
    import pandas as pd

    from exports.format import ExportFile, publish_export
    from vrdp.governance.permissions import attach_restricted
    from vrdp.governance.register import bases_for, load_register
    from vrdp.lost_subject import locator_table, places_of_interest

    s = platform.resolve()
    with platform.warehouse(read_only=True) as con:
        if s.identity_db_path.exists():
            attach_restricted(con, s.identity_db_path, read_only=True)

        def read(schema, name, sql=None, catalog=None):
            if not _has(con, catalog, schema, name):
                return None
            return con.execute(sql or f"select * from {schema}.{name}").df()

        soc = read("marts", "fct_soc_events")
        chb = read("marts", "dim_chb_site_phases")
        disruptions = read("marts", "fct_disruptions")
        addresses = read("marts", "bridge_person_places", ADDRESSES_SQL)
        postcodes = read("identity", "address_places", POSTCODES_SQL, catalog="restricted")
    if soc is None:
        raise dg.Failure("marts.fct_soc_events is not built yet")
    if addresses is not None:
        addresses = _cell_points(addresses)
    pois = places_of_interest(soc, addresses, chb, disruptions)
    gaz_path = s.lake_dir / "places" / "gazetteer" / "gazetteer.parquet"
    places = (
        pd.read_parquet(gaz_path)
        if gaz_path.exists()
        else pd.DataFrame(columns=["key", "name", "kind", "town", "easting_m", "northing_m"])
    )
    postcodes = (
        _cell_points(postcodes)
        if postcodes is not None
        else pd.DataFrame(columns=["postcode", "latitude", "longitude"])
    )
    locator = locator_table(places, postcodes)
    files = [
        ExportFile(
            "places_of_interest.parquet",
            len(pois),
            lambda p: pois.to_parquet(p, index=False),
        ),
        ExportFile("locator.parquet", len(locator), lambda p: locator.to_parquet(p, index=False)),
    ]
    as_of = str(pois["occurred_on"].max())[:10] if pois["occurred_on"].notna().any() else "empty"
    published = publish_export(
        s.exports_dir / LOST_SUBJECT_SUBDIR,
        files,
        as_of=as_of,
        parameters={
            "address_location": "H3 cell centre of the address (resolution of dim_places)",
            "perpetrator_roles": "suspect, offender, subject (victims never listed)",
        },
        restricted=True,
        lawful_bases=bases_for(load_register(s.governance_dir), "lost_subject"),
    )
    by_kind = pois.groupby("kind").size().to_dict()
    return dg.MaterializeResult(
        metadata={
            "version": published.version,
            "path": dg.MetadataValue.path(str(published.path)),
            "dagster/row_count": len(pois),
            "items_by_kind": dg.MetadataValue.json({k: int(v) for k, v in by_kind.items()}),
            "locator_rows": len(locator),
        }
    )

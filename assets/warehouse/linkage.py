"""Person linkage: Splink over every agency's person records, between intermediate and marts.

Reads ``intermediate.int_person_records_unioned``, clusters records into persons
with a saved, versioned Splink model (trained on first run or on demand), keeps
each person's internal id stable across runs, and writes
``linkage.person_record_links`` (record -> person key) and the append-only
``linkage.cluster_changes`` back into the warehouse, in the single-writer pool.
The dbt marts read ``linkage.person_record_links`` as a source of the same key.
"""

import dagster as dg

from orchestration.resources import WAREHOUSE_POOL, PlatformConfig

__all__ = ["PERSON_LINKS_KEY", "LinkageConfig", "person_linkage"]

PERSON_LINKS_KEY = dg.AssetKey(["linkage", "person_record_links"])
UNIONED_KEY = dg.AssetKey(["intermediate", "int_person_records_unioned"])


class LinkageConfig(dg.Config):
    """Run-time options of person linkage."""

    retrain: bool = False  # estimate a new model version instead of reusing the latest
    threshold: float = 0.9  # match probability at or above which records are one person
    seed: int = 42  # random sampling of u


_DDL = """
create schema if not exists linkage;
create table if not exists linkage.cluster_changes (
    run_id varchar, changed_at timestamp, change varchar,
    person_id varchar, other_person_id varchar, records integer
);
"""


@dg.asset(
    key=PERSON_LINKS_KEY,
    deps=[UNIONED_KEY],
    pool=WAREHOUSE_POOL,
    group_name="linkage",
    kinds={"python", "splink", "duckdb"},
    code_version="1",
)
def person_linkage(
    context: dg.AssetExecutionContext, platform: PlatformConfig, config: LinkageConfig
) -> dg.MaterializeResult:
    """Records of every agency linked to pseudonymous persons (Splink; stable HMAC keys)."""
    import pandas as pd

    from vrdp.linkage.keys import MissingSecretError, person_key, pseudonym_secret
    from vrdp.linkage.run import link_records
    from vrdp.linkage.stable_ids import assign_stable_ids

    try:
        secret = pseudonym_secret()
    except MissingSecretError as exc:
        raise dg.Failure(str(exc)) from exc
    s = platform.resolve()
    with platform.warehouse(read_only=True) as con:
        records = con.execute("select * from intermediate.int_person_records_unioned").df()
        has_previous = bool(
            con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = 'linkage' and table_name = 'person_record_links'"
            ).fetchone()[0]
        )
        previous = (
            con.execute("select record_uid, person_id from linkage.person_record_links").df()
            if has_previous
            else None
        )
    result = link_records(
        records,
        s.data_root / "linkage" / "models",
        config.threshold,
        retrain=config.retrain,
        seed=config.seed,
    )
    ids, changes = assign_stable_ids(result.clusters, previous)
    sizes = ids.groupby("person_id")["record_uid"].transform("size")
    links = pd.DataFrame(
        {
            "record_uid": ids["record_uid"].astype(str),
            "person_id": ids["person_id"].astype(str),
            "person_key": ids["person_id"].map(lambda p: person_key(p, secret)).astype(str),
            "person_records": sizes.astype("int32"),
        }
    )
    changes = changes.assign(run_id=context.run_id, changed_at=pd.Timestamp.now().floor("s"))[
        ["run_id", "changed_at", "change", "person_id", "other_person_id", "records"]
    ]
    with platform.warehouse(read_only=False) as con:
        con.execute(_DDL)
        con.register("links_df", links)
        con.register("changes_df", changes)
        con.execute(
            "create or replace table linkage.person_record_links as "
            "select * from links_df order by record_uid"
        )
        con.execute("insert into linkage.cluster_changes select * from changes_df")
    n = len(records)
    counts = changes["change"].value_counts().to_dict()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(links),
            "records": n,
            "persons": int(links["person_id"].nunique()),
            "comparisons": result.comparisons,
            "comparisons_per_record": round(result.comparisons / n, 2) if n else 0.0,
            "threshold": config.threshold,
            "model": dg.MetadataValue.path(str(result.model_path)) if result.model_path else "none",
            "model_trained_this_run": result.trained,
            "persons_new": int(counts.get("new", 0)),
            "cluster_merges": int(counts.get("merge", 0)),
            "cluster_splits": int(counts.get("split", 0)),
        }
    )

"""Person linkage: Splink over every agency's person records, between intermediate and marts.

Reads ``restricted.intermediate.int_person_records_unioned``, clusters records into persons
with a saved, versioned Splink model (trained on first run or on demand), keeps
each person's internal id stable across runs, and writes
``linkage.person_record_links`` (record -> person key) and the append-only
``linkage.cluster_changes`` back into the warehouse, in the single-writer pool.
The dbt marts read ``linkage.person_record_links`` as a source of the same key.
The links are also written to the lake (:func:`person_links_lake_path`), where
dbt on Spark reads every source (docs/spark.md).

Clerical review: pairs in the uncertain band go to the restricted
``restricted.identity.linkage_review_queue`` (with both records' identifiers as evidence);
reviewers' decisions in ``<data root>/linkage/review/decisions.csv``
(:mod:`vrdp.linkage.review`) override the model on the next run, and each one
applied is logged in the append-only ``linkage.review_decisions_applied``.
When the demo world's truth is available, the metadata carries pairwise
precision, recall, F1 and cluster purity, marked as a simulated-world evaluation.
"""

from pathlib import Path

import dagster as dg

from config.resources import WAREHOUSE_POOL, PlatformConfig

__all__ = ["PERSON_LINKS_KEY", "LinkageConfig", "person_linkage", "person_links_lake_path"]

PERSON_LINKS_KEY = dg.AssetKey(["linkage", "person_record_links"])
UNIONED_KEY = dg.AssetKey(["intermediate", "int_person_records_unioned"])


def person_links_lake_path(lake_dir: Path) -> Path:
    """Where the links' Parquet copy is written.

    It is the dbt source ``linkage.person_record_links`` on Spark, which reads
    ``lake/<source>/<table>/*/*.parquet``: one folder, replaced each run.
    """
    return Path(lake_dir) / "linkage" / "person_record_links" / "current" / "part-0.parquet"


class LinkageConfig(dg.Config):
    """Run-time options of person linkage."""

    retrain: bool = False  # estimate a new model version instead of reusing the latest
    threshold: float = 0.9  # match probability at or above which records are one person
    seed: int = 42  # random sampling of u
    review_lower: float = 0.8  # pairs with lower <= probability < upper go to review
    review_upper: float = 0.95
    # reviewers' decisions (CSV); empty: <data root>/linkage/review/decisions.csv
    decisions_file: str = ""


_DDL = """
create schema if not exists linkage;
create table if not exists linkage.cluster_changes (
    run_id varchar, changed_at timestamp, change varchar,
    person_id varchar, other_person_id varchar, records integer
);
create table if not exists linkage.review_decisions_applied (
    run_id varchar, applied_at timestamp, record_uid_l varchar, record_uid_r varchar,
    decision varchar, reviewer varchar, decided_at timestamp with time zone,
    line integer, model_probability double, model_linked boolean,
    together_after boolean, status varchar
);
create schema if not exists restricted.identity;
"""


def _linkage_card(s, config, band, result, links) -> None:
    """The linkage model's card, beside its model file (vrdp.governance.model_card)."""
    from vrdp.governance.model_card import ModelCard, write_model_card
    from vrdp.linkage.run import model_meta

    meta = model_meta(result.model_path) if result.model_path else {}
    target = result.model_path or (s.data_root / "linkage" / "models" / "person_linkage")
    write_model_card(
        ModelCard(
            name="person linkage (Splink, probabilistic record linkage)",
            inputs=[
                "person records of every agency (restricted.intermediate)",
                "reviewers' match / non-match decisions",
            ],
            owner="data engineering, with the clerical review team",
            excluded_fields=[
                "ethnicity and every other protected characteristic",
                "free-text reasons of reviewers",
            ],
            parameters={
                "threshold": config.threshold,
                "review_band": [band.lower, band.upper],
                "seed": meta.get("seed", "unknown"),
                "trained_at": meta.get("trained_at", "unknown"),
            },
            training_window="the records in the warehouse when the model was trained",
            accuracy={
                "records": len(links),
                "persons": int(links["person_id"].nunique()),
                "review_pairs_pending": len(result.review),
                "benchmark": "bench/results/linkage.json (precision, recall, F1)",
            },
            accuracy_method="simulated-world truth in tests and benchmarks only, never in runs",
            known_limits=[
                "names that change, twins and shared addresses cause errors",
                "pairs in the review band wait for a person to decide",
                "a link is a probability, not proof of identity",
            ],
            intended_use="join one person's records across agencies under a pseudonymous key",
        ),
        target,
    )


def _records_signature(con) -> str:
    """Count and sum of DuckDB row hashes of the person records (independent of row order)."""
    count, total = con.execute(
        "select count(*), coalesce(sum(hash(r)), 0)::varchar "
        "from restricted.intermediate.int_person_records_unioned r"
    ).fetchone()
    return f"{count}:{total}"


def _inputs_digest(records: str, s, config, decisions_file, secret: bytes) -> str:
    """What the linkage reads, as one digest.

    The person records' signature (:func:`_records_signature`), the reviewers'
    decisions, the latest saved model (read when called: after a run that trained
    one, the digest recorded is the one the next run computes), the secret
    (hashed), the engine, the configuration and the code.
    """
    import hashlib
    from pathlib import Path

    import vrdp.linkage
    from assets.reuse import input_digest
    from vrdp.linkage.run import latest_model

    model = latest_model(s.data_root / "linkage" / "models")
    files = [f for f in (decisions_file, model) if f is not None and Path(f).exists()]
    code = [Path(__file__), *Path(vrdp.linkage.__file__).parent.glob("*.py")]
    fixed = f"{records}:{hashlib.sha256(secret).hexdigest()}:{s.engine}:"
    return input_digest(files, code=code, config=fixed + config.model_dump_json())


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
    """Records of every agency linked to pseudonymous persons (Splink; stable HMAC keys).

    When the person records, the reviewers' decisions, the saved model, the
    secret, the configuration and the code are those of the last materialization
    (and its table is there), its links are reused (:mod:`assets.reuse`).
    """
    import pandas as pd

    from vrdp.lake import write_parquet_atomic
    from vrdp.linkage.keys import MissingSecretError, person_links, pseudonym_secret
    from vrdp.linkage.metrics import linkage_quality, truth_person_ids
    from vrdp.linkage.review import (
        DecisionFileError,
        ReviewBand,
        decisions_path,
        read_decisions,
    )
    from vrdp.linkage.run import link_records, model_meta
    from vrdp.linkage.stable_ids import assign_stable_ids

    try:
        secret = pseudonym_secret()
    except MissingSecretError as exc:
        raise dg.Failure(str(exc)) from exc
    from vrdp.governance.permissions import attach_restricted

    s = platform.resolve()
    decisions_file = Path(config.decisions_file) if config.decisions_file else None
    decisions_file = decisions_file or decisions_path(s.data_root)
    try:
        band = ReviewBand(config.review_lower, config.review_upper)
        decisions = read_decisions(decisions_file)
    except (DecisionFileError, ValueError) as exc:
        raise dg.Failure(str(exc)) from exc
    from assets.reuse import computed, unchanged_output

    with platform.warehouse(read_only=True) as con:
        attach_restricted(con, s.identity_db_path, read_only=True)
        has_previous = bool(
            con.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = 'linkage' and table_name = 'person_record_links'"
            ).fetchone()[0]
        )
        signature = _records_signature(con)
        digest = _inputs_digest(signature, s, config, decisions_file, secret)
        lake_copy = person_links_lake_path(s.lake_dir)
        # a data root from before the lake copy: the links are written again
        reusable = has_previous and lake_copy.exists()
        if reusable and (reused := unchanged_output(context, PERSON_LINKS_KEY, digest)):
            return reused
        records = con.execute(
            "select * from restricted.intermediate.int_person_records_unioned"
        ).df()
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
        decisions=decisions,
        review_band=band,
        engine=s.engine,
    )
    ids, changes = assign_stable_ids(result.clusters, previous)
    links = person_links(ids, secret)
    changes = changes.assign(run_id=context.run.run_id, changed_at=pd.Timestamp.now().floor("s"))[
        ["run_id", "changed_at", "change", "person_id", "other_person_id", "records"]
    ]
    now = pd.Timestamp.now().floor("s")
    applied = result.decisions_applied.assign(run_id=context.run.run_id, applied_at=now)
    with platform.warehouse(read_only=False) as con:
        attach_restricted(con, s.identity_db_path, read_only=False)
        con.execute(_DDL)
        con.register("links_df", links)
        con.register("changes_df", changes)
        con.register("review_df", result.review)
        con.execute(
            "create or replace table linkage.person_record_links as "
            "select * from links_df order by record_uid"
        )
        con.execute("insert into linkage.cluster_changes select * from changes_df")
        # Restricted: the evidence a reviewer needs is the records' identifiers.
        con.execute(
            "create or replace table restricted.identity.linkage_review_queue "
            "as select * from review_df"
        )
        if len(applied):
            con.register("applied_df", applied)
            con.execute(
                "insert into linkage.review_decisions_applied by name select * from applied_df"
            )
    # Spark's dbt reads its sources from the lake (owner-only file, as every lake file)
    write_parquet_atomic(links, lake_copy)
    n = len(records)
    _linkage_card(s, config, band, result, links)
    counts = changes["change"].value_counts().to_dict()
    status = (
        applied["status"].str.split(":").str[0].value_counts().to_dict() if len(applied) else {}
    )
    quality = {}
    if s.world_truth_dir is not None:
        q = linkage_quality(ids, truth_person_ids(s.world_truth_dir), result.comparisons)
        quality = {
            "quality_evaluation": q.pop("evaluation"),
            **{f"quality_{k}": v for k, v in q.items()},
        }
    meta = model_meta(result.model_path) if result.model_path else {}
    digest = _inputs_digest(signature, s, config, decisions_file, secret)  # the model now used
    return dg.MaterializeResult(
        data_version=dg.DataVersion(digest),
        metadata={
            **quality,
            **computed(digest),
            "review_band": f"{band.lower} <= p < {band.upper}",
            "review_pairs_pending": len(result.review),
            "decisions_file": dg.MetadataValue.path(str(decisions_file)),
            "decisions_applied": int(status.get("applied", 0)),
            "decisions_skipped": int(status.get("skipped", 0)),
            "decisions_in_conflict": int(status.get("conflict", 0)),
            "model_reason": result.model_reason,
            "model_seed": meta.get("seed", "unknown"),
            "model_trained_at": meta.get("trained_at", "unknown"),
            "dagster/row_count": len(links),
            "records": n,
            "persons": int(links["person_id"].nunique()),
            "engine": s.engine,
            "comparisons": result.comparisons,
            "comparisons_per_record": round(result.comparisons / n, 2) if n else 0.0,
            "threshold": config.threshold,
            "model": dg.MetadataValue.path(str(result.model_path)) if result.model_path else "none",
            "model_trained_this_run": result.trained,
            "persons_new": int(counts.get("new", 0)),
            "cluster_merges": int(counts.get("merge", 0)),
            "cluster_splits": int(counts.get("split", 0)),
        },
    )

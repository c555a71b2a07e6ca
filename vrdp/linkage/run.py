"""Train (or reuse) the Splink model, score blocked pairs, apply reviewers' decisions, cluster.

Models are saved as ``person_linkage_vNNNN.json`` (Splink's own JSON) beside a
``person_linkage_vNNNN.meta.json`` sidecar recording when and how each was
trained and a fingerprint of the model's settings (comparisons and blocking
rules). A run reuses the latest model unless retraining is asked for, no model
is saved, or the code's settings no longer match the saved model's fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from vrdp.keys import positions
from vrdp.linkage.model import DETERMINISTIC_RULES, LINK_COLUMNS, TRAINING_BLOCKING_RULES

__all__ = [
    "LinkageResult",
    "latest_model",
    "model_meta",
    "settings_fingerprint",
    "train_model",
    "score_pairs",
    "cluster_links",
    "link_records",
]

MODEL_PREFIX = "person_linkage_v"
_MODEL_NAME = re.compile(rf"^{MODEL_PREFIX}(\d+)\.json$")
#: Columns of the review queue shown for each side of a pair.
EVIDENCE_COLUMNS = tuple(c for c in LINK_COLUMNS if c != "record_uid")


def _empty_frame(columns) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@dataclass
class LinkageResult:
    """Clusters (``record_uid``, ``cluster_id``) and what the run did.

    ``review`` is the clerical review queue (restricted: it holds identifiers),
    ``decisions_applied`` the log of reviewers' decisions this run applied, and
    ``model_reason`` why the model was trained or reused.
    """

    clusters: pd.DataFrame
    comparisons: int
    model_path: Path | None
    trained: bool
    review: pd.DataFrame = field(default_factory=lambda: _empty_frame(["record_uid_l"]))
    decisions_applied: pd.DataFrame = field(default_factory=lambda: _empty_frame(["status"]))
    model_reason: str = ""


def latest_model(model_dir: Path) -> Path | None:
    """The highest-versioned saved model, or None."""
    if not Path(model_dir).exists():
        return None
    found = sorted(
        (int(m.group(1)), p) for p in Path(model_dir).iterdir() if (m := _MODEL_NAME.match(p.name))
    )
    return found[-1][1] if found else None


def _meta_path(model_path: Path) -> Path:
    return model_path.with_name(model_path.stem + ".meta.json")


def model_meta(model_path: Path) -> dict:
    """The sidecar of a saved model (empty for models saved before sidecars existed)."""
    meta = _meta_path(model_path)
    return json.loads(meta.read_text()) if meta.exists() else {}


def settings_fingerprint() -> str:
    """sha256 of the untrained Splink settings the code defines (comparisons, blocking)."""
    from vrdp.linkage.model import splink_settings

    settings = splink_settings().get_settings("duckdb").as_dict()
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


def _next_model_path(model_dir: Path) -> Path:
    last = latest_model(model_dir)
    n = int(_MODEL_NAME.match(last.name).group(1)) + 1 if last else 1
    return model_dir / f"{MODEL_PREFIX}{n:04d}.json"


#: DuckDB's memory limit for linkage: beyond it, joins and aggregates spill to a
#: temporary folder instead of growing (DuckDB's own default is 80% of the RAM).
DUCKDB_MEMORY_LIMIT = "1GB"


def _connect(memory_limit: str = DUCKDB_MEMORY_LIMIT):
    import tempfile

    import duckdb

    # DuckDB spills under ./.tmp by default: keep it out of the working tree.
    spill = Path(tempfile.gettempdir()) / "vrdp_linkage_spill"
    con = duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": str(spill)})
    con.execute("set enable_progress_bar = false")
    return con


ENGINES = ("duckdb", "spark")


def _db_api(engine: str = "duckdb", memory_limit: str = DUCKDB_MEMORY_LIMIT):
    """Splink's database API: DuckDB in this process, or the platform's Spark session.

    ``memory_limit``: DuckDB's (beyond it, it spills to a temporary folder).

    On Spark, Splink's similarity functions come from the jar the session loads
    (:func:`vrdp.engines.spark_session`) and intermediate tables break lineage
    through Parquet under the session's warehouse.
    """
    if engine == "spark":
        from vrdp.engines import spark_session

        spark = spark_session()
        local = spark.sparkContext.master.startswith("local")
        # In local mode intermediate tables stay in memory (persist); on a cluster
        # Splink's default writes them as Parquet, which keeps query plans short.
        return _spark_api_class()(
            spark_session=spark,
            break_lineage_method="persist" if local else None,
            num_partitions_on_repartition=int(spark.conf.get("spark.sql.shuffle.partitions"))
            if local
            else None,
        )
    if engine != "duckdb":
        raise ValueError(f"engine={engine!r} is not one of {', '.join(ENGINES)}")
    from splink.backends.duckdb import DuckDBAPI

    return DuckDBAPI(connection=_connect(memory_limit))


def _double_literal(node):
    """``cast(0.25 as double)`` -> ``0.25D``: a double literal, never a decimal (Splink's rule)."""
    from sqlglot import exp

    if (
        isinstance(node, exp.Cast | exp.TryCast)
        and node.to.is_type("double")
        and isinstance(node.this, exp.Literal)
        and node.name != "Infinity"
    ):
        return exp.var(f"{node.name}D")
    return node


def _spark_api_class():
    """Splink's SparkAPI that writes Spark SQL with sqlglot's own Spark dialect.

    Splink translates its SQL with a dialect subclassing sqlglot's Spark generator
    to turn double casts of literals into double literals; with sqlglot compiled
    (``sqlglotc``, in the lock for speed) an interpreted subclass of a compiled
    generator cannot be instantiated. The same rule is applied here as a
    transform of the parsed SQL before the stock Spark generator writes it.
    """
    import sqlglot
    from splink.backends.spark import SparkAPI

    class PlatformSparkAPI(SparkAPI):
        def _setup_for_execute_sql(self, sql: str, physical_name: str) -> str:
            tree = sqlglot.parse_one(sql, read="spark").transform(_double_literal)
            return tree.sql(dialect="spark", pretty=True)

    return PlatformSparkAPI


def model_for_engine(model_path: Path, engine: str = "duckdb"):
    """The saved model as the given engine scores with it.

    Models are saved from DuckDB, their SQL in DuckDB's dialect. For Spark, the
    code's settings are rendered in Spark's dialect (``jaro_winkler`` for
    ``jaro_winkler_similarity``, backticks for quotes) and every trained figure is
    copied over level by level: the prior, and each level's m and u. The levels
    are matched by their labels, so a model saved from other settings fails
    loudly instead of scoring with shifted parameters.
    """
    if engine == "duckdb":
        return str(model_path)
    from vrdp.linkage.model import splink_settings

    trained = json.loads(Path(model_path).read_text())
    settings = splink_settings().get_settings(engine).as_dict()
    if len(trained["comparisons"]) != len(settings["comparisons"]):
        raise ValueError(f"{Path(model_path).name} has other comparisons than the code")
    for saved, target in zip(trained["comparisons"], settings["comparisons"], strict=True):
        labels = [lv["label_for_charts"] for lv in saved["comparison_levels"]]
        if labels != [lv["label_for_charts"] for lv in target["comparison_levels"]]:
            raise ValueError(f"{Path(model_path).name}: levels differ from the code's: {labels}")
        for lv_saved, lv_target in zip(
            saved["comparison_levels"], target["comparison_levels"], strict=True
        ):
            for key in ("m_probability", "u_probability"):
                if key in lv_saved:
                    lv_target[key] = lv_saved[key]
    settings["probability_two_random_records_match"] = trained[
        "probability_two_random_records_match"
    ]
    return settings


def _spark_table(spark, df: pd.DataFrame, name: str):
    """``df`` as a Spark DataFrame that reads Parquet under the session's warehouse.

    A frame made from pandas directly is a local relation: its rows live in the
    driver's query plans, and Spark's optimizer copies them into every plan that
    reads them (ConvertToLocalRelation). Splink's prediction reads its input in
    many places, and on the medium world (80k records) that ran the 2 GB driver
    out of heap. Written once and read back, the rows are a file scan (the
    executors read them where the warehouse is, on a cluster too).
    """
    warehouse = spark.conf.get("spark.sql.warehouse.dir").rstrip("/")
    path = f"{warehouse}/vrdp_linkage/{name}"
    spark.createDataFrame(df).write.mode("overwrite").parquet(path)
    return spark.read.parquet(path)


def _register(records: pd.DataFrame, engine: str = "duckdb"):
    db_api = _db_api(engine)
    table = records[list(LINK_COLUMNS)]
    if engine == "spark":  # one session per process: a former run's view is replaced
        db_api.spark.catalog.dropTempView("person_records")
        table = _spark_table(db_api.spark, table, "person_records")
    return db_api.register(table, dataset_display_name="person_records")


def _linker(records: pd.DataFrame, settings, frame=None):
    from splink import Linker

    return Linker(frame or _register(records), settings, log_level=logging.WARNING)


def _write_json(path: Path, obj) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1, sort_keys=True))
    tmp.replace(path)


#: Training reads at most this many records (a seeded sample of them): EM's
#: blocked pairs grow with the square of the records, and the estimates do not
#: need them all (a uniform sample keeps the share of matching pairs).
MAX_TRAINING_RECORDS = 250_000


def train_model(
    records: pd.DataFrame,
    model_dir: Path,
    seed: int = 42,
    max_pairs: float = 2e6,
    max_records: int = MAX_TRAINING_RECORDS,
) -> Path:
    """Estimate the model (u by random sampling, m by EM) and save it as the next version.

    Parameters
    ----------
    records
        Person records with :data:`~vrdp.linkage.model.LINK_COLUMNS`.
    model_dir
        Folder of the versioned models.
    seed
        Seed of the random sampling of pairs for u (recorded in the sidecar).
    max_pairs
        Pairs sampled for u.
    max_records
        Above this many records, the model is trained on a sample of this
        many (drawn with ``seed``).

    Returns
    -------
    pathlib.Path
        The new model's JSON; its sidecar ``.meta.json`` records the seed,
        the records trained on, the time and the settings fingerprint.
    """
    from splink import block_on

    from vrdp.linkage.model import splink_settings

    n_records = len(records)
    if n_records > max_records:
        records = records.sample(n=max_records, random_state=seed).sort_values("record_uid")
    frame = _register(records)
    try:
        linker = _linker(records, splink_settings(), frame)
        linker.training.estimate_probability_two_random_records_match(
            [block_on(*r) for r in DETERMINISTIC_RULES], recall=0.8
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
        for rule in TRAINING_BLOCKING_RULES:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(*rule))
        model = linker.misc.save_model_to_json(out_path=None)
    finally:
        # open, its buffers (about 2 GB on the large world) stayed through scoring
        _close(frame.db_api)
    path = _next_model_path(model_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_json(path, model)
    _write_json(
        _meta_path(path),
        {
            "model": path.name,
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seed": seed,
            "u_max_pairs": max_pairs,
            "records": n_records,
            "records_trained_on": len(records),
            "settings_fingerprint": settings_fingerprint(),
        },
    )
    return path


def _choose_model(model_dir: Path, retrain: bool) -> tuple[Path | None, str]:
    """(saved model to reuse or None, why)."""
    if retrain:
        return None, "retrain requested"
    path = latest_model(model_dir)
    if path is None:
        return None, "no saved model"
    saved = model_meta(path).get("settings_fingerprint")
    if saved is None:  # saved before sidecars: its blocking rules may be the old ones
        return None, f"{path.name} has no settings fingerprint"
    if saved != settings_fingerprint():
        return None, f"settings changed since {path.name}"
    return path, f"reused {path.name}"


def score_pairs(records: pd.DataFrame, model_path: Path, floor: float, engine: str = "duckdb"):
    """Score every blocked pair with a saved model, on DuckDB or Spark (``engine``).

    The saved model fixes every parameter (m, u, prior, term frequencies are
    recomputed from the same records), so both engines score the same pairs.

    Returns
    -------
    (comparisons, edges)
        The number of pairs scored, and the pairs with match probability at or
        above ``floor``: ``record_uid_l``, ``record_uid_r``, ``match_probability``,
        ``match_weight``.
    """
    uids = _text_order(records["record_uid"])
    comparisons, pairs = _score_ids(records, uids, model_path, floor, engine)
    return comparisons, _with_texts(pairs, uids)


def _score_ids(records: pd.DataFrame, uids: np.ndarray, model_path: Path, floor, engine):
    """:func:`score_pairs` with each record named by its position in ``uids``.

    Splink stores every blocked pair's ids before scoring: integer ids (the rank
    of record_uid) take a fraction of the memory of the text ids, and the pairs
    stay integers through clustering (:func:`link_records`).
    """
    records = records.assign(record_uid=positions(records["record_uid"], uids))
    frame = _register(records, engine)
    try:
        return _score(frame, records, model_path, floor, engine)
    finally:
        _close(frame.db_api)


def _with_texts(pairs: pd.DataFrame, uids: np.ndarray) -> pd.DataFrame:
    """``pairs`` named by integer ids (positions in ``uids``), named by text ids."""
    return pairs.assign(
        record_uid_l=_texts(uids, pairs["record_uid_l"]).array,
        record_uid_r=_texts(uids, pairs["record_uid_r"]).array,
    )


def _text_order(record_uids: pd.Series) -> np.ndarray:
    """The record ids as text, sorted.

    A record's position is the integer id Splink works with (ids compare as their
    texts do), and indexing this array maps an integer id back to its text.
    """
    return np.sort(record_uids.astype(str).to_numpy(object))


def _texts(uids: np.ndarray, ids) -> pd.Series:
    """The text record ids of integer ids (positions in ``uids``), as pandas text.

    By Arrow's ``take`` into pandas' own Arrow-backed strings: about 0.8 s for 19
    million ids on the large world, where indexing ``uids`` and converting the
    Python strings took 17 s.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = np.asarray(ids, dtype=np.int64)
    taken = pc.take(pa.array(uids, type=pa.large_string()), pa.array(ids))
    return pd.Series(pd.array(taken, dtype="str"))


def _close(db_api) -> None:
    """Close a DuckDB connection made for Splink (its buffers held gigabytes at scale).

    DuckDB keeps the memory its queries used, up to its limit, until the connection
    closes: open, the scoring connection held about 4 GB through clustering on the
    large world. Spark's session is the platform's and stays.
    """
    from splink.backends.duckdb import DuckDBAPI

    if isinstance(db_api, DuckDBAPI):
        db_api.duckdb_con.close()


def _score(frame, records, model_path, floor, engine):
    linker = _linker(records, model_for_engine(model_path, engine), frame)
    for col in ("forename", "surname"):
        linker.table_management.compute_tf_table(col)
    # The blocked pairs (ids only) are built first and counted, then scored from
    # Splink's cache: counting them again from the blocking rules (Splink's
    # count_comparisons_from_blocking_rules) took 31 s on the large world.
    blocked = linker.inference.compute_blocked_pairs_for_predict()
    comparisons = int(
        linker.misc.query_sql(
            f"select count(*) as n from {blocked.physical_name}", output_type="pandas"
        )["n"].iloc[0]
    )
    # Only pairs at or above the floor are kept (hundreds of millions are scored at scale).
    predictions = linker.inference.predict(threshold_match_probability=floor)
    blocked.drop_table_from_database_and_remove_from_cache()
    edges = linker.misc.query_sql(
        "select record_uid_l, record_uid_r, match_probability, match_weight "
        f"from {predictions.physical_name}",
        output_type="pandas",
    )
    predictions.drop_table_from_database_and_remove_from_cache()
    return comparisons, edges


def cluster_links(
    record_uids: pd.Series, links: pd.DataFrame, engine: str = "duckdb"
) -> pd.DataFrame:
    """Connected components of the records over the given links.

    Every record is in the output (``record_uid``, ``cluster_id``), in text
    order; a record with no link is a cluster of its own, and a cluster is named
    by its first record in text order. ``engine`` runs it on DuckDB's side (this
    process) or Spark (:func:`_components`).
    """
    # Integer ids (each record's rank in text order, so every comparison made
    # between ids goes the same way as between the texts), mapped back after.
    uids = _text_order(record_uids)
    left = positions(links["record_uid_l"].astype(str), uids)
    right = positions(links["record_uid_r"].astype(str), uids)
    if (left < 0).any() or (right < 0).any():
        raise ValueError("a link names a record that is not among the records")
    first = _components(len(uids), left, right, engine)
    return _clusters_as_text(uids, np.arange(len(uids)), first)


def _clusters_as_text(uids: np.ndarray, records, clusters) -> pd.DataFrame:
    """``record_uid``, ``cluster_id`` as text from integer ids (positions in ``uids``)."""
    return pd.DataFrame(
        {"record_uid": _texts(uids, records).array, "cluster_id": _texts(uids, clusters).array}
    )


def _components(n: int, left: np.ndarray, right: np.ndarray, engine: str = "duckdb") -> np.ndarray:
    """The first (lowest) node of each node's connected component, nodes ``0 .. n-1``.

    On DuckDB's side, SciPy's ``connected_components`` over a sparse graph in this
    process: Splink's clustering on DuckDB (the same components, found by
    repeated joins) took 10 s over the large world's 19 million links against
    3 s, and the pairs are already here. On Spark, Splink's clustering in the
    session (``cluster_pairwise_predictions_at_threshold``), where the pairs of
    a force network would be; ``tests/spark`` compares the two.
    """
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    if engine == "spark":
        from splink.clustering import cluster_pairwise_predictions_at_threshold

        db_api = _db_api(engine)
        nodes = _spark_table(
            db_api.spark,
            pd.DataFrame({"record_uid": np.arange(n, dtype=np.int64)}),
            "cluster_nodes",
        )
        edges = _spark_table(
            db_api.spark,
            pd.DataFrame({"record_uid_l": left, "record_uid_r": right}),
            "cluster_edges",
        )
        clustered = cluster_pairwise_predictions_at_threshold(
            nodes, edges, db_api=db_api, node_id_column_name="record_uid"
        ).as_pandas_dataframe()
        first = np.empty(n, dtype=np.int64)
        first[clustered["record_uid"].to_numpy(np.int64)] = clustered["cluster_id"].to_numpy(
            np.int64
        )
        return first
    if engine != "duckdb":
        raise ValueError(f"engine={engine!r} is not one of {', '.join(ENGINES)}")
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(left), dtype=np.float32), (left, right)), shape=(n, n))
    _, label = connected_components(graph.tocsr(), directed=False)
    # nodes in order: a component's first occurrence in ``label`` is its lowest node
    found, lowest = np.unique(label, return_index=True)
    by_label = np.empty(int(found.max()) + 1 if n else 0, dtype=np.int64)
    by_label[found] = lowest
    return by_label[label]


def link_records(
    records: pd.DataFrame,
    model_dir: Path,
    threshold: float,
    *,
    retrain: bool = False,
    seed: int = 42,
    decisions: pd.DataFrame | None = None,
    review_band=None,
    engine: str = "duckdb",
) -> LinkageResult:
    """Cluster records at ``threshold`` (match probability), reusing the latest model.

    A model is trained only when none is saved, ``retrain`` is set or the
    settings changed, so scheduled runs score with a fixed model and keys
    change only where the data (or a reviewer) does.

    Parameters
    ----------
    records
        Person records with :data:`~vrdp.linkage.model.LINK_COLUMNS`.
    model_dir
        Folder of versioned models.
    threshold
        Match probability at or above which two records are one person.
    retrain
        Estimate a new model version even when one is saved.
    seed
        Seed of the random sampling for u, when training.
    decisions
        Reviewers' decisions (:func:`vrdp.linkage.review.read_decisions`),
        applied before clustering: forced links and forced splits.
    review_band
        A :class:`vrdp.linkage.review.ReviewBand`; pairs in it that no decision
        covers form ``LinkageResult.review``. None: no review queue.
    engine
        ``duckdb`` or ``spark`` (``VRDP_ENGINE``): where pairs are scored and
        clustered. Training stays on DuckDB either way: it reads at most
        :data:`MAX_TRAINING_RECORDS` sampled records, and both engines then
        score with the same saved model.
    """
    from vrdp.linkage.review import (
        apply_decisions,
        constrained_clusters,
        no_decisions,
        review_queue,
    )

    records = records.reset_index(drop=True)
    decisions = no_decisions() if decisions is None else decisions
    if len(records) < 2:
        clusters = pd.DataFrame(
            {"record_uid": records["record_uid"], "cluster_id": records["record_uid"]}
        )
        return LinkageResult(clusters, 0, latest_model(model_dir), False)
    path, reason = _choose_model(model_dir, retrain)
    trained = path is None
    if trained:
        path = train_model(records, model_dir, seed=seed)
    floor = min(threshold, review_band.lower) if review_band is not None else threshold
    # Records are named by their rank in text order (integer ids) from scoring to
    # clustering, and by text again only after: the large world's 19 million
    # scored pairs took 17 s to filter and 5 s to map back to integers as text.
    uids = _text_order(records["record_uid"])
    comparisons, pairs = _score_ids(records, uids, path, floor, engine)
    links, cannot, applied = apply_decisions(
        pairs, decisions, records["record_uid"], threshold, uids=uids
    )
    first = _components(
        len(uids), links["record_uid_l"].to_numpy(), links["record_uid_r"].to_numpy(), engine
    )
    ids = pd.DataFrame({"record_uid": np.arange(len(uids), dtype=np.int64), "cluster_id": first})
    ids = constrained_clusters(ids, links, cannot)  # named by their lowest id: by text too
    clusters = _clusters_as_text(uids, ids["record_uid"], ids["cluster_id"])
    if len(applied):
        cid = clusters.set_index("record_uid")["cluster_id"]
        left = cid.reindex(applied["record_uid_l"]).to_numpy()
        right = cid.reindex(applied["record_uid_r"]).to_numpy()
        applied["together_after"] = pd.Series(left == right).where(
            applied["status"].eq("applied").to_numpy()
        )
        conflict = applied["decision"].eq("match") & applied["together_after"].eq(False)
        applied.loc[conflict, "status"] = "conflict: a non-match decision keeps them apart"
    review = (
        review_queue(
            _with_texts(pairs[review_band.contains(pairs["match_probability"])], uids),
            records,
            review_band,
            threshold,
            decisions,
            clusters,
            EVIDENCE_COLUMNS,
        )
        if review_band is not None
        else _empty_frame(["record_uid_l", "record_uid_r", "match_probability"])
    )
    return LinkageResult(clusters, comparisons, path, trained, review, applied, reason)

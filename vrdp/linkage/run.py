"""Train (or reuse) the Splink model, score blocked pairs and cluster person records."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from vrdp.linkage.model import DETERMINISTIC_RULES, LINK_COLUMNS, TRAINING_BLOCKING_RULES

__all__ = ["LinkageResult", "latest_model", "train_model", "link_records"]

MODEL_PREFIX = "person_linkage_v"


@dataclass
class LinkageResult:
    """Clusters (``record_uid``, ``cluster_id``) and what the run did."""

    clusters: pd.DataFrame
    comparisons: int
    model_path: Path | None
    trained: bool


def latest_model(model_dir: Path) -> Path | None:
    """The highest-versioned saved model, or None."""
    found = sorted(model_dir.glob(f"{MODEL_PREFIX}*.json")) if model_dir.exists() else []
    return found[-1] if found else None


def _next_model_path(model_dir: Path) -> Path:
    last = latest_model(model_dir)
    n = int(last.stem.removeprefix(MODEL_PREFIX)) + 1 if last else 1
    return model_dir / f"{MODEL_PREFIX}{n:04d}.json"


def _linker(records: pd.DataFrame, settings):
    import duckdb
    from splink import Linker
    from splink.backends.duckdb import DuckDBAPI

    db_api = DuckDBAPI(connection=duckdb.connect())
    frame = db_api.register(records[list(LINK_COLUMNS)], dataset_display_name="person_records")
    return Linker(frame, settings, log_level=logging.WARNING)


def train_model(records: pd.DataFrame, model_dir: Path, seed: int = 42) -> Path:
    """Estimate the model (u by random sampling, m by EM) and save it as the next version."""
    from splink import block_on

    from vrdp.linkage.model import splink_settings

    linker = _linker(records, splink_settings())
    linker.training.estimate_probability_two_random_records_match(
        [block_on(*r) for r in DETERMINISTIC_RULES], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    for rule in TRAINING_BLOCKING_RULES:
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*rule))
    path = _next_model_path(model_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = linker.misc.save_model_to_json(out_path=None)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(model, indent=1, sort_keys=True))
    tmp.replace(path)
    return path


def link_records(
    records: pd.DataFrame,
    model_dir: Path,
    threshold: float,
    *,
    retrain: bool = False,
    seed: int = 42,
) -> LinkageResult:
    """Cluster records at ``threshold`` (match probability), reusing the latest model.

    A model is trained only when none is saved or ``retrain`` is set, so scheduled
    runs score with a fixed model and keys change only where the data does.
    """
    records = records.reset_index(drop=True)
    if len(records) < 2:
        clusters = pd.DataFrame(
            {"record_uid": records["record_uid"], "cluster_id": records["record_uid"]}
        )
        return LinkageResult(clusters, 0, latest_model(model_dir), False)
    path = None if retrain else latest_model(model_dir)
    trained = path is None
    if trained:
        path = train_model(records, model_dir, seed=seed)
    linker = _linker(records, str(path))
    for col in ("forename", "surname"):
        linker.table_management.compute_tf_table(col)
    predictions = linker.inference.predict()
    comparisons = int(
        linker.misc.query_sql(
            f"select count(*) as n from {predictions.physical_name}", output_type="pandas"
        )["n"][0]
    )
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    ).as_pandas_dataframe()
    clusters = clustered[["record_uid", "cluster_id"]].astype({"cluster_id": str})
    return LinkageResult(clusters, comparisons, path, trained)

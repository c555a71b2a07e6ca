"""Quality of a clustering against known truth: pairwise precision, recall, F1, purity.

Used for the simulated world (whose truth says which records are one person) in
the linkage asset's metadata and in the benchmark; never to compute outputs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = [
    "EVALUATION_NOTE",
    "pairwise_scores",
    "cluster_purity",
    "truth_person_ids",
    "linkage_quality",
]

#: Said wherever these figures are shown, so no one takes them for real-data accuracy.
EVALUATION_NOTE = (
    "simulated-world evaluation: the demo world's truth, not real data; "
    "real linkage quality must be estimated by clerical review"
)


def _pairs(labels: pd.Series) -> int:
    n = labels.value_counts()
    return int((n * (n - 1) // 2).sum())


def pairwise_scores(predicted: pd.Series, truth: pd.Series) -> dict[str, float]:
    """Pairwise precision/recall/F1 of two labellings of the same records (same index).

    A pair of records is predicted linked when they share a predicted cluster, and
    truly linked when they share a true person.

    >>> p = pd.Series([1, 1, 2, 2]); t = pd.Series(["a", "a", "a", "b"])
    >>> pairwise_scores(p, t)["precision"], round(pairwise_scores(p, t)["recall"], 3)
    (0.5, 0.333)
    """
    both = pd.DataFrame({"p": predicted, "t": truth}).dropna()
    tp = _pairs(both["p"].astype(str) + "\0" + both["t"].astype(str))
    predicted_pairs, true_pairs = _pairs(both["p"]), _pairs(both["t"])
    precision = tp / predicted_pairs if predicted_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_positive_pairs": tp,
        "predicted_pairs": predicted_pairs,
        "true_pairs": true_pairs,
    }


def cluster_purity(predicted: pd.Series, truth: pd.Series) -> float:
    """Share of records that belong to their predicted cluster's most common true person.

    >>> cluster_purity(pd.Series([1, 1, 1, 2]), pd.Series(["a", "a", "b", "b"]))
    0.75
    """
    both = pd.DataFrame({"p": predicted, "t": truth}).dropna()
    if both.empty:
        return 1.0
    top = both.groupby(["p", "t"]).size().groupby(level=0).max()
    return float(top.sum() / len(both))


def truth_person_ids(truth_dir: Path) -> pd.DataFrame:
    """The simulated world's ``record_uid`` -> true ``person_id`` (from ``person_records``)."""
    truth = pd.read_parquet(
        Path(truth_dir) / "person_records.parquet",
        columns=["agency", "dataset", "record_id", "person_id"],
    )
    uid = truth["agency"] + ":" + truth["dataset"] + ":" + truth["record_id"].astype(str)
    return pd.DataFrame({"record_uid": uid, "person_id": truth["person_id"].astype(str)})


def linkage_quality(clusters: pd.DataFrame, truth: pd.DataFrame, comparisons: int) -> dict:
    """Every figure the linkage asset and benchmark report against truth.

    Parameters
    ----------
    clusters
        ``record_uid`` and a cluster label (``cluster_id`` or ``person_id``).
    truth
        ``record_uid``, ``person_id`` (:func:`truth_person_ids`).
    comparisons
        Pairs the model scored.

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1`` (pairwise), ``cluster_purity``,
        ``comparisons_per_record``, ``records``, ``clusters``,
        ``records_with_truth`` (records found in the truth) and ``evaluation``
        (:data:`EVALUATION_NOTE`).
    """
    label = "cluster_id" if "cluster_id" in clusters else "person_id"
    m = clusters[["record_uid", label]].merge(
        truth.rename(columns={"person_id": "true_person"}), on="record_uid"
    )
    scores = pairwise_scores(m[label], m["true_person"])
    n = len(clusters)
    return {
        "precision": round(scores["precision"], 5),
        "recall": round(scores["recall"], 5),
        "f1": round(scores["f1"], 5),
        "cluster_purity": round(cluster_purity(m[label], m["true_person"]), 5),
        "comparisons_per_record": round(comparisons / n, 2) if n else 0.0,
        "records": n,
        "clusters": int(clusters[label].nunique()),
        "records_with_truth": len(m),
        "evaluation": EVALUATION_NOTE,
    }

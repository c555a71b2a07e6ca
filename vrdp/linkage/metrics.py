"""Pairwise precision, recall and F1 of a clustering against known truth."""

from __future__ import annotations

import pandas as pd

__all__ = ["pairwise_scores"]


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

"""Two early-intervention rankings (victim risk, perpetration risk) and their reports.

Evaluation, fairness report and model card of each. The two are fitted, scored
and reported apart and never combined into one score.

The model is a logistic regression on ``log1p`` counts, standardised (a
transparent model whose every weight the model card lists). Deterministic: the
solver (lbfgs) uses no randomness; the ``seed`` is recorded all the same.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from vrdp.governance.model_card import ModelCard

__all__ = [
    "KINDS",
    "CohortModel",
    "fit_cohort_model",
    "score",
    "evaluate",
    "rules_baseline",
    "history_baseline",
    "HISTORY_RULES",
    "fairness_report",
    "model_card",
    "model_card_markdown",
    "governance_card",
    "cohort_size_for",
]

#: The two models; never combined.
KINDS = ("victim", "perpetration")


@dataclass
class CohortModel:
    """A fitted ranking model: features, weights, the window it was trained on."""

    kind: str
    features: tuple[str, ...]
    coef: list[float]
    intercept: float
    means: list[float]
    scales: list[float]
    training_cutoff: str
    training_outcome_days: int
    n_train: int
    positives: int
    seed: int
    excluded_inputs: tuple[str, ...] = field(default_factory=tuple)

    def weights(self) -> dict[str, float]:
        """Standardised weight per feature."""
        return dict(zip(self.features, self.coef, strict=True))


def _design(X: pd.DataFrame, features, means=None, scales=None):
    Z = np.log1p(X.loc[:, list(features)].to_numpy(float).clip(min=0))
    if means is None:
        means = Z.mean(axis=0)
        scales = Z.std(axis=0)
        scales = np.where(scales > 0, scales, 1.0)
    return (Z - means) / scales, np.asarray(means), np.asarray(scales)


def fit_cohort_model(
    X: pd.DataFrame,
    y: pd.Series,
    *,
    kind: str,
    features,
    training_cutoff,
    outcome_days: int = 182,
    seed: int = 17,
    excluded_inputs=(),
) -> CohortModel:
    """Fit one model on features ``X`` (rows: people) and recorded outcome ``y`` (0/1)."""
    from sklearn.linear_model import LogisticRegression

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    Z, means, scales = _design(X, features)
    yy = np.asarray(y, int)
    if yy.min() == yy.max():
        raise ValueError(f"{kind}: the training outcome has one class only")
    lr = LogisticRegression(C=1.0, max_iter=1000, random_state=seed).fit(Z, yy)
    return CohortModel(
        kind=kind,
        features=tuple(features),
        coef=[float(c) for c in lr.coef_[0]],
        intercept=float(lr.intercept_[0]),
        means=[float(m) for m in means],
        scales=[float(s) for s in scales],
        training_cutoff=str(pd.Timestamp(training_cutoff).date()),
        training_outcome_days=outcome_days,
        n_train=len(yy),
        positives=int(yy.sum()),
        seed=seed,
        excluded_inputs=tuple(excluded_inputs),
    )


def score(model: CohortModel, X: pd.DataFrame) -> pd.Series:
    """Probability of the model's outcome in the next six months, per row of ``X``."""
    Z, _, _ = _design(X, model.features, np.array(model.means), np.array(model.scales))
    z = Z @ np.array(model.coef) + model.intercept
    return pd.Series(1 / (1 + np.exp(-z)), index=X.index, name=f"{model.kind}_risk")


def cohort_size_for(eligible: int, share: float = 0.02, minimum: int = 20) -> int:
    """How many people a cohort lists: ``share`` of those eligible, at least ``minimum``.

    >>> cohort_size_for(5000), cohort_size_for(100)
    (100, 20)
    """
    return int(min(eligible, max(minimum, round(share * eligible))))


def _top(scores: pd.Series, k: int) -> pd.Series:
    order = scores.sort_values(ascending=False, kind="stable")
    flagged = pd.Series(False, index=scores.index)
    flagged.loc[order.index[:k]] = True
    return flagged


def evaluate(scores: pd.Series, y: pd.Series, cohort_size: int, bins: int = 10) -> dict:
    """AUC, Brier score, calibration by decile of risk and precision at the cohort size.

    ``y`` is aligned to ``scores`` by index (missing = 0).
    """
    from sklearn.metrics import brier_score_loss, roc_auc_score

    yy = y.reindex(scores.index).fillna(0).astype(int)
    out = {"n": len(yy), "positives": int(yy.sum()), "cohort_size": int(cohort_size)}
    both = yy.nunique() == 2
    out["auc"] = float(roc_auc_score(yy, scores)) if both else None
    out["brier"] = float(brier_score_loss(yy, scores.clip(0, 1)))
    out["mean_predicted"] = float(scores.mean())
    out["observed_rate"] = float(yy.mean())
    out["calibration_in_the_large"] = float(scores.mean() / yy.mean()) if yy.mean() > 0 else None
    flagged = _top(scores, cohort_size)
    tp = int((flagged & (yy == 1)).sum())
    out["precision_at_cohort"] = tp / cohort_size if cohort_size else None
    out["recall_at_cohort"] = tp / int(yy.sum()) if yy.sum() else None
    q = pd.qcut(scores.rank(method="first"), bins, labels=False)
    cal = pd.DataFrame({"bin": q, "p": scores, "y": yy}).groupby("bin")
    out["calibration"] = [
        {
            "bin": int(b),
            "n": len(g),
            "mean_predicted": float(g["p"].mean()),
            "observed_rate": float(g["y"].mean()),
        }
        for b, g in cal
    ]
    return out


def rules_baseline(events: pd.DataFrame, people, cutoff, days: int = 182) -> pd.Series:
    """The simple rule: known to 2+ agencies with violence (any role) in the last ``days``.

    Agencies are counted from the person's events in the 24 months before ``cutoff``,
    from the sources the models may read (``VICTIM_SOURCES``), so that the rule and
    the models see the same records (voluntary referrals are not counted).
    """
    from vrdp.cohorts.features import VICTIM_SOURCES

    cutoff = pd.Timestamp(cutoff)
    events = events[events["source_system"].isin(VICTIM_SOURCES)]
    on = pd.to_datetime(events["occurred_on"])
    hist = events[(on < cutoff) & (on >= cutoff - pd.Timedelta(days=730))]
    agencies = hist.groupby("person_key")["agency"].nunique()
    rec = events[(on < cutoff) & (on >= cutoff - pd.Timedelta(days=days))]
    violent = set(rec.loc[rec["is_violence"].fillna(False).astype(bool), "person_key"])
    idx = pd.Index(sorted(set(people)), name="person_key")
    a = agencies.reindex(idx).fillna(0) >= 2
    return pd.Series(a.to_numpy() & idx.isin(violent), index=idx, name="rules_baseline")


#: What the history baseline counts per model: the same kind of event as the outcome.
_HISTORY = {
    "victim": ("victim",),
    "perpetration": ("suspect", "offender"),
}
#: The history baseline in words, per model.
HISTORY_RULES = {
    "victim": "distinct events as a victim of violence in the 365 days before the cutoff",
    "perpetration": (
        "distinct events as a suspect or offender (any offence) in the 365 days before the cutoff"
    ),
}


def history_baseline(events: pd.DataFrame, people, cutoff, kind: str, days: int = 365) -> pd.Series:
    """The plainest ranking: a count of the outcome's own kind of record in the last ``days``.

    For the perpetration model: distinct events where the person is a suspect or
    offender (any offence) in the ``days`` before ``cutoff``; for the victim model:
    distinct events where they are a victim of violence. Nothing is fitted. Compared
    with the model in the card so that a high figure can be read: when this count
    alone ranks almost as well, the figure is a property of how regularly people
    repeat in the data, not of the model.

    Returns
    -------
    pandas.Series
        Float counts indexed by person key (sorted), for :func:`evaluate`.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    cutoff = pd.Timestamp(cutoff)
    on = pd.to_datetime(events["occurred_on"])
    w = events[(on < cutoff) & (on >= cutoff - pd.Timedelta(days=days))]
    w = w[w["role"].isin(_HISTORY[kind])]
    if kind == "victim":
        w = w[w["is_violence"].fillna(False).astype(bool)]
    counts = w.groupby("person_key")["event_key"].nunique()
    idx = pd.Index(sorted(set(people)), name="person_key")
    return counts.reindex(idx).fillna(0).astype(float).rename(f"{kind}_history_{days}d")


def fairness_report(
    scores: pd.Series, y: pd.Series, groups: pd.DataFrame, cohort_size: int
) -> pd.DataFrame:
    """Calibration and false-positive rate at the cohort size, by group.

    Parameters
    ----------
    groups : pandas.DataFrame
        Indexed like ``scores``; one column per grouping (e.g. ``imd_decile``,
        ``ethnicity``); missing values form the group ``not recorded``. Groups are
        for this report only, never model inputs.

    Returns
    -------
    pandas.DataFrame
        ``grouping``, ``group``, ``n``, ``positives``, ``mean_predicted``,
        ``observed_rate``, ``calibration_ratio`` (predicted / observed), ``flagged``,
        ``false_positive_rate`` (flagged among those with no outcome); groups under
        10 people report counts only.
    """
    yy = y.reindex(scores.index).fillna(0).astype(int)
    flagged = _top(scores, cohort_size)
    rows = []
    for col in groups.columns:
        g = groups[col].reindex(scores.index).astype(object).where(lambda s: s.notna(), None)
        g = g.fillna("not recorded").astype(str)
        for name in sorted(g.unique()):
            m = (g == name).to_numpy()
            n, pos = int(m.sum()), int(yy[m].sum())
            neg = m & (yy.to_numpy() == 0)
            small = n < 10
            mp, obs = float(scores[m].mean()), (pos / n if n else float("nan"))
            rows.append(
                {
                    "grouping": col,
                    "group": name,
                    "n": n,
                    "positives": pos,
                    "mean_predicted": None if small else mp,
                    "observed_rate": None if small else obs,
                    "calibration_ratio": None if small or obs == 0 else mp / obs,
                    "flagged": int(flagged[m].sum()),
                    "false_positive_rate": None
                    if small or neg.sum() == 0
                    else float(flagged[neg].sum() / neg.sum()),
                }
            )
    return pd.DataFrame(rows)


def model_card(
    model: CohortModel,
    *,
    version: str,
    backtest: dict,
    baseline: dict,
    fairness: pd.DataFrame,
    truth_evaluation: dict | None = None,
    limits: tuple[str, ...] = (),
    windows: dict | None = None,
    history_baseline: dict | None = None,
) -> dict:
    """Everything a reviewer needs about one version of one model, as a JSON-able dict.

    ``windows``: the checked feature and outcome windows per cutoff
    (:func:`vrdp.cohorts.pipeline.check_windows`); ``history_baseline``: the count
    rule's metrics beside the model's, from which the card says in words how to
    read a high figure.
    """
    return {
        "model": f"early_intervention_{model.kind}",
        "version": version,
        "purpose": (
            "offer-of-support list for the safeguarding role; a human review is "
            "recorded before any action"
            if model.kind == "victim"
            else "diversion-offer list for the safeguarding role; a human review is "
            "recorded before any action"
        ),
        "population": "people aged 10-24 at the cutoff, known to at least one agency",
        "outcome": (
            "recorded as a victim of violence in the next 6 months"
            if model.kind == "victim"
            else "recorded as a suspect or offender of violence in the next 6 months"
        ),
        "inputs": list(model.features),
        "weights": model.weights(),
        "excluded_fields": list(model.excluded_inputs),
        "training": {
            "cutoff": model.training_cutoff,
            "feature_window_days": 730,
            "outcome_days": model.training_outcome_days,
            "rows": model.n_train,
            "positives": model.positives,
            "seed": model.seed,
            "algorithm": "logistic regression (scikit-learn, lbfgs, C=1) on log1p counts",
        },
        "windows": windows or {},
        "metrics_backtest_recorded_outcomes": backtest,
        "rules_baseline": baseline,
        "history_baseline": history_baseline or {},
        "reading": reading(history_baseline),
        "metrics_simulated_truth": truth_evaluation,
        "fairness": fairness.to_dict("records"),
        "known_limits": list(limits),
    }


#: Within this AUC of the history baseline, the card says the figure is the data's, not the model's.
HISTORY_MARGIN = 0.05


def reading(history: dict | None) -> str:
    """How to read the model's backtest beside the history baseline, in words.

    >>> reading({"rule": "x", "auc": 0.95, "precision_at_cohort": 1.0, "cohort_size": 9,
    ...          "model_auc": 0.97, "model_precision_at_cohort": 1.0})[:39]
    'A count of x alone ranks with AUC 0.950'
    """
    if not history or history.get("auc") is None or history.get("model_auc") is None:
        return ""
    base = (
        f"A count of {history['rule']} alone ranks with AUC {history['auc']:.3f} and "
        f"precision {history['precision_at_cohort']:.2f} at the cohort size "
        f"({history['cohort_size']}); the model: AUC {history['model_auc']:.3f}, precision "
        f"{history['model_precision_at_cohort']:.2f}."
    )
    if history["model_auc"] - history["auc"] < HISTORY_MARGIN:
        return (
            f"{base} The model adds little to the plain count: its figure measures how "
            "regularly people with that history repeat in these data (the windows above are "
            "checked: no record on or after a cutoff reaches a feature), not a skill of the model."
        )
    return f"{base} The model adds {history['model_auc'] - history['auc']:.3f} AUC to the count."


def model_card_markdown(card: dict) -> str:
    """The model card as a page a person reads."""

    def fmt(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    bt = card["metrics_backtest_recorded_outcomes"]
    lines = [
        f"# Model card: {card['model']} ({card['version']})",
        "",
        f"**Purpose.** {card['purpose']}.",
        f"**Population.** {card['population']}. **Outcome.** {card['outcome']}.",
        "",
        "## Inputs",
        *(f"- `{f}` (weight {fmt(w)})" for f, w in card["weights"].items()),
        "",
        "## Excluded fields",
        *(f"- `{f}`" for f in card["excluded_fields"]),
        "",
        "## Training",
        *(f"- {k}: {v}" for k, v in card["training"].items()),
        "",
        "## Windows (checked on the data: features end before outcomes start)",
        *(
            f"- {name}: features {w['features']} (records from "
            f"{w.get('earliest_event_before_cutoff')}), outcomes {w['outcomes']}, "
            f"events on both sides {w['event_keys_on_both_sides']}"
            for name, w in card.get("windows", {}).items()
        ),
        "",
        "## Metrics (backtest on recorded outcomes)",
        *(f"- {k}: {fmt(v)}" for k, v in bt.items() if k != "calibration"),
        "",
        "## Rules baseline (known to 2+ agencies with violence in the last 6 months)",
        *(f"- {k}: {fmt(v)}" for k, v in card["rules_baseline"].items()),
    ]
    if card.get("history_baseline"):
        lines += [
            "",
            "## History baseline (a count, nothing fitted)",
            *(f"- {k}: {fmt(v)}" for k, v in card["history_baseline"].items()),
        ]
    if card.get("reading"):
        lines += ["", f"**Reading the figures.** {card['reading']}"]
    if card.get("metrics_simulated_truth"):
        lines += [
            "",
            "## Metrics on the simulated world's truth (evaluation only)",
            *(
                f"- {k}: {fmt(v)}"
                for k, v in card["metrics_simulated_truth"].items()
                if k != "calibration"
            ),
        ]
    lines += ["", "## Fairness (calibration and false-positive rate by group)", ""]
    lines += ["| grouping | group | n | predicted | observed | FPR |", "|---|---|---|---|---|---|"]
    for r in card["fairness"]:
        lines.append(
            f"| {r['grouping']} | {r['group']} | {r['n']} | {fmt(r['mean_predicted'])} "
            f"| {fmt(r['observed_rate'])} | {fmt(r['false_positive_rate'])} |"
        )
    lines += ["", "## Known limits", *(f"- {x}" for x in card["known_limits"]), ""]
    return "\n".join(lines)


def as_dict(model: CohortModel) -> dict:
    """The fitted model as JSON-able data."""
    return asdict(model)


def governance_card(card: dict) -> ModelCard:
    """The cohort card in the platform's common model-card format (``vrdp.governance``).

    Same fields as the forecast, risk terrain and linkage cards; the cohort's own
    card (weights, fairness rows) is published beside it.
    """
    t = card["training"]
    truth = card.get("metrics_simulated_truth") or {}
    accuracy = {
        f"backtest_{k}": v
        for k, v in card["metrics_backtest_recorded_outcomes"].items()
        if k in ("auc", "brier", "calibration_in_the_large", "precision_at_cohort", "cohort_size")
    }
    accuracy.update(
        {
            f"simulated_truth_{k}": v
            for k, v in truth.items()
            if k in ("auc", "calibration_in_the_large", "precision_at_cohort")
        }
    )
    accuracy.update({f"rules_baseline_{k}": v for k, v in card["rules_baseline"].items()})
    hist = card.get("history_baseline") or {}
    accuracy.update(
        {f"history_baseline_{k}": hist[k] for k in ("auc", "precision_at_cohort") if k in hist}
    )
    fair = [r for r in card["fairness"] if r.get("false_positive_rate") is not None]
    if fair:
        fprs = [r["false_positive_rate"] for r in fair]
        accuracy["fairness_false_positive_rate_range"] = [min(fprs), max(fprs)]
    return ModelCard(
        name=f"{card['model']} ({card['version']})",
        inputs=[f"{f} (agency event counts, log1p)" for f in card["inputs"]],
        owner="safeguarding partnership (multi-agency safeguarding hub) with the VRU analysts",
        excluded_fields=list(card["excluded_fields"])
        or ["protected characteristics (never features)"],
        parameters={"algorithm": t["algorithm"], "seed": t["seed"], "weights": card["weights"]},
        training_window=(
            f"cutoff {t['cutoff']}, features {t['feature_window_days']} days before it, "
            f"outcome {t['outcome_days']} days after ({t['rows']} people, {t['positives']} "
            "positives)"
        ),
        accuracy=accuracy,
        accuracy_method=(
            "backtest on recorded outcomes (the model trained before an earlier cutoff, "
            "scored on the 6 months after it); where the simulated world is loaded, the same "
            "against its truth (evaluation only); fairness by deprivation decile and recorded "
            "ethnicity in the fairness report beside the cohort"
        ),
        known_limits=list(card["known_limits"])
        + ([card["reading"]] if card.get("reading") else []),
        intended_use=f"{card['purpose']}; population: {card['population']}",
        not_for="any enforcement decision, or any action without a recorded human review",
    )

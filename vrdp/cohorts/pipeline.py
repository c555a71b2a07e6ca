"""The early-intervention cohorts end to end: train, backtest, score, fairness, model cards.

Three cutoffs, all from the data's own latest event (``as_of``), never the clock:

- ``train`` = as_of + 1 day - 364 days: features from the 24 months before it,
  outcomes recorded in the 182 days after it (fits the backtest model);
- ``test`` = as_of + 1 day - 182 days: the backtest model is scored here and
  compared with the outcomes recorded in the 182 days after (to as_of); the
  published model is refitted at this cutoff;
- ``score`` = as_of + 1 day: the published cohorts, for the next 6 months.

Eligible: aged 10-24 at the cutoff (by the earliest recorded date of birth; age
decides who is eligible and is never a feature) with any recorded event.

No look-ahead, checked on the data at every cutoff (:func:`check_windows`): the
features are rebuilt from the events strictly before the cutoff alone and must be
identical; the outcomes are rebuilt from the events on or after it alone and must
be identical; no event is counted on both sides. A builder that read a record on
or after its cutoff raises :class:`LookaheadError`; the card records the windows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from vrdp.cohorts.features import (
    EVENT_COLUMNS,
    PERPETRATION_FEATURES,
    PROTECTED_COLUMNS,
    VICTIM_FEATURES,
    VICTIM_SOURCES,
    outcomes,
    perpetration_features,
    victim_features,
)
from vrdp.cohorts.model import (
    HISTORY_RULES,
    CohortModel,
    cohort_size_for,
    evaluate,
    fairness_report,
    fit_cohort_model,
    history_baseline,
    model_card,
    rules_baseline,
    score,
)

__all__ = [
    "CohortRun",
    "InsufficientHistoryError",
    "LookaheadError",
    "MIN_HISTORY_DAYS",
    "INPUT_COLUMNS",
    "check_windows",
    "eligible_people",
    "build_cohorts",
    "KNOWN_LIMITS",
]

#: The person-event columns :func:`build_cohorts` reads: the feature builders' own
#: and ``agency`` for the rules baseline. The cohorts asset reads only these of the
#: timeline (not all sixteen): on the large world its run peaked at 2.8 GiB, not 3.4.
INPUT_COLUMNS = (*EVENT_COLUMNS, "agency")
OUTCOME_DAYS = 182
#: the shortest span of events the cohorts are built from: the training cutoff
#: (two outcome windows before the latest event) needs a half-year of history before it
MIN_HISTORY_DAYS = 3 * OUTCOME_DAYS


class InsufficientHistoryError(ValueError):
    """The events span too short a time to train, backtest and score the cohort models."""


class LookaheadError(AssertionError):
    """A feature read a record on or after its cutoff, or an outcome one before its start."""


def check_windows(
    builder, events: pd.DataFrame, people, cutoff, label: str, X_all: pd.DataFrame | None = None
) -> dict:
    """Prove on the data that ``builder``'s features end before the outcome window starts.

    Rebuilds the features from the events strictly before ``cutoff`` only and the
    outcomes (column ``label``) from the events on or after it only; both must equal
    the values built from all events (``X_all``: the features the caller built
    from all events with ``builder``, else built here). Raises
    :class:`LookaheadError` otherwise.

    Returns
    -------
    dict
        The windows as half-open date intervals, the latest event date the features
        could read and the earliest the outcomes could, and the number of event keys
        counted on both sides (0), for the model card.
    """
    cutoff = pd.Timestamp(cutoff)
    on = pd.to_datetime(events["occurred_on"])
    before, after = events[on < cutoff], events[on >= cutoff]
    if X_all is None:
        X_all = builder(events, people, cutoff)
    X_before = builder(before, people, cutoff)
    if not X_all.equals(X_before):
        changed = sorted(c for c in X_all if not X_all[c].equals(X_before[c]))
        raise LookaheadError(f"features {changed} change with events on or after {cutoff.date()}")
    y_all = outcomes(events, people, cutoff, OUTCOME_DAYS)[label]
    if not y_all.equals(outcomes(after, people, cutoff, OUTCOME_DAYS)[label]):
        raise LookaheadError(f"the {label} outcome reads events before {cutoff.date()}")
    end = cutoff + pd.Timedelta(days=OUTCOME_DAYS)
    in_out = after[pd.to_datetime(after["occurred_on"]) < end]
    shared = set(before["event_key"]) & set(in_out["event_key"])
    if shared:
        raise LookaheadError(f"{len(shared)} events dated on both sides of {cutoff.date()}")
    start = cutoff - pd.Timedelta(days=730)
    return {
        "features": f"[{start.date()}, {cutoff.date()})",
        "outcomes": f"[{cutoff.date()}, {end.date()})",
        "earliest_event_before_cutoff": str(pd.to_datetime(before["occurred_on"]).min().date())
        if len(before)
        else None,
        "latest_event_before_cutoff": str(pd.to_datetime(before["occurred_on"]).max().date())
        if len(before)
        else None,
        "earliest_event_in_outcome_window": str(pd.to_datetime(in_out["occurred_on"]).min().date())
        if len(in_out)
        else None,
        "event_keys_on_both_sides": len(shared),
        "features_unchanged_without_later_events": True,
        "outcomes_unchanged_without_earlier_events": True,
    }


_BUILDERS = {
    "victim": (victim_features, VICTIM_FEATURES, "victim"),
    "perpetration": (perpetration_features, PERPETRATION_FEATURES, "perpetrator"),
}
KNOWN_LIMITS = (
    "Outcomes are recorded events: violence never reported to the police is not an "
    "outcome, so the models learn where agencies look as well as who is at risk.",
    "Trained on one force's last year; scores are rankings for offers of support, "
    "not predictions about an individual.",
    "Deprivation (home LSOA) and ethnicity (police nominal records, where recorded) "
    "are used only for the fairness report, never as inputs.",
    "Linkage errors merge or split people; a merged person carries another's history.",
    "Age from the earliest recorded date of birth decides eligibility only.",
)


@dataclass
class CohortRun:
    """Everything one run produces, per model (never combined)."""

    as_of: pd.Timestamp
    cohorts: dict[str, pd.DataFrame]
    models: dict[str, CohortModel]
    backtest: dict[str, dict]
    baseline: dict[str, dict]
    fairness: dict[str, pd.DataFrame]
    truth: dict[str, dict]
    cards: dict[str, dict]
    windows: dict[str, dict]
    history: dict[str, dict]


def eligible_people(births: pd.Series, events: pd.DataFrame, cutoff) -> list[str]:
    """Person keys aged 10-24 at ``cutoff`` with an event before it.

    ``births``: date of birth by person key (eligibility only).
    """
    cutoff = pd.Timestamp(cutoff)
    age = (cutoff - pd.to_datetime(births)).dt.days / 365.25
    young = set(age.index[(age >= 10) & (age < 25)])
    seen = set(events.loc[pd.to_datetime(events["occurred_on"]) < cutoff, "person_key"].unique())
    return sorted(young & seen)


def _baseline_metrics(flags: pd.Series, y: pd.Series) -> dict:
    yy = y.reindex(flags.index).fillna(0).astype(int)
    n = int(flags.sum())
    tp = int((flags & (yy == 1)).sum())
    return {
        "listed": n,
        "precision": tp / n if n else None,
        "recall": tp / int(yy.sum()) if yy.sum() else None,
    }


def _history_metrics(counts: pd.Series, y: pd.Series, k: int, model_metrics: dict, kind) -> dict:
    """The history baseline's AUC and precision at the model's cohort size, beside the model's."""
    m = evaluate(counts, y, k)
    out = {
        "rule": HISTORY_RULES[kind],
        "auc": m["auc"],
        "precision_at_cohort": m["precision_at_cohort"],
        "cohort_size": k,
        "model_auc": model_metrics["auc"],
        "model_precision_at_cohort": model_metrics["precision_at_cohort"],
    }
    if m["auc"] is not None and model_metrics["auc"] is not None:
        out["model_auc_gain"] = model_metrics["auc"] - m["auc"]
    return out


def _by_person(frame, persons: pd.Index):
    """``frame`` (indexed by person key) indexed by each key's number in ``persons``.

    Keys with no event (not in ``persons``) are left out: nobody without an event is
    eligible, scored or reported.
    """
    number = persons.get_indexer(frame.index)
    out = frame[number >= 0]
    out.index = pd.Index(number[number >= 0], name=frame.index.name)
    return out


def _labels_by_number(truth_labels, persons: pd.Index):
    """``truth_labels`` called with person numbers (it reads text keys; its rows numbered)."""

    def labels(numbers, start, days):
        out = truth_labels(list(persons[np.asarray(numbers, dtype=np.int64)]), start, days)
        out.index = pd.Index(persons.get_indexer(out.index), name=out.index.name)
        return out

    return labels


def build_cohorts(
    events: pd.DataFrame,
    births: pd.Series,
    groups: pd.DataFrame,
    *,
    seed: int = 17,
    cohort_share: float = 0.02,
    version: str | None = None,
    truth_labels=None,
) -> CohortRun:
    """Fit, backtest and score both models; fairness report and model card for each.

    Parameters
    ----------
    events : pandas.DataFrame
        ``marts.fct_person_timeline`` rows (``person_key``, ``event_key``,
        ``occurred_on``, ``role``, ``source_system``, ``agency``, ``is_violence``,
        ``harm_weight_days``).
    births : pandas.Series
        Date of birth by person key (eligibility only).
    groups : pandas.DataFrame
        Fairness groupings by person key (``imd_decile``, ``ethnicity``); report only.
    truth_labels : callable, optional
        ``f(person_keys, start, days) -> DataFrame[victim, perpetrator]``: true
        outcomes of the simulated world, for evaluation only.
    """
    leaked = set(PROTECTED_COLUMNS) & (set(VICTIM_FEATURES) | set(PERPETRATION_FEATURES))
    assert not leaked, leaked
    # only the sources the models may read decide eligibility, outcomes and dates
    events = events[events["source_system"].isin(VICTIM_SOURCES)].copy()
    events["occurred_on"] = pd.to_datetime(events["occurred_on"])
    # event keys only tell events apart (distinct counts, both sides of a cutoff):
    # numbered, they count the same in a fraction of the time text takes
    codes = pd.factorize(events["event_key"])[0].astype("float64")
    events["event_key"] = np.where(codes < 0, np.nan, codes)
    # person keys numbered in their text order (-1: none): every set, sort, group and
    # lookup by person runs on integers in the order the texts give, so every figure
    # and tie is the same; the cohorts name people by their keys again. Text keys made
    # grouping, sorting and sets half of the large world's cohort time.
    events["person_key"], persons = pd.factorize(events["person_key"], sort=True)
    births = _by_person(births, persons)
    groups = _by_person(groups, persons)
    if truth_labels is not None:
        truth_labels = _labels_by_number(truth_labels, persons)
    as_of = events["occurred_on"].max()
    span = (as_of - events["occurred_on"].min()).days if len(events) else 0
    if span < MIN_HISTORY_DAYS:
        raise InsufficientHistoryError(
            f"the person timeline spans {span} days; the cohorts need at least "
            f"{MIN_HISTORY_DAYS} (a half-year of history before the training cutoff, "
            f"then two {OUTCOME_DAYS}-day outcome windows)"
        )
    t_score = as_of + pd.Timedelta(days=1)
    t_test = t_score - pd.Timedelta(days=OUTCOME_DAYS)
    t_train = t_test - pd.Timedelta(days=OUTCOME_DAYS)
    people = {t: eligible_people(births, events, t) for t in (t_train, t_test, t_score)}
    y_train = outcomes(events, people[t_train], t_train, OUTCOME_DAYS)
    y_test = outcomes(events, people[t_test], t_test, OUTCOME_DAYS)
    truth = truth_labels(people[t_test], t_test, OUTCOME_DAYS) if truth_labels else None
    base = rules_baseline(events, people[t_test], t_test)
    run = CohortRun(as_of, {}, {}, {}, {}, {}, {}, {}, {}, {})
    version = version or f"{as_of.date()}-seed{seed}"
    for kind, (builder, feats, label) in _BUILDERS.items():
        excluded = list(PROTECTED_COLUMNS)
        if kind == "perpetration":
            excluded += [
                "every victim, patient, referred-child and witness row",
                "children's social care and NHS safeguarding records",
            ]
        kw = {"kind": kind, "features": feats, "seed": seed, "excluded_inputs": excluded}
        # the features at each cutoff, from all events: what the models read, and
        # what check_windows proves equal to the features from earlier events only
        X_train, X_test, X_now = (builder(events, people[t], t) for t in (t_train, t_test, t_score))
        run.windows[kind] = {
            name: check_windows(builder, events, people[t], t, label, X_all=X)
            for name, t, X in (
                ("backtest_training", t_train, X_train),
                ("backtest_evaluation", t_test, X_test),
                ("published_scores", t_score, X_now),
            )
        }
        backtest_model = fit_cohort_model(X_train, y_train[label], training_cutoff=t_train, **kw)
        s_test = score(backtest_model, X_test)
        k_test = cohort_size_for(len(s_test), cohort_share)
        run.backtest[kind] = evaluate(s_test, y_test[label], k_test)
        run.baseline[kind] = _baseline_metrics(base, y_test[label])
        # the model's precision on a list as long as the rule's, for a like-for-like view
        at_base = evaluate(s_test, y_test[label], max(int(base.sum()), 1))
        run.baseline[kind]["model_precision_at_same_size"] = at_base["precision_at_cohort"]
        run.fairness[kind] = fairness_report(s_test, y_test[label], groups, k_test)
        hist = history_baseline(events, people[t_test], t_test, kind)
        run.history[kind] = _history_metrics(hist, y_test[label], k_test, run.backtest[kind], kind)
        if truth is not None:
            run.truth[kind] = evaluate(s_test, truth[label], k_test)
            run.truth[kind]["rules_baseline"] = _baseline_metrics(base, truth[label])
            run.truth[kind]["history_baseline"] = _history_metrics(
                hist, truth[label], k_test, run.truth[kind], kind
            )
            run.truth[kind]["model_precision_at_baseline_size"] = evaluate(
                s_test, truth[label], max(int(base.sum()), 1)
            )["precision_at_cohort"]
            run.fairness[kind] = fairness_report(s_test, truth[label], groups, k_test)
            run.fairness[kind]["labels"] = "simulated truth"
        else:
            run.fairness[kind]["labels"] = "recorded outcomes"
        model = fit_cohort_model(X_test, y_test[label], training_cutoff=t_test, **kw)
        s_now = score(model, X_now)
        k_now = cohort_size_for(len(s_now), cohort_share)
        top = s_now.sort_values(ascending=False, kind="stable").iloc[:k_now]
        run.cohorts[kind] = pd.DataFrame(
            {
                "person_key": persons[top.index.to_numpy()],
                "rank": range(1, len(top) + 1),
                f"{kind}_risk": top.to_numpy(),
                "model": f"early_intervention_{kind}",
                "model_version": version,
                "cutoff": t_score.date(),
                "horizon_days": OUTCOME_DAYS,
                "review_required": True,
            }
        )
        run.models[kind] = model
        run.cards[kind] = model_card(
            model,
            version=version,
            backtest=run.backtest[kind],
            baseline=run.baseline[kind],
            fairness=run.fairness[kind],
            truth_evaluation=run.truth.get(kind),
            limits=KNOWN_LIMITS,
            windows=run.windows[kind],
            history_baseline=run.history[kind],
        )
    return run

"""Early-intervention models: no protected attribute reaches a feature, and a victim-only
history cannot raise anyone's perpetration score (by construction, on hand-made data)."""

import json

import numpy as np
import pandas as pd
import pytest

from vrdp.cohorts.features import (
    EVENT_COLUMNS,
    PERPETRATION_FEATURES,
    PROTECTED_COLUMNS,
    VICTIM_FEATURES,
    outcomes,
    perpetration_features,
    victim_features,
)
from vrdp.cohorts.model import (
    cohort_size_for,
    evaluate,
    fairness_report,
    fit_cohort_model,
    rules_baseline,
    score,
)
from vrdp.cohorts.pipeline import build_cohorts

CUTOFF = pd.Timestamp("2025-07-01")


def _events(seed=3, people=400):
    """A hand-made history: people with victim, suspect and welfare events."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(people):
        k = f"p{i:04d}"
        off = rng.random() < 0.3
        vic = rng.random() < 0.4
        for _ in range(rng.poisson(3 if off else 0.3)):
            day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 700)))
            src = rng.choice(["police_rms", "police_rms", "probation", "police_intelligence"])
            role = {"police_rms": "suspect", "probation": "offender"}.get(src, "subject")
            rows.append((k, day, role, src, rng.random() < 0.6))
        for _ in range(rng.poisson(3 if vic else 0.3)):
            day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 700)))
            src = rng.choice(["police_rms", "social_care", "nhs_safeguarding"])
            role = {"police_rms": "victim", "social_care": "referred child"}.get(src, "patient")
            rows.append((k, day, role, src, rng.random() < 0.6))
    df = pd.DataFrame(rows, columns=["person_key", "occurred_on", "role", "source_system", "viol"])
    df["is_violence"] = df.pop("viol") & df["role"].isin(["victim", "suspect", "offender"])
    df["event_key"] = [f"e{i}" for i in range(len(df))]
    df["harm_weight_days"] = np.where(df["is_violence"], 30.0, 0.0)
    df["agency"] = df["source_system"].str.split("_").str[0]
    # protected attributes present in the input, to prove they are never read
    df["ethnicity"] = rng.choice(["A", "B", "W"], len(df))
    df["sex"] = rng.choice(["M", "F"], len(df))
    df["date_of_birth"] = pd.Timestamp("2005-01-01")
    return df


def test_no_protected_attribute_is_a_feature_or_read():
    assert not set(PROTECTED_COLUMNS) & set(VICTIM_FEATURES)
    assert not set(PROTECTED_COLUMNS) & set(PERPETRATION_FEATURES)
    assert not set(PROTECTED_COLUMNS) & set(EVENT_COLUMNS)
    ev = _events()
    people = sorted(ev["person_key"].unique())
    shuffled = ev.copy()
    rng = np.random.default_rng(0)
    for col in ("ethnicity", "sex", "date_of_birth"):
        shuffled[col] = rng.permutation(shuffled[col].to_numpy())
    for builder in (victim_features, perpetration_features):
        a = builder(ev, people, CUTOFF)
        b = builder(shuffled, people, CUTOFF)
        pd.testing.assert_frame_equal(a, b)
        # and without the columns at all
        c = builder(ev.drop(columns=["ethnicity", "sex", "date_of_birth"]), people, CUTOFF)
        pd.testing.assert_frame_equal(a, c)


def test_a_victim_only_history_cannot_raise_the_perpetration_score():
    ev = _events()
    people = sorted(ev["person_key"].unique())
    X = perpetration_features(ev, people, CUTOFF)
    y = outcomes(ev, people, CUTOFF - pd.Timedelta(days=182), 182)["perpetrator"]
    Xtr = perpetration_features(ev, people, CUTOFF - pd.Timedelta(days=182))
    model = fit_cohort_model(
        Xtr, y, kind="perpetration", features=PERPETRATION_FEATURES, training_cutoff=CUTOFF
    )
    before = score(model, X)
    # give everyone (and a new person) a long victimisation and welfare history
    extra = []
    for k in [*people[:50], "victim_only"]:
        for d in range(0, 600, 20):
            day = CUTOFF - pd.Timedelta(days=d + 1)
            for role, src in (
                ("victim", "police_rms"),
                ("patient", "nhs_safeguarding"),
                ("referred child", "social_care"),
                ("witness", "police_rms"),
            ):
                extra.append(
                    {
                        "person_key": k,
                        "occurred_on": day,
                        "role": role,
                        "source_system": src,
                        "is_violence": True,
                        "event_key": f"x{k}{d}{role}",
                        "harm_weight_days": 500.0,
                        "agency": src.split("_")[0],
                    }
                )
    more = pd.concat([ev, pd.DataFrame(extra)], ignore_index=True)
    after = score(model, perpetration_features(more, [*people, "victim_only"], CUTOFF))
    pd.testing.assert_series_equal(before, after.loc[before.index])
    # a person known only as a victim scores exactly as a person with no history
    blank = score(model, perpetration_features(ev.iloc[:0], ["nobody"], CUTOFF))
    assert after["victim_only"] == pytest.approx(blank["nobody"])
    # while the victim model does respond to victimisation (it is a separate model)
    assert (
        victim_features(more, people[:50], CUTOFF)["victim_violence_24m"].sum()
        > victim_features(ev, people[:50], CUTOFF)["victim_violence_24m"].sum()
    )


def test_evaluation_fairness_and_baseline_on_a_known_answer():
    s = pd.Series([0.9, 0.8, 0.2, 0.1], index=list("abcd"))
    y = pd.Series([1, 0, 1, 0], index=list("abcd"))
    m = evaluate(s, y, cohort_size=2, bins=2)
    assert m["auc"] == pytest.approx(0.75)
    assert m["precision_at_cohort"] == 0.5 and m["recall_at_cohort"] == 0.5
    groups = pd.DataFrame({"imd_decile": [1, 1, 10, None]}, index=list("abcd"))
    f = fairness_report(s, y, groups, 2)
    assert set(f["group"]) == {"1.0", "10.0", "not recorded"}
    assert f["flagged"].sum() == 2
    assert cohort_size_for(1000) == 20 and cohort_size_for(10_000) == 200
    ev = _events()
    base = rules_baseline(ev, sorted(ev["person_key"].unique()), CUTOFF)
    assert base.dtype == bool and 0 < base.sum() < len(base)


def test_build_cohorts_keeps_the_two_rankings_apart():
    ev = _events(people=800)
    births = pd.Series(
        pd.Timestamp("2005-06-01"), index=pd.Index(sorted(ev["person_key"].unique()))
    )
    groups = pd.DataFrame({"imd_decile": 5}, index=births.index)
    run = build_cohorts(ev, births, groups, seed=17, version="test")
    assert set(run.cohorts) == {"victim", "perpetration"}
    v, p = run.cohorts["victim"], run.cohorts["perpetration"]
    assert "victim_risk" in v and "perpetration_risk" not in v
    assert "perpetration_risk" in p and "victim_risk" not in p
    assert v["review_required"].all() and p["review_required"].all()
    card = run.cards["perpetration"]
    assert not set(card["inputs"]) & set(PROTECTED_COLUMNS)
    assert any("victim" in x for x in card["excluded_fields"])
    assert card["metrics_backtest_recorded_outcomes"]["auc"] > 0.5
    assert card["training"]["seed"] == 17 and card["known_limits"]
    # issue 19: both cohort models also ship the platform's common model card
    from vrdp.cohorts.model import governance_card
    from vrdp.governance.model_card import render_model_card

    for kind in ("victim", "perpetration"):
        common = governance_card(run.cards[kind])
        common.check()
        assert (
            common.accuracy["backtest_auc"]
            == run.cards[kind]["metrics_backtest_recorded_outcomes"]["auc"]
        )
        assert "rules_baseline_precision" in common.accuracy
        assert not set(common.parameters["weights"]) & set(PROTECTED_COLUMNS)
        assert common.excluded_fields == list(run.cards[kind]["excluded_fields"])
        text, page = render_model_card(common, f"{kind}_cohort.parquet")
        assert json.loads(text)["name"] == common.name
        assert kind in page and "## Fields left out" in page


def test_features_end_before_the_outcome_window_starts():
    """Issue 17 (leakage check): no record dated on or after a cutoff reaches a feature.

    A record on the cutoff day itself is the sharpest case: it is the first day of
    the outcome window. Both builders must ignore it, the outcome must count it, and
    a builder that reads it (``<=`` instead of ``<``) is refused by ``check_windows``.
    """
    from vrdp.cohorts.pipeline import LookaheadError, check_windows

    ev = _events()
    people = sorted(ev["person_key"].unique())
    on_cutoff = pd.DataFrame(
        {
            "person_key": people[:40],
            "occurred_on": CUTOFF,
            "role": "suspect",
            "source_system": "police_rms",
            "is_violence": True,
            "event_key": [f"c{i}" for i in range(40)],
            "harm_weight_days": 30.0,
            "agency": "police",
        }
    )
    later = on_cutoff.assign(
        occurred_on=CUTOFF + pd.Timedelta(days=100), event_key=[f"l{i}" for i in range(40)]
    )
    more = pd.concat([ev, on_cutoff, later], ignore_index=True)
    for builder in (victim_features, perpetration_features):
        pd.testing.assert_frame_equal(builder(ev, people, CUTOFF), builder(more, people, CUTOFF))
    # the same records are outcomes: the first day of the window counts
    assert outcomes(more, people[:40], CUTOFF)["perpetrator"].all()
    for builder, label in ((victim_features, "victim"), (perpetration_features, "perpetrator")):
        w = check_windows(builder, more, people, CUTOFF, label)
        assert w["features"] == "[2023-07-02, 2025-07-01)"
        assert w["outcomes"] == "[2025-07-01, 2025-12-30)"
        assert w["event_keys_on_both_sides"] == 0
        assert w["earliest_event_in_outcome_window"] == "2025-07-01"
        assert w["latest_event_before_cutoff"] < "2025-07-01"

    def leaky(events, people, cutoff):  # reads the cutoff day: one day of look-ahead
        return perpetration_features(events, people, pd.Timestamp(cutoff) + pd.Timedelta(days=1))

    with pytest.raises(LookaheadError, match="on or after 2025-07-01"):
        check_windows(leaky, more, people, CUTOFF, "perpetrator")


def test_the_card_sets_the_model_beside_a_count_of_past_records():
    """A count of offences in the last 12 months, nothing fitted, is the yardstick of a high AUC."""
    from vrdp.cohorts.model import history_baseline, reading

    ev = _events()
    people = sorted(ev["person_key"].unique())
    counts = history_baseline(ev, people, CUTOFF, "perpetration")
    on = pd.to_datetime(ev["occurred_on"])
    year = ev[(on < CUTOFF) & (on >= CUTOFF - pd.Timedelta(days=365))]
    expected = year[year["role"].isin(["suspect", "offender"])].groupby("person_key").size()
    assert counts.sum() == expected.sum() and counts.index.tolist() == people
    # victim rows never enter the perpetration count, offending rows never the victim count
    v = history_baseline(ev, people, CUTOFF, "victim")
    vic = year[year["role"].eq("victim") & year["is_violence"]]
    assert v.sum() == vic["event_key"].nunique()
    close = {"rule": "r", "auc": 0.96, "precision_at_cohort": 1.0, "cohort_size": 5}
    assert "adds little" in reading({**close, "model_auc": 0.977, "model_precision_at_cohort": 1.0})
    far = {**close, "auc": 0.6, "model_auc": 0.8, "model_precision_at_cohort": 0.7}
    assert "adds 0.200 AUC" in reading(far)

    ev = _events(people=800)
    births = pd.Series(pd.Timestamp("2005-06-01"), index=pd.Index(ev["person_key"].unique()))
    run = build_cohorts(ev, births, pd.DataFrame({"imd_decile": 5}, index=births.index))
    for kind in ("victim", "perpetration"):
        card = run.cards[kind]
        assert set(card["windows"]) == {
            "backtest_training",
            "backtest_evaluation",
            "published_scores",
        }
        h = card["history_baseline"]
        assert (
            0 <= h["auc"] <= 1
            and h["model_auc"] == card["metrics_backtest_recorded_outcomes"]["auc"]
        )
        assert card["reading"].startswith("A count of ")


def test_a_source_enters_a_model_only_by_decision():
    """Voluntary-sector referrals, linked to persons with consent, reach neither model."""
    from vrdp.cohorts.features import PERPETRATION_SOURCES, VICTIM_SOURCES

    assert "voluntary" not in VICTIM_SOURCES and "voluntary" not in PERPETRATION_SOURCES
    ev = _events()
    people = sorted(ev["person_key"].unique())
    referrals = pd.DataFrame(
        {
            "person_key": people[:60],
            "occurred_on": CUTOFF - pd.Timedelta(days=30),
            "role": "referred young person",
            "source_system": "voluntary",
            "is_violence": False,
            "event_key": [f"v{i}" for i in range(60)],
            "harm_weight_days": 0.0,
            "agency": "voluntary",
        }
    )
    more = pd.concat([ev, referrals], ignore_index=True)
    for builder in (victim_features, perpetration_features):
        pd.testing.assert_frame_equal(builder(ev, people, CUTOFF), builder(more, people, CUTOFF))
    # nor the rules baseline: a referral does not make anyone known to one more agency
    pd.testing.assert_series_equal(
        rules_baseline(ev, people, CUTOFF), rules_baseline(more, people, CUTOFF)
    )
    # nor eligibility: a person known only through a referral is not in either cohort
    only = referrals.iloc[:1].assign(
        person_key="referred_only", event_key="v_only", occurred_on=pd.Timestamp("2024-06-01")
    )
    births = pd.Series(pd.Timestamp("2005-06-01"), index=pd.Index([*people, "referred_only"]))
    groups = pd.DataFrame({"imd_decile": 5}, index=births.index)
    run = build_cohorts(pd.concat([more, only], ignore_index=True), births, groups)
    base = build_cohorts(ev, births, groups)
    for kind in ("victim", "perpetration"):
        pd.testing.assert_frame_equal(run.cohorts[kind], base.cohorts[kind])
        assert run.backtest[kind]["n"] == base.backtest[kind]["n"]


def test_the_columns_the_asset_reads_are_all_the_cohorts_need():
    """The asset reads only INPUT_COLUMNS of the timeline (memory on the large
    world): the cohorts, cards and fairness reports are those of the whole frame."""
    from vrdp.cohorts.pipeline import INPUT_COLUMNS

    ev = _events(people=600)
    births = pd.Series(
        pd.Timestamp("2005-06-01"), index=pd.Index(sorted(ev["person_key"].unique()))
    )
    groups = pd.DataFrame({"imd_decile": 5}, index=births.index)
    whole = build_cohorts(ev, births, groups, seed=17, version="test")
    read = build_cohorts(ev[list(INPUT_COLUMNS)], births, groups, seed=17, version="test")
    for kind in ("victim", "perpetration"):
        pd.testing.assert_frame_equal(read.cohorts[kind], whole.cohorts[kind])
        pd.testing.assert_frame_equal(read.fairness[kind], whole.fairness[kind])
        assert json.dumps(read.cards[kind], default=str) == json.dumps(
            whole.cards[kind], default=str
        )
    # and without a column it needs, it fails rather than guessing
    with pytest.raises(KeyError):
        build_cohorts(ev.drop(columns=["agency"]), births, groups, seed=17, version="test")

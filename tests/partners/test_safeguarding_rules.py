"""Safeguarding rules: versioned YAML, listed in words, applied to hand-made histories;
the needs seed is current; rates and suppression helpers."""

import numpy as np
import pandas as pd
import pytest

from vrdp.cohorts.safeguarding import (
    current_reviews,
    list_rule_versions,
    load_rules,
    safeguarding_opportunities,
    validate_review,
)
from vrdp.needs.rates import poisson_exact_interval, suppress_small_counts, wilson_interval


def _persons():
    return pd.DataFrame(
        {
            "person_key": ["child", "adult", "single", "old"],
            "agency_count": [2, 2, 1, 3],
            "agencies_known_to": ["police|social_care", "nhs|police", "police", "nhs|police|x"],
            "is_known_to_social_care": [True, False, False, False],
            "has_exploitation_concern": [False, True, False, False],
        }
    )


def _events():
    rows = [
        # a child victim of violence 10 days ago, open to social care
        ("child", "e1", "2025-06-20", "victim", "police_rms", True, True),
        ("child", "e2", "2025-05-01", "referred child", "social_care", False, True),
        # an adult with an exploitation concern and police contact 30 days ago
        ("adult", "e3", "2025-06-01", "subject", "police_intelligence", False, False),
        # known to one agency only: never listed, whatever happened
        ("single", "e4", "2025-06-25", "victim", "police_rms", True, True),
        # known to three agencies, but nothing recent
        ("old", "e5", "2024-01-01", "victim", "police_rms", True, True),
    ]
    cols = ["person_key", "event_key", "occurred_on", "role", "source_system"]
    cols += ["is_violence", "is_child_at_event"]
    return pd.DataFrame(rows, columns=cols)


def test_rules_are_versioned_listed_and_checked():
    assert list_rule_versions()[-1] == load_rules().version
    rules = load_rules()
    listing = rules.listing()
    assert all(r["text"] and r["version"] == rules.version for r in listing)
    assert len({r["id"] for r in listing}) == len(listing)


def test_people_listed_with_their_rules_in_words():
    from vrdp.cohorts.safeguarding import EVENT_COLUMNS

    # the events here have only the columns the partnership export reads for the rules
    assert tuple(_events().columns) == EVENT_COLUMNS
    out = safeguarding_opportunities(_persons(), _events(), load_rules(), as_of="2025-06-30")
    assert out["person_key"].tolist() == ["adult", "child"]
    child = out.set_index("person_key").loc["child"]
    assert child["rule_ids"] == "child_victim_open_to_social_care"
    assert "victim of violence as a child" in child["reasons"]
    adult = out.set_index("person_key").loc["adult"]
    assert adult["rule_ids"] == "exploitation_concern_and_police_contact"
    assert (out["rules_version"] == 1).all() and str(out["as_of"].iloc[0]) == "2025-06-30"
    # a year later nothing is recent: nobody is listed
    assert safeguarding_opportunities(_persons(), _events(), load_rules(), as_of="2026-06-30").empty


def test_bad_rule_files_are_refused(tmp_path):
    (tmp_path / "safeguarding_rules_v2.yaml").write_text(
        "version: 2\nmin_agencies: 2\nrecent_days: 90\nrules:\n"
        "  - id: x\n    text: words\n    all:\n      - astrology: {sign: leo}\n"
    )
    with pytest.raises(ValueError, match="unknown condition"):
        load_rules(rules_dir=tmp_path)


def test_review_decisions():
    assert validate_review({"person_key": "a", "status": "action_taken"}) == []
    assert validate_review({"person_key": "a", "status": "closed"})
    assert validate_review({"person_key": "a", "status": "no_action", "reason": "n/a"})
    got = current_reviews([{"person_key": "a", "status": "seen"}, {"person_key": "b"}])
    assert got["a"]["status"] == "seen"


def test_rates_intervals_and_suppression():
    lo, hi = wilson_interval([50], [10_000])
    plo, phi = poisson_exact_interval([50], [10_000])
    assert lo[0] == pytest.approx(plo[0], rel=0.05) and hi[0] == pytest.approx(phi[0], rel=0.05)
    df = pd.DataFrame({"events": [0, 4, 5], "rate": [0.0, 0.4, 0.5]})
    out = suppress_small_counts(df, "events", ("rate",))
    assert out["is_suppressed"].tolist() == [True, True, False]
    assert np.isnan(out["rate"][:2]).all() and out["events"][2] == 5


def test_needs_seed_is_current():
    from config.settings import REPO_ROOT
    from vrdp.needs.reference import lsoa21_population, ward_population

    seed = pd.read_csv(REPO_ROOT / "dbt_project" / "seeds" / "needs_lsoa21_population.csv")
    fresh = lsoa21_population(REPO_ROOT / "public_data")
    pd.testing.assert_frame_equal(seed, fresh, check_dtype=False)
    wards = ward_population(fresh)
    assert wards["residents"].sum() == pytest.approx(fresh["residents"].sum())
    assert set(wards["imd_decile_force"]) == set(range(1, 11))

"""Community sources: the simulated reports and referrals, their ingest, briefing context."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from assets.sources.agencies import LANDING_SOURCES, ingest_agency_delivery
from quality.contracts.agencies import agency_contracts
from vrdp.needs.community import community_context, context_sentence

SPECS = {s.source: s for s in LANDING_SOURCES}


def _truth(world, name):
    return pd.read_parquet(world / "truth" / f"{name}.parquet")


def test_reports_follow_perceived_not_recorded_unsafety(small_world):
    reports = _truth(small_world, "community_reports")
    sites = _truth(small_world, "perception_sites")
    locations = _truth(small_world, "locations")
    events = _truth(small_world, "events")
    assert len(sites) > 0 and (sites["recorded_crimes"] == 0).all()
    # a planted perception site draws far more than its share of reports
    share_reports = reports["from_perception_site"].mean()
    share_places = len(sites) / len(locations)
    assert share_reports > 20 * share_places
    # reports are not a copy of the crime map: many reported cells have no crime
    crime_cells = set(events["h3_cell"])
    no_crime = ~reports["h3_cell"].isin(crime_cells)
    assert no_crime.mean() > 0.05
    # parks are over-represented compared with their share of candidate places
    park_share = (locations["loc_class"] == "park").mean()
    assert (reports["loc_class"] == "park").mean() > 2 * park_share


def test_voluntary_referrals_are_young_people(small_world):
    truth = _truth(small_world, "voluntary_referrals")
    persons = _truth(small_world, "persons").set_index("person_id")
    files = sorted((small_world / "landing/community/voluntary_referrals").rglob("*.csv"))
    landed = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files])
    assert len(landed) == len(truth)
    got = truth.merge(landed, on="referral_id")
    dob = persons.loc[got["person_id"], "dob"].to_numpy()
    ref = pd.to_datetime(got["referral_date"], errors="coerce").to_numpy()
    age = (ref - dob) / np.timedelta64(1, "D") / 365.25
    ok = ~np.isnan(age)
    assert ok.mean() > 0.8
    assert (age[ok] >= 10).all() and (age[ok] < 25).all()
    involved = (
        persons.loc[got["person_id"], "is_victim"]
        | persons.loc[got["person_id"], "is_suspect_or_offender"]
    )
    assert involved.mean() > 0.3


@pytest.mark.parametrize(
    "source", ["community.streetsafe_reports", "community.voluntary_referrals"]
)
def test_every_row_is_loaded_or_quarantined_with_a_reason(
    small_world, tmp_path, monkeypatch, source
):
    from support import DEMO_WORLD_DISTRICTS

    from assets.sources.agencies import boundary_layers
    from config.resources import PlatformConfig

    spec = SPECS[source]
    assert source in agency_contracts()
    # the simulated world's force area, cut from the national pack
    monkeypatch.setenv("VRDP_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.setenv("VRDP_FORCE_DISTRICTS", DEMO_WORLD_DISTRICTS)
    layers = boundary_layers(PlatformConfig())
    faults = _truth(small_world, "faults")
    faults = faults[faults["dataset"] == spec.dataset]
    rows_in = loaded = quarantined = collapsed = 0
    for folder in sorted((small_world / "landing" / spec.agency / spec.dataset).iterdir()):
        done = ingest_agency_delivery(
            spec,
            sorted(folder.glob(spec.file_glob)),
            delivery=folder.name,
            lake_dir=tmp_path / "lake",
            validated_on=date(2026, 1, 1),
            layers=layers,
            h3_resolution=9,
        )
        rows_in += done.result.rows_in
        loaded += len(done.loaded)
        quarantined += len(done.result.quarantine)
        collapsed += done.result.rows_collapsed  # exact in-file repeats fold (#20)
        assert done.result.quarantine["reason"].notna().all()
    assert rows_in == loaded + quarantined + collapsed
    if len(faults):
        assert quarantined > 0
    if source == "community.streetsafe_reports":
        # the rows of a located source carry a cell; pins planted outside the force
        # are kept and flagged out of the area
        frames = pd.concat(
            pd.read_parquet(p) for p in (tmp_path / "lake/community").rglob("*.parquet")
        )
        outside = faults.loc[faults["fault_kind"] == "coords_outside_force", "record_id"]
        got = frames[frames["report_id"].isin(outside)]
        assert not got["in_force_area"].fillna(False).any()
        clean = frames[~frames["report_id"].isin(faults["record_id"])]
        assert clean["h3_cell"].notna().all()
        cols = ["report_id", "latitude", "longitude", "lsoa21_code", "ward_code"]
        assert clean["in_force_area"].all(), clean.loc[~clean["in_force_area"], cols]


def test_community_context_counts_the_window_to_the_latest_report():
    reports = pd.DataFrame(
        {
            "h3_cell": ["a"] * 12 + ["b", "b", None],
            "submitted_at": pd.to_datetime(
                ["2025-06-30"] * 12 + ["2025-01-01", "2025-06-01", "2025-06-30"]
            ),
            "category": ["Poor street lighting"] * 7 + ["Being followed"] * 5 + ["Other"] * 3,
        }
    )
    ctx = community_context(reports)
    assert ctx["h3_cell"].tolist() == ["a", "b"]
    a = ctx.iloc[0]
    assert a["reports_90d"] == 12 and a["top_category"] == "Poor street lighting"
    assert a["context_text"] == context_sentence(12, "Poor street lighting")
    assert a["context_text"].startswith("12 reports of feeling unsafe here in 90 days")
    # the January report is outside the 90 days to 30 June
    assert ctx.iloc[1]["reports_90d"] == 1
    # an earlier as_of moves the window
    early = community_context(reports, as_of="2025-01-31")
    assert early["h3_cell"].tolist() == ["b"] and early["reports_90d"].tolist() == [1]
    assert community_context(reports.iloc[:0]).empty


def test_lake_reports_keep_each_reports_latest_copy_and_only_what_came_before(tmp_path):
    """A briefing for a day counts reports submitted before it, a re-sent report once."""
    from vrdp.needs.community import lake_reports

    root = tmp_path / "community" / "streetsafe_reports"
    first = pd.DataFrame({"report_id": ["A", "B"], "category": ["Other", "Being followed"],
                          "submitted_at": pd.to_datetime(["2025-03-01", "2025-03-05"]),
                          "h3_cell": ["c1", "c1"]})  # fmt: skip
    resent = first.iloc[[0]].assign(category="Poor street lighting")  # corrected
    for name, df in (("2025-03", first), ("2025-04", resent)):
        (root / name).mkdir(parents=True)
        df.to_parquet(root / name / "part-0.parquet")
    got = lake_reports(tmp_path)
    assert sorted(got["report_id"]) == ["A", "B"]
    assert got.set_index("report_id").loc["A", "category"] == "Poor street lighting"
    assert list(lake_reports(tmp_path, before="2025-03-03")["report_id"]) == ["A"]
    assert lake_reports(tmp_path / "nothing").empty

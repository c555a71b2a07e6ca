"""Issue 17 on the small world's warehouse: needs pack, community layer, partnership exports."""

import dagster as dg
import numpy as np
import pandas as pd
import pytest
from warehouse_support import read_warehouse

from assets.partners import partner_assets
from assets.partners.needs_pack import NEEDS_TABLES
from orchestration.definitions import build_defs
from vrdp.needs.community import community_context
from vrdp.needs.rates import poisson_exact_interval, small_count_findings
from vrdp.needs.view import needs_view_data

PARTNER_MARTS = NEEDS_TABLES  # every mart meant for partners


@pytest.mark.parametrize("table", PARTNER_MARTS)
def test_every_partner_output_suppresses_counts_under_5(warehouse, table):
    df = read_warehouse(warehouse["root"], f"select * from marts.{table}")
    assert len(df)
    assert small_count_findings({table: df}) == []
    assert df["is_suppressed"].any()
    if table == "needs_area_rates":
        assert (~df["is_suppressed"]).any()
    for col in ("rate_per_1000", "rate_ci95_low", "share_not_in_police_records"):
        if col in df:
            assert df.loc[df["is_suppressed"], col].isna().all()


def test_needs_rates_and_intervals(warehouse):
    root = warehouse["root"]
    rates = read_warehouse(root, "select * from marts.needs_area_rates")
    force = rates[(rates["area_type"] == "force") & (rates["age_band"] == "all")].set_index(
        "indicator"
    )
    # (A&E attendances are unlocated here: the fixture builds no gazetteer)
    assert set(force.index) >= {"violent_crimes", "violence_calls", "victims_under_25"}
    assert set(rates["age_band"]) >= {"0-9", "10-17", "18-24", "25+", "all"}
    items = read_warehouse(root, "select * from marts.fct_needs_items")
    # the force row counts every item of the indicator in the area
    n = items[items["indicator"] == "violent_crimes"]["unit_key"].nunique()
    assert force.loc["violent_crimes", "events"] == n
    shown = rates[~rates["is_suppressed"]]
    assert (shown["rate_ci95_low"] <= shown["rate_per_1000"]).all()
    assert (shown["rate_per_1000"] <= shown["rate_ci95_high"]).all()
    # Wilson agrees with the exact Poisson interval from 20 events up (at 5 events its
    # lower bound is about a third higher: the documented price of a closed form)
    big = shown[shown["events"] >= 20]
    lo, hi = poisson_exact_interval(big["events"], big["population"])
    assert len(big) and np.allclose(big["rate_ci95_low"], lo, rtol=0.08)
    assert np.allclose(big["rate_ci95_high"], hi, rtol=0.08)
    # wards add up to the force where nothing is suppressed
    wards = rates[(rates["area_type"] == "ward") & (rates["indicator"] == "violent_crimes")]
    wards = wards[wards["age_band"] == "all"]
    assert wards["population"].sum() == pytest.approx(force.loc["violent_crimes", "population"])
    dep = read_warehouse(root, "select * from marts.needs_deprivation_rates")
    national = dep[(dep["imd_basis"] == "national") & (dep["indicator"] == "violent_crimes")]
    assert set(national["imd_decile"]) == set(range(1, 11))


def test_community_layer_and_briefing_context(warehouse):
    root = warehouse["root"]
    reports = read_warehouse(root, "select * from marts.fct_community_reports")
    ctx = read_warehouse(root, "select * from marts.fct_cell_community_context")
    assert len(reports) and "free_text" not in reports
    ours = community_context(reports)
    got = ctx.sort_values(["reports_90d", "h3_cell"], ascending=[False, True])
    assert got["h3_cell"].tolist() == ours["h3_cell"].tolist()
    assert got["context_text"].tolist() == ours["context_text"].tolist()
    # reports are never events: not in fct_events, so never in hot spot selection
    events = read_warehouse(root, "select source_ref from marts.fct_events")
    assert not events["source_ref"].isin(reports["report_id"]).any()


def test_partner_assets_publish_restricted_exports(warehouse, monkeypatch):
    root = warehouse["root"]
    monkeypatch.setenv("VRDP_DATA_ROOT", str(root))
    monkeypatch.setenv("VRDP_WORLD_SCALE", "none")  # no truth read here
    full = build_defs()
    # the cohorts need a year and a half of history; this fixture loads six months of
    # most sources (they are tested on hand-made data and by bench.cohorts)
    assets = [a for a in partner_assets() if "cohorts" not in a.key.to_user_string()]
    result = dg.materialize(
        assets, instance=warehouse["instance"], resources=full.resources, raise_on_error=True
    )
    assert result.success
    exports = root / "exports"
    pack = exports / "needs_pack" / "latest"
    names = {p.name for p in pack.iterdir()}
    assert {f"{t}.csv" for t in NEEDS_TABLES} | {"manifest.json"} <= names
    part = (exports / "restricted" / "partnership" / "latest").resolve()
    assert (part.stat().st_mode & 0o777) == 0o700
    listed = pd.read_parquet(part / "safeguarding_opportunities.parquet")
    assert len(listed) and listed["reasons"].str.len().gt(10).all()
    persons = read_warehouse(root, "select person_key, agency_count from marts.dim_persons")
    counts = persons.set_index("person_key")["agency_count"]
    assert (counts.reindex(listed["person_key"]) >= 2).all()
    # the timeline file, written by DuckDB: every row of the mart in person-event order,
    # dates as timestamps as before, no spill folder left in the published export
    import pyarrow as pa
    import pyarrow.parquet as pq

    timeline = pq.read_table(part / "timeline.parquet")
    mart = read_warehouse(root, "select * from marts.fct_person_timeline order by 1")
    assert timeline.column_names == list(mart.columns) and timeline.num_rows == len(mart) > 0
    assert timeline.schema.field("occurred_on").type == pa.timestamp("us")
    got = timeline.to_pandas()
    assert got["person_event_key"].tolist() == mart["person_event_key"].tolist()
    for col in ("person_key", "event_key", "role", "side", "harm_weight_days"):
        assert got[col].fillna(-1).tolist() == mart[col].fillna(-1).tolist(), col
    assert (got["occurred_on"].dt.date == pd.to_datetime(mart["occurred_on"]).dt.date).all()
    assert sorted(p.name for p in part.iterdir()) == sorted(
        ["manifest.json", "safeguarding_opportunities.parquet", "safeguarding_rules.json",
         "timeline.parquet"]
    )  # fmt: skip
    view = needs_view_data(
        *(pd.read_parquet(pack / f"{t}.parquet") for t in NEEDS_TABLES), area_type="ward"
    )
    assert view["areas"] and view["force"]["events"] > 0


def test_cohorts_asset_reads_the_restricted_identity_layer(warehouse, monkeypatch):
    """The cohorts asset attaches the restricted identity database it reads births from.

    It once opened the warehouse without it and skipped every run ("no linked persons"),
    so make run published no cohort. This fixture holds about six months of most
    sources, too short to train (bench.cohorts measures the models on a longer world):
    the asset gets past its linked-persons guard and says that history is too short.
    """
    from assets.partners.cohorts import cohorts_export
    from vrdp.cohorts.pipeline import MIN_HISTORY_DAYS

    monkeypatch.setenv("VRDP_WORLD_SCALE", "none")  # no truth read here
    result = dg.materialize(
        [cohorts_export],
        instance=warehouse["instance"],
        resources=build_defs().resources,
        raise_on_error=True,
    )
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    reason = meta["skipped"].value
    assert "no linked persons" not in reason
    assert "person timeline spans" in reason and f"at least {MIN_HISTORY_DAYS}" in reason


def test_voluntary_referrals_are_linked_to_persons_with_consent(warehouse):
    """Issue 17: a voluntary-sector referral whose young person consented to sharing is a
    person record like any agency's (Splink, restricted identity layer); one without
    consent is never linked. Checked against the world's truth of who was referred."""
    root = warehouse["root"]
    staged = read_warehouse(
        root, "select referral_id, consent_to_share from staging.stg_community__voluntary_referrals"
    )
    ids = read_warehouse(
        root,
        "select record_uid, record_id, person_key from restricted.identity.person_identifiers"
        " where agency = 'voluntary'",
    )
    consented = set(staged.loc[staged["consent_to_share"], "referral_id"])
    assert len(ids) and set(ids["record_id"]) == consented
    links = read_warehouse(root, "select record_uid, person_key from linkage.person_record_links")
    refused = staged.loc[~staged["consent_to_share"], "referral_id"]
    assert len(refused) and not links["record_uid"].isin("voluntary:referrals:" + refused).any()
    timeline = read_warehouse(
        root, "select person_key, role from marts.fct_person_timeline where agency = 'voluntary'"
    )
    assert set(timeline["role"]) == {"referred young person"} and len(timeline) == len(ids)
    # linkage quality of the referrals (the world's truth, evaluation only)
    truth = pd.read_parquet(warehouse["world"] / "truth" / "person_records.parquet")
    truth["record_uid"] = truth["agency"] + ":" + truth["dataset"] + ":" + truth["record_id"]
    m = links.merge(truth[["record_uid", "person_id"]], on="record_uid")
    vol = m[m["record_uid"].str.startswith("voluntary:")]
    others = m[~m["record_uid"].str.startswith("voluntary:")]
    with_cluster = vol.merge(others, on="person_key", suffixes=("", "_other"))
    same = with_cluster.groupby("record_uid").apply(
        lambda g: (g["person_id_other"] == g["person_id"].iloc[0]).all(), include_groups=False
    )
    findable = vol[vol["person_id"].isin(others["person_id"])]
    found = with_cluster[with_cluster["person_id_other"] == with_cluster["person_id"]]
    precision = same.mean()
    recall = findable["record_uid"].isin(found["record_uid"]).mean()
    print(
        f"voluntary referrals: {len(vol)} linked records, {len(same)} joined to other agencies' "
        f"records (precision {precision:.3f}), {len(findable)} findable (recall {recall:.3f})"
    )
    assert precision > 0.9 and recall > 0.8, (precision, recall)

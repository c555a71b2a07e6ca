"""Issue 7 on the simulated world: planted risk factors recovered by the full RTM method.

One RTM per planted factor (``truth/risk_factors.parquet``) on the RMS crimes of the
factor's crime types, with every POI category as a candidate factor (the planted
factor's ``poi_categories`` merged, e.g. licensed premises = pub + bar + nightclub;
23 factors, 276 candidate variables), 50 m cells (half of a 100 m block), the study
area restricted to the cells holding candidate event locations with exposure for
these crime types, the planted hot spots' cells left out, and the offset
``log(sum of N_c * p0_c)`` per cell (``p0`` from ``synthetic.crime.baseline_weights``,
the baseline the simulator defines each relative risk against). Elastic-net CV
shortlist, then stepwise BIC for Poisson and NB2; the lower BIC wins.

The small world has too few events for the low-volume factors (bus stop and ATM
about 100 events, station about 150, off-licence about 800 with 20 off-licences), so
the strict per-factor check runs on every planted factor with at least
``MIN_EVENTS`` events (licensed premises: about 3,900) and, for the others, checks
that a selected planted factor's 95 % interval holds the truth; no factor is
exempt from the unplanted check. The full requirement (all five within 30 %) is
measured on the medium and large worlds by ``bench/rtm.py``.
"""

import pytest

from bench.rtm import factor_name, load_world_inputs, recover_planted

MIN_EVENTS = 2000


@pytest.fixture(scope="module")
def inputs(small_world):
    return load_world_inputs(small_world)


@pytest.fixture(scope="module")
def recovered(inputs):
    return {factor_name(r): recover_planted(inputs, r) for r in inputs["truth"].itertuples()}


def test_every_planted_factor_with_enough_events_is_recovered_within_30pct(recovered):
    checked = [c for _, c in recovered.values() if c["events"] >= MIN_EVENTS]
    assert [c["factor"] for c in checked] == ["licensed_premises"]
    for c in checked:
        assert c["selected"], c
        assert c["within_30pct"], (c["factor"], c["rrv"], c["true_rr"])
        assert c["operationalisation"] == "proximity"
        assert c["spatial_influence_m"] == c["true_distance_m"]


def test_selected_low_volume_factors_hold_the_truth_in_their_interval(recovered):
    # (with thousands of events the interval is narrower than the method's small bias
    # from measuring proximity at cell centres, which the 30 % check covers)
    for _, c in recovered.values():
        if c["selected"] and c["events"] < MIN_EVENTS:
            low, high = c["rrv_ci"]
            assert low <= c["true_rr"] <= high, c


def test_no_unplanted_factor_gets_an_rrv_above_1_5(recovered):
    for _, c in recovered.values():
        assert c["max_unplanted_rrv"] is None or c["max_unplanted_rrv"] <= 1.5, c


def test_study_area_is_half_block_cells_with_exposure_minus_hot_spots(inputs, recovered):
    res, c = recovered["licensed_premises"]
    assert res.grid.cell_size_m == 50.0 and c["n_candidate_variables"] == 23 * 12
    data = res.report["data"]
    assert data["excluded_cells"] > 0 and data["events_in_excluded_cells"] > 0
    # every study cell has exposure (no floors, no empty cells), so every offset is finite
    assert res.cells["log_exposure"].notna().all()
    assert (res.cells["log_exposure"] > -float("inf")).all()
    assert res.report["offset"]["cells_without_exposure"] == 0
    # nothing lost: events = modelled + in excluded (hot spot) cells + outside the study area
    n_types = c["events"] + data["events_in_excluded_cells"] + data["events_outside_study_area"]
    assert n_types == data["events_selected"]


def test_deterministic_for_a_seed(inputs, recovered):
    row = next(r for r in inputs["truth"].itertuples() if factor_name(r) == "atm")
    again, _ = recover_planted(inputs, row)
    first, _ = recovered["atm"]
    assert again.factor_table.equals(first.factor_table)


def test_without_the_offset_place_density_inflates_the_rrv(inputs):
    from vrdp.risk_terrain import RTMConfig
    from vrdp.risk_terrain.world import run_rtm_on_places

    row = next(r for r in inputs["truth"].itertuples() if factor_name(r) == "licensed_premises")
    res = run_rtm_on_places(
        inputs["pois"],
        inputs["crimes"],
        crime_types=row.crime_types.split("|"),
        groups={"licensed_premises": tuple(row.poi_categories.split("|"))},
        cell_size_m=100.0,
        config=RTMConfig(block_length_m=100.0, max_blocks=1, increment="whole"),
    )
    ft = res.factor_table.set_index("factor")
    assert ft.loc["licensed_premises", "rrv"] > 1.3 * row.true_relative_risk

"""Exposure from candidate locations with attractions estimated jointly with the RTM.

A planted world on a 50 m grid: houses, streets and pubs with known attractions
(expected events per location), a planted proximity factor (cells within 100 m of
a pub, RR 2) and a decoy factor with no effect. The joint estimate must give back
the attractions and the RR; without the exposure the pub RRV is inflated.
"""

import numpy as np
import pytest
from scipy import sparse

from vrdp.risk_terrain import RiskFactor, RTMConfig, run_rtm
from vrdp.risk_terrain.candidates import (
    attraction_em,
    class_counts,
    joint_fit,
    run_rtm_estimated_exposure,
)
from vrdp.risk_terrain.factors import nearest_distance_m
from vrdp.risk_terrain.grid import grid_from_points

ATTRACTION = {"house": 0.15, "pub": 4.0, "street": 0.8}
RR = 2.0


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(3)
    side = 4000.0
    n = {"house": 40_000, "street": 6_000, "pub": 150}
    # houses and streets denser towards the centre (like a town), pubs denser still
    pts, cls = [], []
    for k, spread in (("house", 1200.0), ("street", 1000.0), ("pub", 500.0)):
        xy = np.clip(rng.normal(side / 2, spread, (n[k], 2)), 1, side - 1)
        pts.append(xy)
        cls += [k] * n[k]
    xy = np.vstack(pts)
    pubs = xy[np.array(cls) == "pub"]
    decoy = np.clip(rng.normal(side / 2, 900.0, (200, 2)), 1, side - 1)
    grid = grid_from_points(xy[:, 0], xy[:, 1], 50.0)
    counts = class_counts(grid, xy[:, 0], xy[:, 1], cls)
    near = nearest_distance_m(grid.centres_m, pubs) <= 100.0
    a = np.array([ATTRACTION[c] for c in counts.classes])
    mu = (counts.matrix @ a) * np.where(near, RR, 1.0)
    y = rng.poisson(mu)
    return grid, counts, y, {"pub": pubs, "decoy": decoy}, near


@pytest.mark.filterwarnings("ignore:The Identity link function")
def test_em_is_the_maximum_likelihood_of_the_additive_poisson_model():
    # reference: statsmodels' Poisson GLM with the identity link (IRLS)
    import statsmodels.api as sm

    rng = np.random.default_rng(0)
    dense = rng.poisson(1.5, (20_000, 3)).astype(float)
    N = sparse.csr_matrix(dense)
    a_true = np.array([0.2, 1.0, 3.0])
    r = np.exp(rng.normal(0, 0.5, len(dense)))
    y = rng.poisson(r * (N @ a_true))
    keep = dense.sum(axis=1) > 0
    a, _ = attraction_em(N[keep], y[keep], r[keep], tol=1e-13)
    ref = sm.GLM(
        y[keep],
        dense[keep] * r[keep, None],
        family=sm.families.Poisson(sm.families.links.Identity()),
    ).fit(start_params=a_true, tol=1e-12)
    assert np.allclose(a, ref.params, rtol=1e-4)
    assert np.allclose(a, a_true, rtol=0.1)  # and the truth, within sampling error


def test_em_refuses_events_where_no_place_can_host_them():
    with pytest.raises(ValueError, match="without candidate locations"):
        attraction_em(sparse.csr_matrix(np.array([[1.0], [0.0]])), np.array([1.0, 2.0]))


def test_joint_fit_recovers_attractions_and_the_factor(world):
    _, counts, y, _, near = world
    a, b, _ = joint_fit(counts.matrix, near[:, None].astype(float), y, np.ones(3))
    got = dict(zip(counts.classes, a, strict=True))
    for k, v in ATTRACTION.items():
        assert got[k] == pytest.approx(v, rel=0.1), k
    assert np.exp(b[0]) == pytest.approx(RR, rel=0.1)


def test_rtm_with_estimated_exposure_finds_the_planted_factor_only(world):
    grid, counts, y, features, _ = world
    cfg = RTMConfig(block_length_m=100.0, max_blocks=2, seed=0)
    factors = [RiskFactor("pub", "both"), RiskFactor("decoy", "both")]
    res = run_rtm_estimated_exposure(grid, y, counts, features, factors, cfg)
    ft = res.factor_table.set_index("factor")
    assert "pub" in ft.index
    assert ft.loc["pub", "operationalisation"] == "proximity"
    assert ft.loc["pub", "spatial_influence_m"] == 100.0
    assert abs(ft.loc["pub", "rrv"] / RR - 1) <= 0.15
    assert "decoy" not in ft.index or ft.loc["decoy", "rrv"] < 1.2
    em = res.report["exposure_model"]
    assert em["converged"]
    est = {r["location_class"]: r["attraction"] for r in em["attractions"]}
    for k, v in ATTRACTION.items():
        assert est[k] == pytest.approx(v, rel=0.15), k
    # deterministic for a seed
    again = run_rtm_estimated_exposure(grid, y, counts, features, factors, cfg)
    assert again.factor_table.equals(res.factor_table)


def test_without_exposure_the_dense_places_inflate_the_rrv(world):
    grid, _, y, features, _ = world
    cfg = RTMConfig(block_length_m=100.0, max_blocks=2, seed=0)
    res = run_rtm(grid, y, features, [RiskFactor("pub", "both")], cfg)
    assert res.factor_table.set_index("factor").loc["pub", "rrv"] > 1.5 * RR

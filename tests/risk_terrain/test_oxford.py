import numpy as np

from vrdp.risk_terrain.model import FACTOR_TABLE_COLUMNS
from vrdp.risk_terrain.oxford import OXFORD_FACTORS, oxford_features, run_oxford


def test_oxford_features_cover_the_pois_once():
    feats = oxford_features()
    assert list(feats) == list(OXFORD_FACTORS)
    assert len(feats["pub"]) == 9 and len(feats["bus_stop"]) == 23
    assert len(feats["other_shop"]) > 0
    allpts = np.vstack([v for v in feats.values() if len(v)])
    assert len(np.unique(allpts.round(3), axis=0)) <= len(allpts)


def test_oxford_real_data_run_reports_factor_table():
    res = run_oxford(model_months=("2025-01", "2025-02", "2025-03"), next_months=("2025-04",))
    assert res.report["n_candidate_variables"] == 174
    assert res.report["n_events"] > 50 and res.report["data"]["events_next"] > 10
    assert list(res.factor_table.columns) == FACTOR_TABLE_COLUMNS
    assert res.report["family"] in ("poisson", "negbin")
    assert res.cells["rrs"].min() == 1.0
    assert res.validation is not None and len(res.validation) == 4

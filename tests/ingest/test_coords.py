import numpy as np
import pandas as pd
from support import THAMES_VALLEY_BOX

from vrdp.coords import normalise_coordinates


def test_systems_swaps_and_faults():
    x = [451300, 206200, -1.2577, 51.752, "", "abc", 151.2, 120000, 451300]
    y = [206200, 451300, 51.752, -1.2577, "", "1", -33.8, 50000, 1_400_000]
    out = normalise_coordinates(x, y, area=THAMES_VALLEY_BOX)
    assert out["coordinate_fault"].fillna("ok").tolist() == [
        "ok",
        "swapped_fixed",
        "ok",
        "swapped_fixed",
        "missing",
        "unparseable",
        "outside_uk",
        "ok",
        "outside_uk",
    ]
    assert out["coordinate_system"].fillna("-").tolist() == [
        "bng",
        "bng",
        "wgs84",
        "wgs84",
        "-",
        "-",
        "-",
        "bng",
        "-",
    ]
    located = out.iloc[[0, 1, 2, 3]]
    np.testing.assert_allclose(located["easting_m"], 451_300, atol=150)
    np.testing.assert_allclose(located["northing_m"], 206_200, atol=150)
    assert out["in_area"].tolist() == [True, True, True, True, False, False, False, False, False]


def test_an_unprovable_bng_swap_is_left_alone_and_flagged_out_of_area():
    # (120000, 50000) is a valid BNG point in Cornwall; swapping it does not land in the
    # force area either, so nothing proves a swap: keep it, flag it out of area.
    out = normalise_coordinates([120000], [50000], area=THAMES_VALLEY_BOX)
    assert out.loc[0, "easting_m"] == 120000 and not out.loc[0, "in_area"]


def test_declared_system_is_respected():
    out = normalise_coordinates(pd.Series(["451300"]), pd.Series(["206200"]), system="wgs84")
    assert out.loc[0, "coordinate_fault"] == "outside_uk"

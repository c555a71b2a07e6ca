"""vrdp.keys.isin answers as pandas' isin does, for text keys with missing values."""

import numpy as np
import pandas as pd
import pytest

from vrdp.keys import isin


@pytest.mark.parametrize("dtype", ["str", object])
def test_isin_is_pandas_isin_for_text_keys(dtype):
    rng = np.random.default_rng(3)
    pool = [f"E{int(x):08d}" for x in rng.integers(0, 5_000, 20_000)]
    keys = pd.Series(pool[:12_000], dtype=dtype)
    keys.iloc[::97] = None
    among = pd.Series(pool[8_000:], dtype=dtype)
    expected = keys.isin(among).to_numpy()
    assert expected.any() and not expected.all()
    assert (isin(keys, among) == expected).all()
    assert (isin(pd.Index(keys.dropna()), among) == pd.Index(keys.dropna()).isin(among)).all()
    assert (isin(keys, set(among)) == keys.isin(set(among)).to_numpy()).all()
    # a missing key matches only a missing value
    with_missing = pd.concat([among, pd.Series([None], dtype=dtype)])
    assert (isin(keys, with_missing) == keys.isin(with_missing).to_numpy()).all()

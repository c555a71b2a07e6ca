"""vrdp.keys answers as pandas' isin and get_indexer do, for text keys with missing values."""

import numpy as np
import pandas as pd
import pytest

from vrdp.keys import isin, positions, row_numbers


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


@pytest.mark.parametrize("dtype", ["str", object])
def test_positions_are_pandas_get_indexer_for_text_keys(dtype):
    rng = np.random.default_rng(5)
    among = np.sort(np.array([f"R{i:07d}" for i in rng.permutation(30_000)[:9_000]], dtype=object))
    keys = pd.Series([f"R{int(x):07d}" for x in rng.integers(0, 30_000, 40_000)], dtype=dtype)
    expected = pd.Index(among).get_indexer(keys)
    assert (expected >= 0).any() and (expected < 0).any()
    assert (positions(keys, among) == expected).all()
    assert (positions(keys.to_numpy(object), pd.Index(among)) == expected).all()
    # a missing key is never found
    keys.iloc[::11] = None
    assert (positions(keys, among)[::11] == -1).all()


def test_rows_are_grouped_exactly_as_pandas_finds_duplicates():
    """Row numbers (a delivery's within-file duplicate check, distinct event points):
    equal rows share one, distinct rows never do, missing equals missing but not
    empty text; with enough columns the combined codes are renumbered on the way
    (over 62 bits)."""
    rng = np.random.default_rng(3)
    n = 5000
    values = np.array(["", "a", "b", "ç", None], dtype=object)
    frame = pd.DataFrame({f"c{i}": rng.choice(values, n) for i in range(3)})
    for i in range(3, 12):  # near-unique columns: their codes' product passes 2**62
        frame[f"c{i}"] = rng.integers(0, 4000, n).astype(str)
    frame = pd.concat([frame, frame.sample(500, random_state=1)], ignore_index=True)
    groups = row_numbers(c for _, c in frame.items())
    expected = frame.fillna("\0missing").groupby(list(frame.columns), sort=False).ngroup()
    assert (groups == expected.to_numpy()).all()
    assert (pd.Series(groups).duplicated() == frame.duplicated()).all()
    assert pd.Series(groups).duplicated().sum() == 500

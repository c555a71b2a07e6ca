"""Membership of string keys in a large set of keys, through Arrow.

pandas 3 stores text as Arrow strings (``str``), and ``Series.isin`` against a
large set of them is slow: about 9 s for 1.5 million keys against 2 million on
this machine, where Arrow's own ``is_in`` takes 0.5 s with the same answer
(pandas 3.1.1, pyarrow 26). The warehouse's event and person keys are such sets
on the large world (the force hot spots' located-event share, calls linked to a
counted crime). :func:`isin` is ``Series.isin`` for text keys, by Arrow's
hash table, and :func:`positions` is ``Index.get_indexer`` (about 8 s for 19
million person-record ids against 1.3 million by pandas, 0.8 s by Arrow).
:func:`row_numbers` numbers the distinct rows of several columns exactly.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["isin", "positions", "row_numbers"]


def _strings(values, kind: pa.DataType | None = None) -> pa.Array:
    kind = kind or pa.string()
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values.cast(kind)
    if isinstance(values, pd.Series | pd.Index):  # Arrow-backed text: no copy
        return pa.array(values, from_pandas=True).cast(kind)
    arr = np.asarray(list(values) if isinstance(values, set | frozenset) else values, dtype=object)
    return pa.array(arr, type=kind, from_pandas=True)  # NaN and None are nulls


def isin(keys: pd.Series | pd.Index | np.ndarray, among: Iterable) -> np.ndarray:
    """Whether each of ``keys`` is one of ``among`` (text keys): as ``keys.isin(among)``.

    A missing key (None, NaN, pandas' NA) is in ``among`` only when a missing
    value is, as with pandas.

    >>> isin(pd.Series(["a", "b", None], dtype="str"), pd.Series(["b", "c"], dtype="str"))
    array([False,  True, False])
    >>> isin(pd.Series(["a", None]), ["a", None]).tolist()
    [True, True]
    """
    found = pc.is_in(_strings(keys), value_set=_strings(among), skip_nulls=False)
    return found.to_numpy(zero_copy_only=False).astype(bool)


def positions(keys: pd.Series | pd.Index | np.ndarray, among) -> np.ndarray:
    """Where each of ``keys`` is in ``among`` (-1 when it is not): ``Index(among).get_indexer``.

    For text keys against distinct text values (the first position counts if a
    value repeats). Missing keys are never found.

    >>> among = np.array(["a", "b", "c"], dtype=object)
    >>> positions(pd.Series(["c", "a", None, "z"], dtype="str"), among)
    array([ 2,  0, -1, -1])
    """
    found = pc.index_in(
        _strings(keys, pa.large_string()),
        value_set=_strings(among, pa.large_string()),
        skip_nulls=True,
    )
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def row_numbers(columns: Iterable) -> np.ndarray:
    """Each row's number among the distinct rows of ``columns`` (equal rows, one number).

    Numbered in order of first appearance. Exact: every column is factorized
    (missing values equal each other, as in ``DataFrame.duplicated``) and the
    codes combined column by column, renumbered whenever the combination could
    outgrow 62 bits. Hashing every row did the same work in 30% of a delivery's
    contract time, and two distinct rows could in principle share a hash;
    ``np.unique(axis=0)`` sorts the rows (about 4 s for the large world's
    3 million event points).

    >>> row_numbers([np.array(["x", "y", "x", None, None], dtype=object), np.array(list("11122"))])
    array([0, 1, 0, 2, 2])
    """
    ids: np.ndarray | None = None
    bound = 1  # ids < bound
    for col in columns:
        codes, uniques = pd.factorize(col)  # missing: -1
        if ids is None:
            ids = np.zeros(len(codes), dtype=np.int64)
        k = len(uniques) + 1
        if bound * k >= 2**62:
            ids, found = pd.factorize(ids)
            bound = len(found)
        ids = ids * k + (codes + 1)
        bound *= k
    if ids is None:
        raise ValueError("row_numbers needs at least one column")
    return pd.factorize(ids)[0].astype(np.int64)

"""Keyed pseudonyms for officer ids (HMAC-SHA256), so dashboards never see raw ids."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

__all__ = ["pseudonymise"]


def pseudonymise(
    ids: pd.Series | list | np.ndarray, key: bytes | str, *, length: int = 16, prefix: str = "OF-"
) -> pd.Series:
    """Replace identifiers by a keyed HMAC-SHA256 pseudonym.

    The same id and key always give the same pseudonym; without the key the
    pseudonym cannot be reversed or recomputed from a guessed id.

    Parameters
    ----------
    ids
        Raw identifiers (e.g. officer collar numbers). Missing values stay missing.
    key
        Secret key (keep it out of the lake; rotate it per publication if needed).
    length
        Hex characters kept from the digest (16 = 64 bits).
    prefix
        Text put in front of the digest.

    Returns
    -------
    pandas.Series
        Pseudonyms (object dtype), index as ``ids`` when it is a Series.

    Examples
    --------
    >>> p = pseudonymise(["PC4000", "PC4000", "PC4001"], key="k")
    >>> p[0] == p[1], p[0] != p[2], len(p[0])
    (True, True, 19)
    """
    k = key.encode() if isinstance(key, str) else bytes(key)
    s = ids if isinstance(ids, pd.Series) else pd.Series(list(ids), dtype=object)
    uniq = pd.unique(s.dropna())
    table = {
        u: prefix + hmac.new(k, str(u).encode(), hashlib.sha256).hexdigest()[:length] for u in uniq
    }
    return s.map(table).astype(object)

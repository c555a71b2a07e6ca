"""Small-number suppression for every partner-facing output.

Counts of 1 to 4 people or events in a published table can identify someone
(the one stop in a small area, the two referrals in a ward). Every output
shared with partners passes its count columns through
:func:`suppress_small_counts`; :data:`PARTNER_FACING` names each such output
and its count columns, and a test walks all of them with
:func:`small_count_findings`.

>>> import pandas as pd
>>> df = pd.DataFrame({"ward": ["a", "b", "c"], "stops": [0, 3, 12]})
>>> suppress_small_counts(df, ["stops"])
  ward  stops  stops_suppressed
0    a      0             False
1    b   <NA>              True
2    c     12             False
>>> small_count_findings(df, ["stops"])
['stops: 1 value(s) between 1 and 4 (suppress counts under 5)']
"""

from __future__ import annotations

import pandas as pd

__all__ = ["THRESHOLD", "PARTNER_FACING", "suppress_small_counts", "small_count_findings"]

#: counts under this are suppressed (shown as missing, flagged ``<col>_suppressed``)
THRESHOLD = 5

#: Every partner-facing output: export folder under ``exports/`` -> file -> count
#: columns. Zero is published (an absence identifies no one); 1-4 never are.
PARTNER_FACING: dict[str, dict[str, tuple[str, ...]]] = {
    "disparity_report": {
        # attention: stops, or dosage minutes, by decile (the measure column says which)
        "disparity_by_decile.csv": ("events", "attention"),
        "disparity_by_ethnicity.csv": ("stops",),
    },
    "transparency": {},  # register text only, no counts
}


def suppress_small_counts(
    df: pd.DataFrame, columns: list[str] | tuple[str, ...], threshold: int = THRESHOLD
) -> pd.DataFrame:
    """A copy of ``df`` with counts ``0 < n < threshold`` blanked and flagged.

    Each column becomes nullable (``Int64`` for integers) and gains a boolean
    ``<col>_suppressed`` column beside the data, so a reader can tell a
    suppressed count from a missing one.
    """
    out = df.copy()
    for col in columns:
        values = pd.to_numeric(out[col])
        small = values.gt(0) & values.lt(threshold)
        kept = values.astype("Int64") if pd.api.types.is_integer_dtype(values) else values
        out[col] = kept.mask(small)
        out[f"{col}_suppressed"] = small.fillna(False).astype(bool)
    return out


def small_count_findings(
    df: pd.DataFrame, columns: list[str] | tuple[str, ...], threshold: int = THRESHOLD
) -> list[str]:
    """One message per column holding a count between 1 and ``threshold - 1``."""
    found = []
    for col in columns:
        if col not in df:
            found.append(f"{col}: missing from the output")
            continue
        values = pd.to_numeric(df[col], errors="coerce")
        n = int((values.gt(0) & values.lt(threshold)).sum())
        if n:
            found.append(
                f"{col}: {n} value(s) between 1 and {threshold - 1} (suppress counts under 5)"
            )
    return found

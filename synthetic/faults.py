"""Planted data faults: the defects real extracts have, each recorded in the truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

FAULT_KINDS = (
    "missing_field",
    "impossible_date",
    "coords_outside_force",
    "coords_swapped",
    "duplicate_row",
    "stray_encoding",
)
MOJIBAKE = ("Ã©", "â€™", "\ufffd", "Ã¶", "Â£")


@dataclass(frozen=True)
class FaultSpec:
    """Which columns of a dataset can carry which faults.

    Attributes
    ----------
    key : str
        Record id column (reported in ``truth/faults.parquet``).
    required : tuple of str
        Columns that may be blanked (``missing_field``).
    dates : tuple of str
        ISO date/datetime text columns (``impossible_date``).
    coords : tuple of str
        (x, y) or (lon, lat) pair (``coords_outside_force``, ``coords_swapped``); empty if none.
    text : tuple of str
        Free-text columns (``stray_encoding``).
    """

    key: str
    required: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    coords: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    coords_are_lonlat: bool = False

    def kinds(self) -> list[str]:
        """Return the fault kinds applicable to this dataset."""
        out = ["duplicate_row"]
        if self.required:
            out.append("missing_field")
        if self.dates:
            out.append("impossible_date")
        if self.coords:
            out += ["coords_outside_force", "coords_swapped"]
        if self.text:
            out.append("stray_encoding")
        return sorted(out)


def impossible_date(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """Corrupt ISO dates into impossible ones (month 13, 30 February, year 2099)."""
    out = values.astype(object).copy()
    how = rng.integers(0, 3, len(values))
    for i, v in enumerate(values):
        v = v if len(v) >= 10 else "2025-01-01"
        if how[i] == 0:
            out[i] = v[:5] + "13" + v[7:]
        elif how[i] == 1:
            out[i] = v[:5] + "02-30" + v[10:]
        else:
            out[i] = "2099" + v[4:]
    return out


def stray_encoding(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """Insert mojibake (UTF-8 read as Windows-1252) or replacement characters."""
    out = values.astype(object).copy()
    pos = rng.random(len(values))
    junk = rng.choice(MOJIBAKE, len(values))
    for i, v in enumerate(values):
        k = int(pos[i] * (len(v) + 1))
        out[i] = v[:k] + junk[i] + v[k:]
    return out


def plant_faults(
    rng: np.random.Generator, df: pd.DataFrame, spec: FaultSpec, rate: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plant faults in a frame of text columns.

    Parameters
    ----------
    rng : numpy.random.Generator
        Generator dedicated to this file.
    df : pandas.DataFrame
        Rows in final order, all values already formatted as text.
    spec : FaultSpec
    rate : float
        Share of rows receiving exactly one fault.

    Returns
    -------
    (frame, faults)
        The faulty frame (duplicates inserted right after their original) and one
        row per fault: row_index (0-based data row in the written file),
        record_id, fault_kind, column, original_value.
    """
    df = df.reset_index(drop=True).copy()
    n = len(df)
    hit = np.flatnonzero(rng.random(n) < rate)
    kinds = np.array(spec.kinds())
    kind = rng.choice(kinds, len(hit)) if len(hit) else np.array([], dtype=str)
    recs = []
    for k in kinds:
        rows = hit[kind == k]
        if len(rows) == 0 or k == "duplicate_row":
            continue
        if k == "missing_field":
            cols = rng.choice(spec.required, len(rows))
            for c in np.unique(cols):
                r = rows[cols == c]
                orig = df.loc[r, c].to_numpy()
                df.loc[r, c] = ""
                recs.append(_recs(r, df, spec, k, c, orig))
        elif k == "impossible_date":
            cols = rng.choice(spec.dates, len(rows))
            for c in np.unique(cols):
                r = rows[cols == c]
                orig = df.loc[r, c].to_numpy()
                df.loc[r, c] = impossible_date(rng, orig.astype(str))
                recs.append(_recs(r, df, spec, k, c, orig))
        elif k == "stray_encoding":
            cols = rng.choice(spec.text, len(rows))
            for c in np.unique(cols):
                r = rows[cols == c]
                orig = df.loc[r, c].to_numpy()
                df.loc[r, c] = stray_encoding(rng, orig.astype(str))
                recs.append(_recs(r, df, spec, k, c, orig))
        elif k == "coords_swapped":
            cx, cy = spec.coords
            ox = df.loc[rows, cx].to_numpy()
            oy = df.loc[rows, cy].to_numpy()
            df.loc[rows, cx] = oy
            df.loc[rows, cy] = ox
            both = ox.astype(str) + "|" + oy.astype(str)
            recs.append(_recs(rows, df, spec, k, f"{cx}|{cy}", both))
        elif k == "coords_outside_force":
            cx, cy = spec.coords
            ox = df.loc[rows, cx].to_numpy()
            oy = df.loc[rows, cy].to_numpy()
            df.loc[rows, cx], df.loc[rows, cy] = _outside(rng, ox, oy, spec.coords_are_lonlat)
            both = ox.astype(str) + "|" + oy.astype(str)
            recs.append(_recs(rows, df, spec, k, f"{cx}|{cy}", both))
    dup = np.zeros(n, dtype=int)
    dup[hit[kind == "duplicate_row"]] = 1
    order = np.repeat(np.arange(n), 1 + dup)
    new_pos = np.cumsum(1 + dup) - 1 - dup  # position of each original row in the output
    faults = pd.concat(recs, ignore_index=True) if recs else _empty()
    if len(faults):
        faults["row_index"] = new_pos[faults["row_index"].to_numpy()]
    d_rows = hit[kind == "duplicate_row"]
    if len(d_rows):
        faults = pd.concat(
            [
                faults,
                pd.DataFrame(
                    {
                        "row_index": new_pos[d_rows] + 1,
                        "record_id": df.loc[d_rows, spec.key].to_numpy(),
                        "fault_kind": "duplicate_row",
                        "column": "",
                        "original_value": "",
                    }
                ),
            ],
            ignore_index=True,
        )
    out = df.iloc[order].reset_index(drop=True) if dup.any() else df
    return out, faults.sort_values(["row_index", "fault_kind"]).reset_index(drop=True)


def _outside(rng, ox, oy, lonlat: bool):
    """Move coordinates well outside the force area (out to sea or into Wales)."""
    x = pd.to_numeric(pd.Series(ox), errors="coerce").fillna(450000.0).to_numpy()
    y = pd.to_numeric(pd.Series(oy), errors="coerce").fillna(200000.0).to_numpy()
    if lonlat:
        x = x - rng.uniform(2.5, 4.0, len(x))
        fx = np.char.mod("%.6f", x)
        fy = np.char.mod("%.6f", y)
    else:
        x = x + rng.choice([-1, 1], len(x)) * rng.uniform(150_000, 250_000, len(x))
        fx = np.char.mod("%d", np.round(x).astype(np.int64))
        fy = np.char.mod("%d", np.round(y).astype(np.int64))
    return fx.astype(object), fy.astype(object)


def _recs(rows, df, spec, kind, column, orig) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row_index": rows,
            "record_id": df.loc[rows, spec.key].to_numpy(),
            "fault_kind": kind,
            "column": column,
            "original_value": np.asarray(orig).astype(str),
        }
    )


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row_index": pd.Series(dtype=np.int64),
            "record_id": pd.Series(dtype=object),
            "fault_kind": pd.Series(dtype=object),
            "column": pd.Series(dtype=object),
            "original_value": pd.Series(dtype=object),
        }
    )

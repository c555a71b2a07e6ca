"""Deterministic random generators and file writers.

Byte-identical output for a given seed and scale depends on three things done
here: one generator per named component, fixed text formatting of every value,
and Parquet files written without run-dependent metadata.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

PARQUET_ROW_GROUP = 262_144


def component_rng(seed: int, component: str) -> np.random.Generator:
    """Return the generator of one named component.

    Parameters
    ----------
    seed : int
        World seed.
    component : str
        Stable component name; hashed with CRC-32 so that adding a component
        never shifts the streams of the others.

    Returns
    -------
    numpy.random.Generator
    """
    return np.random.default_rng([seed, zlib.crc32(component.encode("utf-8"))])


def fmt_datetime(values: pd.Series | np.ndarray, unit: str = "s") -> np.ndarray:
    """Format datetimes as ISO-8601 text; missing values become empty strings.

    Parameters
    ----------
    values : array-like of datetime64
        Values to format.
    unit : {"s", "D", "M"}
        Precision of the output (``YYYY-MM-DDTHH:MM:SS``, ``YYYY-MM-DD`` or ``YYYY-MM``).

    Returns
    -------
    numpy.ndarray of str
    """
    arr = np.asarray(values, dtype="datetime64[ns]")
    nat = np.isnat(arr)
    out = np.datetime_as_string(arr.astype(f"datetime64[{unit}]"), unit=unit).astype(object)
    out[nat] = ""
    return out


def fmt_float(values: np.ndarray, decimals: int) -> np.ndarray:
    """Format floats with a fixed number of decimals; NaN becomes an empty string."""
    arr = np.asarray(values, dtype=float)
    out = np.char.mod(f"%.{decimals}f", np.nan_to_num(arr)).astype(object)
    out[np.isnan(arr)] = ""
    return out


def fmt_int(values: np.ndarray) -> np.ndarray:
    """Format integers (nullable: negative sentinel or NaN becomes empty)."""
    arr = pd.array(values, dtype="Int64")
    out = np.asarray(arr.astype(str), dtype=object)
    out[np.asarray(pd.isna(arr))] = ""
    return out


def fmt_bool(values: np.ndarray) -> np.ndarray:
    """Format booleans as ``True``/``False`` (the police.uk convention)."""
    return np.where(np.asarray(values, dtype=bool), "True", "False").astype(object)


@dataclass
class Manifest:
    """Registry of every file written, with row counts, for ``truth/world.json``."""

    root: Path
    files: list[dict] = field(default_factory=list)

    def add(self, path: Path, rows: int, agency: str, dataset: str) -> None:
        """Record one written file."""
        self.files.append(
            {
                "path": path.relative_to(self.root).as_posix(),
                "rows": int(rows),
                "agency": agency,
                "dataset": dataset,
            }
        )


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a frame of pre-formatted text columns as UTF-8 CSV with LF endings.

    Parameters
    ----------
    df : pandas.DataFrame
        Frame whose values are already strings (see the ``fmt_*`` helpers), so
        the output does not depend on pandas float formatting.
    path : pathlib.Path
        Destination; parent folders are created.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a frame as Parquet without pandas or run-dependent metadata."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(None)
    pq.write_table(
        table,
        path,
        row_group_size=PARQUET_ROW_GROUP,
        compression="zstd",
        write_statistics=True,
        use_dictionary=True,
    )


def write_jsonl(records: list[dict], path: Path) -> None:
    """Write records as JSON lines with sorted keys (stable byte output)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for rec in records:
            fh.write(json.dumps(rec, sort_keys=True, ensure_ascii=False))
            fh.write("\n")


def as_object_strings(df: pd.DataFrame) -> pd.DataFrame:
    """Store string columns as NumPy object arrays.

    pandas 3 infers Arrow-backed ``str`` columns; the generators index these
    columns millions of times, and each ``to_numpy`` on an Arrow column copies.
    """
    for c in df.columns:
        if pd.api.types.is_string_dtype(df[c]) and df[c].dtype != object:
            df[c] = df[c].astype(object)
    return df


def seq_ids(prefix: str, n: int, width: int) -> np.ndarray:
    """Return ids ``<prefix><zero-padded 0..n-1>`` (vectorised string formatting)."""
    return np.char.add(prefix, np.char.zfill(np.arange(n).astype(str), width)).astype(object)


def random_hex(rng: np.random.Generator, n: int, nbytes: int = 32) -> np.ndarray:
    """Return ``n`` random lowercase hex strings of ``2 * nbytes`` characters, vectorised."""
    if n == 0:
        return np.array([], dtype=object)
    raw = rng.integers(0, 256, size=n * nbytes, dtype=np.uint8).tobytes().hex()
    return np.frombuffer(raw.encode("ascii"), dtype=f"S{2 * nbytes}").astype(str).astype(object)


def sample_within_groups(
    rng: np.random.Generator,
    item_group: np.ndarray,
    item_weight: np.ndarray,
    target_group: np.ndarray,
) -> np.ndarray:
    """Draw one item per target from the items sharing the target's group.

    Sampling is proportional to ``item_weight``. Targets whose group has no
    weight fall back to sampling from all items. Fully vectorised: one
    ``searchsorted`` over the cumulative weights of items sorted by group.

    Parameters
    ----------
    rng : numpy.random.Generator
    item_group : numpy.ndarray of int
        Group code of each item (non-negative).
    item_weight : numpy.ndarray of float
        Non-negative sampling weight of each item.
    target_group : numpy.ndarray of int
        Group code of each draw.

    Returns
    -------
    numpy.ndarray of int
        Index into the items for each target.
    """
    order = np.argsort(item_group, kind="stable")
    g_sorted = item_group[order]
    cw = np.cumsum(item_weight[order].astype(float))
    n_groups = int(max(item_group.max(initial=0), target_group.max(initial=0))) + 1
    starts = np.searchsorted(g_sorted, np.arange(n_groups), side="left")
    ends = np.searchsorted(g_sorted, np.arange(n_groups), side="right")
    cw0 = np.concatenate([[0.0], cw])
    lo = cw0[starts[target_group]]
    hi = cw0[ends[target_group]]
    empty = hi - lo <= 0
    lo = np.where(empty, 0.0, lo)
    hi = np.where(empty, cw0[-1], hi)
    u = lo + rng.random(len(target_group)) * (hi - lo)
    pos = np.searchsorted(cw, u, side="right")
    pos = np.minimum(pos, len(cw) - 1)
    return order[pos]

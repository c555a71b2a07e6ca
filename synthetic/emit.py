"""Write landing files (with planted faults) and collect the truth about them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from synthetic.faults import FaultSpec, impossible_date, plant_faults, stray_encoding
from synthetic.io import (
    Manifest,
    component_rng,
    fmt_datetime,
    fmt_float,
    fmt_int,
    write_csv,
    write_jsonl,
    write_parquet,
)


@dataclass
class Emitter:
    """Writes datasets under ``<out>/landing`` and accumulates fault truth.

    Attributes
    ----------
    out : pathlib.Path
        Output root (``landing/`` and ``truth/`` go below it).
    seed : int
    fault_rate : float
    manifest : Manifest
    faults : list of pandas.DataFrame
    """

    out: Path
    seed: int
    fault_rate: float
    manifest: Manifest = None
    faults: list = field(default_factory=list)

    def __post_init__(self) -> None:
        """Create the file manifest rooted at the output directory."""
        self.manifest = Manifest(self.out)

    def path(self, agency: str, dataset: str, delivery: str | None, name: str) -> Path:
        """Return ``landing/<agency>/<dataset>/[<delivery>/]<name>``."""
        p = self.out / "landing" / agency / dataset
        return (p / delivery / name) if delivery else (p / name)

    def csv(
        self,
        text: pd.DataFrame,
        agency: str,
        dataset: str,
        delivery: str | None,
        name: str,
        spec: FaultSpec | None,
    ) -> None:
        """Plant faults (if ``spec``) and write one CSV file of text columns."""
        path = self.path(agency, dataset, delivery, name)
        if spec is not None and self.fault_rate > 0 and len(text):
            rng = component_rng(self.seed, "faults:" + str(path.relative_to(self.out)))
            text, f = plant_faults(rng, text, spec, self.fault_rate)
            self._record(f, path, agency, dataset)
        write_csv(text, path)
        self.manifest.add(path, len(text), agency, dataset)

    def jsonl(
        self,
        records: list[dict],
        agency: str,
        dataset: str,
        delivery: str,
        name: str,
        key: str,
        date_field: str | None,
        text_field: str | None,
    ) -> None:
        """Plant faults in JSON records and write them as JSON lines."""
        path = self.path(agency, dataset, delivery, name)
        if self.fault_rate > 0 and records:
            rng = component_rng(self.seed, "faults:" + str(path.relative_to(self.out)))
            records, f = _json_faults(rng, records, key, date_field, text_field, self.fault_rate)
            self._record(f, path, agency, dataset)
        write_jsonl(records, path)
        self.manifest.add(path, len(records), agency, dataset)

    def parquet(
        self,
        df: pd.DataFrame,
        agency: str,
        dataset: str,
        delivery: str,
        name: str,
        key_cols: tuple[str, str] | None = None,
    ) -> None:
        """Plant coordinate/missing/duplicate faults in GPS-like frames and write Parquet."""
        path = self.path(agency, dataset, delivery, name)
        if key_cols is not None and self.fault_rate > 0 and len(df):
            rng = component_rng(self.seed, "faults:" + str(path.relative_to(self.out)))
            df, f = _gps_faults(rng, df, key_cols, self.fault_rate)
            self._record(f, path, agency, dataset)
        write_parquet(df, path)
        self.manifest.add(path, len(df), agency, dataset)

    def _record(self, f: pd.DataFrame, path: Path, agency: str, dataset: str) -> None:
        if len(f):
            f = f.copy()
            f.insert(0, "file", path.relative_to(self.out).as_posix())
            f.insert(0, "dataset", dataset)
            f.insert(0, "agency", agency)
            self.faults.append(f)

    def fault_table(self) -> pd.DataFrame:
        """Return all planted faults, sorted."""
        if not self.faults:
            return pd.DataFrame(
                columns=[
                    "agency",
                    "dataset",
                    "file",
                    "row_index",
                    "line_number",
                    "record_id",
                    "fault_kind",
                    "column",
                    "original_value",
                ]
            )
        f = pd.concat(self.faults, ignore_index=True)
        f["row_index"] = f["row_index"].astype(np.int64)
        f.insert(4, "line_number", f["row_index"] + 2)  # 1-based, header is line 1 in CSVs
        return f.sort_values(["file", "row_index", "fault_kind"]).reset_index(drop=True)


def to_text(
    df: pd.DataFrame,
    date_only: tuple[str, ...] = (),
    decimals: dict | None = None,
) -> pd.DataFrame:
    """Format every column of a typed frame as text with fixed conventions.

    Datetimes become ``YYYY-MM-DDTHH:MM:SS`` (``YYYY-MM-DD`` for ``date_only``),
    booleans ``true``/``false``, floats a fixed number of decimals (default 1),
    missing values empty strings.
    """
    decimals = decimals or {}
    out = {}
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[c] = fmt_datetime(s.to_numpy(), "D" if c in date_only else "s")
        elif pd.api.types.is_bool_dtype(s):
            out[c] = np.where(s.to_numpy(dtype=bool), "true", "false").astype(object)
        elif pd.api.types.is_integer_dtype(s):
            out[c] = fmt_int(s.to_numpy())
        elif pd.api.types.is_float_dtype(s):
            out[c] = fmt_float(s.to_numpy(), decimals.get(c, 1))
        else:
            out[c] = s.fillna("").astype(str).to_numpy(dtype=object)
    # Object dtype on purpose: inferring Arrow strings for millions of cells is slow.
    return pd.DataFrame(out, columns=list(df.columns), dtype=object)


def month_key(values) -> np.ndarray:
    """Return ``YYYY-MM`` delivery keys for datetimes."""
    return np.datetime_as_string(
        np.asarray(values, dtype="datetime64[ns]").astype("datetime64[M]"), unit="M"
    )


def _json_faults(rng, records, key, date_field, text_field, rate):
    n = len(records)
    hit = np.flatnonzero(rng.random(n) < rate)
    kinds = np.array(["duplicate_row", "impossible_date", "missing_field", "stray_encoding"])
    kind = rng.choice(kinds, len(hit))
    recs = [dict(r) for r in records]
    rows = []
    for i, k in zip(hit, kind, strict=True):
        rid = recs[i][key]
        if k == "missing_field":
            orig = recs[i].get(date_field)
            recs[i][date_field] = None
            rows.append((i, rid, k, date_field, str(orig)))
        elif k == "impossible_date":
            orig = recs[i][date_field]
            recs[i][date_field] = impossible_date(rng, np.array([orig]))[0]
            rows.append((i, rid, k, date_field, orig))
        elif k == "stray_encoding":
            orig = recs[i][text_field]
            recs[i][text_field] = stray_encoding(rng, np.array([orig]))[0]
            rows.append((i, rid, k, text_field, orig))
    dup = np.zeros(n, dtype=int)
    dup[hit[kind == "duplicate_row"]] = 1
    new_pos = np.cumsum(1 + dup) - 1 - dup
    out = []
    for i, r in enumerate(recs):
        out.append(r)
        if dup[i]:
            out.append(r)
            rows.append((i, r[key], "duplicate_row", "", ""))
    f = pd.DataFrame(
        rows, columns=["row_index", "record_id", "fault_kind", "column", "original_value"]
    )
    if len(f):
        f["row_index"] = new_pos[f["row_index"].to_numpy()] + (f["fault_kind"] == "duplicate_row")
    return out, f


def _gps_faults(rng, df, key_cols, rate):
    df = df.reset_index(drop=True).copy()
    n = len(df)
    hit = np.flatnonzero(rng.random(n) < rate)
    kinds = np.array(["coords_outside_force", "coords_swapped", "duplicate_row", "missing_field"])
    kind = rng.choice(kinds, len(hit))
    # Record ids only for the rows hit (formatting millions of timestamps is slow).
    rid = np.full(n, "", dtype=object)
    rid[hit] = (
        df[key_cols[0]].to_numpy(dtype=object)[hit]
        + "|"
        + fmt_datetime(df[key_cols[1]].to_numpy()[hit], "s")
    )
    lat = df["lat"].to_numpy().copy()
    lon = df["lon"].to_numpy().copy()
    rows = []
    for k in ("coords_outside_force", "coords_swapped", "missing_field"):
        r = hit[kind == k]
        orig = np.char.mod("%.6f", lat[r]).astype(object) + "|" + np.char.mod("%.6f", lon[r])
        if k == "coords_outside_force":
            lon[r] = np.round(lon[r] - rng.uniform(2.5, 4.0, len(r)), 6)
        elif k == "coords_swapped":
            lat[r], lon[r] = lon[r].copy(), lat[r].copy()
        else:
            lat[r] = np.nan
        rows.append(
            pd.DataFrame(
                {
                    "row_index": r,
                    "record_id": rid[r],
                    "fault_kind": k,
                    "column": "lat|lon",
                    "original_value": orig,
                }
            )
        )
    df["lat"] = lat
    df["lon"] = lon
    dup = np.zeros(n, dtype=int)
    d = hit[kind == "duplicate_row"]
    dup[d] = 1
    new_pos = np.cumsum(1 + dup) - 1 - dup
    rows.append(
        pd.DataFrame(
            {
                "row_index": d,
                "record_id": rid[d],
                "fault_kind": "duplicate_row",
                "column": "",
                "original_value": "",
            }
        )
    )
    f = pd.concat(rows, ignore_index=True)
    f["row_index"] = new_pos[f["row_index"].to_numpy()] + (f["fault_kind"] == "duplicate_row")
    out = df.iloc[np.repeat(np.arange(n), 1 + dup)].reset_index(drop=True)
    return out, f

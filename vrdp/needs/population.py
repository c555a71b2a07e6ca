"""A force's delivered ONS population estimates, turned into the needs pack's denominators.

The demo's denominators are the shipped seed (:mod:`vrdp.needs.reference`: the demo
force's LSOAs only, 2011 census residents and national age shares). A force anywhere in
England and Wales delivers the ONS mid-year estimates by LSOA 2021 instead
(:mod:`quality.contracts.population` says what the file looks like), and this
module makes the same table from it for the force's own LSOAs:

- residents: the estimate's ``Total``; age bands 0-9, 10-17, 18-24 and 25+ summed
  from its single years of age (persons, or females plus males), so the bands add
  up to the total exactly;
- IMD 2019: the rank of the LSOA's 2011 parent in the shipped England file (the
  2011 LSOA holding the 2021 LSOA's representative point where the force has 2011
  boundaries, else the same code, which ONS kept for every unchanged LSOA; see
  :func:`vrdp.governance.disparity.lsoa21_to_lsoa11`); national decile from the
  rank and ``imd_decile_force``, ten equal groups of the force's ranked LSOAs.
  Wales has no IMD 2019 (the Welsh Index of Multiple Deprivation is a different
  index, ranked over Welsh LSOAs only), so a Welsh LSOA's rank and deciles are
  null, as are those of a 2021 LSOA with no 2011 parent;
- ward and district: the 2025 ward holding the LSOA's representative point, and
  the district of the force's LSOA boundaries.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from quality.contracts.population import (
    AGES,
    IGNORED_COLUMNS,
    canonical_column,
    population_contract,
)
from vrdp.errors import SourceFileError
from vrdp.ingest.contract import ContractResult, apply_contract
from vrdp.ingest.landing import RawBatch, has_surrogates, printable, quarantine_frame, read_text
from vrdp.needs.reference import AGE_BANDS, _col, force_deciles, national_decile

__all__ = [
    "POPULATION_COLUMNS",
    "BAND_AGES",
    "read_population_file",
    "load_population_file",
    "band_residents",
    "lsoa_population_from_estimates",
    "empty_lsoa_population",
]

#: The denominators' columns, as the seed ``needs_lsoa21_population`` has them.
POPULATION_COLUMNS = (
    "lsoa21_code",
    "lsoa21_name",
    "lad_code",
    "ward_code",
    "ward_name",
    "residents",
    *(f"residents_{_col(b)}" for b in AGE_BANDS),
    "imd_rank",
    "imd_decile_national",
    "imd_decile_force",
)
#: Single years of age in each band (90 is "90 and over").
BAND_AGES = {
    "0-9": range(0, 10),
    "10-17": range(10, 18),
    "18-24": range(18, 25),
    "25+": range(25, AGES[-1] + 1),
}
_PERSONS = [f"age_{a}" for a in AGES]
_FEMALES = [f"f_{a}" for a in AGES]
_MALES = [f"m_{a}" for a in AGES]


def _layout(path: Path, names: list[str]) -> str:
    """``"persons"`` or ``"sexes"``: which single-year columns the file carries."""
    have = set(names)
    missing = [n for n in ("lsoa21_code", "total") if n not in have]
    if missing:
        raise SourceFileError(
            path, f"no {' or '.join(missing)} column (ONS: LSOA 2021 Code, Total)"
        )
    if have.issuperset(_PERSONS) and not have.intersection(_FEMALES + _MALES):
        return "persons"
    if have.issuperset(_FEMALES + _MALES) and not have.intersection(_PERSONS):
        return "sexes"
    raise SourceFileError(
        path,
        "single-year-of-age columns are not one full set: expected 0..90 (persons) "
        "or F0..F90 and M0..M90 (by sex)",
    )


def read_population_file(path: str | Path) -> tuple[RawBatch, str]:
    """Read an ONS LSOA population CSV (plain or gzipped) as text rows in canonical names.

    Returns the batch (for :func:`vrdp.ingest.contract.apply_contract`) and the
    layout, ``"persons"`` or ``"sexes"``. Rows with the wrong number of fields or
    bytes that are not UTF-8 are already in the batch's quarantine.

    Raises
    ------
    SourceFileError
        No header, a column the contract does not know (schema drift: loading
        round it would drop its data), a column named twice, no code or total
        column, or no full set of single-year-of-age columns.
    """
    path = Path(path)
    contract = population_contract()
    text = read_text(path)[0]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise SourceFileError(path, "is empty (no header row)") from None
    except csv.Error as exc:
        raise SourceFileError(path, f"header is not valid CSV ({exc})") from exc
    names, keep = [], []
    unknown = []
    for i, h in enumerate(header):
        c = canonical_column(h)
        if c is None:
            norm = " ".join(h.replace("_", " ").lower().split())
            if norm not in IGNORED_COLUMNS:
                unknown.append(h)
            continue
        names.append(c)
        keep.append(i)
    if unknown:
        raise SourceFileError(path, f"unexpected column(s) {unknown}")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SourceFileError(path, f"column(s) named twice: {twice}")
    layout = _layout(path, names)
    good, numbers, raws, bad = [], [], [], []
    row_number = 0
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise SourceFileError(path, f"line {line}: not valid CSV ({exc})") from exc
        if not fields:
            continue
        row_number += 1
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(fields)
        raw = buf.getvalue()
        if has_surrogates(raw):
            bad.append((row_number, printable(raw), "invalid_utf8", f"line {line}: not UTF-8"))
        elif len(fields) != len(header):
            detail = f"line {line}: {len(fields)} fields, header has {len(header)}"
            bad.append((row_number, raw, "wrong_field_count", detail))
        else:
            good.append([fields[i] for i in keep])
            numbers.append(row_number)
            raws.append(raw)
    rows = pd.DataFrame(good, columns=names, dtype="object")
    for name in contract.names:
        if name not in rows:
            rows[name] = ""
    rows = rows[contract.names]
    rows.insert(0, "row_number", pd.array(numbers, dtype="int64"))
    batch = RawBatch(
        rows.reset_index(drop=True),
        quarantine_frame(contract.source, path.name, bad),
        row_number,
        raw=pd.Series(raws, dtype="string"),
    )
    return batch, layout


def load_population_file(path: str | Path, *, delivered_on: date) -> ContractResult:
    """Validate an ONS population file: typed persons by single year, and quarantine.

    Beyond the contract (code format, counts as whole numbers 0..100,000, one row
    per LSOA), a row is quarantined when a single year of age is empty
    (``missing_age``) or its ages do not add up to its total (``age_sum_mismatch``).
    ``rows_in == len(loaded) + len(quarantine) + collapsed``.

    Returns
    -------
    ContractResult
        ``loaded``: ``lsoa21_code``, ``lsoa21_name``, ``total``, ``age_0`` .. ``age_90``
        (persons; females plus males for a file by sex), ``source_file``, ``row_number``.
    """
    path = Path(path)
    batch, layout = read_population_file(path)
    res = apply_contract(
        batch, population_contract(), source_file=path.name, delivered_on=delivered_on
    )
    df = res.loaded
    if layout == "sexes":
        f = df[_FEMALES].astype("Float64").to_numpy()
        m = df[_MALES].astype("Float64").to_numpy()
        ages = pd.DataFrame(f + m, columns=_PERSONS, index=df.index)
    else:
        ages = df[_PERSONS].astype("Float64")
    empty = ages.isna().sum(axis=1)
    total = ages.sum(axis=1, skipna=True)
    reason = pd.Series(pd.NA, index=df.index, dtype="string")
    detail = pd.Series(pd.NA, index=df.index, dtype="string")
    missing = empty > 0
    reason[missing] = "missing_age"
    detail[missing] = empty[missing].astype(int).astype(str) + " single-year column(s) empty"
    mismatch = ~missing & (total != df["total"].astype("Float64"))
    reason[mismatch] = "age_sum_mismatch"
    detail[mismatch] = (
        "single years sum to "
        + total[mismatch].astype("Int64").astype(str)
        + ", total is "
        + df.loc[mismatch, "total"].astype(str)
    )
    bad = reason.notna()
    raw_of = batch.raw.set_axis(batch.rows["row_number"].to_numpy())
    extra = quarantine_frame(
        population_contract().source,
        path.name,
        list(
            zip(
                df.loc[bad, "row_number"],
                raw_of.reindex(df.loc[bad, "row_number"].to_numpy()),
                reason[bad],
                detail[bad],
                strict=True,
            )
        ),
    )
    quarantine = pd.concat([res.quarantine, extra], ignore_index=True)
    quarantine = quarantine.sort_values("row_number", kind="mergesort").reset_index(drop=True)
    loaded = pd.concat(
        [
            df.loc[~bad, ["lsoa21_code", "lsoa21_name", "total"]],
            ages.loc[~bad].astype("int64"),
            df.loc[~bad, ["source_file", "row_number"]],
        ],
        axis=1,
    ).reset_index(drop=True)
    loaded["total"] = loaded["total"].astype("int64")
    return ContractResult(loaded, quarantine, res.rows_in, res.collapsed)


def band_residents(estimates: pd.DataFrame) -> pd.DataFrame:
    """Residents and residents by age band from single years (``age_0`` .. ``age_90``).

    >>> one = pd.DataFrame({f"age_{a}": [1] for a in AGES})
    >>> band_residents(one).iloc[0].tolist()
    [91, 10, 8, 7, 66]
    """
    out = pd.DataFrame(index=estimates.index)
    out["residents"] = estimates[_PERSONS].sum(axis=1)
    for band, ages in BAND_AGES.items():
        out[f"residents_{_col(band)}"] = estimates[[f"age_{a}" for a in ages]].sum(axis=1)
    return out


def empty_lsoa_population() -> pd.DataFrame:
    """The denominators table with no row (no delivery: the seed stands)."""
    types = {c: "string" for c in POPULATION_COLUMNS[:5]}
    types.update({c: "float64" for c in POPULATION_COLUMNS[5:10]})
    types.update({c: "Int64" for c in POPULATION_COLUMNS[10:]})
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in types.items()})


def lsoa_population_from_estimates(
    estimates: pd.DataFrame, lsoas, wards, lsoa11, imd: pd.DataFrame
) -> tuple[pd.DataFrame, dict]:
    """The force's denominators from its delivered estimates (see the module docstring).

    Parameters
    ----------
    estimates
        Loaded rows of :func:`load_population_file` (any LSOAs: a national file is fine).
    lsoas
        The force's LSOA 2021 polygons (``LSOA21CD``, ``LSOA21NM``, ``LAD_CD``), any CRS.
    wards
        The force's 2025 wards (``WD25CD``, ``WD25NM``).
    lsoa11
        The force's LSOA 2011 polygons (``LSOA11CD``), possibly empty.
    imd
        The English IMD 2019 by LSOA 2011 (``lsoa_code``, ``IMD_rank``).

    Returns
    -------
    (pandas.DataFrame, dict)
        One row per force LSOA with an estimate, in :data:`POPULATION_COLUMNS`,
        sorted by code; and a report: force LSOAs, those with and without an
        estimate (codes), estimate rows outside the force, the IMD crosswalk's
        bases and the LSOAs left without a decile.
    """
    import geopandas as gpd
    import shapely

    from vrdp.governance.disparity import lsoa21_to_lsoa11

    area = lsoas.to_crs(27700).sort_values("LSOA21CD").reset_index(drop=True)
    est = estimates.drop_duplicates("lsoa21_code").set_index("lsoa21_code")
    have = area["LSOA21CD"].isin(est.index)
    missing = area.loc[~have, "LSOA21CD"].tolist()
    area = area[have].reset_index(drop=True)
    rep = gpd.GeoDataFrame(
        {"lsoa21_code": area["LSOA21CD"].to_numpy()},
        geometry=shapely.point_on_surface(area.geometry.values),
        crs=27700,
    )

    def containing(polys, code: str, name: str | None = None) -> pd.DataFrame:
        cols = [code] + ([name] if name else [])
        if len(polys) == 0:
            return pd.DataFrame({c: pd.Series(index=rep.index, dtype="object") for c in cols})
        j = gpd.sjoin(rep, polys.to_crs(27700)[[*cols, "geometry"]], how="left", predicate="within")
        return j[~j.index.duplicated(keep="first")].sort_index()[cols]

    ward = containing(wards, "WD25CD", "WD25NM")
    parent = containing(lsoa11, "LSOA11CD")
    pairs = pd.DataFrame(
        {"lsoa21_code": rep["lsoa21_code"].to_numpy(), "lsoa11_code": parent["LSOA11CD"].to_numpy()}
    )
    cross = lsoa21_to_lsoa11(pairs, rep["lsoa21_code"], imd["lsoa_code"])
    rank_of = dict(zip(imd["lsoa_code"], imd["IMD_rank"], strict=True))
    parent_of = dict(zip(cross["lsoa21_code"], cross["lsoa11_code"], strict=True))
    rank = np.array([rank_of.get(parent_of.get(c), np.nan) for c in area["LSOA21CD"]], dtype=float)
    bands = band_residents(est.loc[area["LSOA21CD"], _PERSONS]).reset_index(drop=True)
    out = pd.DataFrame(
        {
            "lsoa21_code": area["LSOA21CD"].astype("string").to_numpy(),
            "lsoa21_name": area["LSOA21NM"].astype("string").to_numpy(),
            "lad_code": area["LAD_CD"].astype("string").to_numpy(),
            "ward_code": ward["WD25CD"].astype("string").to_numpy(),
            "ward_name": ward["WD25NM"].astype("string").to_numpy(),
        }
    )
    for c in bands.columns:
        out[c] = bands[c].astype("float64").to_numpy()
    ranked = ~np.isnan(rank)
    out["imd_rank"] = pd.array(np.where(ranked, rank, 0).astype(int), dtype="Int64")
    out["imd_decile_national"] = pd.array(np.zeros(len(out), int), dtype="Int64")
    out["imd_decile_force"] = pd.array(np.zeros(len(out), int), dtype="Int64")
    out.loc[~ranked, ["imd_rank", "imd_decile_national", "imd_decile_force"]] = pd.NA
    if ranked.any():
        out.loc[ranked, "imd_decile_national"] = national_decile(rank[ranked])
        out.loc[ranked, "imd_decile_force"] = force_deciles(rank[ranked])
    inside = set(lsoas["LSOA21CD"])
    report = {
        "force_lsoas": len(lsoas),
        "lsoas_with_estimate": len(out),
        "lsoas_without_estimate": missing,
        "estimate_rows_outside_force": int((~estimates["lsoa21_code"].isin(inside)).sum()),
        "imd_crosswalk": cross["basis"].value_counts().sort_index().to_dict(),
        "lsoas_without_imd": out.loc[~ranked, "lsoa21_code"].tolist(),
        "lsoas_without_ward": out.loc[out["ward_code"].isna(), "lsoa21_code"].tolist(),
    }
    return out[list(POPULATION_COLUMNS)], report

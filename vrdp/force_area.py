"""A force's area: its local authority districts, and its boundaries cut from the national pack.

A police force area is a set of local authority districts (LADs). The platform
learns it from configuration (a list of LAD codes) or infers it from the force's
own data.police.uk files: each crime row names the LSOA it lies in
(``LSOA code``), and a force reports the LSOAs of its own districts and, near
its edge, a few of its neighbours'. A district belongs to the force when the
force reports most of its LSOAs (more than ``min_share`` of them).

The boundaries follow: the force's LSOAs (those of its districts), its outline
(their union), the wards lying inside that outline, and the bounding box of the
outline plus a margin (:class:`vrdp.coords.AreaBox`) that ingest uses to flag
stray points and prove swapped coordinates. Several forces (a violence
reduction unit covering two) are the union of their districts.

Everything here is a function of tables; reading the files is the caller's.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from vrdp.coords import AreaBox

__all__ = [
    "BNG",
    "ForceBoundaries",
    "parse_list",
    "reported_lsoa_codes",
    "infer_districts",
    "cut_force_boundaries",
    "outline_box",
    "lsoa_agreement",
    "street_files_by_month",
    "files_sha256",
]

BNG = "EPSG:27700"


def parse_list(text: str | None) -> tuple[str, ...]:
    """Split a comma- or space-separated setting into its items, order kept, duplicates dropped.

    >>> parse_list("city-of-london, metropolitan,city-of-london")
    ('city-of-london', 'metropolitan')
    >>> parse_list("  ")
    ()
    """
    items = [t.strip() for t in (text or "").replace(" ", ",").split(",")]
    return tuple(dict.fromkeys(t for t in items if t))


def reported_lsoa_codes(files: list[Path]) -> pd.Series:
    """The ``LSOA code`` column of data.police.uk street-level files (plain or gzipped).

    Only that column is read, as text; blank codes are dropped. Files that do not
    have the column contribute nothing (the source asset rejects them later, with
    a reason).

    Returns
    -------
    pandas.Series
        One code per crime row, in file order (a code repeats once per crime).
    """
    parts = []
    for path in files:
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as fh:
            try:
                col = pd.read_csv(fh, usecols=["LSOA code"], dtype=str)["LSOA code"]
            except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
                continue
        parts.append(col.dropna().str.strip())
    if not parts:
        return pd.Series([], dtype=str)
    codes = pd.concat(parts, ignore_index=True)
    return codes[codes != ""]


def infer_districts(
    reported: pd.Series | list[str], lsoa_districts: pd.DataFrame, *, min_share: float = 0.5
) -> pd.DataFrame:
    """The districts most of whose LSOAs a force's own files report.

    Parameters
    ----------
    reported
        LSOA codes from the force's files (repeats allowed; codes of another
        vintage or unknown codes are ignored).
    lsoa_districts
        One row per LSOA: ``lsoa21cd`` and ``lad_cd`` (the national pack).
    min_share
        A district is the force's when more than this share of its LSOAs appear
        in ``reported``.

    Returns
    -------
    pandas.DataFrame
        One row per district with at least one reported LSOA: ``lad_cd``,
        ``lsoas`` (in the district), ``lsoas_reported``, ``share``,
        ``crimes_reported`` and ``in_force`` (share > ``min_share``), sorted by
        ``lad_cd``.

    Examples
    --------
    >>> lsoas = pd.DataFrame({"lsoa21cd": ["A1", "A2", "A3", "B1", "B2"],
    ...                       "lad_cd": ["A", "A", "A", "B", "B"]})
    >>> out = infer_districts(["A1", "A2", "A2", "B1", "Z9"], lsoas)
    >>> out[["lad_cd", "lsoas_reported", "share", "in_force"]].to_dict("list")
    {'lad_cd': ['A', 'B'], 'lsoas_reported': [2, 1], 'share': [0.6666666666666666, 0.5], \
'in_force': [True, False]}
    """
    reported = pd.Series(list(reported), dtype=object)
    table = lsoa_districts[["lsoa21cd", "lad_cd"]].drop_duplicates("lsoa21cd")
    sizes = table.groupby("lad_cd").size().rename("lsoas")
    counts = reported.value_counts().rename_axis("lsoa21cd").rename("crimes").reset_index()
    hits = counts.merge(table, on="lsoa21cd", how="inner")
    by_lad = hits.groupby("lad_cd").agg(
        lsoas_reported=("lsoa21cd", "nunique"), crimes_reported=("crimes", "sum")
    )
    out = by_lad.join(sizes, how="left").reset_index()
    out["share"] = out["lsoas_reported"] / out["lsoas"]
    out["in_force"] = out["share"] > min_share
    cols = ["lad_cd", "lsoas", "lsoas_reported", "share", "crimes_reported", "in_force"]
    return out[cols].sort_values("lad_cd").reset_index(drop=True)


@dataclass(frozen=True)
class ForceBoundaries:
    """A force's boundary layers, in British National Grid.

    ``lsoa21`` (``LSOA21CD``, ``LSOA21NM``, ``LAD_CD``), ``wards`` (``WD25CD``,
    ``WD25NM``, ``LAD25CD``, ``LAD25NM``) and ``outline`` (one row: the union of
    the LSOAs, ``districts`` listed).
    """

    lsoa21: gpd.GeoDataFrame
    wards: gpd.GeoDataFrame
    outline: gpd.GeoDataFrame


def cut_force_boundaries(
    lsoas: gpd.GeoDataFrame,
    wards: gpd.GeoDataFrame,
    districts: list[str] | tuple[str, ...],
    *,
    ward_overlap: float = 0.5,
) -> ForceBoundaries:
    """Cut a force's LSOAs, wards and outline from the national layers.

    Parameters
    ----------
    lsoas
        National LSOA 2021 polygons with ``lsoa21cd``, ``lsoa21nm``, ``lad_cd``.
    wards
        National ward polygons with ``wd25cd``, ``wd25nm``, ``lad25cd``, ``lad25nm``.
    districts
        The force's LAD codes (as in ``lsoas.lad_cd``).
    ward_overlap
        A ward is the force's when more than this share of its area lies inside
        the outline. Wards are chosen by place, not by district code, because
        ward and LSOA vintages spell a few district codes differently.

    Raises
    ------
    ValueError
        If no LSOA lies in the given districts (the message names them).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> lsoas = gpd.GeoDataFrame({"lsoa21cd": ["L2", "L1", "L3"], "lsoa21nm": ["b", "a", "c"],
    ...     "lad_cd": ["A", "A", "B"]},
    ...     geometry=[box(100, 0, 200, 100), box(0, 0, 100, 100), box(200, 0, 300, 100)], crs=BNG)
    >>> wards = gpd.GeoDataFrame({"wd25cd": ["W1", "W2"], "wd25nm": ["x", "y"],
    ...     "lad25cd": ["A", "B"], "lad25nm": ["A", "B"]},
    ...     geometry=[box(0, 0, 190, 100), box(190, 0, 300, 100)], crs=BNG)
    >>> fb = cut_force_boundaries(lsoas, wards, ["A"])
    >>> fb.lsoa21["LSOA21CD"].tolist(), fb.wards["WD25CD"].tolist(), fb.outline.area.item()
    (['L1', 'L2'], ['W1'], 20000.0)
    """
    wanted = sorted(set(districts))
    sel = lsoas[lsoas["lad_cd"].isin(wanted)].to_crs(BNG)
    if sel.empty:
        raise ValueError(f"no LSOA 2021 lies in the districts {', '.join(wanted) or '(none)'}")
    lsoa21 = gpd.GeoDataFrame(
        {
            "LSOA21CD": sel["lsoa21cd"].to_numpy(),
            "LSOA21NM": sel["lsoa21nm"].to_numpy(),
            "LAD_CD": sel["lad_cd"].to_numpy(),
        },
        geometry=sel.geometry.to_numpy(),
        crs=BNG,
    )
    lsoa21 = lsoa21.sort_values("LSOA21CD").reset_index(drop=True)
    shape = lsoa21.geometry.union_all()
    outline = gpd.GeoDataFrame(
        {"districts": [",".join(wanted)], "lsoas": [len(lsoa21)]}, geometry=[shape], crs=BNG
    )
    w = wards.to_crs(BNG)
    candidates = w.iloc[w.sindex.query(shape, predicate="intersects")]
    inside = candidates.geometry.intersection(shape).area / candidates.geometry.area
    chosen = candidates[inside.to_numpy() > ward_overlap]
    out_wards = gpd.GeoDataFrame(
        {
            "WD25CD": chosen["wd25cd"].to_numpy(),
            "WD25NM": chosen["wd25nm"].to_numpy(),
            "LAD25CD": chosen["lad25cd"].to_numpy(),
            "LAD25NM": chosen["lad25nm"].to_numpy(),
        },
        geometry=chosen.geometry.to_numpy(),
        crs=BNG,
    )
    out_wards = out_wards.sort_values("WD25CD").reset_index(drop=True)
    return ForceBoundaries(lsoa21=lsoa21, wards=out_wards, outline=outline)


def outline_box(outline: gpd.GeoDataFrame, *, margin_m: float = 2_000.0) -> AreaBox:
    """Bounding box (BNG metres) of a force outline plus ``margin_m`` on every side.

    >>> from shapely.geometry import box
    >>> outline_box(gpd.GeoDataFrame(geometry=[box(1000, 2000, 3000, 5000)], crs=BNG))
    AreaBox(e_min=-1000.0, e_max=5000.0, n_min=0.0, n_max=7000.0)
    """
    e_min, n_min, e_max, n_max = (float(v) for v in outline.to_crs(BNG).total_bounds)
    return AreaBox(
        e_min=e_min - margin_m,
        e_max=e_max + margin_m,
        n_min=n_min - margin_m,
        n_max=n_max + margin_m,
    )


def street_files_by_month(
    directory: Path, forces: tuple[str, ...] | list[str], *, find=None
) -> dict[str, list[Path]]:
    """Month -> the monthly files of every configured force for it (forces in order).

    One force gives one file per month; a unit covering several forces loads
    each force's file of the month into the same partition. ``find`` is the
    one-force finder (``directory, force -> {month: path}``): street-level files
    by default, :func:`vrdp.ingest.stop_search.find_stop_search_files` for stop
    and search.

    Raises
    ------
    vrdp.errors.SourceFileError
        If a force has two files for one month (``.csv`` beside ``.csv.gz``).
    """
    if find is None:
        from vrdp.ingest.police_uk import find_street_files as find

    out: dict[str, list[Path]] = {}
    for force in forces:
        for month, path in find(directory, force).items():
            out.setdefault(month, []).append(path)
    return dict(sorted(out.items()))


def files_sha256(paths: list[Path]) -> str:
    """Content fingerprint of a month's files.

    The file's sha256 for one file (one force's fingerprints are those of its
    files), else the sha256 of the files' sha256s in order.
    """
    import hashlib

    from vrdp.lake import sha256_file

    digests = [sha256_file(p) for p in paths]
    if len(digests) == 1:
        return digests[0]
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()


def combine_month_parts(parts: list, paths: list[Path], **more):
    """One month's parsed files (one per force of the unit) as one parsed month.

    ``parts`` are dataclasses with ``loaded``, ``quarantine``, ``rows_in`` and
    ``file_sha256``: the frames are concatenated in order, rows counted over
    every file, and the fingerprint is :func:`files_sha256` of ``paths``;
    ``more`` sets other fields (e.g. the joined force label). One part is
    returned as it is.
    """
    import dataclasses

    if len(parts) == 1:
        return parts[0]
    return dataclasses.replace(
        parts[0],
        loaded=pd.concat([p.loaded for p in parts], ignore_index=True),
        quarantine=pd.concat([p.quarantine for p in parts], ignore_index=True),
        rows_in=sum(p.rows_in for p in parts),
        file_sha256=files_sha256(paths),
        **more,
    )


def lsoa_agreement(reported: pd.Series, computed: pd.Series) -> dict[str, int]:
    """Compare each row's reported LSOA code with the one computed from its point.

    Returns counts: ``rows``, ``reported`` (rows with a reported code),
    ``computed`` (rows with a computed code), ``both``, ``agree`` and
    ``disagree`` (both present and different). A reported 2011 code that is not
    a 2021 code counts as a disagreement: compare like vintages.

    >>> lsoa_agreement(pd.Series(["A", "B", None, "C"]), pd.Series(["A", "X", "Y", None]))
    {'rows': 4, 'reported': 3, 'computed': 3, 'both': 2, 'agree': 1, 'disagree': 1}
    """
    rep = pd.Series(reported, dtype="string").reset_index(drop=True)
    com = pd.Series(computed, dtype="string").reset_index(drop=True)
    both = (rep.notna() & com.notna()).to_numpy(bool)
    same = np.zeros(len(rep), bool)
    same[both] = (rep[both] == com[both]).to_numpy(bool)
    return {
        "rows": len(rep),
        "reported": int(rep.notna().sum()),
        "computed": int(com.notna().sum()),
        "both": int(both.sum()),
        "agree": int(same.sum()),
        "disagree": int((both & ~same).sum()),
    }

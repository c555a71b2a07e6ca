"""Parse, validate and locate data.police.uk stop and search files.

One monthly file (``YYYY-MM-<force>-stop-and-search.csv``) becomes a typed,
located table and a quarantine table, with ``rows_in == loaded + quarantined``.
The contract (:func:`quality.contracts.stop_search.stop_search_contract`) runs
through the same engine as every agency source
(:func:`vrdp.ingest.contract.apply_contract`); this module adds what is
particular to the format: its file names, a stable id per search (the release
has none), local time from the offset, and the located-table columns.

Example
-------
>>> from config.demo import DEMO_FORCE
>>> from config.settings import REPO_ROOT
>>> from datetime import date
>>> folder = REPO_ROOT / "public_data/police_uk" / DEMO_FORCE.replace("-", "_") / "stop_and_search"
>>> month = parse_stop_search_file(
...     folder / f"2022-01-{DEMO_FORCE}-stop-and-search.sample40.csv",
...     validated_on=date(2026, 1, 1), month="2022-01", force=DEMO_FORCE)
>>> month.rows_in, len(month.loaded), len(month.quarantine)
(40, 40, 0)
>>> int(month.loaded["repeat_in_file"].sum())  # two people searched together
1
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from quality.contracts.stop_search import (
    SNAKE_CASE,
    STOP_SEARCH_FILE_PATTERN,
    stop_search_contract,
)
from vrdp.coords import AreaBox
from vrdp.errors import SourceFileError
from vrdp.geo import AreaLayers, locate_optional_points
from vrdp.ingest.contract import apply_contract
from vrdp.ingest.landing import read_landing_file
from vrdp.lake import sha256_file

__all__ = [
    "SOURCE_NAME",
    "LOCAL_TZ",
    "ParsedStopSearchFile",
    "find_stop_search_files",
    "stop_search_refs",
    "parse_stop_search_file",
    "load_stop_search_month",
]

SOURCE_NAME = "police_uk.stop_searches"

#: Searches are reported with a UTC offset; ``searched_at`` is UK local time,
#: like every other source's timestamps.
LOCAL_TZ = "Europe/London"


@dataclass(frozen=True)
class ParsedStopSearchFile:
    """One month's typed rows and quarantined rows (see the module docstring)."""

    loaded: pd.DataFrame
    quarantine: pd.DataFrame
    rows_in: int
    file_sha256: str
    month: str
    #: Always 0: identical rows are separate searches (kept, ``repeat_in_file``).
    collapsed: int = 0


def find_stop_search_files(directory: str | Path, force: str) -> dict[str, Path]:
    """Map month -> file for one force's stop and search files in ``directory``.

    Raises
    ------
    SourceFileError
        If two files claim the same month, or a name has an impossible month.
    """
    found: dict[str, Path] = {}
    directory = Path(directory)
    if not directory.is_dir():
        return found
    for path in sorted(directory.iterdir()):
        match = STOP_SEARCH_FILE_PATTERN.match(path.name)
        if not path.is_file() or not match or match["force"] != force:
            continue
        month = match["month"]
        if not 1 <= int(month[5:7]) <= 12:
            raise SourceFileError(path, f"file name has an impossible month {month!r}")
        if month in found:
            raise SourceFileError(path, f"a second file for {month} beside {found[month].name}")
        found[month] = path
    return found


def stop_search_refs(rows: pd.DataFrame, *, force: str, month: str) -> tuple[pd.Series, pd.Series]:
    """A stable id per search, and whether a row repeats an earlier identical row.

    The id is ``<force>:<month>:<first 16 hex of sha256 of the row>:<n>``, where
    ``n`` counts identical rows (0 for the first). It does not depend on row
    order, so a re-published file with the same searches gives the same ids.

    >>> rows = pd.DataFrame({"a": ["x", "y", "x"], "b": ["1", "2", "1"]})
    >>> refs, repeat = stop_search_refs(rows, force="f", month="2025-01")
    >>> [r.rsplit(":", 1)[1] for r in refs], repeat.tolist()
    (['0', '0', '1'], [False, False, True])
    >>> refs[0].rsplit(":", 1)[0] == refs[2].rsplit(":", 1)[0]
    True
    """
    cols = [rows[c].astype("string").fillna("") for c in rows.columns]
    text = cols[0].str.cat(cols[1:], sep="\x1f") if len(cols) > 1 else cols[0]
    digests = pd.Series(
        [hashlib.sha256(t.encode()).hexdigest()[:16] for t in text.tolist()],
        index=rows.index,
        dtype=object,
    )
    n = digests.groupby(digests).cumcount()
    refs = f"{force}:{month}:" + digests + ":" + n.astype(str)
    return refs.astype("string"), n.gt(0)


def parse_stop_search_file(
    path: str | Path,
    *,
    validated_on: date,
    month: str,
    force: str,
    area: AreaBox | None = None,
) -> ParsedStopSearchFile:
    """Validate one file against the contract; type and rename what passes.

    Parameters
    ----------
    path
        The landing file.
    validated_on
        Processing date: searches after it are ``future_date`` faults.
    month, force
        From the file name; recorded in ``delivery`` and the ids.
    area
        Force area box (flags ``in_area``, proves swapped coordinates).

    Returns
    -------
    ParsedStopSearchFile
        ``loaded`` has ``stop_search_ref``, ``delivery``, ``searched_at`` (local),
        the snake-cased columns, ``repeat_in_file``, the normalised point
        (``longitude``, ``latitude``, ``easting_m``, ``northing_m``,
        ``coordinate_system``, ``coordinate_fault``, ``in_area``),
        ``source_file`` and ``row_number``.

    Raises
    ------
    SourceFileError
        A file that cannot be read as a stop and search file (missing or
        unexpected columns, unreadable, empty of a header).
    """
    path = Path(path)
    try:
        return _parse(path, validated_on=validated_on, month=month, force=force, area=area)
    except SourceFileError:
        raise
    except Exception as exc:  # a value no rule foresaw: refuse the file, name it
        raise SourceFileError(path, f"could not be parsed ({type(exc).__name__}: {exc})") from exc


def _parse(
    path: Path, *, validated_on: date, month: str, force: str, area: AreaBox | None
) -> ParsedStopSearchFile:
    contract = stop_search_contract()
    batch = read_landing_file(path, contract.names, source=contract.source)
    result = apply_contract(
        batch, contract, source_file=path.name, delivered_on=validated_on, area=area
    )
    raw = batch.rows.set_index("row_number")[contract.names]
    loaded = result.loaded
    refs, repeat = stop_search_refs(
        raw.loc[loaded["row_number"].to_numpy()].reset_index(drop=True), force=force, month=month
    )
    out = loaded.rename(columns=SNAKE_CASE)
    utc = pd.to_datetime(out["searched_at_utc"])
    local = utc.dt.tz_localize("UTC").dt.tz_convert(LOCAL_TZ).dt.tz_localize(None)
    out.insert(0, "searched_at", local.astype("datetime64[ms]"))
    out.insert(0, "delivery", pd.array([month] * len(out), dtype="string"))
    out.insert(0, "stop_search_ref", refs.to_numpy())
    out["repeat_in_file"] = repeat.to_numpy(bool)
    out = out.drop(columns=["latitude_as_delivered", "longitude_as_delivered"])
    return ParsedStopSearchFile(
        out, result.quarantine, result.rows_in, sha256_file(path), month, result.collapsed
    )


def load_stop_search_month(
    path: str | Path,
    *,
    validated_on: date,
    month: str,
    force: str,
    layers: AreaLayers,
    h3_resolution: int,
    area: AreaBox | None = None,
) -> ParsedStopSearchFile:
    """:func:`parse_stop_search_file`, then the located-table columns.

    What the source asset and the ingest benchmark run. Rows without a point
    keep null location columns (vehicle searches are often unlocated).
    """
    parsed = parse_stop_search_file(
        path, validated_on=validated_on, month=month, force=force, area=area
    )
    located = locate_optional_points(parsed.loaded, h3_resolution=h3_resolution, layers=layers)
    return ParsedStopSearchFile(
        located, parsed.quarantine, parsed.rows_in, parsed.file_sha256, parsed.month
    )

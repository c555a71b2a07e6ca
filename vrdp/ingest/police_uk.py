"""Parse data.police.uk street-level crime files into typed rows and quarantine.

Every data row of a file ends up in ``loaded`` (typed, one row per event),
``quarantine`` (the raw row and the reason) or folded into an identical loaded
row (``copies_in_file``), so ``rows_in == len(loaded) + len(quarantine) +
collapsed`` always holds. A file that cannot
be read as a street-level file at all (unreadable, wrong header, wrong name)
raises :class:`~vrdp.errors.SourceFileError` naming the file.

Example
-------
>>> from config.settings import REPO_ROOT
>>> street = REPO_ROOT / "public_data/police_uk/city_of_london/street"
>>> parsed = parse_street_file(street / "2025-01-city-of-london-street.csv.gz")
>>> parsed.rows_in, len(parsed.loaded), len(parsed.quarantine), parsed.collapsed
(629, 566, 62, 1)
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from quality.contracts.police_uk import (
    CRIME_ID_PATTERN,
    CRIME_TYPES,
    LSOA_CODE_RE,
    MAX_FIELD_CHARS,
    STREET_COLUMNS,
    STREET_FILE_PATTERN,
    UK_BOUNDS_WGS84,
)
from vrdp.errors import SourceFileError
from vrdp.ingest.landing import has_surrogates, printable, read_text

__all__ = [
    "SOURCE_NAME",
    "LOADED_COLUMNS",
    "QUARANTINE_COLUMNS",
    "ParsedStreetFile",
    "StreetFileName",
    "parse_street_file_name",
    "parse_street_file",
    "find_street_files",
    "missing_months",
]

SOURCE_NAME = "police_uk.street_crimes"

#: Columns of the loaded table, in order, with their pandas dtypes.
LOADED_COLUMNS: dict[str, str] = {
    "event_id": "string",
    "crime_id": "string",
    "month": "object",  # datetime.date, first day of the month
    "reported_by": "string",
    "falls_within": "string",
    "longitude": "float64",
    "latitude": "float64",
    "location_text": "string",
    "reported_lsoa_code": "string",
    "reported_lsoa_name": "string",
    "crime_type": "string",
    "last_outcome_category": "string",
    "context": "string",
    "source_file": "string",
    "row_number": "int64",
    #: Identical rows of the file folded into this one (1 = no repeat).
    "copies_in_file": "int64",
    #: Another row of the file has this Crime ID with other content (see _settle_repeats).
    "crime_id_conflict": "bool",
}

QUARANTINE_COLUMNS: dict[str, str] = {
    "source": "string",
    "source_file": "string",
    "row_number": "int64",
    "line_number": "int64",
    "raw_row": "string",
    "reason": "string",
    "detail": "string",
}


@dataclass(frozen=True)
class StreetFileName:
    """What a street-level file name says: its month and force."""

    month: str
    force: str


@dataclass(frozen=True)
class ParsedStreetFile:
    """The result of parsing one file; see the module docstring for the invariant."""

    loaded: pd.DataFrame
    quarantine: pd.DataFrame
    rows_in: int
    #: Exact repeats of a loaded crime folded into it: rows_in = loaded + quarantine + collapsed.
    collapsed: int
    file_sha256: str
    month: str
    force: str


def parse_street_file_name(path: str | Path) -> StreetFileName:
    """Return the month and force encoded in a street-level file name.

    Raises
    ------
    SourceFileError
        If the name is not ``YYYY-MM-<force>-street.csv[.gz]`` or the month is impossible.
    """
    name = Path(path).name
    match = STREET_FILE_PATTERN.match(name)
    if not match:
        raise SourceFileError(path, "file name is not YYYY-MM-<force>-street.csv[.gz]")
    month = match["month"]
    if not 1 <= int(month[5:7]) <= 12:
        raise SourceFileError(path, f"file name has an impossible month {month!r}")
    return StreetFileName(month=month, force=match["force"])


def find_street_files(directory: str | Path, force: str) -> dict[str, Path]:
    """Map month -> file for one force's street-level files in ``directory``.

    Raises
    ------
    SourceFileError
        If two files claim the same month (e.g. both ``.csv`` and ``.csv.gz``).
    """
    found: dict[str, Path] = {}
    directory = Path(directory)
    if not directory.is_dir():
        return found
    for path in sorted(directory.iterdir()):
        if not path.is_file() or not STREET_FILE_PATTERN.match(path.name):
            continue
        name = parse_street_file_name(path)
        if name.force != force:
            continue
        if name.month in found:
            raise SourceFileError(
                path, f"a second file for {name.month} beside {found[name.month].name}"
            )
        found[name.month] = path
    return found


def missing_months(months: list[str] | set[str]) -> list[str]:
    """Months absent between the first and last of ``months`` (``YYYY-MM`` strings).

    >>> missing_months({"2025-06", "2025-08", "2025-09"})
    ['2025-07']
    """
    if not months:
        return []
    present = sorted(months)
    y, m = int(present[0][:4]), int(present[0][5:7])
    last = present[-1]
    gaps = []
    while f"{y:04d}-{m:02d}" < last:
        key = f"{y:04d}-{m:02d}"
        if key not in months:
            gaps.append(key)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return gaps


def _raw_row(fields: list[str]) -> str:
    """Re-serialise a row as CSV; undecodable bytes appear as backslash-x escapes."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    return printable(buf.getvalue())


def _check_row(fields: list[str], month: str) -> tuple[str, str] | tuple[float, float]:
    """Return (lon, lat) for a good row, or (reason, detail) for a bad one."""
    rec = dict(zip(STREET_COLUMNS, fields, strict=True))
    for column, value in rec.items():
        if "\x00" in value:
            return "nul_byte", f"{column} holds a NUL byte"
        if len(value) > MAX_FIELD_CHARS:
            return "field_too_large", f"{column}: {len(value):,} characters"
    if rec["Month"] != month:
        return "month_mismatch", f"Month {rec['Month']!r} in a file for {month}"
    crime_type = rec["Crime type"]
    if crime_type not in CRIME_TYPES:
        return "unknown_crime_type", f"Crime type {crime_type!r}"
    crime_id = rec["Crime ID"]
    if crime_id and not CRIME_ID_PATTERN.match(crime_id):
        return "malformed_crime_id", f"Crime ID {crime_id[:80]!r}"
    if not crime_id and crime_type != "Anti-social behaviour":
        return "missing_crime_id", f"{crime_type} row with a blank Crime ID"
    lon_s, lat_s = rec["Longitude"].strip(), rec["Latitude"].strip()
    if not lon_s and not lat_s:
        return "no_location", rec["Location"] or "blank longitude and latitude"
    try:
        lon, lat = float(lon_s), float(lat_s)
    except ValueError:
        return "malformed_coordinates", f"Longitude {lon_s!r}, Latitude {lat_s!r}"
    if lon != lon or lat != lat:  # NaN written as text
        return "malformed_coordinates", f"Longitude {lon_s!r}, Latitude {lat_s!r}"
    b = UK_BOUNDS_WGS84
    if not (b["lon_min"] <= lon <= b["lon_max"] and b["lat_min"] <= lat <= b["lat_max"]):
        return "coordinates_outside_uk", f"Longitude {lon}, Latitude {lat}"
    lsoa = rec["LSOA code"].strip()
    if lsoa and not LSOA_CODE_RE.fullmatch(lsoa):
        return "malformed_lsoa_code", f"LSOA code {lsoa[:80]!r}"
    return lon, lat


def _settle_repeats(
    checked: list[tuple[int, int, list[str], tuple]], bad: list[list]
) -> list[list]:
    """Loaded rows from checked ones; repeats and conflicts settled, bad rows added to ``bad``.

    An exact repeat of a row with a Crime ID is the same crime sent twice: it
    collapses into the first copy (``copies_in_file``), or is quarantined as a
    ``duplicate_row`` when the first copy is. Rows sharing a Crime ID with other
    content are loaded and flagged (``crime_id_conflict``), not quarantined as the
    agency contracts do: the publisher's own release carries such pairs (12 of
    614 Crime IDs in City of London 2025-01, differing in location or outcome),
    and dropping both would remove real crimes from every count. Rows without a
    Crime ID (anti-social behaviour) are never collapsed: identical ASB rows are
    separate incidents.
    """
    contents: dict[str, set[tuple[str, ...]]] = {}
    for _, _, fields, _ in checked:
        if fields[0]:
            contents.setdefault(fields[0], set()).add(tuple(fields))
    good: list[list] = []
    first: dict[tuple[str, ...], tuple[int, list | None]] = {}
    for n, line, fields, result in checked:
        crime_id, key = fields[0], tuple(fields)
        if crime_id and key in first:
            first_n, first_good = first[key]
            if first_good is None:
                bad.append([n, line, _raw_row(fields), "duplicate_row", f"repeat of row {first_n}"])
            else:
                first_good[1] += 1
            continue
        if isinstance(result[0], str):
            bad.append([n, line, _raw_row(fields), result[0], result[1]])
            first[key] = (n, None)
            continue
        conflict = bool(crime_id) and len(contents[crime_id]) > 1
        row = [n, 1, conflict, result[0], result[1], *fields]
        good.append(row)
        first[key] = (n, row)
    bad.sort(key=lambda r: r[0])
    return good


def parse_street_file(path: str | Path, *, source_name: str | None = None) -> ParsedStreetFile:
    """Parse one street-level file into loaded and quarantined rows.

    Any unexpected error is raised as a :class:`SourceFileError` naming the file.

    Parameters
    ----------
    path
        A ``YYYY-MM-<force>-street.csv`` file, optionally gzipped.
    source_name
        Name recorded in ``source_file``; defaults to the file's name.

    Returns
    -------
    ParsedStreetFile
        ``loaded`` has :data:`LOADED_COLUMNS`; ``quarantine`` has
        :data:`QUARANTINE_COLUMNS`; ``event_id`` is ``<force>:<month>:<row>``.

    Raises
    ------
    SourceFileError
        If the name, compression or header make the file unreadable as a whole.
    """
    try:
        return _parse_street_file(Path(path), source_name)
    except SourceFileError:
        raise
    except Exception as exc:  # a value no rule foresaw: refuse the file, name it
        raise SourceFileError(path, f"could not be parsed ({type(exc).__name__}: {exc})") from exc


def _parse_street_file(path: Path, source_name: str | None) -> ParsedStreetFile:
    path = Path(path)
    name = parse_street_file_name(path)
    text, digest = read_text(path)
    file_label = source_name or path.name
    # strict: a stray quote would otherwise swallow every following line into one
    # field, hiding those rows inside a single quarantined "row".
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise SourceFileError(path, "is empty (no header row)") from None
    except csv.Error as exc:
        raise SourceFileError(path, f"header is not valid CSV ({exc})") from exc
    header = [h.strip() for h in header]
    missing = [c for c in STREET_COLUMNS if c not in header]
    extra = [c for c in header if c not in STREET_COLUMNS]
    if missing or extra or len(header) != len(STREET_COLUMNS):
        raise SourceFileError(
            path,
            "header does not match the data.police.uk street format: "
            f"missing {missing or 'none'}, unexpected {extra or 'none'}; "
            f"expected {list(STREET_COLUMNS)}",
        )
    # Columns are read by name: a file with its columns in another order is the same data.
    order = [header.index(c) for c in STREET_COLUMNS]

    checked: list[tuple[int, int, list[str], tuple]] = []
    bad: list[list] = []
    row_number = 0
    # Most files hold only valid UTF-8: then no row needs the per-field check.
    clean = not has_surrogates(text)
    while True:
        line_number = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # The csv module cannot resynchronise after a broken quote; everything
            # after it would be guesswork, so the file is rejected whole.
            raise SourceFileError(path, f"line {line_number}: not valid CSV ({exc})") from exc
        if not fields:
            continue  # a truly empty line is not a row (files end with one)
        row_number += 1
        if not clean and any(has_surrogates(f) for f in fields):
            bad.append(
                [
                    row_number,
                    line_number,
                    _raw_row(fields),
                    "invalid_utf8",
                    "undecodable bytes shown as \\xNN in raw_row",
                ]
            )
            continue
        if len(fields) != len(STREET_COLUMNS):
            bad.append(
                [
                    row_number,
                    line_number,
                    _raw_row(fields),
                    "wrong_field_count",
                    f"{len(fields)} fields, expected {len(STREET_COLUMNS)}",
                ]
            )
            continue
        named = [fields[i] for i in order]
        checked.append((row_number, line_number, named, _check_row(named, name.month)))

    good = _settle_repeats(checked, bad)
    collapsed = row_number - len(good) - len(bad)
    month_date = date(int(name.month[:4]), int(name.month[5:7]), 1)
    g = pd.DataFrame(
        good,
        columns=[
            "row_number",
            "copies_in_file",
            "crime_id_conflict",
            "longitude",
            "latitude",
            *STREET_COLUMNS,
        ],
    )
    loaded = pd.DataFrame(
        {
            "event_id": [f"{name.force}:{name.month}:{n:06d}" for n in g["row_number"]],
            "crime_id": g["Crime ID"].replace("", None),
            "month": [month_date] * len(g),
            "reported_by": g["Reported by"],
            "falls_within": g["Falls within"],
            "longitude": g["longitude"],
            "latitude": g["latitude"],
            "location_text": g["Location"],
            "reported_lsoa_code": g["LSOA code"].replace("", None),
            "reported_lsoa_name": g["LSOA name"].replace("", None),
            "crime_type": g["Crime type"],
            "last_outcome_category": g["Last outcome category"].replace("", None),
            "context": g["Context"].replace("", None),
            "source_file": [file_label] * len(g),
            "row_number": g["row_number"],
            "copies_in_file": g["copies_in_file"],
            "crime_id_conflict": g["crime_id_conflict"],
        }
    ).astype(LOADED_COLUMNS)
    q = pd.DataFrame(bad, columns=["row_number", "line_number", "raw_row", "reason", "detail"])
    q.insert(0, "source_file", file_label)
    q.insert(0, "source", SOURCE_NAME)
    quarantine = q[list(QUARANTINE_COLUMNS)].astype(QUARANTINE_COLUMNS)
    return ParsedStreetFile(
        loaded=loaded,
        quarantine=quarantine,
        rows_in=row_number,
        collapsed=collapsed,
        file_sha256=digest,
        month=name.month,
        force=name.force,
    )

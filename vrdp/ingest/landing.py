"""Read landing files (CSV, JSON lines, Parquet) into raw text rows, losing none.

Structural faults that spoil a single row (undecodable bytes, a wrong number
of fields, a JSON line that does not parse) put that row in quarantine; faults
that spoil the whole file (unreadable, no header, broken quoting, missing
columns) raise :class:`~vrdp.errors.SourceFileError` naming the file.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from vrdp.errors import SourceFileError

__all__ = [
    "RawBatch",
    "QUARANTINE_COLUMNS",
    "read_landing_file",
    "quarantine_frame",
    "reject_file",
    "read_text",
    "has_surrogates",
    "printable",
]

QUARANTINE_COLUMNS = ["source", "source_file", "row_number", "raw_row", "reason", "detail"]


@dataclass(frozen=True)
class RawBatch:
    """Rows of one file as text, plus the rows already quarantined while reading.

    ``rows`` has one string column per expected column (missing values are
    ``""``) and ``row_number`` (1 = first data row). ``raw`` keeps each row's
    original text when the format has one (CSV, JSON lines); for Parquet the
    raw form is rebuilt, only for the rows that need it, by :meth:`raw_rows`.
    """

    rows: pd.DataFrame
    quarantine: pd.DataFrame
    rows_in: int
    raw: pd.Series | None = None
    #: For CSV: the file's header; the raw text of a row is rebuilt from its
    #: fields in this order only when the row is quarantined (cheaper than
    #: keeping every row's text).
    csv_header: tuple[str, ...] | None = None

    def raw_rows(self, mask: pd.Series) -> pd.Series:
        """Original text of the rows selected by ``mask`` (aligned with ``rows``)."""
        if self.raw is not None:
            return self.raw.set_axis(self.rows.index)[mask]
        if self.csv_header is not None:
            picked = self.rows.loc[mask, list(self.csv_header)]
            out = []
            for fields in picked.itertuples(index=False, name=None):
                buf = io.StringIO()
                csv.writer(buf, lineterminator="").writerow(fields)
                out.append(buf.getvalue())
            return pd.Series(out, index=picked.index, dtype="string")
        picked = self.rows.loc[mask].drop(columns="row_number")
        return pd.Series(
            [json.dumps(r, sort_keys=True, ensure_ascii=False) for r in picked.to_dict("records")],
            index=picked.index,
            dtype="string",
        )


def quarantine_frame(source: str, source_file: str, records: list[tuple]) -> pd.DataFrame:
    """Quarantine rows from ``(row_number, raw_row, reason, detail)`` tuples."""
    df = pd.DataFrame(records, columns=["row_number", "raw_row", "reason", "detail"])
    df.insert(0, "source_file", source_file)
    df.insert(0, "source", source)
    return df.astype(
        {
            "row_number": "int64",
            "raw_row": "string",
            "reason": "string",
            "detail": "string",
            "source": "string",
            "source_file": "string",
        }
    )


_GZIP_MAGIC = b"\x1f\x8b"


def read_text(path: Path) -> tuple[str, str]:
    """A (gzipped) text file's content and the sha256 of its bytes as delivered.

    Undecodable bytes are kept as surrogates (``surrogateescape``) so that only
    the rows holding them are quarantined, instead of failing or mangling the file.
    gzip is recognised by its magic bytes as well as by a ``.gz`` name: gzip bytes
    delivered as ``.jsonl`` or ``.csv`` are read as the one file they are, not
    quarantined line by line as binary noise.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceFileError(path, f"cannot be read: {exc.strerror or exc}") from exc
    digest = hashlib.sha256(raw).hexdigest()
    if path.suffix == ".gz" or raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise SourceFileError(path, f"is not a valid gzip file ({exc})") from exc
    return raw.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff"), digest


def has_surrogates(text: str) -> bool:
    r"""True when ``text`` holds bytes that were not valid UTF-8 (see :func:`read_text`).

    Such bytes decode to lone surrogates, which strict UTF-8 cannot encode; the
    checks run in C (ASCII first, the common case).

    >>> has_surrogates("caf\u00e9"), has_surrogates(b"caf\xe9".decode("utf-8", "surrogateescape"))
    (False, True)
    """
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def printable(text: str) -> str:
    """``text`` with undecodable bytes shown as backslash-x escapes."""
    return text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")


#: The csv module refuses fields over 128 KiB by default, which would reject a
#: whole file for one oversized value; read them and let the contract quarantine
#: the row (see ``MAX_FIELD_CHARS`` in :mod:`quality.contracts.base`).
csv.field_size_limit(64 * 1024 * 1024)


def _check_columns(path: Path, found: list[str], expected: list[str]) -> None:
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    if missing or extra:
        # An unexpected column is schema drift: loading around it would silently
        # drop its data, so the delivery is refused until the contract says what it is.
        raise SourceFileError(
            path,
            f"missing column(s) {missing or 'none'}; unexpected column(s) {extra or 'none'};"
            f" expected {expected}",
        )


def _read_csv(path: Path, expected: list[str], source: str) -> RawBatch:
    text = read_text(path)[0]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise SourceFileError(path, "is empty (no header row)") from None
    except csv.Error as exc:
        raise SourceFileError(path, f"header is not valid CSV ({exc})") from exc
    _check_columns(path, header, expected)
    # Most files hold only valid UTF-8: then no row needs the per-row check.
    clean = not has_surrogates(text)
    width = len(header)
    good, numbers, bad = [], [], []
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
        if len(fields) == width and (clean or not has_surrogates("".join(fields))):
            good.append(fields)
            numbers.append(row_number)
            continue
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(fields)
        raw = buf.getvalue()
        if has_surrogates(raw):
            bad.append(
                (
                    row_number,
                    printable(raw),
                    "invalid_utf8",
                    f"line {line}: bytes that are not UTF-8",
                )
            )
        else:
            bad.append(
                (
                    row_number,
                    raw,
                    "wrong_field_count",
                    f"line {line}: {len(fields)} fields, header has {len(header)}",
                )
            )
    rows = (
        pd.DataFrame(good, columns=header, dtype="object")[expected]
        if good
        else pd.DataFrame(columns=expected, dtype="object")
    )
    rows.insert(0, "row_number", pd.array(numbers, dtype="int64"))
    return RawBatch(
        rows.reset_index(drop=True),
        quarantine_frame(source, path.name, bad),
        row_number,
        csv_header=tuple(header),
    )


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _read_jsonl(path: Path, expected: list[str], source: str) -> RawBatch:
    good, raws, numbers, bad = [], [], [], []
    row_number = 0
    for line_no, line in enumerate(read_text(path)[0].splitlines(), start=1):
        if not line.strip():
            continue
        row_number += 1
        if has_surrogates(line):
            bad.append(
                (
                    row_number,
                    printable(line),
                    "invalid_utf8",
                    f"line {line_no}: bytes that are not UTF-8",
                )
            )
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            bad.append((row_number, line, "invalid_json", f"line {line_no}: {exc.msg}"))
            continue
        if not isinstance(record, dict):
            bad.append((row_number, line, "invalid_json", f"line {line_no}: not an object"))
            continue
        # An absent key reads as an empty value (JSON's usual meaning); the contract
        # then quarantines the row if that field is required.
        unexpected = sorted(k for k in record if k not in expected)
        if unexpected:
            bad.append(
                (
                    row_number,
                    line,
                    "unexpected_field",
                    f"line {line_no}: {unexpected} not in the contract",
                )
            )
            continue
        good.append([_as_text(record.get(c)) for c in expected])
        raws.append(line)
        numbers.append(row_number)
    rows = pd.DataFrame(good, columns=expected, dtype="object")
    rows.insert(0, "row_number", pd.array(numbers, dtype="int64"))
    return RawBatch(
        rows, quarantine_frame(source, path.name, bad), row_number, pd.Series(raws, dtype="string")
    )


def _read_parquet(path: Path, expected: list[str], source: str) -> RawBatch:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise SourceFileError(path, f"is not a readable Parquet file ({exc})") from exc
    _check_columns(path, table.column_names, expected)
    text = {}
    for name in expected:
        col = table.column(name)
        if pa.types.is_timestamp(col.type):
            # A timezone-aware column keeps its offset, so the contract converts the
            # instant to the source's zone; a naive one is wall-clock time in that zone.
            offset = "%z" if col.type.tz is not None else ""
            col = pc.strftime(col, format=f"%Y-%m-%dT%H:%M:%S{offset}")
        elif pa.types.is_boolean(col.type):
            col = pc.if_else(col, "true", "false")
        text[name] = pc.fill_null(pc.cast(col, pa.string()), "").to_numpy(zero_copy_only=False)
    rows = pd.DataFrame(text, dtype="object")
    rows.insert(0, "row_number", pd.array(range(1, table.num_rows + 1), dtype="int64"))
    return RawBatch(rows, quarantine_frame(source, path.name, []), table.num_rows)


def read_landing_file(path: str | Path, expected: list[str], *, source: str) -> RawBatch:
    """Read a CSV (optionally gzipped), JSON lines or Parquet landing file.

    Parameters
    ----------
    path
        The file; its suffix picks the reader (``.csv``, ``.csv.gz``, ``.jsonl``, ``.parquet``).
    expected
        Columns the contract needs; extra columns are ignored, missing ones
        make the file unreadable.
    source
        ``<agency>.<dataset>``, recorded in quarantine rows.
    """
    path = Path(path)
    name = path.name
    if name.endswith((".csv", ".csv.gz")):
        return _read_csv(path, expected, source)
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        return _read_jsonl(path, expected, source)
    if name.endswith(".parquet"):
        return _read_parquet(path, expected, source)
    raise SourceFileError(path, "unknown format (expected .csv, .csv.gz, .jsonl or .parquet)")


def reject_file(
    path: str | Path, landing_dir: str | Path, rejected_dir: str | Path, problem: str
) -> Path:
    """Move an unreadable file from the landing zone to ``rejected/``, never deleting it.

    The file keeps its path relative to the landing zone; a ``.reason.txt``
    beside it says why. A file of the same name already rejected is kept too
    (the new one gets a numbered suffix).

    Returns
    -------
    Path
        Where the file now is.
    """
    from vrdp.governance.permissions import owner_only

    path, landing_dir, rejected_dir = Path(path), Path(landing_dir), Path(rejected_dir)
    target = rejected_dir / path.relative_to(landing_dir)
    # a rejected delivery may hold people; its folder and reason are owner-only on creation
    with owner_only():
        target.parent.mkdir(parents=True, exist_ok=True)
        n = 1
        while target.exists():
            target = target.with_name(f"{path.name}.{n}")
            n += 1
        path.replace(target)
        target.with_name(target.name + ".reason.txt").write_text(problem + "\n")
    return target

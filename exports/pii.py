"""A scan for personal data in tables meant for apps: column names and every value."""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["personal_data_findings"]

_NAME_COLUMNS = re.compile(
    r"(^|_)(name|names|surname|forename|first_?name|last_?name|full_?name|dob|date_of_birth|"
    r"birth|nhs|nhs_number|pnc|pnc_id|postcode|post_code|address|officer|officer_id|"
    r"collar|nominal|crn|upn|person_id)($|_)",
    re.IGNORECASE,
)
_PATTERNS = {
    "pnc_id": re.compile(r"\b\d{2,4}/\d{1,7}[A-Z]\b"),
    "postcode": re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[ABD-HJLNP-UW-Z]{2}\b"),
    "officer_id": re.compile(r"\b(?:PC|PS|DC|DS|SGT|PCSO|INSP)[ -]?\d{3,6}\b"),
    "date_of_birth": re.compile(r"\b(?:DOB|D\.O\.B|born)\b[: ]*\d", re.IGNORECASE),
}
_NHS = re.compile(r"(?<![\d.])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\d.])")


def _nhs_valid(digits: str) -> bool:
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _never_text(dtype) -> bool:
    """A column type that cannot hold text or bytes (numbers, booleans, times).

    Its values are not scanned: mapping a type check over a million timestamps took
    a quarter of the persons export's time on the large world.
    """
    from pandas.api import types as t

    return (
        t.is_numeric_dtype(dtype)
        or t.is_bool_dtype(dtype)
        or t.is_datetime64_any_dtype(dtype)
        or t.is_timedelta64_dtype(dtype)
    )


def personal_data_findings(
    df: pd.DataFrame, *, table: str = "table", allowed_columns: tuple[str, ...] = ()
) -> list[str]:
    """Findings of personal data: suspicious column names and values that look personal.

    Column names are matched against personal field names (names, DOB, NHS number,
    PNC id, postcode, address, officer id ...); every text value is matched against
    PNC ids, postcodes, raw officer ids (``PC1234``), DOB labels and NHS numbers with
    a valid check digit. Returns one line per finding (empty when clean).

    >>> personal_data_findings(pd.DataFrame({"h3_cell": ["89195d2b1cbffff"], "n": [1]}))
    []
    >>> personal_data_findings(pd.DataFrame({"surname": ["Smith"]}), table="t")
    ["t: column 'surname' looks personal"]
    """
    found = []
    for col in df.columns:
        if str(col) in allowed_columns:
            continue
        if _NAME_COLUMNS.search(str(col)):
            found.append(f"{table}: column {col!r} looks personal")
    for col in df.columns:
        dtype = df[col].dtype
        if _never_text(dtype):
            continue
        values = df[col].dropna()
        if not isinstance(dtype, pd.StringDtype):  # a text column holds text only
            values = values[values.map(lambda v: isinstance(v, str | bytes))]
            # bytes (a GeoParquet's WKB geometry, say) are scanned as text, not decoded strictly
            values = values.map(
                lambda v: v.decode("utf-8", "replace") if isinstance(v, bytes) else v
            )
        for text in values.unique():
            for kind, pat in _PATTERNS.items():
                if m := pat.search(text):
                    found.append(f"{table}.{col}: {kind} {m.group(0)!r}")
            for m in _NHS.finditer(text):
                digits = "".join(m.groups())
                if _nhs_valid(digits):
                    found.append(f"{table}.{col}: NHS number {m.group(0)!r}")
    return found

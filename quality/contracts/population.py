"""The population reference a force delivers: ONS mid-year estimates by LSOA 2021.

ONS publishes "Lower layer Super Output Area population estimates" as one row per
LSOA with ``LSOA 2021 Code``, ``LSOA 2021 Name``, ``Total`` and single-year-of-age
columns, either by sex (``F0`` .. ``F90`` and ``M0`` .. ``M90``) or for persons
(``0`` .. ``90``, the last sometimes written ``90+``: 90 and over). Some releases
add ``LAD 2021 Code`` and ``LAD 2021 Name``. Header names are read
case-insensitively and with any run of spaces, underscores or hyphens as one
space (:func:`canonical_column`); the contract below is written in the canonical
names the reader renames them to.
"""

from __future__ import annotations

import re
from functools import cache

from quality.contracts.base import LSOA_CODE_PATTERN, Contract, Field

__all__ = [
    "POPULATION_SOURCE",
    "MAX_AGE",
    "AGES",
    "IGNORED_COLUMNS",
    "canonical_column",
    "population_contract",
]

#: The contract's and the lawful-basis register's name of the delivery.
POPULATION_SOURCE = "ons.lsoa_population"
#: The oldest single year ONS publishes; it holds everyone of that age and over.
MAX_AGE = 90
AGES = tuple(range(MAX_AGE + 1))
#: A resident count no LSOA comes near (they hold about 1,000 to 3,000 people).
_MAX_COUNT = 100_000

_NAMES = {
    "lsoa 2021 code": "lsoa21_code",
    "lsoa21cd": "lsoa21_code",
    "lsoa21 code": "lsoa21_code",
    "lsoa code": "lsoa21_code",
    "lsoa 2021 name": "lsoa21_name",
    "lsoa21nm": "lsoa21_name",
    "lsoa21 name": "lsoa21_name",
    "lsoa name": "lsoa21_name",
    "total": "total",
    "all ages": "total",
}
#: ONS columns that carry nothing the platform keeps (the district comes from the boundaries).
IGNORED_COLUMNS = frozenset({"lad 2021 code", "lad 2021 name", "lad21cd", "lad21nm"})


def canonical_column(header: str) -> str | None:
    """The contract's name of an ONS column header, None for a column it does not know.

    >>> [canonical_column(h) for h in ["LSOA 2021 Code", " total ", "F0", "m90", "90+", "7", "x"]]
    ['lsoa21_code', 'total', 'f_0', 'm_90', 'age_90', 'age_7', None]
    """
    h = re.sub(r"[\s_\-]+", " ", header.replace("\ufeff", "")).strip().lower()
    if h in _NAMES:
        return _NAMES[h]
    m = re.fullmatch(r"([fm]?) ?(\d{1,2})(\+?)", h)
    if m and int(m.group(2)) <= MAX_AGE and (not m.group(3) or int(m.group(2)) == MAX_AGE):
        sex, age = m.group(1), int(m.group(2))
        return f"{sex}_{age}" if sex else f"age_{age}"
    return None


def _count(name: str) -> Field:
    return Field(name, "int", min=0, max=_MAX_COUNT)


@cache
def population_contract() -> Contract:
    """The delivery's contract in canonical column names (see the module docstring).

    Every single-year column is optional here: a file carries either the persons
    columns or both sexes'. Whether a row holds a full set of ages that add up to
    its total is a row rule of :func:`vrdp.needs.population.load_population_file`.
    """
    return Contract(
        POPULATION_SOURCE,
        (
            Field("lsoa21_code", required=True, pattern=LSOA_CODE_PATTERN),
            Field("lsoa21_name"),
            Field("total", "int", required=True, min=0, max=_MAX_COUNT),
            *(_count(f"age_{a}") for a in AGES),
            *(_count(f"f_{a}") for a in AGES),
            *(_count(f"m_{a}") for a in AGES),
        ),
        key="lsoa21_code",
        # a national file holds ~35,700 rows; a few bad ones must not block it, many must
        max_quarantine_share=0.05,
    )

"""Identifier noise: how one true person looks in each agency's records.

Each agency profile sets the probability of each kind of error. Every applied
error is listed in the ``noise`` column of ``truth/person_records.parquet`` so
that linkage quality can be analysed by error type.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic.geography import Geography
from synthetic.names import NICKNAMES, SPELLING_VARIANTS, SURNAMES
from synthetic.people import People

# Probabilities of each error per record, by agency dataset.
PROFILES: dict[str, dict[str, float]] = {
    "police_nominals": {
        "typo": 0.04,
        "nickname": 0.05,
        "variant": 0.03,
        "swap_dm": 0.015,
        "old_address": 0.12,
        "alias": 0.02,
        "missing_id": 0.25,
        "mistyped_id": 0.01,
        "missing_dob": 0.01,
    },
    "intel_subjects": {
        "typo": 0.08,
        "nickname": 0.20,
        "variant": 0.05,
        "swap_dm": 0.02,
        "old_address": 0.25,
        "alias": 0.05,
        "missing_id": 0.7,
        "mistyped_id": 0.02,
        "missing_dob": 0.35,
    },
    "social_care": {
        "typo": 0.03,
        "nickname": 0.04,
        "variant": 0.04,
        "swap_dm": 0.02,
        "old_address": 0.10,
        "alias": 0.0,
        "missing_id": 0.30,
        "mistyped_id": 0.01,
        "missing_dob": 0.0,
    },
    "probation": {
        "typo": 0.02,
        "nickname": 0.03,
        "variant": 0.03,
        "swap_dm": 0.01,
        "old_address": 0.15,
        "alias": 0.0,
        "missing_id": 0.30,
        "mistyped_id": 0.02,
        "missing_dob": 0.0,
    },
    "nhs": {
        "typo": 0.02,
        "nickname": 0.03,
        "variant": 0.02,
        "swap_dm": 0.01,
        "old_address": 0.08,
        "alias": 0.0,
        "missing_id": 0.03,
        "mistyped_id": 0.01,
        "missing_dob": 0.0,
    },
}
KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"


def typo(rng: np.random.Generator, words: np.ndarray) -> np.ndarray:
    """Apply one random keyboard error (substitute, delete, transpose or double) per word.

    Runs a Python loop, so callers pass only the small subset receiving typos.
    """
    out = words.copy()
    ops = rng.integers(0, 4, len(words))
    pos_u = rng.random(len(words))
    letters = rng.integers(0, len(KEYBOARD), len(words))
    for i, w in enumerate(words):
        if len(w) < 3:
            continue
        p = 1 + int(pos_u[i] * (len(w) - 2))  # keep the first letter: clerks rarely miss it
        op = ops[i]
        if op == 0:
            ch = KEYBOARD[letters[i]]
            out[i] = w[:p] + ch + w[p + 1 :]
        elif op == 1:
            out[i] = w[:p] + w[p + 1 :]
        elif op == 2 and p + 1 < len(w):
            out[i] = w[:p] + w[p + 1] + w[p] + w[p + 2 :]
        else:
            out[i] = w[:p] + w[p] + w[p:]
    return out


def _replace_from(rng: np.random.Generator, words: np.ndarray, table: dict) -> tuple:
    """Replace words found in ``table`` with a random alternative; return (words, changed)."""
    s = pd.Series(words, dtype=object)
    alts = s.map(table)
    has = alts.notna().to_numpy()
    out = words.copy()
    if has.any():
        choice = rng.random(has.sum())
        picked = [a[int(u * len(a))] for a, u in zip(alts[has], choice, strict=True)]
        out[has] = picked
    return out, has


def mistype_digits(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """Change one digit of each identifier (breaks check digits most of the time)."""
    out = values.copy()
    pos_u = rng.random(len(values))
    newd = rng.integers(0, 10, len(values))
    for i, v in enumerate(values):
        idx = [j for j, ch in enumerate(v) if ch.isdigit()]
        if not idx:
            continue
        j = idx[int(pos_u[i] * len(idx))]
        d = str(newd[i]) if str(newd[i]) != v[j] else str((newd[i] + 1) % 10)
        out[i] = v[:j] + d + v[j + 1 :]
    return out


def address_text(geo: Geography, address_id: np.ndarray) -> pd.DataFrame:
    """Return address line, town and postcode for address ids (vectorised)."""
    a = geo.addresses
    st = a["street_id"].to_numpy()[address_id]
    s = geo.streets
    line = (
        pd.Series(a["house_number"].to_numpy()[address_id]).astype(str)
        + " "
        + pd.Series(s["street_name"].to_numpy()[st], dtype=object)
    )
    return pd.DataFrame(
        {
            "address_line": line.to_numpy(dtype=object),
            "town": s["town"].to_numpy()[st],
            "postcode": s["postcode"].to_numpy()[st],
        }
    )


def noisy_identities(
    rng: np.random.Generator,
    people: People,
    geo: Geography,
    person_id: np.ndarray,
    when: np.ndarray,
    profile: str,
    id_column: str | None,
) -> pd.DataFrame:
    """Render how each person appears in one agency record.

    Parameters
    ----------
    rng : numpy.random.Generator
    people : People
    geo : Geography
    person_id : numpy.ndarray of int
        True person of each record.
    when : numpy.ndarray of datetime64
        Record date (selects the address held then).
    profile : str
        Key of :data:`PROFILES`.
    id_column : str or None
        National identifier carried by this agency (``nhs_number``, ``pnc_id``,
        ``upn``) or None.

    Returns
    -------
    pandas.DataFrame
        first_name, middle_name, surname, sex, dob (ISO text), address_id,
        address_line, town, postcode, the identifier column if any, and
        ``noise`` (pipe-separated list of applied errors).
    """
    pr = PROFILES[profile]
    n = len(person_id)
    P = people.persons
    first = P["first_name"].to_numpy()[person_id].copy()
    middle = P["middle_name"].to_numpy()[person_id].copy()
    surname = P["surname"].to_numpy()[person_id].copy()
    dob = P["dob"].to_numpy()[person_id].astype("datetime64[D]")
    noise = np.full(n, "", dtype=object)

    def flag(mask: np.ndarray, name: str) -> None:
        noise[mask] = noise[mask] + "|" + name

    m = rng.random(n) < pr["nickname"]
    new, changed = _replace_from(rng, first[m], NICKNAMES)
    first[m] = new
    mm = np.zeros(n, bool)
    mm[np.flatnonzero(m)[changed]] = True
    flag(mm, "nickname")

    m = rng.random(n) < pr["variant"]
    on_surname = rng.random(n) < 0.6
    for arr, sel in ((surname, m & on_surname), (first, m & ~on_surname)):
        new, changed = _replace_from(rng, arr[sel], SPELLING_VARIANTS)
        arr[sel] = new
        mm = np.zeros(n, bool)
        mm[np.flatnonzero(sel)[changed]] = True
        flag(mm, "variant")

    m = rng.random(n) < pr["alias"]
    surname[m] = rng.choice(SURNAMES, m.sum())
    flag(m, "alias")

    m = rng.random(n) < pr["typo"]
    on_surname = rng.random(n) < 0.6
    surname[m & on_surname] = typo(rng, surname[m & on_surname])
    first[m & ~on_surname] = typo(rng, first[m & ~on_surname])
    flag(m, "typo")

    # Middle names are often dropped or reduced to an initial.
    mid_u = rng.random(n)
    middle[mid_u < 0.3] = ""
    ini = (mid_u >= 0.3) & (mid_u < 0.45)
    middle[ini] = pd.Series(middle[ini], dtype=object).str[:1].to_numpy()

    dob_txt = pd.Series(np.datetime_as_string(dob, unit="D"), dtype=object)
    day = dob_txt.str[8:10]
    mon = dob_txt.str[5:7]
    m = (
        (rng.random(n) < pr["swap_dm"])
        & (day.astype(int) <= 12).to_numpy()
        & (day != mon).to_numpy()
    )
    dob_txt[m] = dob_txt[m].str[:5] + day[m] + "-" + mon[m]
    flag(m, "swap_dm")
    m = rng.random(n) < pr["missing_dob"]
    dob_txt[m] = ""
    flag(m, "missing_dob")

    when = np.asarray(when, dtype="datetime64[D]")
    addr = people.address_at(person_id, when)
    m = rng.random(n) < pr["old_address"]
    prev = people.previous_address(person_id[m], when[m])
    really = prev != addr[m]
    addr_m = addr[m]
    addr_m[really] = prev[really]
    addr[m] = addr_m
    mm = np.zeros(n, bool)
    mm[np.flatnonzero(m)[really]] = True
    flag(mm, "old_address")

    out = pd.DataFrame(
        {
            "first_name": first,
            "middle_name": middle,
            "surname": surname,
            "sex": P["sex"].to_numpy()[person_id],
            "dob": dob_txt.to_numpy(),
            "address_id": addr,
        }
    )
    out = pd.concat([out, address_text(geo, addr)], axis=1)
    if id_column:
        ident = P[id_column].to_numpy()[person_id].copy()
        m = (rng.random(n) < pr["missing_id"]) & (ident != "")
        ident[m] = ""
        flag(m, "missing_id")
        m = (rng.random(n) < pr["mistyped_id"]) & (ident != "")
        ident[m] = mistype_digits(rng, ident[m])
        flag(m, "mistyped_id")
        out[id_column] = ident
    out["noise"] = pd.Series(noise, dtype=object).str.lstrip("|").to_numpy()
    return out

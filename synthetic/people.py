"""Simulated residents: identities, address histories and national identifiers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthetic.geography import Geography
from synthetic.io import as_object_strings, component_rng, sample_within_groups
from synthetic.names import FEMALE_FIRST, MALE_FIRST, SURNAMES

PNC_LETTERS = np.array(list("ZABCDEFGHJKLMNPQRTUVWXY"))
UPN_LETTERS = np.array(list("ABCDEFGHJKLMNPQRTUVWXYZ"))
# DfE local-authority numbers (used in UPNs and as the social care LA code).
DFE_LA = {
    "E06000036": "867",
    "E06000037": "869",
    "E06000038": "870",
    "E06000039": "871",
    "E06000040": "868",
    "E06000041": "872",
    "E06000042": "826",
    "E06000060": "825",
    "E07000177": "931",
    "E07000178": "931",
    "E07000179": "931",
    "E07000180": "931",
    "E07000181": "931",
}
ETHNIC_GROUPS = np.array(["White", "Asian", "Black", "Mixed", "Other"])
EPOCH = np.datetime64("1970-01-01", "D")


@dataclass
class People:
    """Residents and their address histories.

    Attributes
    ----------
    persons : pandas.DataFrame
        One row per true person (``person_id`` is the row index).
    spells : pandas.DataFrame
        Address history: person_id, seq, address_id, valid_from, valid_to (NaT = current),
        sorted by person and start date.
    """

    persons: pd.DataFrame
    spells: pd.DataFrame

    def address_at(self, person_id: np.ndarray, when: np.ndarray) -> np.ndarray:
        """Return each person's address id on a date (vectorised).

        Parameters
        ----------
        person_id : numpy.ndarray of int
        when : numpy.ndarray of datetime64
            Dates; a date before a person's first spell returns that first spell.
        """
        day = (np.asarray(when, dtype="datetime64[D]") - EPOCH).astype(np.int64)
        keys = self._spell_keys()
        q = np.asarray(person_id, np.int64) * 1_000_000 + (day + 500_000)
        idx = np.searchsorted(keys, q, side="right") - 1
        first = np.searchsorted(self.spells["person_id"].to_numpy(), person_id, side="left")
        idx = np.maximum(idx, first)
        return self.spells["address_id"].to_numpy()[idx]

    def previous_address(self, person_id: np.ndarray, when: np.ndarray) -> np.ndarray:
        """Return the address before the one held on a date (same address if none)."""
        day = (np.asarray(when, dtype="datetime64[D]") - EPOCH).astype(np.int64)
        keys = self._spell_keys()
        q = np.asarray(person_id, np.int64) * 1_000_000 + (day + 500_000)
        idx = np.searchsorted(keys, q, side="right") - 1
        first = np.searchsorted(self.spells["person_id"].to_numpy(), person_id, side="left")
        idx = np.maximum(idx - 1, first)
        return self.spells["address_id"].to_numpy()[idx]

    def _spell_keys(self) -> np.ndarray:
        if not hasattr(self, "_keys"):
            vf = (self.spells["valid_from"].to_numpy().astype("datetime64[D]") - EPOCH).astype(
                np.int64
            )
            self._keys = self.spells["person_id"].to_numpy(np.int64) * 1_000_000 + (vf + 500_000)
        return self._keys


def zipf_weights(n: int, s: float = 0.9, offset: float = 4.0) -> np.ndarray:
    """Return normalised Zipf-like weights for a ranked list of ``n`` names."""
    w = 1.0 / (np.arange(n) + offset) ** s
    return w / w.sum()


def nhs_check_digit(first9: np.ndarray) -> np.ndarray:
    """Return the NHS number modulus-11 check digit (10 means the stem is invalid).

    Parameters
    ----------
    first9 : numpy.ndarray, shape (n, 9), int
        First nine digits.
    """
    r = (first9 * np.arange(10, 1, -1)).sum(axis=1) % 11
    check = 11 - r
    return np.where(check == 11, 0, check)


def nhs_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Generate valid 10-digit NHS numbers (no spaces) as strings."""
    d = rng.integers(0, 10, size=(n, 9))
    d[:, 0] = rng.integers(4, 8, n)  # England issues numbers starting 4xx-7xx
    check = nhs_check_digit(d)
    bad = check == 10
    while bad.any():  # stems with check 10 are never issued: redraw their last digit
        d[bad, 8] = rng.integers(0, 10, bad.sum())
        check = nhs_check_digit(d)
        bad = check == 10
    digits = np.c_[d, check]
    return _digits_to_str(digits)


def pnc_valid(values: pd.Series) -> np.ndarray:
    """Return True where a value is a ``YYYY/NNNNNNNL`` PNC id with a correct check letter."""
    s = values.fillna("").astype(str)
    m = s.str.extract(r"^(\d{4})/(\d{7})([A-Z])$")
    ok = m[0].notna().to_numpy()
    out = np.zeros(len(s), dtype=bool)
    if ok.any():
        yy = m.loc[ok, 0].astype(int).to_numpy() % 100
        serial = m.loc[ok, 1].astype(int).to_numpy()
        out[ok] = PNC_LETTERS[(yy * 10_000_000 + serial) % 23] == m.loc[ok, 2].to_numpy()
    return out


def upn_valid(values: pd.Series) -> np.ndarray:
    """Return True where a value is a 13-character UPN with a correct check letter."""
    s = values.fillna("").astype(str)
    ok = s.str.fullmatch(r"[A-Z]\d{12}").to_numpy()
    out = np.zeros(len(s), dtype=bool)
    if ok.any():
        body = np.frombuffer("".join(s[ok].str[1:]).encode(), dtype=np.uint8).reshape(-1, 12) - 48
        r = (body.astype(int) * np.arange(2, 14)).sum(axis=1) % 23
        out[ok] = UPN_LETTERS[r] == s[ok].str[0].to_numpy()
    return out


def nhs_number_valid(values: pd.Series) -> np.ndarray:
    """Return True where a value is a 10-digit NHS number passing the mod-11 check."""
    s = values.fillna("").astype(str).str.replace(" ", "", regex=False)
    ok = s.str.fullmatch(r"\d{10}").to_numpy()
    out = np.zeros(len(s), dtype=bool)
    if ok.any():
        arr = np.frombuffer("".join(s[ok]).encode(), dtype=np.uint8).reshape(-1, 10) - 48
        check = nhs_check_digit(arr[:, :9].astype(int))
        out[ok] = (check != 10) & (check == arr[:, 9])
    return out


def pnc_ids(rng: np.random.Generator, year: np.ndarray) -> np.ndarray:
    """Generate PNC ids ``YYYY/NNNNNNNL`` with the mod-23 check letter.

    The check letter is ``ZABCDEFGHJKLMNPQRTUVWXY[(YY * 10**7 + serial) % 23]``
    where YY is the two-digit year.
    """
    serial = rng.integers(1, 9_999_999, len(year))
    letter = PNC_LETTERS[((year % 100) * 10_000_000 + serial) % 23]
    return (
        pd.Series(year.astype(str))
        + "/"
        + pd.Series(serial).astype(str).str.zfill(7)
        + pd.Series(letter)
    ).to_numpy(dtype=object)


def upns(rng: np.random.Generator, la: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Generate 13-character Unique Pupil Numbers with the DfE mod-23 check letter."""
    n = len(la)
    est = rng.integers(2000, 7000, n)
    serial = rng.integers(0, 1000, n)
    body = (
        pd.Series(la, dtype=object)
        + pd.Series(est).astype(str)
        + pd.Series(year % 100).astype(str).str.zfill(2)
        + pd.Series(serial).astype(str).str.zfill(3)
    )
    digits = np.frombuffer("".join(body).encode(), dtype=np.uint8).reshape(-1, 12) - 48
    r = (digits * np.arange(2, 14)).sum(axis=1) % 23
    return (pd.Series(UPN_LETTERS[r]) + body).to_numpy(dtype=object)


def _digits_to_str(digits: np.ndarray) -> np.ndarray:
    raw = (digits.astype(np.uint8) + 48).tobytes()
    width = digits.shape[1]
    return np.frombuffer(raw, dtype=f"S{width}").astype(str).astype(object)


def _age_weights() -> np.ndarray:
    """Approximate England age pyramid for ages 0-99."""
    w = np.ones(100)
    w[:18] = 1.15
    w[18:30] = 1.25
    w[30:65] = 1.3
    w[65:80] = 1.0
    w[80:] = np.linspace(0.6, 0.02, 20)
    return w / w.sum()


def build_people(seed: int, geo: Geography, n: int, end: np.datetime64) -> People:
    """Generate residents with identities, addresses and propensities.

    Parameters
    ----------
    seed : int
        World seed.
    geo : Geography
    n : int
        Number of persons.
    end : numpy.datetime64
        Reference date (end of the simulated period).

    Returns
    -------
    People
    """
    rng = component_rng(seed, "people")
    lsoa = geo.lsoa
    pop = lsoa["population"].to_numpy().astype(float)
    home_lsoa = rng.choice(len(pop), n, p=pop / pop.sum())
    addr = geo.addresses
    home = sample_within_groups(rng, addr["lsoa_idx"].to_numpy(), np.ones(len(addr)), home_lsoa)

    age = rng.choice(100, n, p=_age_weights())
    dob = end - (age * 365.25 + rng.uniform(0, 365, n)).astype("timedelta64[D]")
    sex = np.where(rng.random(n) < 0.49, "M", "F")
    male = sex == "M"
    first = np.where(
        male,
        rng.choice(MALE_FIRST, n, p=zipf_weights(len(MALE_FIRST), 0.7, 6)),
        rng.choice(FEMALE_FIRST, n, p=zipf_weights(len(FEMALE_FIRST), 0.7, 6)),
    ).astype(object)
    middle = np.where(male, rng.choice(MALE_FIRST, n), rng.choice(FEMALE_FIRST, n)).astype(object)
    middle[rng.random(n) < 0.45] = ""
    surname = rng.choice(SURNAMES, n, p=zipf_weights(len(SURNAMES), 0.85, 3)).astype(object)

    imd = lsoa["imd_decile"].to_numpy()[home_lsoa]
    depriv = 1.9 * 0.88 ** (imd - 1)  # decile 1 about 3x decile 10
    # Offending peaks in the late teens and twenties and is mostly male.
    age_curve = np.exp(-0.5 * ((age - 22) / 8.0) ** 2) * (age >= 10)
    p_off = 0.22 * age_curve * np.where(male, 1.0, 0.3) * depriv
    offender = rng.random(n) < np.clip(p_off, 0, 0.6)
    off_prop = np.where(offender, rng.gamma(0.6, 1.0, n), 0.0)
    vict_prop = (0.4 + np.exp(-0.5 * ((age - 27) / 14.0) ** 2)) * depriv * rng.gamma(1.5, 1.0, n)
    vict_prop[age < 1] *= 0.2

    ethnic = rng.choice(ETHNIC_GROUPS, n, p=[0.82, 0.09, 0.03, 0.04, 0.02])
    first_arrest = np.clip(
        end.astype("datetime64[Y]").astype(int) + 1970 - age + 14 + rng.integers(0, 8, n),
        1990,
        2025,
    )
    pnc = np.full(n, "", dtype=object)
    has_pnc = offender & (rng.random(n) < 0.85)
    pnc[has_pnc] = pnc_ids(rng, first_arrest[has_pnc])
    lad = lsoa["lad_code"].to_numpy()[home_lsoa]
    upn = np.full(n, "", dtype=object)
    child = age <= 19
    school_year = end.astype("datetime64[Y]").astype(int) + 1970 - age + 5
    upn[child] = upns(rng, pd.Series(lad[child]).map(DFE_LA).to_numpy(), school_year[child])

    persons = pd.DataFrame(
        {
            "person_id": np.arange(n),
            "first_name": first,
            "middle_name": middle,
            "surname": surname,
            "sex": sex,
            "dob": dob.astype("datetime64[D]"),
            "ethnic_group": ethnic,
            "nhs_number": nhs_numbers(rng, n),
            "pnc_id": pnc,
            "upn": upn,
            "home_address_id": home,
            "home_lsoa_idx": home_lsoa,
            "offender": offender,
            "offender_propensity": off_prop,
            "victim_propensity": vict_prop,
            "twin_of": -1,
            "namesake_of": -1,
        }
    )
    as_object_strings(persons)
    _plant_twins_and_namesakes(rng, persons, geo)
    spells = _address_history(rng, persons, geo, end)
    return People(persons, spells)


def _plant_twins_and_namesakes(rng: np.random.Generator, p: pd.DataFrame, geo: Geography) -> None:
    """Turn some persons into twins (same surname, DOB, address) or namesakes.

    Twins and namesakes are the hardest cases for record linkage, so a known
    number of each is planted and recorded in ``twin_of`` / ``namesake_of``.
    """
    n = len(p)
    k = max(2, int(0.008 * n))
    idx = rng.permutation(n)[: 2 * k]
    a, b = idx[:k], idx[k:]
    for col in (
        "surname",
        "dob",
        "home_address_id",
        "home_lsoa_idx",
        "ethnic_group",
        "offender",
        "victim_propensity",
    ):
        p.loc[b, col] = p.loc[a, col].to_numpy()
    # Same-sex twins get a different first name from the same list.
    same_sex = rng.random(k) < 0.6
    p.loc[b[same_sex], "sex"] = p.loc[a[same_sex], "sex"].to_numpy()
    sx = p.loc[b, "sex"].to_numpy()
    newfirst = np.where(sx == "M", rng.choice(MALE_FIRST, k), rng.choice(FEMALE_FIRST, k))
    clash = newfirst == p.loc[a, "first_name"].to_numpy()
    newfirst[clash] = np.where(sx[clash] == "M", "Jack", "Ella")
    p.loc[b, "first_name"] = newfirst
    p.loc[b, "twin_of"] = a
    # Namesakes: same first name and surname, born the same year, different people.
    m = max(2, int(0.003 * n))
    rest = rng.permutation(np.setdiff1d(np.arange(n), idx))[: 2 * m]
    c, d = rest[:m], rest[m:]
    p.loc[d, "first_name"] = p.loc[c, "first_name"].to_numpy()
    p.loc[d, "surname"] = p.loc[c, "surname"].to_numpy()
    p.loc[d, "sex"] = p.loc[c, "sex"].to_numpy()
    shift = rng.integers(1, 300, m).astype("timedelta64[D]")
    p.loc[d, "dob"] = p.loc[c, "dob"].to_numpy() + shift
    p.loc[d, "namesake_of"] = c


def _address_history(
    rng: np.random.Generator, p: pd.DataFrame, geo: Geography, end: np.datetime64
) -> pd.DataFrame:
    """Give each person 0-3 earlier addresses with move dates.

    Most moves stay within the local authority; twins share their sibling's history.
    """
    n = len(p)
    n_prev = np.minimum(rng.poisson(0.6, n), 3)
    dob = p["dob"].to_numpy().astype("datetime64[D]")
    rows_person = np.repeat(np.arange(n), n_prev + 1)
    seq = np.arange(len(rows_person)) - np.repeat(np.cumsum(n_prev + 1) - (n_prev + 1), n_prev + 1)
    # seq 0 = current address; earlier spells go back in time by exponential gaps.
    gaps = (rng.exponential(3.0 * 365, len(rows_person)) + 30).astype(int)
    first_of = np.cumsum(n_prev + 1) - (n_prev + 1)
    cum = np.cumsum(gaps)
    cum = cum - np.repeat(cum[first_of] - gaps[first_of], n_prev + 1)
    valid_from = end - cum.astype("timedelta64[D]")
    valid_from = np.maximum(valid_from, dob[rows_person])
    addr = geo.addresses
    lad_codes = geo.lsoa["lad_code"].astype("category").cat.codes.to_numpy()
    a_lad = lad_codes[addr["lsoa_idx"].to_numpy()]
    p_lad = lad_codes[p["home_lsoa_idx"].to_numpy()][rows_person]
    local = rng.random(len(rows_person)) < 0.7
    target = np.where(local, p_lad, 0)
    w = np.ones(len(addr))
    prev_addr = sample_within_groups(rng, a_lad, w, target)
    anywhere = rng.integers(0, len(addr), len(rows_person))
    address_id = np.where(local, prev_addr, anywhere)
    address_id[seq == 0] = p["home_address_id"].to_numpy()
    spells = pd.DataFrame(
        {"person_id": rows_person, "seq": seq, "address_id": address_id, "valid_from": valid_from}
    )
    # Twins share their sibling's history exactly.
    twins = p.loc[p["twin_of"] >= 0, ["person_id", "twin_of"]]
    spells = spells[~spells["person_id"].isin(twins["person_id"])]
    copy = spells.merge(twins, left_on="person_id", right_on="twin_of", suffixes=("_x", ""))
    copy = copy.drop(columns=["person_id_x", "twin_of"])
    spells = pd.concat([spells, copy[spells.columns]], ignore_index=True)
    spells = spells.sort_values(["person_id", "valid_from", "seq"], ascending=[True, True, False])
    spells = spells.drop_duplicates(["person_id", "valid_from"], keep="last").reset_index(drop=True)
    nxt = spells["valid_from"].shift(-1)
    same = spells["person_id"].shift(-1) == spells["person_id"]
    spells["valid_to"] = nxt.where(same)
    spells["seq"] = spells.groupby("person_id").cumcount()
    return spells

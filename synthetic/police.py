"""Police records and the public data.police.uk files.

RMS occurrences/nominals/roles, CAD, intelligence, stop and search, street-level crime.

Functions here return *clean* frames (real dtypes plus record ids and true
person/event ids); :mod:`synthetic.emit` formats them, plants faults and writes
them to the landing zone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from synthetic.config import FORCE_CODE, WorldConfig
from synthetic.crime import INJURY_CODES, CrimeWorld
from synthetic.geography import Geography, to_wgs84
from synthetic.io import component_rng, random_hex, sample_within_groups, seq_ids
from synthetic.noise import address_text, noisy_identities
from synthetic.people import People

VICTIM_P = {
    "Violence and sexual offences": 0.95,
    "Public order": 0.6,
    "Robbery": 0.95,
    "Theft from the person": 0.95,
    "Burglary": 0.85,
    "Criminal damage and arson": 0.6,
    "Vehicle crime": 0.9,
    "Other theft": 0.6,
    "Bicycle theft": 0.9,
    "Shoplifting": 0.0,
    "Drugs": 0.0,
    "Possession of weapons": 0.0,
    "Other crime": 0.3,
    "Anti-social behaviour": 0.0,
}
SUSPECT_P = {
    "Violence and sexual offences": 0.65,
    "Public order": 0.5,
    "Robbery": 0.3,
    "Theft from the person": 0.1,
    "Burglary": 0.15,
    "Criminal damage and arson": 0.3,
    "Vehicle crime": 0.1,
    "Other theft": 0.25,
    "Bicycle theft": 0.08,
    "Shoplifting": 0.45,
    "Drugs": 1.0,
    "Possession of weapons": 1.0,
    "Other crime": 0.6,
    "Anti-social behaviour": 0.0,
}
WITNESS_P = {"Violence and sexual offences": 0.15, "Public order": 0.15, "Robbery": 0.15}

# Simplified last-outcome mixes per type (from the real 2025 TVP files).
OUTCOMES = {
    "default": {
        "Investigation complete; no suspect identified": 0.6,
        "Unable to prosecute suspect": 0.25,
        "Status update unavailable": 0.05,
        "Court result unavailable": 0.05,
        "Local resolution": 0.03,
        "Offender given a caution": 0.02,
    },
    "Violence and sexual offences": {
        "Unable to prosecute suspect": 0.63,
        "Investigation complete; no suspect identified": 0.12,
        "Status update unavailable": 0.09,
        "Action to be taken by another organisation": 0.06,
        "Court result unavailable": 0.045,
        "Local resolution": 0.032,
        "Awaiting court outcome": 0.011,
        "Offender given a caution": 0.012,
    },
    "Shoplifting": {
        "Investigation complete; no suspect identified": 0.61,
        "Court result unavailable": 0.19,
        "Unable to prosecute suspect": 0.12,
        "Local resolution": 0.035,
        "Status update unavailable": 0.02,
        "Suspect charged as part of another case": 0.012,
        "Awaiting court outcome": 0.007,
        "Offender given a caution": 0.006,
    },
    "Drugs": {
        "Local resolution": 0.48,
        "Investigation complete; no suspect identified": 0.17,
        "Court result unavailable": 0.11,
        "Unable to prosecute suspect": 0.105,
        "Status update unavailable": 0.06,
        "Offender given a caution": 0.034,
        "Awaiting court outcome": 0.015,
        "Offender given penalty notice": 0.026,
    },
    "Possession of weapons": {
        "Court result unavailable": 0.36,
        "Unable to prosecute suspect": 0.30,
        "Local resolution": 0.11,
        "Status update unavailable": 0.085,
        "Offender given a caution": 0.055,
        "Investigation complete; no suspect identified": 0.035,
        "Awaiting court outcome": 0.055,
    },
    "Public order": {
        "Unable to prosecute suspect": 0.50,
        "Investigation complete; no suspect identified": 0.33,
        "Court result unavailable": 0.06,
        "Local resolution": 0.04,
        "Status update unavailable": 0.04,
        "Awaiting court outcome": 0.01,
        "Offender given a caution": 0.01,
        "Action to be taken by another organisation": 0.01,
    },
}
PROSECUTED = (
    "Court result unavailable",
    "Awaiting court outcome",
    "Offender given a caution",
    "Local resolution",
    "Offender given penalty notice",
    "Suspect charged as part of another case",
)
GRADES = {
    "Violence and sexual offences": [0.35, 0.45, 0.15, 0.05],
    "Robbery": [0.6, 0.3, 0.1, 0],
    "Anti-social behaviour": [0.05, 0.3, 0.4, 0.25],
    "Burglary": [0.2, 0.4, 0.35, 0.05],
    "Possession of weapons": [0.6, 0.3, 0.1, 0],
    "default": [0.1, 0.35, 0.4, 0.15],
}
GRADE_LABELS = np.array(
    ["1 Emergency", "2 Priority", "3 Scheduled", "4 Resolution without deployment"]
)
RESPONSE_MIN = np.array([10.0, 55.0, 600.0, np.nan])
NON_CRIME_CAD = (
    "Concern for welfare",
    "Road traffic collision",
    "Suspicious circumstances",
    "Missing person",
    "Alarm activation",
    "Highway disruption",
    "Domestic incident",
    "Sudden death",
    "Animals",
    "Lost/found property",
)
CALL_SOURCES = np.array(["999", "101", "Online", "Alarm company", "Other agency"])
IC_CODES = {
    "White": ["IC1", "IC2"],
    "Asian": ["IC4", "IC5"],
    "Black": ["IC3"],
    "Mixed": ["IC9", "IC1", "IC3"],
    "Other": ["IC6", "IC9"],
}
SOC = (
    "county_lines",
    "drug_supply",
    "cse",
    "cce",
    "knife_crime",
    "firearms",
    "ocg",
    "modern_slavery",
    "acquisitive_crime",
    "gangs",
)


def outcomes(rng: np.random.Generator, crime_type: np.ndarray) -> np.ndarray:
    """Draw a police.uk last-outcome category per event (blank for ASB)."""
    out = np.full(len(crime_type), "", dtype=object)
    for t in np.unique(crime_type):
        if t == "Anti-social behaviour":
            continue
        mix = OUTCOMES.get(t, OUTCOMES["default"])
        keys = list(mix)
        w = np.array([mix[k] for k in keys])
        m = crime_type == t
        out[m] = rng.choice(keys, m.sum(), p=w / w.sum())
    return out


def location_text(
    geo: Geography, cw: CrimeWorld, pois: pd.DataFrame, location_id: np.ndarray
) -> np.ndarray:
    """Address text of event locations as an officer would record it."""
    loc = cw.locations
    kind = loc["kind"].to_numpy()[location_id]
    ref = loc["ref_id"].to_numpy()[location_id]
    out = np.empty(len(location_id), dtype=object)
    a = kind == "address"
    if a.any():
        t = address_text(geo, ref[a])
        out[a] = (t["address_line"] + ", " + t["town"] + ", " + t["postcode"]).to_numpy()
    s = kind == "street"
    st = geo.streets
    out[s] = (
        pd.Series(st["street_name"].to_numpy()[ref[s]], dtype=object)
        + ", "
        + pd.Series(st["town"].to_numpy()[ref[s]], dtype=object)
    ).to_numpy()
    p = kind == "poi"
    pst = pois["street_id"].to_numpy()[ref[p]]
    out[p] = (
        pd.Series(pois["name"].to_numpy()[ref[p]], dtype=object)
        + ", "
        + pd.Series(st["street_name"].to_numpy()[pst], dtype=object)
        + ", "
        + pd.Series(st["town"].to_numpy()[pst], dtype=object)
    ).to_numpy()
    return out


def occurrence_refs(when: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """Occurrence numbers ``43YYNNNNNNNN``: force code, two-digit year, serial."""
    yy = pd.Series(np.datetime_as_string(when.astype("datetime64[Y]"), unit="Y")).str[2:]
    return (FORCE_CODE + yy + pd.Series(serial).astype(str).str.zfill(8)).to_numpy(dtype=object)


def build_occurrences(
    seed: int, cfg: WorldConfig, geo: Geography, cw: CrimeWorld, pois: pd.DataFrame
) -> pd.DataFrame:
    """RMS occurrences for reported crimes (ASB is a CAD-only incident type).

    Returns
    -------
    pandas.DataFrame
        One row per occurrence with true ``event_id`` and real dtypes.
    """
    rng = component_rng(seed, "police.occurrences")
    ev = cw.events
    ev = ev[ev["reported"]]
    ev_all_outcomes = outcomes(rng, ev["crime_type"].to_numpy())
    crimes = ev["crime_type"].to_numpy() != "Anti-social behaviour"
    ev = ev[crimes].copy()
    ev["outcome"] = ev_all_outcomes[crimes]
    t = ev["committed_at"].to_numpy()
    n = len(ev)
    # Property crime is discovered later, so offenders' times are a window.
    windowed = (
        ev["crime_type"]
        .isin(
            [
                "Burglary",
                "Vehicle crime",
                "Criminal damage and arson",
                "Bicycle theft",
                "Other theft",
            ]
        )
        .to_numpy()
    )
    before = (rng.uniform(0, 12, n) * 3600).astype("timedelta64[s]")
    after = (rng.uniform(0, 8, n) * 3600).astype("timedelta64[s]")
    c_from = np.where(windowed, t - before, t)
    c_to = np.where(windowed, t + after, t)
    c_from = _floor5(c_from)
    c_to = _floor5(c_to)
    no_to = ~windowed & (rng.random(n) < 0.4)
    c_to = c_to.astype("datetime64[s]")
    c_to[no_to] = np.datetime64("NaT")
    recorded = t + (rng.exponential(5, n) * 3600 + np.where(windowed, 8 * 3600, 600)).astype(
        "timedelta64[s]"
    )
    # The extract is cut at the end of the period: late recordings are stamped at the cut.
    cut = (cfg.end + 1).astype("datetime64[s]") - np.timedelta64(1, "s")
    recorded = np.minimum(recorded.astype("datetime64[s]"), cut)
    ref = pd.read_csv(_offence_ref())
    desc = dict(zip(ref["offence_code"].astype(str), ref["offence_description"], strict=True))
    out = pd.DataFrame(
        {
            "event_id": ev["event_id"].to_numpy(),
            "occurrence_ref": occurrence_refs(t, ev["event_id"].to_numpy()),
            "recorded_at": recorded.astype("datetime64[s]"),
            "committed_from": c_from.astype("datetime64[s]"),
            "committed_to": c_to,
            "offence_code": ev["offence_code"].to_numpy(),
            "offence_description": ev["offence_code"].map(desc).to_numpy(),
            "easting": np.round(ev["x"].to_numpy()).astype(np.int64),
            "northing": np.round(ev["y"].to_numpy()).astype(np.int64),
            "location_text": location_text(geo, cw, pois, ev["location_id"].to_numpy()),
            "domestic_abuse_flag": (ev["crime_type"].to_numpy() == "Violence and sexual offences")
            & (cw.locations["kind"].to_numpy()[ev["location_id"].to_numpy()] == "address")
            & (rng.random(n) < 0.6),
            "outcome": ev["outcome"].to_numpy(),
            "crime_type": ev["crime_type"].to_numpy(),
            "location_id": ev["location_id"].to_numpy(),
            "lsoa_idx": ev["lsoa_idx"].to_numpy(),
        }
    )
    return out.sort_values("occurrence_ref", kind="stable").reset_index(drop=True)


def _floor5(t: np.ndarray) -> np.ndarray:
    s = t.astype("datetime64[s]").astype(np.int64)
    return (s - s % 300).astype("datetime64[s]")


def _offence_ref():
    from synthetic.geography import REFERENCE

    return REFERENCE / "home_office_offence_codes_to_police_uk_category.csv"


def build_roles(seed: int, occ: pd.DataFrame, people: People, geo: Geography) -> pd.DataFrame:
    """Assign true persons to occurrences as victims, suspects/offenders and witnesses.

    Victims and witnesses are drawn from residents of the same LSOA (70%) or local
    authority, weighted by victim propensity (so repeat victims emerge); suspects
    from offenders in the same local authority, weighted by offending propensity
    (a few prolific offenders). Suspects become ``offender`` when the outcome
    implies a prosecution or out-of-court disposal.
    """
    rng = component_rng(seed, "police.roles")
    P = people.persons
    lad_codes = geo.lsoa["lad_code"].astype("category").cat.codes.to_numpy()
    p_lsoa = P["home_lsoa_idx"].to_numpy()
    p_lad = lad_codes[p_lsoa]
    ctype = occ["crime_type"].to_numpy()
    e_lsoa = occ["lsoa_idx"].to_numpy()
    e_lad = lad_codes[e_lsoa]
    parts = []
    for role, probs in (("victim", VICTIM_P), ("witness", WITNESS_P), ("suspect", SUSPECT_P)):
        pr = np.array([probs.get(t, 0.05 if role == "witness" else 0.0) for t in ctype])
        sel = np.flatnonzero(rng.random(len(occ)) < pr)
        if role == "suspect":
            w = P["offender_propensity"].to_numpy()
            who = sample_within_groups(rng, p_lad, w, e_lad[sel])
        else:
            w = P["victim_propensity"].to_numpy()
            local = rng.random(len(sel)) < 0.7
            a = sample_within_groups(rng, p_lsoa, w, e_lsoa[sel])
            b = sample_within_groups(rng, p_lad, w, e_lad[sel])
            who = np.where(local, a, b)
        r = np.full(len(sel), role, dtype=object)
        if role == "suspect":
            r[np.isin(occ["outcome"].to_numpy()[sel], PROSECUTED)] = "offender"
        parts.append(pd.DataFrame({"occ_row": sel, "person_id": who, "role": r}))
    roles = pd.concat(parts, ignore_index=True)
    roles = roles.drop_duplicates(["occ_row", "person_id"], keep="last")
    roles["event_id"] = occ["event_id"].to_numpy()[roles["occ_row"]]
    roles["occurrence_ref"] = occ["occurrence_ref"].to_numpy()[roles["occ_row"]]
    roles["recorded_at"] = occ["recorded_at"].to_numpy()[roles["occ_row"]]
    return roles.sort_values(["occ_row", "role", "person_id"]).reset_index(drop=True)


def build_nominals(
    seed: int, roles: pd.DataFrame, people: People, geo: Geography
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Create nominal records and link occurrences to them.

    A person's first involvement creates a nominal; later involvements reuse the
    latest nominal, except that 15% create a duplicate nominal (the officer did
    not find the existing one), which is where identifier noise bites.

    Returns
    -------
    (nominals, links)
        Nominal records (with true ``person_id``) and occurrence-nominal roles.
    """
    rng = component_rng(seed, "police.nominals")
    r = roles.sort_values(["person_id", "recorded_at", "occ_row"], kind="stable").reset_index(
        drop=True
    )
    pid = r["person_id"].to_numpy()
    first = np.r_[True, pid[1:] != pid[:-1]]
    new = first | (rng.random(len(r)) < 0.15)
    nominal_idx = np.cumsum(new) - 1
    r["nominal_idx"] = nominal_idx
    creators = r[new]
    ident = noisy_identities(
        rng,
        people,
        geo,
        creators["person_id"].to_numpy(),
        creators["recorded_at"].to_numpy(),
        "police_nominals",
        "pnc_id",
    )
    eth = people.persons["ethnic_group"].to_numpy()[creators["person_id"].to_numpy()]
    ic = pd.Series(eth).map({k: v[0] for k, v in IC_CODES.items()}).to_numpy(dtype=object)
    ic[rng.random(len(ic)) < 0.15] = "IC9"
    nominals = pd.DataFrame(
        {
            "nominal_id": seq_ids("N", len(creators), 9),
            "person_id": creators["person_id"].to_numpy(),
            "created_at": creators["recorded_at"].to_numpy(),
            "surname": ident["surname"].str.upper().to_numpy(),
            "forename": ident["first_name"].to_numpy(),
            "middle_names": ident["middle_name"].to_numpy(),
            "dob": ident["dob"].to_numpy(),
            "sex": ident["sex"].to_numpy(),
            "pnc_id": ident["pnc_id"].to_numpy(),
            "ethnicity_ic": ic,
            "address_line": ident["address_line"].to_numpy(),
            "town": ident["town"].to_numpy(),
            "postcode": ident["postcode"].to_numpy(),
            "noise": ident["noise"].to_numpy(),
        }
    )
    links = (
        pd.DataFrame(
            {
                "occurrence_ref": r["occurrence_ref"].to_numpy(),
                "nominal_id": nominals["nominal_id"].to_numpy()[nominal_idx],
                "role": r["role"].to_numpy(),
                "person_id": pid,
                "recorded_at": r["recorded_at"].to_numpy(),
            }
        )
        .sort_values(["occurrence_ref", "nominal_id"], kind="stable")
        .reset_index(drop=True)
    )
    return nominals, links


def build_cad(
    seed: int,
    cfg: WorldConfig,
    geo: Geography,
    cw: CrimeWorld,
    pois: pd.DataFrame,
    occ: pd.DataFrame,
) -> pd.DataFrame:
    """Build calls for service: most crimes and all ASB, plus non-crime incidents.

    Returns
    -------
    pandas.DataFrame
        One row per incident with true ``event_id`` (-1 for non-crime incidents).
    """
    rng = component_rng(seed, "police.cad")
    ev = cw.events[cw.events["reported"]]
    ctype = ev["crime_type"].to_numpy()
    call_p = np.where(
        ctype == "Anti-social behaviour", 1.0, np.where(ctype == "Shoplifting", 0.5, 0.7)
    )
    ev = ev[rng.random(len(ev)) < call_p]
    n_nc = int(0.5 * len(ev))
    loc = cw.locations
    street_like = loc["kind"].isin(["street", "address"]).to_numpy()
    w = loc["base_weight"].to_numpy() * street_like
    nc_loc = rng.choice(len(loc), n_nc, p=w / w.sum())
    days = cw.days
    nc_t = days[rng.integers(0, len(days), n_nc)].astype("datetime64[s]") + rng.integers(
        0, 86400, n_nc
    ).astype("timedelta64[s]")
    occ_ref = pd.Series(occ["occurrence_ref"].to_numpy(), index=occ["event_id"].to_numpy())
    frame = pd.DataFrame(
        {
            "event_id": np.r_[ev["event_id"].to_numpy(), np.full(n_nc, -1)],
            "location_id": np.r_[ev["location_id"].to_numpy(), nc_loc],
            "t": np.r_[ev["committed_at"].to_numpy(), nc_t].astype("datetime64[s]"),
            "opening": np.r_[ev["crime_type"].to_numpy(), rng.choice(NON_CRIME_CAD, n_nc)],
        }
    )
    n = len(frame)
    grade = np.zeros(n, dtype=int)
    codes, kinds = pd.factorize(frame["opening"].to_numpy(dtype=object), sort=True)
    for k, t in enumerate(kinds):
        m = codes == k
        gp = np.array(GRADES.get(t, GRADES["default"]))
        grade[m] = rng.choice(4, m.sum(), p=gp / gp.sum())
    call = frame["t"].to_numpy() + (rng.exponential(20, n) * 60).astype("timedelta64[s]")
    resp = rng.exponential(1.0, n) * RESPONSE_MIN[grade]
    arrived = call.astype("datetime64[s]") + np.nan_to_num(resp * 60).astype("timedelta64[s]")
    arrived = arrived.astype("datetime64[s]")
    arrived[grade == 3] = np.datetime64("NaT")
    closed = call + ((rng.exponential(90, n) + 15 + np.nan_to_num(resp)) * 60).astype(
        "timedelta64[s]"
    )
    x = cw.locations["x"].to_numpy()[frame["location_id"]] + rng.normal(0, 25, n)
    y = cw.locations["y"].to_numpy()[frame["location_id"]] + rng.normal(0, 25, n)
    linked = occ_ref.reindex(frame["event_id"].to_numpy()).fillna("").to_numpy(dtype=object)
    closing = np.where(
        linked != "",
        "Crime recorded",
        np.where(
            frame["opening"].to_numpy() == "Anti-social behaviour",
            "ASB - no crime",
            "No crime - advice given",
        ),
    )
    src = rng.choice(CALL_SOURCES, n, p=[0.35, 0.45, 0.12, 0.04, 0.04])
    out = pd.DataFrame(
        {
            "event_id": frame["event_id"].to_numpy(),
            "call_received_at": call.astype("datetime64[s]"),
            "call_source": src,
            "opening_classification": frame["opening"].to_numpy(),
            "grade": GRADE_LABELS[grade],
            "easting": np.round(x).astype(np.int64),
            "northing": np.round(y).astype(np.int64),
            "location_text": location_text(geo, cw, pois, frame["location_id"].to_numpy()),
            "first_arrival_at": arrived,
            "closed_at": closed.astype("datetime64[s]"),
            "closing_classification": closing,
            "linked_occurrence_ref": linked,
        }
    )
    out = out.sort_values(["call_received_at", "event_id"], kind="stable").reset_index(drop=True)
    day = np.datetime_as_string(
        out["call_received_at"].to_numpy().astype("datetime64[D]"), unit="D"
    )
    seq = out.groupby(day).cumcount().to_numpy() + 1
    out.insert(
        0,
        "incident_ref",
        (
            pd.Series(day).str.replace("-", "") + "-" + pd.Series(seq).astype(str).str.zfill(5)
        ).to_numpy(),
    )
    return out


def build_police_uk_street(
    seed: int,
    cfg: WorldConfig,
    geo: Geography,
    cw: CrimeWorld,
    pois: pd.DataFrame,
    occ: pd.DataFrame,
) -> pd.DataFrame:
    """Build reported crimes and ASB in the data.police.uk street-level format.

    Coordinates are snapped to anonymised map points (street centres, or the
    venue point for police.uk landmark categories such as "Supermarket").

    Returns
    -------
    pandas.DataFrame
        The 12 police.uk columns plus ``event_id`` and ``month`` (dropped on write).
    """
    rng = component_rng(seed, "police_uk.street")
    ev = cw.events[cw.events["reported"]]
    loc = cw.locations
    lid = ev["location_id"].to_numpy()
    kind = loc["kind"].to_numpy()[lid]
    ref = loc["ref_id"].to_numpy()[lid]
    st = geo.streets
    street = np.where(
        kind == "address",
        geo.addresses["street_id"].to_numpy()[np.where(kind == "address", ref, 0)],
        ref,
    )
    is_poi = kind == "poi"
    poi_ref = np.where(is_poi, ref, 0)
    street = np.where(is_poi, pois["street_id"].to_numpy()[poi_ref], street)
    label = np.where(is_poi, pois["police_uk_label"].to_numpy()[poi_ref], "")
    landmark = label != ""
    mx = np.where(landmark, pois["x"].to_numpy()[poi_ref], st["x"].to_numpy()[street])
    my = np.where(landmark, pois["y"].to_numpy()[poi_ref], st["y"].to_numpy()[street])
    lsoa_idx = np.where(
        landmark, pois["lsoa_idx"].to_numpy()[poi_ref], st["lsoa_idx"].to_numpy()[street]
    )
    lon, lat = to_wgs84(mx, my)
    text = np.where(landmark, label, st["street_name"].to_numpy()[street])
    text = ("On or near " + pd.Series(text, dtype=object)).to_numpy().copy()
    ctype = ev["crime_type"].to_numpy()
    outcome = pd.Series(occ["outcome"].to_numpy(), index=occ["event_id"].to_numpy())
    out_cat = outcome.reindex(ev["event_id"].to_numpy()).fillna("").to_numpy(dtype=object)
    asb = ctype == "Anti-social behaviour"
    crime_id = random_hex(rng, len(ev))
    crime_id[asb] = ""
    no_loc = rng.random(len(ev)) < cfg.police_uk_no_location
    month = np.datetime_as_string(ev["committed_at"].to_numpy().astype("datetime64[M]"), unit="M")
    lsoa_code = geo.lsoa["lsoa_code"].to_numpy()[lsoa_idx].astype(object)
    lsoa_name = geo.lsoa["lsoa_name"].to_numpy()[lsoa_idx].astype(object)
    lon_t = np.char.mod("%.6f", lon).astype(object)
    lat_t = np.char.mod("%.6f", lat).astype(object)
    for arr in (lon_t, lat_t, lsoa_code, lsoa_name):
        arr[no_loc] = ""
    text[no_loc] = "No location"
    out = pd.DataFrame(
        {
            "Crime ID": crime_id,
            "Month": month,
            "Reported by": "Thames Valley Police",
            "Falls within": "Thames Valley Police",
            "Longitude": lon_t,
            "Latitude": lat_t,
            "Location": text,
            "LSOA code": lsoa_code,
            "LSOA name": lsoa_name,
            "Crime type": ctype,
            "Last outcome category": out_cat,
            "Context": "",
            "event_id": ev["event_id"].to_numpy(),
        }
    )
    # Real files list located rows by LSOA, then the unlocated ones (integer sort keys:
    # LSOA codes are sorted like lsoa_idx, and crime types sort like their names).
    type_rank = pd.factorize(ctype, sort=True)[0]
    mon_i = ev["committed_at"].to_numpy().astype("datetime64[M]").astype(np.int64)
    order = np.lexsort(
        (ev["event_id"].to_numpy(), type_rank, np.where(no_loc, -1, lsoa_idx), no_loc, mon_i)
    )
    return out.iloc[order].reset_index(drop=True)


def build_intel(
    seed: int, cfg: WorldConfig, geo: Geography, cw: CrimeWorld, people: People
) -> tuple[list[dict], pd.DataFrame]:
    """Intelligence logs (3x5x2 graded) about offenders, often near hot spots.

    Returns
    -------
    (logs, subjects)
        JSON-ready log records (with ``_month`` for delivery), and one row per
        subject record with true ``person_id``.
    """
    rng = component_rng(seed, "police.intel")
    P = people.persons
    n = cfg.scale.intel_per_month * cfg.months
    months = np.arange(np.datetime64(cfg.start, "M"), np.datetime64(cfg.end, "M") + 1)
    mon = months[rng.integers(0, len(months), n)]
    created = mon.astype("datetime64[D]").astype("datetime64[s]") + (
        rng.integers(0, 28 * 86400, n)
    ).astype("timedelta64[s]")
    created = np.sort(created)
    w = P["offender_propensity"].to_numpy()
    n_sub = rng.integers(1, 4, n)
    sub_log = np.repeat(np.arange(n), n_sub)
    sub_person = rng.choice(len(P), len(sub_log), p=w / w.sum())
    ident = noisy_identities(
        rng, people, geo, sub_person, created[sub_log], "intel_subjects", "pnc_id"
    )
    hs = cw.hotspots
    # Intelligence names a nearby street, never the (truth-only) hot spot id.
    _, hs_street = cKDTree(geo.streets[["x", "y"]].to_numpy()).query(
        hs[["centre_easting", "centre_northing"]].to_numpy()
    )
    hs_text = (
        geo.streets["street_name"].to_numpy()[hs_street]
        + ", "
        + geo.streets["town"].to_numpy()[hs_street]
    )
    sub_k = np.arange(len(sub_log)) - np.repeat(np.cumsum(n_sub) - n_sub, n_sub)
    log_ids = seq_ids("IL", n, 8).tolist()
    subjects = pd.DataFrame(
        {
            "log_id": np.array(log_ids, dtype=object)[sub_log],
            "subject_id": [f"{log_ids[g]}-S{k}" for g, k in zip(sub_log, sub_k, strict=True)],
            "person_id": sub_person,
            "noise": ident["noise"].to_numpy(),
        }
    )
    cats = rng.choice(SOC, (n, 2))
    n_cat = rng.integers(1, 3, n)
    src = rng.choice(["1", "2", "3"], n, p=[0.2, 0.6, 0.2])
    intel = rng.choice(list("ABCDE"), n, p=[0.1, 0.35, 0.35, 0.15, 0.05])
    handling = rng.choice(["P", "C"], n, p=[0.85, 0.15])
    use_hs = rng.random(n) < 0.5
    hs_i = rng.integers(0, len(hs), n)
    jitter = rng.normal(0, 80, (n, 2))
    logs = []
    f = {
        k: ident[k].tolist()
        for k in ("surname", "first_name", "dob", "pnc_id", "address_line", "town", "postcode")
    }
    sid = subjects["subject_id"].tolist()
    starts = (np.cumsum(n_sub) - n_sub).tolist()
    hs_e = hs["centre_easting"].to_numpy()
    hs_n = hs["centre_northing"].to_numpy()
    for i in range(n):  # intelligence volumes are small (<= ~72k logs at large scale)
        s0 = starts[i]
        subs = [
            {
                "subject_id": sid[j],
                "surname": f["surname"][j],
                "forename": f["first_name"][j],
                "dob": f["dob"][j],
                "pnc_id": f["pnc_id"][j],
                "address": f"{f['address_line'][j]}, {f['town'][j]}",
                "postcode": f["postcode"][j],
            }
            for j in range(s0, s0 + int(n_sub[i]))
        ]
        if use_hs[i]:
            h = hs_i[i]
            locs = [
                {
                    "text": f"area of {hs_text[h]}",
                    "easting": int(hs_e[h] + jitter[i, 0]),
                    "northing": int(hs_n[h] + jitter[i, 1]),
                }
            ]
        else:
            locs = [{"text": subs[0]["address"], "easting": None, "northing": None}]
        soc = sorted(set(cats[i, : n_cat[i]].tolist()))
        text = (
            f"Intelligence suggests {subs[0]['forename']} {subs[0]['surname']} is involved "
            f"in {soc[0].replace('_', ' ')} around {locs[0]['text']}."
        )
        ts = str(created[i])
        logs.append(
            {
                "log_id": log_ids[i],
                "created_at": ts,
                "grading": {
                    "source": str(src[i]),
                    "intelligence": str(intel[i]),
                    "handling": str(handling[i]),
                },
                "soc_categories": soc,
                "subjects": subs,
                "locations": locs,
                "text": text,
                "_month": ts[:7],
            }
        )
    return logs, subjects


def build_stop_search(seed: int, cfg: WorldConfig, cw: CrimeWorld, people: People) -> pd.DataFrame:
    """Build stop and search in the data.police.uk format.

    Searches concentrate where drugs and weapons crime is high.

    Returns
    -------
    pandas.DataFrame
        The 15 police.uk columns plus ``month``.
    """
    rng = component_rng(seed, "police_uk.stop_search")
    ev = cw.events
    anchor = ev[ev["crime_type"].isin(["Drugs", "Possession of weapons"])]
    n = int(0.09 * cfg.scale.events)
    a = anchor.iloc[rng.integers(0, len(anchor), n)]
    days = cw.days
    t = days[rng.integers(0, len(days), n)].astype("datetime64[s]") + rng.integers(
        0, 86400, n
    ).astype("timedelta64[s]")
    t = np.sort(t)
    x = a["x"].to_numpy() + rng.normal(0, 60, n)
    y = a["y"].to_numpy() + rng.normal(0, 60, n)
    lon, lat = to_wgs84(x, y)
    typ = rng.choice(
        ["Person search", "Person and Vehicle search", "Vehicle search"], n, p=[0.7, 0.2, 0.1]
    )
    blank = np.where(typ == "Vehicle search", rng.random(n) < 0.6, rng.random(n) < 0.1)
    lat_t = np.char.mod("%.6f", lat).astype(object)
    lon_t = np.char.mod("%.6f", lon).astype(object)
    lat_t[blank] = ""
    lon_t[blank] = ""
    # UK local time offset: BST from the last Sunday of March to the last Sunday of October.
    bst = _is_bst(t)
    local = t + np.where(bst, 3600, 0).astype("timedelta64[s]")
    date = (
        pd.Series(np.datetime_as_string(local, unit="s")) + np.where(bst, "+01:00", "+00:00")
    ).to_numpy(dtype=object)
    P = people.persons
    off = P["offender_propensity"].to_numpy()
    who = rng.choice(len(P), n, p=off / off.sum())
    age = (t.astype("datetime64[D]") - P["dob"].to_numpy()[who].astype("datetime64[D]")).astype(
        int
    ) / 365.25
    age_range = np.select(
        [age < 10, age < 18, age < 25, age < 35], ["under 10", "10-17", "18-24", "25-34"], "over 34"
    ).astype(object)
    gender = np.where(P["sex"].to_numpy()[who] == "M", "Male", "Female").astype(object)
    self_eth = {
        "White": "White - English/Welsh/Scottish/Northern Irish/British",
        "Asian": "Asian/Asian British - Pakistani",
        "Black": "Black/African/Caribbean/Black British - African",
        "Mixed": "Mixed/Multiple ethnic groups - White and Black Caribbean",
        "Other": "Other ethnic group - Not stated",
    }
    eth = P["ethnic_group"].to_numpy()[who]
    self_def = pd.Series(eth).map(self_eth).to_numpy(dtype=object)
    off_def = eth.astype(object)
    off_def[eth == "Mixed"] = ""
    obj = rng.choice(
        [
            "Controlled drugs",
            "Offensive weapons",
            "Stolen goods",
            "Article for use in theft",
            "Evidence of offences under the Act",
            "Firearms",
        ],
        n,
        p=[0.6, 0.15, 0.1, 0.08, 0.05, 0.02],
    )
    legis = np.where(
        obj == "Controlled drugs",
        "Misuse of Drugs Act 1971 (section 23)",
        np.where(
            obj == "Firearms",
            "Firearms Act 1968 (section 47)",
            "Police and Criminal Evidence Act 1984 (section 1)",
        ),
    ).astype(object)
    outcome = rng.choice(
        [
            "A no further action disposal",
            "Arrest",
            "Community resolution",
            "Penalty Notice for Disorder",
            "Khat or Cannabis warning",
            "Summons / charged by post",
        ],
        n,
        p=[0.68, 0.14, 0.08, 0.02, 0.06, 0.02],
    )
    linked = np.where(
        outcome == "A no further action disposal",
        "",
        np.where(rng.random(n) < 0.7, "True", "False"),
    ).astype(object)
    removal = np.where(
        rng.random(n) < 0.1, "", np.where(rng.random(n) < 0.03, "True", "False")
    ).astype(object)
    vehicle = typ == "Vehicle search"
    for arr in (gender, age_range, self_def, off_def, removal):
        arr[vehicle] = ""
    op = rng.random(n) < 0.03
    out = pd.DataFrame(
        {
            "Type": typ,
            "Date": date,
            "Part of a policing operation": np.where(op, "True", "False"),
            "Policing operation": np.where(op, "Operation Deter", ""),
            "Latitude": lat_t,
            "Longitude": lon_t,
            "Gender": gender,
            "Age range": age_range,
            "Self-defined ethnicity": self_def,
            "Officer-defined ethnicity": off_def,
            "Legislation": legis,
            "Object of search": obj,
            "Outcome": outcome,
            "Outcome linked to object of search": linked,
            "Removal of more than just outer clothing": removal,
        }
    )
    out["month"] = np.datetime_as_string(t.astype("datetime64[M]"), unit="M")
    return out


def _is_bst(t: np.ndarray) -> np.ndarray:
    """Return True where a UTC time falls in British Summer Time."""
    years = t.astype("datetime64[Y]")
    out = np.zeros(len(t), dtype=bool)
    for y in np.unique(years):
        start = _last_sunday(y, 3).astype("datetime64[s]") + np.timedelta64(3600, "s")
        end = _last_sunday(y, 10).astype("datetime64[s]") + np.timedelta64(3600, "s")
        m = years == y
        out[m] = (t[m] >= start) & (t[m] < end)
    return out


def _last_sunday(year: np.datetime64, month: int) -> np.datetime64:
    first_next = (year.astype("datetime64[M]") + month).astype("datetime64[D]")
    last = first_next - 1
    dow = (last.astype(int) + 3) % 7  # Monday = 0
    return last - ((dow - 6) % 7)


def violence_injury_events(cw: CrimeWorld) -> pd.DataFrame:
    """Violence-with-injury events (reported or not): the A&E attendance candidates."""
    ev = cw.events
    return ev[
        ev["offence_code"].isin(INJURY_CODES)
        | ((ev["crime_type"] == "Violence and sexual offences") & (ev["offence_code"] == "105A"))
    ]

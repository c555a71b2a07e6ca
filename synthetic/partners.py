"""Partner agency records: children's social care, probation and NHS."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from synthetic.config import WorldConfig
from synthetic.crime import CrimeWorld
from synthetic.geography import REFERENCE, Geography
from synthetic.io import component_rng, seq_ids
from synthetic.noise import noisy_identities, typo
from synthetic.people import DFE_LA, People
from synthetic.police import violence_injury_events

# DfE-style "factors identified at the end of assessment" codes used here.
CIN_FACTORS = {
    "1B": "Alcohol misuse: parent",
    "2A": "Drug misuse: child",
    "2B": "Drug misuse: parent",
    "3A": "Domestic abuse: child subject",
    "3B": "Domestic abuse: parent",
    "4B": "Mental health: parent",
    "10A": "Going/being missing",
    "11A": "Child sexual exploitation (CSE)",
    "12A": "Trafficking",
    "13A": "Gangs",
    "14A": "Socially unacceptable behaviour",
    "15A": "Self-harm",
    "16A": "Neglect",
    "17A": "Emotional abuse",
    "18B": "Physical abuse",
    "24A": "Child criminal exploitation (CCE)",
}
REFERRAL_SOURCES = {
    "1A": "Individual",
    "2A": "Schools",
    "3A": "Health: GP",
    "3E": "Health: A&E",
    "4": "LA services",
    "5A": "Police",
    "6": "Other legal agency",
    "8": "Anonymous",
    "10": "Unknown",
}
# A&E sites (ODS-style codes) at the simulated hospitals, by town.
ED_SITES = {
    "Oxford": "RTH08",
    "Reading": "RHW01",
    "Milton Keynes": "RD816",
    "Slough": "RDU50",
    "High Wycombe": "RXQ50",
    "Aylesbury": "RXQ02",
    "Banbury": "RTH05",
    "Maidenhead": "RDU52",
    "Bracknell": "RDU53",
    "Newbury": "RHW06",
}
ASSAULT_METHODS = {
    "01": "Body part (hit, kick, head-butt)",
    "02": "Blunt object",
    "03": "Knife or other sharp object",
    "04": "Glass or bottle",
    "05": "Firearm",
    "06": "Other",
}
LOCATION_TYPES = {
    "01": "Home",
    "02": "Street/public place",
    "03": "Licensed premises",
    "04": "Workplace",
    "05": "School",
    "06": "Transport",
    "07": "Other",
}
SENTENCES = (
    "Community order",
    "Suspended sentence order",
    "Custodial sentence with licence",
    "Post-sentence supervision",
)
REQUIREMENTS = (
    "Unpaid work",
    "Rehabilitation activity requirement",
    "Curfew (EM)",
    "Drug rehabilitation",
    "Alcohol treatment",
    "Mental health treatment",
    "Accredited programme",
    "Exclusion",
    "Residence",
)


def _sites(geo: Geography, pois: pd.DataFrame) -> pd.DataFrame:
    """Return the A&E sites (hospital POIs in towns with an ED) with their codes."""
    h = pois[pois["category"] == "hospital"].copy()
    town = geo.streets["town"].to_numpy()[h["street_id"].to_numpy()]
    h["site_code"] = pd.Series(town).map(ED_SITES).to_numpy()
    return h[h["site_code"].notna()].reset_index(drop=True)


def build_social_care(
    seed: int, cfg: WorldConfig, geo: Geography, people: People, roles: pd.DataFrame, cw: CrimeWorld
) -> pd.DataFrame:
    """Children in Need style referrals, with local child ids per local authority.

    Children who appear in police data as victims or suspects are far more likely
    to be referred, and carry matching factors (CSE, CCE, gangs, domestic abuse).

    Returns
    -------
    pandas.DataFrame
        One row per referral with true ``person_id``.
    """
    rng = component_rng(seed, "social_care")
    P = people.persons
    dob = P["dob"].to_numpy().astype("datetime64[D]")
    age_end = (cfg.end - dob).astype(int) / 365.25
    child = age_end < 19.5
    lsoa_imd = geo.lsoa["imd_decile"].to_numpy()[P["home_lsoa_idx"].to_numpy()]
    w = child * 0.04 * 1.9 * 0.88 ** (lsoa_imd - 1)
    ev_type = cw.events.set_index("event_id")["crime_type"]
    r = roles.copy()
    r["crime_type"] = ev_type.reindex(r["event_id"].to_numpy()).to_numpy()
    kid_vict = r[(r["role"] == "victim") & child[r["person_id"]]]
    kid_susp = r[r["role"].isin(["suspect", "offender"]) & child[r["person_id"]]]
    boost = np.zeros(len(P))
    np.add.at(boost, kid_vict["person_id"].to_numpy(), 0.35)
    np.add.at(boost, kid_susp["person_id"].to_numpy(), 0.5)
    p_ref = np.clip(w + boost, 0, 0.95)
    referred = np.flatnonzero(rng.random(len(P)) < p_ref)
    k = 1 + rng.poisson(0.3, len(referred))
    pid = np.repeat(referred, k)
    # Referral dates while the child is under 18 and inside the period.
    lo = np.maximum(cfg.start, dob[pid])
    hi = np.minimum(cfg.end, dob[pid] + 18 * 365)
    ok = hi > lo
    pid, lo, hi = pid[ok], lo[ok], hi[ok]
    span = (hi - lo).astype(int)
    ref_date = lo + (rng.random(len(pid)) * span).astype(int).astype("timedelta64[D]")
    n = len(pid)
    ident = noisy_identities(rng, people, geo, pid, ref_date, "social_care", "upn")
    lad = geo.lsoa["lad_code"].to_numpy()[geo.addresses["lsoa_idx"].to_numpy()[ident["address_id"]]]
    la = pd.Series(lad).map(DFE_LA).to_numpy()
    # Local child id: stable per (LA, child); a child who moves LA gets a new id.
    key = pd.Series(la, dtype=object) + ":" + pd.Series(pid).astype(str)
    codes, uniq = pd.factorize(key, sort=True)
    la_of = pd.Series(uniq, dtype=object).str.split(":").str[0].to_numpy(dtype=object)
    local = la_of + "-" + seq_ids("", len(uniq), 7)
    la_child_id = local[codes]

    is_vict = np.isin(pid, kid_vict["person_id"].to_numpy())
    is_susp = np.isin(pid, kid_susp["person_id"].to_numpy())
    sex = P["sex"].to_numpy()[pid]
    age = (ref_date - dob[pid]).astype(int) / 365.25
    factors = []
    u = rng.random((n, 6))
    for i in range(n):  # factor lists are short and irregular; n is modest (< ~60k)
        f = []
        if is_vict[i] and u[i, 0] < 0.5:
            f.append("3A")
        if is_vict[i] and sex[i] == "F" and age[i] >= 12 and u[i, 1] < 0.35:
            f.append("11A")
        if is_susp[i] and age[i] >= 12 and u[i, 2] < 0.45:
            f.append("24A")
        if is_susp[i] and u[i, 3] < 0.3:
            f.append("13A")
        if u[i, 4] < 0.25:
            f.append(("3B", "2B", "1B", "4B", "16A", "17A")[int(u[i, 5] * 6)])
        if not f:
            f.append("16A" if u[i, 5] < 0.5 else "4B")
        factors.append("|".join(sorted(set(f))))
    source = np.where(is_vict | is_susp, "5A", rng.choice(list(REFERRAL_SOURCES), n))
    need = np.where(
        is_susp,
        "N6",
        rng.choice(
            ["N1", "N2", "N3", "N4", "N5", "N7", "N8", "N9"],
            n,
            p=[0.5, 0.05, 0.05, 0.15, 0.15, 0.03, 0.02, 0.05],
        ),
    )
    nfa = rng.random(n) < 0.1
    closure = ref_date + rng.integers(20, 400, n).astype("timedelta64[D]")
    closure = closure.astype("datetime64[D]")
    closure[closure > cfg.end] = np.datetime64("NaT")
    upn = ident["upn"].to_numpy()
    out = pd.DataFrame(
        {
            "referral_id": seq_ids("CINR", n, 8),
            "person_id": pid,
            "la_code": la,
            "la_child_id": la_child_id,
            "upn": upn,
            "upn_unknown_reason": np.where(upn == "", "UN2", ""),
            "forename": ident["first_name"].to_numpy(),
            "surname": ident["surname"].to_numpy(),
            "dob": ident["dob"].to_numpy(),
            "sex": ident["sex"].to_numpy(),
            "address_line": ident["address_line"].to_numpy(),
            "postcode": ident["postcode"].to_numpy(),
            "referral_date": ref_date,
            "referral_source": source,
            "primary_need_code": need,
            "assessment_factors": np.array(factors, dtype=object),
            "referral_nfa": nfa,
            "cin_closure_date": closure,
            "noise": ident["noise"].to_numpy(),
        }
    )
    out = out.sort_values(["referral_date", "person_id"], kind="stable").reset_index(drop=True)
    out["referral_id"] = seq_ids("CINR", len(out), 8)
    return out


def build_probation(
    seed: int,
    cfg: WorldConfig,
    geo: Geography,
    people: People,
    roles: pd.DataFrame,
    occ: pd.DataFrame,
) -> pd.DataFrame:
    """nDelius-style sentence events for convicted offenders.

    Most come from police occurrences with a prosecution outcome (sentenced two
    to six months later); some are for offences outside the period. Each person
    has a case reference number (CRN), occasionally duplicated.

    Returns
    -------
    pandas.DataFrame
        One row per sentence event with true ``person_id``.
    """
    rng = component_rng(seed, "probation")
    P = people.persons
    off = roles[roles["role"] == "offender"]
    off = off[rng.random(len(off)) < 0.55]
    code = occ.set_index("occurrence_ref")["offence_code"]
    sent = off["recorded_at"].to_numpy().astype("datetime64[D]") + rng.integers(
        60, 200, len(off)
    ).astype("timedelta64[D]")
    keep = sent <= cfg.end
    pid = off["person_id"].to_numpy()[keep]
    offence = code.reindex(off["occurrence_ref"].to_numpy()[keep]).to_numpy()
    sent = sent[keep]
    # Background caseload: offenders sentenced for offences not in this extract.
    prop = P["offender_propensity"].to_numpy()
    n_bg = int(0.5 * len(pid)) + 10
    bg = rng.choice(len(P), n_bg, p=prop / prop.sum())
    days = np.arange(cfg.start, cfg.end + 1, dtype="datetime64[D]")
    pid = np.r_[pid, bg]
    sent = np.r_[sent, days[rng.integers(0, len(days), n_bg)]]
    offence = np.r_[offence, rng.choice(["105A", "8N", "46", "92A", "28E", "10D", "9A"], n_bg)]
    n = len(pid)
    ident = noisy_identities(rng, people, geo, pid, sent, "probation", "pnc_id")
    uniq = np.unique(pid)
    # CRN: letter + 6 digits, unique per person; "X" numbers are duplicates made in error.
    letters = pd.Series(rng.choice(list("ABCDEFGHJKLMNPRSTUVW"), len(uniq)), dtype=object)
    serial = pd.Series(100000 + rng.permutation(len(uniq)) % 900000).astype(str)
    crn_of = pd.Series((letters + serial).to_numpy(), index=uniq)
    crn = crn_of.reindex(pid).to_numpy(dtype=object)
    dup = rng.random(n) < 0.04
    crn[dup] = ("X" + pd.Series(100000 + np.arange(dup.sum())).astype(str)).to_numpy()
    has_alias = rng.random(n) < 0.2
    alias = np.full(n, "", dtype=object)
    alt_sur = rng.choice(P["surname"].to_numpy(), n)
    alias[has_alias] = ident["first_name"].to_numpy()[has_alias] + " " + alt_sur[has_alias]
    two = has_alias & (rng.random(n) < 0.3)
    alias[two] = alias[two] + "|" + typo(rng, ident["surname"].to_numpy()[two])
    ref = pd.read_csv(REFERENCE / "home_office_offence_codes_to_police_uk_category.csv", dtype=str)
    desc = dict(zip(ref["offence_code"], ref["offence_description"], strict=True))
    stype = rng.choice(SENTENCES, n, p=[0.5, 0.25, 0.15, 0.1])
    length = np.where(
        stype == "Custodial sentence with licence", rng.integers(6, 60, n), rng.integers(6, 24, n)
    )
    reqs = [
        "|".join(sorted(set(rng.choice(REQUIREMENTS, rng.integers(1, 3)).tolist())))
        for _ in range(n)
    ]
    out = pd.DataFrame(
        {
            "event_id": seq_ids("PE", n, 8),
            "person_id": pid,
            "crn": crn,
            "pnc_id": ident["pnc_id"].to_numpy(),
            "forename": ident["first_name"].to_numpy(),
            "surname": ident["surname"].to_numpy(),
            "aliases": alias,
            "dob": ident["dob"].to_numpy(),
            "sex": ident["sex"].to_numpy(),
            "address_line": ident["address_line"].to_numpy(),
            "postcode": ident["postcode"].to_numpy(),
            "offence_code": offence,
            "offence_description": pd.Series(offence).map(desc).to_numpy(),
            "sentence_type": stype,
            "sentence_date": sent.astype("datetime64[D]"),
            "sentence_length_months": length,
            "requirements": np.array(reqs, dtype=object),
            "rosh_level": rng.choice(
                ["Low", "Medium", "High", "Very high"], n, p=[0.35, 0.45, 0.17, 0.03]
            ),
            "tier": rng.choice(["A1", "A2", "B1", "B2", "C1", "C2", "D1", "D2"], n),
            "ogrs3_score": rng.integers(5, 95, n),
            "mappa_category": rng.choice(["", "1", "2", "3"], n, p=[0.9, 0.05, 0.04, 0.01]),
            "iom_flag": rng.random(n) < 0.08,
            "noise": ident["noise"].to_numpy(),
        }
    )
    out = out.sort_values(["sentence_date", "crn", "person_id"], kind="stable")
    out = out.reset_index(drop=True)
    out["event_id"] = seq_ids("PE", len(out), 8)
    return out


def build_istv(
    seed: int, cfg: WorldConfig, geo: Geography, cw: CrimeWorld, pois: pd.DataFrame
) -> pd.DataFrame:
    """Anonymised A&E assault attendances (ISTV / Cardiff model minimum data set).

    Unreported assaults are more likely to appear here than reported ones, which
    is why the data add to police records.

    Returns
    -------
    pandas.DataFrame
        One row per attendance with true ``event_id``.
    """
    rng = component_rng(seed, "nhs.istv")
    ev = violence_injury_events(cw)
    p = np.where(ev["reported"].to_numpy(), 0.30, 0.60)
    ev = ev[rng.random(len(ev)) < p]
    sites = _sites(geo, pois)
    _, s = cKDTree(sites[["x", "y"]].to_numpy()).query(ev[["x", "y"]].to_numpy())
    n = len(ev)
    t = ev["committed_at"].to_numpy().astype("datetime64[s]")
    arrival = t + (rng.exponential(90, n) * 60 + 600).astype("timedelta64[s]")
    # Patients report the time roughly: to the hour, sometimes an hour out.
    rep = t.astype("datetime64[h]") + rng.choice([-1, 0, 0, 0, 1], n).astype("timedelta64[h]")
    loc = cw.locations
    cls = loc["loc_class"].to_numpy()[ev["location_id"].to_numpy()]
    ltype = np.select(
        [
            cls == "address",
            np.isin(cls, ["pub", "bar", "nightclub"]),
            np.isin(cls, ["station", "bus_stop"]),
            cls == "school",
            np.isin(cls, ["shop", "supermarket", "hospital"]),
            cls == "street",
        ],
        ["01", "03", "06", "05", "04", "02"],
        "07",
    ).astype(object)
    method = rng.choice(list(ASSAULT_METHODS), n, p=[0.62, 0.1, 0.1, 0.08, 0.01, 0.09])
    other = np.where(
        method == "06",
        rng.choice(["bitten", "pushed down stairs", "car door", "dog set on", "scalding"], n),
        "",
    )
    text = _messy_location(rng, geo, pois, cw, ev["location_id"].to_numpy(), ltype)
    month = t.astype("datetime64[M]")
    out = pd.DataFrame(
        {
            "event_id": ev["event_id"].to_numpy(),
            "site_code": sites["site_code"].to_numpy()[s],
            "period_start": month.astype("datetime64[D]"),
            "period_end": ((month + 1).astype("datetime64[D]") - 1),
            "arrival_dt": arrival,
            "assault_dt": rep.astype("datetime64[s]"),
            "assault_method_code": method,
            "assault_method_other": other,
            "location_type_code": ltype,
            "location_text": text,
        }
    )
    out = out.sort_values(["site_code", "arrival_dt", "event_id"], kind="stable")
    out = out.reset_index(drop=True)
    out.insert(0, "attendance_ref", seq_ids("ED", len(out), 9))
    return out


def _messy_location(
    rng: np.random.Generator,
    geo: Geography,
    pois: pd.DataFrame,
    cw: CrimeWorld,
    location_id: np.ndarray,
    ltype: np.ndarray,
) -> np.ndarray:
    """Render assault locations as a receptionist types them.

    Venue nicknames, missing articles, lower case, typos and non-answers.
    """
    loc = cw.locations
    kind = loc["kind"].to_numpy()[location_id]
    ref = loc["ref_id"].to_numpy()[location_id]
    st = geo.streets
    street_id = np.where(
        kind == "address",
        geo.addresses["street_id"].to_numpy()[np.where(kind == "address", ref, 0)],
        np.where(kind == "street", ref, 0),
    )
    is_poi = kind == "poi"
    street_id = np.where(is_poi, pois["street_id"].to_numpy()[np.where(is_poi, ref, 0)], street_id)
    street = st["street_name"].to_numpy()[street_id].astype(object)
    town = st["town"].to_numpy()[street_id].astype(object)
    venue = np.where(is_poi, pois["name"].to_numpy()[np.where(is_poi, ref, 0)], "").astype(object)
    n = len(location_id)
    u = rng.random(n)
    out = np.where(is_poi, venue, street).astype(object)
    v = pd.Series(out, dtype=object)
    # Drop the article, lower-case, or add a vague preposition.
    out = np.where(u < 0.2, v.str.replace("The ", "", regex=False).str.lower(), out)
    out = np.where((u >= 0.2) & (u < 0.35), "outside " + v, out)
    out = np.where((u >= 0.35) & (u < 0.45), v + " " + pd.Series(town).str.lower(), out)
    out = np.where((u >= 0.45) & (u < 0.5), "nr " + v.str.upper(), out)
    home = ltype == "01"
    out = np.where(
        home,
        rng.choice(["home", "at home", "own home", "partner's house", "friends house"], n),
        out,
    )
    t = rng.random(n) < 0.08
    out[t] = typo(rng, out[t].astype(str))
    blank = rng.random(n)
    out = np.where(blank < 0.12, rng.choice(["", "N/K", "unknown", "not stated", "?"], n), out)
    return out.astype(object)


def build_nhs_safeguarding(
    seed: int,
    cfg: WorldConfig,
    geo: Geography,
    people: People,
    roles: pd.DataFrame,
    csc: pd.DataFrame,
    cw: CrimeWorld,
    pois: pd.DataFrame,
) -> pd.DataFrame:
    """Person-level NHS safeguarding referrals with NHS numbers.

    Returns
    -------
    pandas.DataFrame
        One row per referral with true ``person_id``.
    """
    rng = component_rng(seed, "nhs.safeguarding")
    ev_type = cw.events.set_index("event_id")["crime_type"]
    vic = roles[roles["role"] == "victim"]
    vic = vic[
        ev_type.reindex(vic["event_id"].to_numpy()).to_numpy() == "Violence and sexual offences"
    ]
    vic = vic[rng.random(len(vic)) < 0.15]
    kids = csc[rng.random(len(csc)) < 0.3]
    n_rand = int(0.2 * (len(vic) + len(kids))) + 5
    P = people.persons
    rand_p = rng.integers(0, len(P), n_rand)
    days = np.arange(cfg.start, cfg.end + 1, dtype="datetime64[D]")
    pid = np.r_[vic["person_id"].to_numpy(), kids["person_id"].to_numpy(), rand_p]
    when = np.r_[
        vic["recorded_at"].to_numpy().astype("datetime64[D]") + rng.integers(0, 5, len(vic)),
        kids["referral_date"].to_numpy().astype("datetime64[D]") - rng.integers(0, 20, len(kids)),
        days[rng.integers(0, len(days), n_rand)],
    ].astype("datetime64[D]")
    when = np.clip(when, days[0], days[-1])
    concern = np.r_[
        np.where(rng.random(len(vic)) < 0.5, "Domestic abuse", "Serious violence"),
        rng.choice(
            [
                "Child sexual exploitation",
                "Child criminal exploitation",
                "Neglect",
                "Domestic abuse",
            ],
            len(kids),
        ),
        rng.choice(["Self-harm", "Neglect", "Mental health crisis", "Domestic abuse"], n_rand),
    ]
    ident = noisy_identities(rng, people, geo, pid, when, "nhs", "nhs_number")
    sites = _sites(geo, pois)
    ax = geo.addresses["x"].to_numpy()[ident["address_id"]]
    ay = geo.addresses["y"].to_numpy()[ident["address_id"]]
    _, s = cKDTree(sites[["x", "y"]].to_numpy()).query(np.c_[ax, ay])
    out = pd.DataFrame(
        {
            "person_id": pid,
            "nhs_number": ident["nhs_number"].to_numpy(),
            "forename": ident["first_name"].to_numpy(),
            "surname": ident["surname"].to_numpy(),
            "dob": ident["dob"].to_numpy(),
            "sex": ident["sex"].to_numpy(),
            "address_line": ident["address_line"].to_numpy(),
            "postcode": ident["postcode"].to_numpy(),
            "referral_date": when,
            "concern_category": concern,
            "site_code": sites["site_code"].to_numpy()[s],
            "noise": ident["noise"].to_numpy(),
        }
    )
    out = out.sort_values(["referral_date", "person_id", "concern_category"], kind="stable")
    out = out.reset_index(drop=True)
    out.insert(0, "referral_id", seq_ids("SG", len(out), 8))
    return out

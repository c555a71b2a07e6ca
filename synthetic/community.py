"""Community and voluntary sources: StreetSafe-style public reports and voluntary referrals.

StreetSafe-style reports are pins people drop on a map where they felt unsafe
(location, time, category of concern, free text). They follow *perceived*
unsafety: parks, car parks, stations and underpasses after dark, and a set of
planted "perception sites" where little crime is recorded, so reports are not
simply a copy of the crime map. Voluntary-sector referrals are young people
(10-24) referred to youth, mentoring and hospital youth-work services, drawn
more often among people with victim or suspect roles.

Truth beside the landing files: ``truth/community_reports.parquet`` (each
report's location, whether it came from a planted perception site),
``truth/perception_sites.parquet`` and ``truth/voluntary_referrals.parquet``
(referral -> true person).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthetic.config import WorldConfig
from synthetic.crime import CrimeWorld
from synthetic.geography import Geography, to_wgs84
from synthetic.io import component_rng, seq_ids
from synthetic.noise import address_text, typo
from synthetic.people import People

__all__ = [
    "REPORT_CATEGORIES",
    "VOLUNTARY_ORGANISATIONS",
    "VOLUNTARY_REASONS",
    "CommunityWorld",
    "build_community",
]

#: StreetSafe-style categories of concern.
REPORT_CATEGORIES = (
    "Feeling unsafe",
    "Poor street lighting",
    "Being followed",
    "Verbal harassment",
    "Intimidating groups",
    "Drug dealing or use",
    "Isolated or hidden area",
    "Other",
)
VOLUNTARY_ORGANISATIONS = (
    "Youth outreach",
    "Hospital youth work",
    "Mentoring",
    "Sports diversion",
    "Family support",
)
VOLUNTARY_REASONS = (
    "Victim of violence",
    "Exploitation concern",
    "Weapon carrying concern",
    "Missing episodes",
    "School exclusion",
    "Peer conflict",
)
VOLUNTARY_SOURCES = ("Self", "Parent or carer", "School", "Police", "A&E", "Social care")

#: Relative weight of reporting from a location class (a street point is 1).
_PERCEIVED = {
    "park": 6.0,
    "parking": 3.0,
    "station": 4.0,
    "bus_stop": 3.0,
    "nightclub": 2.0,
    "bar": 1.5,
    "pub": 1.5,
    "off_licence": 2.0,
    "fast_food": 1.5,
    "address": 0.05,
}
#: Reports per resident over the simulated period (StreetSafe-scale uptake).
REPORTS_PER_RESIDENT = 0.06
#: Planted perception sites and how many times more reports each draws.
PERCEPTION_SITES = 12
PERCEPTION_BOOST = 25.0
_TEXT = {
    "Feeling unsafe": ["felt unsafe walking here", "dont feel safe here at night", "scary spot"],
    "Poor street lighting": ["street lights out", "no lighting on the path", "very dark"],
    "Being followed": ["man followed me from the bus stop", "was followed", "someone followed me"],
    "Verbal harassment": ["catcalled", "shouted at by a group", "comments from men in a car"],
    "Intimidating groups": ["group hanging about", "gang of lads", "groups drinking"],
    "Drug dealing or use": ["people dealing", "needles on the ground", "smell of weed, dealing"],
    "Isolated or hidden area": ["underpass with no one around", "overgrown path", "cut through"],
    "Other": ["not sure", "just didnt like it", "broken fence"],
}


@dataclass
class CommunityWorld:
    """Community reports and voluntary referrals with their truth."""

    reports: pd.DataFrame  # delivered columns + month
    report_truth: pd.DataFrame
    perception_sites: pd.DataFrame
    referrals: pd.DataFrame  # delivered columns + month
    referral_truth: pd.DataFrame


def build_community(
    seed: int, cfg: WorldConfig, geo: Geography, cw: CrimeWorld, people: People, roles
) -> CommunityWorld:
    """Build StreetSafe-style reports and voluntary-sector referrals (deterministic for a seed).

    Parameters
    ----------
    seed : int
    cfg : synthetic.config.WorldConfig
    geo : synthetic.geography.Geography
    cw : synthetic.crime.CrimeWorld
    people : synthetic.people.People
    roles : pandas.DataFrame
        Police roles (``person_id``, ``role``, ``recorded_at``).
    """
    reports, report_truth, sites = _reports(seed, cfg, geo, cw)
    referrals, referral_truth = _referrals(seed, cfg, geo, people, roles)
    return CommunityWorld(reports, report_truth, sites, referrals, referral_truth)


def _reports(seed, cfg: WorldConfig, geo: Geography, cw: CrimeWorld):
    rng = component_rng(seed, "community.streetsafe")
    loc = cw.locations
    cls = loc["loc_class"].to_numpy().astype(str)
    w = np.array([_PERCEIVED.get(c, 1.0) for c in cls])
    x, y = loc["x"].to_numpy(), loc["y"].to_numpy()
    w = w * (1.0 + geo.town_boost(x, y))
    # Perception sites: parks, car parks and street points where little crime is recorded.
    crimes_at = np.bincount(cw.events["location_id"].to_numpy(), minlength=len(loc))
    eligible = np.flatnonzero(np.isin(cls, ["park", "parking", "street"]) & (crimes_at == 0))
    site_rows = np.sort(rng.choice(eligible, min(PERCEPTION_SITES, len(eligible)), replace=False))
    w[site_rows] *= PERCEPTION_BOOST
    n = int(REPORTS_PER_RESIDENT * cfg.scale.population)
    rows = rng.choice(len(loc), n, p=w / w.sum())
    days = cw.days
    day = days[rng.integers(0, len(days), n)]
    # Mostly evenings and nights.
    hour = rng.choice(24, n, p=_hour_profile())
    minute = rng.integers(0, 60, n)
    at = day.astype("datetime64[s]") + (hour * 3600 + minute * 60).astype("timedelta64[s]")
    jx = x[rows] + rng.normal(0, 25, n)
    jy = y[rows] + rng.normal(0, 25, n)
    lon, lat = to_wgs84(jx, jy)
    cat = _categories(rng, cls[rows])
    text = np.array([rng.choice(_TEXT[c]) for c in cat], dtype=object)
    t = rng.random(n) < 0.1
    text[t] = typo(rng, text[t].astype(str))
    order = np.lexsort((rows, at))
    ids = seq_ids("SS", n, 7)
    reports = pd.DataFrame(
        {
            "report_id": ids,
            "submitted_at": at[order],
            "longitude": lon[order],
            "latitude": lat[order],
            "category": cat[order],
            "free_text": text[order],
        }
    )
    reports["month"] = pd.Series(reports["submitted_at"]).dt.strftime("%Y-%m").to_numpy()
    lsoa_codes = geo.lsoa["lsoa_code"].to_numpy()
    truth = pd.DataFrame(
        {
            "report_id": ids,
            "location_id": rows[order],
            "loc_class": cls[rows][order],
            "easting": x[rows][order],
            "northing": y[rows][order],
            "h3_cell": loc["h3_cell"].to_numpy()[rows][order],
            "lsoa_code": lsoa_codes[loc["lsoa_idx"].to_numpy()[rows][order]],
            "from_perception_site": np.isin(rows[order], site_rows),
        }
    )
    sites = pd.DataFrame(
        {
            "location_id": site_rows,
            "loc_class": cls[site_rows],
            "easting": x[site_rows],
            "northing": y[site_rows],
            "h3_cell": loc["h3_cell"].to_numpy()[site_rows],
            "recorded_crimes": crimes_at[site_rows],
            "boost": PERCEPTION_BOOST,
        }
    )
    return reports, truth, sites


def _hour_profile() -> np.ndarray:
    p = np.ones(24)
    p[17:24] = 4.0
    p[0:3] = 3.0
    p[7:9] = 2.0
    return p / p.sum()


def _categories(rng, cls: np.ndarray) -> np.ndarray:
    base = np.array([0.3, 0.12, 0.1, 0.14, 0.12, 0.08, 0.08, 0.06])
    out = np.empty(len(cls), dtype=object)
    for c in np.unique(cls):
        p = base.copy()
        if c in ("park", "parking"):
            p[[1, 6]] *= 3
        if c in ("station", "bus_stop"):
            p[[2, 3]] *= 2.5
        if c in ("pub", "bar", "nightclub", "off_licence"):
            p[[3, 4]] *= 2.5
        sel = cls == c
        out[sel] = rng.choice(REPORT_CATEGORIES, int(sel.sum()), p=p / p.sum())
    return out


def _referrals(seed, cfg: WorldConfig, geo: Geography, people: People, roles):
    rng = component_rng(seed, "community.voluntary")
    P = people.persons
    start = np.datetime64(cfg.start, "D")
    end = np.datetime64(cfg.end, "D")
    dob = P["dob"].to_numpy().astype("datetime64[D]")
    age_end = (end - dob).astype(np.int64) / 365.25
    young = np.flatnonzero((age_end >= 10.5) & (age_end < 25))
    involved = set(roles.loc[roles["role"].isin(["victim", "suspect", "offender"]), "person_id"])
    w = np.where(np.isin(young, list(involved)), 8.0, 1.0)
    n = max(1, int(len(young) * 0.04))
    who = rng.choice(young, n, replace=True, p=w / w.sum())
    # referred on a day of the period when they were 10-24
    lo = np.maximum(start, dob[who] + np.timedelta64(3653, "D"))
    hi = np.minimum(end, dob[who] + np.timedelta64(9131, "D"))
    span = np.maximum((hi - lo).astype(np.int64), 1)
    when = lo + (rng.random(n) * span).astype(np.int64).astype("timedelta64[D]")
    ident = address_text(geo, P["home_address_id"].to_numpy()[who])
    forename = P["first_name"].to_numpy()[who].astype(object)
    nick = rng.random(n) < 0.15
    forename[nick] = np.array([f[:3] for f in forename[nick]], dtype=object)
    surname = P["surname"].to_numpy()[who].astype(object)
    t = rng.random(n) < 0.05
    surname[t] = typo(rng, surname[t].astype(str))
    dob_known = dob[who].copy()
    dob_known[rng.random(n) < 0.1] = np.datetime64("NaT")
    home_street = geo.addresses["street_id"].to_numpy()[P["home_address_id"].to_numpy()[who]]
    met_at = geo.streets["street_name"].to_numpy()[home_street].astype(object)
    met_at = np.where(
        rng.random(n) < 0.5,
        rng.choice(["youth centre", "school", "A&E", "street outreach", "home visit"], n),
        met_at,
    ).astype(object)
    df = pd.DataFrame(
        {
            "referral_id": seq_ids("VR", n, 6),
            "organisation": rng.choice(VOLUNTARY_ORGANISATIONS, n),
            "referral_date": when,
            "referral_source": rng.choice(VOLUNTARY_SOURCES, n),
            "reason": rng.choice(VOLUNTARY_REASONS, n),
            "forename": forename,
            "surname": surname,
            "dob": dob_known,
            "postcode": ident["postcode"].to_numpy(),
            "location_text": met_at,
            "consent_to_share": rng.random(n) < 0.85,
            "person_id": who,
        }
    )
    df = df.sort_values(["referral_date", "person_id"], kind="stable").reset_index(drop=True)
    df["referral_id"] = seq_ids("VR", n, 6)
    df["month"] = pd.Series(df["referral_date"]).dt.strftime("%Y-%m").to_numpy()
    truth = df[["referral_id", "person_id"]].copy()
    return df.drop(columns=["person_id"]), truth


#: Columns of the delivered files, in file order.
REPORT_COLUMNS = ("report_id", "submitted_at", "longitude", "latitude", "category", "free_text")
REFERRAL_COLUMNS = (
    "referral_id",
    "organisation",
    "referral_date",
    "referral_source",
    "reason",
    "forename",
    "surname",
    "dob",
    "postcode",
    "location_text",
    "consent_to_share",
)


def emit_community(em, community: CommunityWorld, specs: dict) -> None:
    """Write the monthly report and referral files (faults planted by ``specs``)."""
    from synthetic.emit import to_text

    r = community.reports
    txt = to_text(r[list(REPORT_COLUMNS)], decimals={"longitude": 6, "latitude": 6})
    for m in np.unique(r["month"]):
        sel = (r["month"] == m).to_numpy()
        em.csv(
            txt[sel],
            "community",
            "streetsafe_reports",
            m,
            f"streetsafe_reports_{m}.csv",
            specs["streetsafe_reports"],
        )
    v = community.referrals
    txt = to_text(v[list(REFERRAL_COLUMNS)], ("referral_date", "dob"))
    for m in np.unique(v["month"]):
        sel = (v["month"] == m).to_numpy()
        em.csv(
            txt[sel],
            "community",
            "voluntary_referrals",
            m,
            f"voluntary_referrals_{m}.csv",
            specs["voluntary_referrals"],
        )


def community_truth(community: CommunityWorld) -> dict[str, pd.DataFrame]:
    """Truth tables written beside the landing files."""
    return {
        "community_reports": community.report_truth,
        "perception_sites": community.perception_sites,
        "voluntary_referrals": community.referral_truth,
    }

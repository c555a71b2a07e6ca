"""Crime events from a planted space-time intensity.

The intensity of crime type ``c`` at location ``s`` on day ``d`` and hour ``h`` is

    lambda_c(s, d, h) = N_c * p0_c(s) * RR_c(s) * q_c(d) * H_c(dow(d), h) * m(s, d)

where ``p0_c`` is the baseline spatial weight (location class share times the
location's deprivation / town-centre weight), ``RR_c`` the product of planted
environmental relative risks, ``q_c`` the seasonal cycle with drift, ``H_c`` the
day-of-week by hour profile, and ``m`` the planted hot spot multipliers times the
patrol-trial effect on treated place-days. The separable part is sampled directly;
``m`` is applied by thinning (propose with its maximum over time, accept with
``m(s, d) / max_d m(s, d)``). Near-repeat offspring are added afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import h3
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from synthetic.config import CRIME_TYPE_SHARES, CRIME_TYPES, WorldConfig
from synthetic.geography import Geography, to_bng, to_wgs84
from synthetic.io import as_object_strings, component_rng

H3_RES = 9

# Share of each crime type's events by location class ("address", "street" or a POI category).
CLASS_SHARES: dict[str, dict[str, float]] = {
    "Violence and sexual offences": {
        "address": 0.45,
        "street": 0.335,
        "pub": 0.06,
        "bar": 0.05,
        "nightclub": 0.012,
        "fast_food": 0.03,
        "station": 0.02,
        "shop": 0.02,
        "supermarket": 0.01,
        "hospital": 0.003,
        "school": 0.01,
    },
    "Anti-social behaviour": {
        "address": 0.30,
        "street": 0.45,
        "park": 0.08,
        "bus_stop": 0.04,
        "off_licence": 0.03,
        "fast_food": 0.03,
        "convenience": 0.03,
        "shop": 0.02,
        "school": 0.02,
    },
    "Shoplifting": {
        "supermarket": 0.45,
        "convenience": 0.25,
        "shop": 0.25,
        "off_licence": 0.03,
        "pharmacy": 0.02,
    },
    "Public order": {
        "address": 0.30,
        "street": 0.435,
        "pub": 0.08,
        "bar": 0.07,
        "nightclub": 0.015,
        "fast_food": 0.04,
        "station": 0.03,
        "shop": 0.03,
    },
    "Other theft": {
        "address": 0.30,
        "street": 0.25,
        "shop": 0.10,
        "supermarket": 0.05,
        "pub": 0.05,
        "bar": 0.05,
        "parking": 0.08,
        "station": 0.04,
        "university": 0.04,
        "hospital": 0.005,
        "sports": 0.035,
    },
    "Criminal damage and arson": {
        "address": 0.55,
        "street": 0.30,
        "parking": 0.05,
        "school": 0.03,
        "park": 0.04,
        "shop": 0.03,
    },
    "Vehicle crime": {
        "address": 0.55,
        "street": 0.25,
        "parking": 0.15,
        "petrol_station": 0.03,
        "station": 0.02,
    },
    "Burglary": {
        "address": 0.88,
        "shop": 0.05,
        "school": 0.03,
        "sports": 0.02,
        "place_of_worship": 0.02,
    },
    "Drugs": {"street": 0.58, "address": 0.25, "park": 0.10, "station": 0.05, "nightclub": 0.02},
    "Other crime": {"address": 0.60, "street": 0.40},
    "Bicycle theft": {
        "address": 0.35,
        "street": 0.25,
        "station": 0.15,
        "university": 0.15,
        "shop": 0.05,
        "supermarket": 0.05,
    },
    "Robbery": {
        "street": 0.60,
        "address": 0.20,
        "atm": 0.05,
        "shop": 0.05,
        "convenience": 0.05,
        "station": 0.05,
    },
    "Theft from the person": {
        "street": 0.42,
        "pub": 0.10,
        "bar": 0.10,
        "nightclub": 0.03,
        "station": 0.10,
        "shop": 0.10,
        "bus_stop": 0.10,
        "supermarket": 0.05,
    },
    "Possession of weapons": {
        "street": 0.63,
        "address": 0.25,
        "nightclub": 0.02,
        "station": 0.05,
        "park": 0.05,
    },
}

# Planted environmental risk factors: id, POI categories, distance (m), crime types, true RR.
RISK_FACTORS: tuple[tuple[str, tuple[str, ...], float, tuple[str, ...], float], ...] = (
    (
        "licensed_premises_100m",
        ("pub", "bar", "nightclub"),
        100.0,
        ("Violence and sexual offences", "Public order"),
        2.5,
    ),
    (
        "off_licence_100m",
        ("off_licence",),
        100.0,
        ("Anti-social behaviour", "Criminal damage and arson"),
        1.8,
    ),
    ("bus_stop_50m", ("bus_stop",), 50.0, ("Theft from the person",), 2.0),
    ("atm_50m", ("atm",), 50.0, ("Robbery",), 2.5),
    ("station_200m", ("station",), 200.0, ("Bicycle theft",), 2.0),
)

# Home Office offence codes per police.uk type, with relative frequencies.
OFFENCE_CODES: dict[str, dict[str, float]] = {
    "Violence and sexual offences": {
        "105A": 0.30,
        "8N": 0.13,
        "8R": 0.14,
        "8L": 0.11,
        "3B": 0.03,
        "5D": 0.02,
        "8Q": 0.04,
        "104": 0.02,
        "8S": 0.01,
        "20A": 0.03,
        "22A": 0.01,
        "19C": 0.02,
        "88E": 0.01,
        "11A": 0.02,
        "105B": 0.02,
        "8P": 0.01,
        "8M": 0.02,
        "5E": 0.01,
        "17A": 0.01,
        "36": 0.01,
        "13": 0.01,
        "2": 0.01,
        "88A": 0.01,
    },
    "Public order": {"9A": 0.75, "9B": 0.15, "62A": 0.03, "66": 0.07},
    "Criminal damage and arson": {
        "58A": 0.30,
        "58B": 0.10,
        "58C": 0.35,
        "58D": 0.20,
        "56B": 0.04,
        "56A": 0.01,
    },
    "Shoplifting": {"46": 1.0},
    "Other theft": {
        "49": 0.70,
        "49A": 0.10,
        "40": 0.08,
        "41": 0.05,
        "35": 0.03,
        "47": 0.02,
        "42": 0.02,
    },
    "Vehicle crime": {"45": 0.60, "48": 0.25, "126": 0.10, "37.2": 0.05},
    "Burglary": {"28E": 0.55, "28F": 0.10, "30C": 0.25, "30D": 0.05, "29A": 0.02, "28G": 0.03},
    "Drugs": {"92D": 0.30, "92E": 0.50, "92A": 0.18, "92C": 0.02},
    "Other crime": {
        "33": 0.10,
        "54": 0.10,
        "80": 0.05,
        "83": 0.20,
        "95": 0.10,
        "99": 0.10,
        "802": 0.15,
        "61A": 0.05,
        "79": 0.05,
        "86": 0.05,
        "59": 0.05,
    },
    "Bicycle theft": {"44": 1.0},
    "Robbery": {"34B": 0.85, "34A": 0.15},
    "Theft from the person": {"39": 1.0},
    "Possession of weapons": {
        "10D": 0.50,
        "10C": 0.30,
        "90": 0.10,
        "10B": 0.06,
        "10A": 0.02,
        "81": 0.02,
    },
}
INJURY_CODES = ("8N", "5D", "8P", "8S", "2", "5E")

# Temporal profile groups.
NTE_TYPES = (
    "Violence and sexual offences",
    "Public order",
    "Theft from the person",
    "Robbery",
    "Possession of weapons",
    "Drugs",
)
DAYTIME_TYPES = ("Shoplifting", "Other theft", "Bicycle theft", "Other crime")
SEASON = {  # amplitude, day of year of the peak, linear drift per year
    "Violence and sexual offences": (0.12, 196, -0.02),
    "Anti-social behaviour": (0.22, 200, -0.10),
    "Shoplifting": (0.05, 340, 0.15),
    "Burglary": (0.12, 10, -0.05),
    "Public order": (0.10, 196, 0.0),
}
DEFAULT_SEASON = (0.05, 200, 0.0)
# Seasonal peaks drift later by this many days per year ("seasonal drift").
PEAK_DRIFT_DAYS_PER_YEAR = 15.0


@dataclass
class CrimeWorld:
    """Planted structure and generated events.

    Attributes
    ----------
    locations : pandas.DataFrame
        Candidate event locations (addresses, street points, POIs) with class,
        base weight, H3 cell and risk-factor exposures.
    hotspots, risk_factors, trial_units, allocation, events : pandas.DataFrame
        Truth tables (see ``synthetic/README.md``).
    days : numpy.ndarray of datetime64[D]
        Every day of the period.
    """

    locations: pd.DataFrame
    hotspots: pd.DataFrame
    risk_factors: pd.DataFrame
    trial_units: pd.DataFrame
    allocation: pd.DataFrame
    events: pd.DataFrame
    days: np.ndarray


def build_locations(geo: Geography, pois: pd.DataFrame) -> pd.DataFrame:
    """Assemble candidate event locations with base weights, H3 cells and exposures.

    Returns
    -------
    pandas.DataFrame
        Columns: location_id, kind, loc_class, ref_id, x, y, lsoa_idx, base_weight,
        h3_cell, and one boolean column per risk factor.
    """
    imd = geo.lsoa["imd_decile"].to_numpy()
    depriv = 1.9 * 0.88 ** (imd - 1)
    a, s = geo.addresses, geo.streets
    parts = [
        pd.DataFrame(
            {
                "kind": "address",
                "loc_class": "address",
                "ref_id": a["address_id"],
                "x": a["x"],
                "y": a["y"],
                "lsoa_idx": a["lsoa_idx"],
            }
        ),
        pd.DataFrame(
            {
                "kind": "street",
                "loc_class": "street",
                "ref_id": s["street_id"],
                "x": s["x"],
                "y": s["y"],
                "lsoa_idx": s["lsoa_idx"],
            }
        ),
        pd.DataFrame(
            {
                "kind": "poi",
                "loc_class": pois["category"],
                "ref_id": pois["poi_id"],
                "x": pois["x"],
                "y": pois["y"],
                "lsoa_idx": pois["lsoa_idx"],
            }
        ),
    ]
    loc = pd.concat(parts, ignore_index=True)
    x = loc["x"].to_numpy()
    y = loc["y"].to_numpy()
    boost = geo.town_boost(x, y)
    dep = depriv[loc["lsoa_idx"].to_numpy()]
    kind = loc["kind"].to_numpy()
    # Streets in town centres carry more footfall; POIs are weighted by centrality only.
    loc["base_weight"] = np.where(
        kind == "address", dep, np.where(kind == "street", dep * (1 + 3 * boost), 1 + boost)
    )
    lon, lat = to_wgs84(x, y)
    pairs = zip(lat.tolist(), lon.tolist(), strict=True)
    loc["h3_cell"] = [h3.latlng_to_cell(la, lo, H3_RES) for la, lo in pairs]
    for rf_id, cats, dist, _, _ in RISK_FACTORS:
        sel = pois[pois["category"].isin(cats)]
        if len(sel) == 0:
            loc[rf_id] = False
            continue
        d, _ = cKDTree(sel[["x", "y"]].to_numpy()).query(np.c_[x, y], distance_upper_bound=dist)
        loc[rf_id] = np.isfinite(d)
    loc.insert(0, "location_id", np.arange(len(loc)))
    return as_object_strings(loc)


def baseline_weights(loc: pd.DataFrame, crime_type: str) -> np.ndarray:
    """Return the baseline spatial weight ``p0`` of one crime type (sums to 1).

    The weight of a location is its class share for the type times its base
    weight divided by the total base weight of that class.
    """
    shares = CLASS_SHARES[crime_type]
    cls = loc["loc_class"].to_numpy()
    bw = loc["base_weight"].to_numpy()
    p = np.zeros(len(loc))
    for c, share in shares.items():
        m = cls == c
        tot = bw[m].sum()
        if tot > 0:
            p[m] = share * bw[m] / tot
    return p / p.sum()


def relative_risk(loc: pd.DataFrame, crime_type: str) -> np.ndarray:
    """Return the product of planted relative risks at each location for a crime type."""
    rr = np.ones(len(loc))
    for rf_id, _, _, types, value in RISK_FACTORS:
        if crime_type in types:
            rr *= np.where(loc[rf_id].to_numpy(), value, 1.0)
    return rr


def day_weights(crime_type: str, days: np.ndarray) -> np.ndarray:
    """Seasonal cycle with a drifting peak and a linear trend (unnormalised)."""
    amp, peak, drift = SEASON.get(crime_type, DEFAULT_SEASON)
    t_years = (days - days[0]).astype(int) / 365.25
    doy = (days - days.astype("datetime64[Y]")).astype(int)
    peak_t = peak + PEAK_DRIFT_DAYS_PER_YEAR * t_years
    return (1 + amp * np.cos(2 * np.pi * (doy - peak_t) / 365.25)) * (1 + drift * t_years)


def hour_profile(crime_type: str) -> np.ndarray:
    """Return a (7, 24) day-of-week (Mon=0) by hour intensity matrix.

    Night-time-economy crime peaks late on Friday and Saturday nights, including
    the early hours of Saturday and Sunday; daytime acquisitive crime follows
    shop opening hours.
    """
    h = np.arange(24)

    def bump(centre: float, width: float) -> np.ndarray:
        d = np.minimum(np.abs(h - centre), 24 - np.abs(h - centre))
        return np.exp(-0.5 * (d / width) ** 2)

    out = np.zeros((7, 24))
    for dow in range(7):
        if crime_type in NTE_TYPES:
            weekend_late = dow in (4, 5)  # Fri, Sat evenings
            weekend_early = dow in (5, 6)  # early hours of Sat, Sun
            base = 0.3 + bump(17, 4) + 1.2 * bump(22, 2.5)
            late = 2.5 * bump(23.5, 1.5) * (1.0 if weekend_late else 0.35)
            early = 3.0 * bump(1.5, 1.3) * (1.0 if weekend_early else 0.3)
            out[dow] = base + late + early
        elif crime_type in DAYTIME_TYPES:
            out[dow] = 0.1 + bump(13, 3.5) * (1.25 if dow == 5 else 0.7 if dow == 6 else 1.0)
        elif crime_type == "Burglary":
            out[dow] = 0.4 + bump(12, 3) + bump(19, 2.5)
        else:  # ASB, criminal damage, vehicle crime: afternoon and evening
            out[dow] = 0.2 + bump(19, 3.5) * (1.2 if dow in (4, 5) else 1.0)
    return out


def plant_hotspots(
    rng: np.random.Generator,
    loc: pd.DataFrame,
    intensity: np.ndarray,
    cfg: WorldConfig,
    days: np.ndarray,
) -> pd.DataFrame:
    """Choose persistent and emerging hot spot cells among busy H3 cells.

    Persistent hot spots run the whole period; emerging ones switch on between
    25 % and 65 % of the way through the period and last to the end.

    Returns
    -------
    pandas.DataFrame
        hotspot_id, kind, h3_cell, centre_easting, centre_northing, radius_m,
        start_date, end_date, intensity_multiplier.
    """
    cell_int = (
        pd.Series(intensity)
        .groupby(loc["h3_cell"].to_numpy())
        .sum()
        .sort_values(ascending=False, kind="stable")
    )
    cells = cell_int.index.to_numpy()
    n_p, n_e = cfg.scale.persistent_hotspots, cfg.scale.emerging_hotspots
    top = cells[: max(40, 4 * n_p)]
    persistent = rng.choice(top, n_p, replace=False)
    pool = np.setdiff1d(cells[max(40, 4 * n_p) : max(600, 20 * n_e)], persistent)
    emerging = rng.choice(pool, n_e, replace=False)
    # Emerging hot spots switch on between 25 % and 65 % of the way through the period.
    start_e = days[0] + rng.integers(
        len(days) // 4, max(len(days) * 13 // 20, len(days) // 4 + 1), n_e
    ).astype("timedelta64[D]")
    rows = pd.DataFrame(
        {
            "kind": ["persistent"] * n_p + ["emerging"] * n_e,
            "h3_cell": np.r_[persistent, emerging],
            "start_date": np.r_[np.full(n_p, days[0]), start_e].astype("datetime64[D]"),
            "end_date": np.full(n_p + n_e, days[-1]).astype("datetime64[D]"),
            "intensity_multiplier": np.round(
                np.r_[rng.uniform(3, 5, n_p), rng.uniform(5, 8, n_e)], 2
            ),
        }
    )
    ll = np.array([h3.cell_to_latlng(c) for c in rows["h3_cell"]])
    cx, cy = to_bng(ll[:, 1], ll[:, 0])
    rows["centre_easting"] = np.round(cx, 1)
    rows["centre_northing"] = np.round(cy, 1)
    rows["radius_m"] = [_cell_radius(c) for c in rows["h3_cell"]]
    rows.insert(0, "hotspot_id", [f"HS{i:03d}" for i in range(len(rows))])
    return rows


def _cell_radius(cell: str) -> float:
    """Circumradius (m) of an H3 cell: the furthest vertex from its centre in BNG."""
    lat, lon = h3.cell_to_latlng(cell)
    verts = np.array(h3.cell_to_boundary(cell))
    cx, cy = to_bng(np.array([lon]), np.array([lat]))
    vx, vy = to_bng(verts[:, 1], verts[:, 0])
    return float(np.round(np.hypot(vx - cx, vy - cy).max(), 1))


def plan_trial(
    rng: np.random.Generator,
    loc: pd.DataFrame,
    intensity: np.ndarray,
    hotspots: pd.DataFrame,
    cfg: WorldConfig,
    days: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pick trial hot spot cells and randomise them daily to patrol or control.

    Trial units are the busiest cells (persistent hot spots first), excluding
    emerging hot spots so that the trial effect is not confounded with onset.
    Each day exactly half of the units (rounded down) are allocated to patrol.

    Returns
    -------
    (units, allocation)
    """
    cell_int = (
        pd.Series(intensity)
        .groupby(loc["h3_cell"].to_numpy())
        .sum()
        .sort_values(ascending=False, kind="stable")
    )
    emerging = set(hotspots.loc[hotspots["kind"] == "emerging", "h3_cell"])
    persistent = list(hotspots.loc[hotspots["kind"] == "persistent", "h3_cell"])
    others = [c for c in cell_int.index if c not in emerging and c not in set(persistent)]
    n = cfg.scale.trial_units
    chosen = (persistent + others)[:n]
    ll = np.array([h3.cell_to_latlng(c) for c in chosen])
    cx, cy = to_bng(ll[:, 1], ll[:, 0])
    units = pd.DataFrame(
        {
            "unit_id": [f"TU{i:03d}" for i in range(n)],
            "h3_cell": chosen,
            "centre_easting": np.round(cx, 1),
            "centre_northing": np.round(cy, 1),
        }
    )
    tdays = days[days >= cfg.trial_start]
    arms = np.zeros((len(tdays), n), dtype=bool)
    for i in range(len(tdays)):  # one permutation per trial day (~90)
        arms[i, rng.permutation(n)[: n // 2]] = True
    alloc = pd.DataFrame(
        {
            "unit_id": np.tile(units["unit_id"].to_numpy(), len(tdays)),
            "h3_cell": np.tile(units["h3_cell"].to_numpy(), len(tdays)),
            "date": np.repeat(tdays, n),
            "arm": np.where(arms.ravel(), "patrol", "control"),
        }
    )
    return units, alloc


def _multiplier_matrix(
    loc: pd.DataFrame,
    hotspots: pd.DataFrame,
    units: pd.DataFrame,
    alloc: pd.DataFrame,
    days: np.ndarray,
    irr: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Build m(cell, day) for the special cells and map locations to them.

    Returns
    -------
    loc_cell : numpy.ndarray
        Index of each location's special cell, or -1.
    mult : numpy.ndarray, shape (n_cells, n_days)
    hotspot_of_cell, unit_of_cell : numpy.ndarray of int
        Hot spot row / trial unit row of each special cell, or -1.
    """
    special = pd.Index(
        pd.unique(np.r_[hotspots["h3_cell"].to_numpy(), units["h3_cell"].to_numpy()])
    )
    mult = np.ones((len(special), len(days)))
    hot_of = np.full(len(special), -1)
    unit_of = np.full(len(special), -1)
    for i, row in enumerate(hotspots.itertuples()):
        c = special.get_loc(row.h3_cell)
        active = (days >= row.start_date) & (days <= row.end_date)
        mult[c, active] *= row.intensity_multiplier
        hot_of[c] = i
    for i, cell in enumerate(units["h3_cell"]):
        unit_of[special.get_loc(cell)] = i
    treated = alloc[alloc["arm"] == "patrol"]
    ci = special.get_indexer(treated["h3_cell"])
    di = (treated["date"].to_numpy().astype("datetime64[D]") - days[0]).astype(int)
    mult[ci, di] *= irr
    loc_cell = special.get_indexer(loc["h3_cell"])
    return loc_cell, mult, hot_of, unit_of


def generate_events(seed: int, cfg: WorldConfig, geo: Geography, pois: pd.DataFrame) -> CrimeWorld:
    """Generate the planted structure and all crime/ASB events.

    Parameters
    ----------
    seed : int
    cfg : WorldConfig
    geo : Geography
    pois : pandas.DataFrame

    Returns
    -------
    CrimeWorld
    """
    rng = component_rng(seed, "crime")
    days = np.arange(cfg.start, cfg.end + 1, dtype="datetime64[D]")
    loc = build_locations(geo, pois)
    n_by_type = {c: cfg.scale.events * CRIME_TYPE_SHARES[c] for c in CRIME_TYPES}
    p_type = {c: baseline_weights(loc, c) * relative_risk(loc, c) for c in CRIME_TYPES}
    intensity = sum(n_by_type[c] * p_type[c] / p_type[c].sum() for c in CRIME_TYPES)
    hotspots = plant_hotspots(rng, loc, intensity, cfg, days)
    units, alloc = plan_trial(rng, loc, intensity, hotspots, cfg, days)
    loc_cell, mult, hot_of, unit_of = _multiplier_matrix(
        loc, hotspots, units, alloc, days, cfg.trial_irr
    )
    m_max = np.ones(len(loc))
    has = loc_cell >= 0
    m_max[has] = mult.max(axis=1)[loc_cell[has]]

    frames = []
    for ci, ctype in enumerate(CRIME_TYPES):
        p = p_type[ctype]
        p = p / p.sum()
        q = p * m_max
        n_prop = rng.poisson(n_by_type[ctype] * q.sum())
        where = rng.choice(len(loc), n_prop, p=q / q.sum())
        dw = day_weights(ctype, days)
        hp = hour_profile(ctype)
        dow = (days.astype(int) + 3) % 7  # 1970-01-01 was a Thursday
        pd_ = dw * hp.sum(axis=1)[dow]
        day_idx = rng.choice(len(days), n_prop, p=pd_ / pd_.sum())
        hour = np.empty(n_prop, dtype=int)
        ev_dow = dow[day_idx]
        for d in range(7):  # vectorised per weekday
            m = ev_dow == d
            hour[m] = rng.choice(24, m.sum(), p=hp[d] / hp[d].sum())
        # Thinning by the time-varying hot spot / trial multiplier.
        lc = loc_cell[where]
        m_t = np.ones(n_prop)
        sp = lc >= 0
        m_t[sp] = mult[lc[sp], day_idx[sp]]
        keep = rng.random(n_prop) < m_t / m_max[where]
        minute = rng.integers(0, 60, n_prop)
        ts = days[day_idx].astype("datetime64[s]") + (hour * 3600 + minute * 60).astype(
            "timedelta64[s]"
        )
        frames.append(
            pd.DataFrame({"type_idx": ci, "location_id": where[keep], "committed_at": ts[keep]})
        )
    ev = pd.concat(frames, ignore_index=True)
    ev["parent_event_id"] = -1
    ev = _near_repeats(rng, cfg, ev, loc, days)
    ev = ev.sort_values(["committed_at", "type_idx", "location_id"], kind="stable")
    # Parent references are pre-sort row labels: translate them to final event ids.
    new_id = pd.Series(np.arange(len(ev)), index=ev.index)
    par = ev["parent_event_id"].to_numpy()
    ev["parent_event_id"] = np.where(par >= 0, new_id.reindex(par).fillna(-1).to_numpy(), -1)
    ev["parent_event_id"] = ev["parent_event_id"].astype(np.int64)
    ev = ev.reset_index(drop=True)
    ev.insert(0, "event_id", np.arange(len(ev)))
    ev["crime_type"] = np.array(CRIME_TYPES, dtype=object)[ev["type_idx"].to_numpy()]
    ev["offence_code"] = _offence_codes(rng, ev["crime_type"].to_numpy())
    lid = ev["location_id"].to_numpy()
    ev["x"] = loc["x"].to_numpy()[lid]
    ev["y"] = loc["y"].to_numpy()[lid]
    ev["lsoa_idx"] = loc["lsoa_idx"].to_numpy()[lid]
    ev["h3_cell"] = loc["h3_cell"].to_numpy()[lid]
    lc = loc_cell[lid]
    ev["hotspot_id"] = np.where(
        (lc >= 0) & (hot_of[np.maximum(lc, 0)] >= 0),
        hotspots["hotspot_id"].to_numpy()[np.maximum(hot_of[np.maximum(lc, 0)], 0)],
        "",
    )
    ev["trial_unit_id"] = np.where(
        (lc >= 0) & (unit_of[np.maximum(lc, 0)] >= 0),
        units["unit_id"].to_numpy()[np.maximum(unit_of[np.maximum(lc, 0)], 0)],
        "",
    )
    is_vio = ev["crime_type"].to_numpy() == "Violence and sexual offences"
    ev["reported"] = ~is_vio | (rng.random(len(ev)) < cfg.violence_reported)
    ev = as_object_strings(ev.drop(columns=["type_idx"]))
    risk = pd.DataFrame(
        [
            {
                "factor_id": f,
                "poi_categories": "|".join(c),
                "operationalisation": "proximity",
                "distance_m": d,
                "crime_types": "|".join(t),
                "true_relative_risk": rr,
            }
            for f, c, d, t, rr in RISK_FACTORS
        ]
    )
    return CrimeWorld(loc, hotspots, risk, units, alloc, ev, days)


def _near_repeats(
    rng: np.random.Generator,
    cfg: WorldConfig,
    ev: pd.DataFrame,
    loc: pd.DataFrame,
    days: np.ndarray,
) -> pd.DataFrame:
    """Add near-repeat offspring: same type, within 200 m and mostly within 2 weeks.

    Two generations are simulated so that chains (a repeat of a repeat) occur.
    """
    addr = loc[loc["kind"] == "address"]
    tree = cKDTree(addr[["x", "y"]].to_numpy())
    end = (days[-1] + 1).astype("datetime64[s]")
    probs = np.array([cfg.near_repeat.get(c, 0.0) for c in CRIME_TYPES])
    parents = ev
    out = [ev]
    offset = len(ev)
    for _ in range(2):
        p = probs[parents["type_idx"].to_numpy()]
        sel = parents[rng.random(len(parents)) < p]
        n = len(sel)
        if n == 0:
            break
        r = rng.uniform(0, 200, n)
        th = rng.uniform(0, 2 * np.pi, n)
        px = loc["x"].to_numpy()[sel["location_id"].to_numpy()] + r * np.cos(th)
        py = loc["y"].to_numpy()[sel["location_id"].to_numpy()] + r * np.sin(th)
        _, near = tree.query(np.c_[px, py])
        lag = (rng.exponential(5.0, n) * 86400 + 3600).astype("timedelta64[s]")
        child = pd.DataFrame(
            {
                "type_idx": sel["type_idx"].to_numpy(),
                "location_id": addr["location_id"].to_numpy()[near],
                "committed_at": (sel["committed_at"].to_numpy() + lag).astype("datetime64[s]"),
                "parent_event_id": sel.index.to_numpy(),
            },
            index=np.arange(offset, offset + n),
        )
        child = child[child["committed_at"] < end]
        offset += n
        out.append(child)
        parents = child
    return pd.concat(out)


def _offence_codes(rng: np.random.Generator, types: np.ndarray) -> np.ndarray:
    """Draw a Home Office offence code per event consistent with its police.uk type."""
    out = np.full(len(types), "", dtype=object)
    for ctype, codes in OFFENCE_CODES.items():
        m = types == ctype
        keys = list(codes)
        w = np.array([codes[k] for k in keys])
        out[m] = rng.choice(keys, m.sum(), p=w / w.sum())
    return out

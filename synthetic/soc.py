"""Serious organised crime in the simulated world: CHB sites, disruptions, county lines.

Three things are planted on top of the crime world (``crime.py``), each with its
truth under ``truth/``:

- **Clear-Hold-Build (CHB) sites**: the busiest wards without a planted hot spot
  or patrol-trial cell get a site with clear, hold and build phases. In each phase
  crime and ASB events in the site's ward are thinned and ward intelligence is
  multiplied by the phase's rate ratio (``PHASE_EFFECTS``). The register is
  delivered as ``landing/soc/chb_sites/<end month>/chb_sites.csv``
  (truth: ``chb_phase_effects``).
- **Ward intelligence**: the busiest wards carry a steady stream of
  neighbourhood intelligence logs (rate proportional to their crime), so that CHB
  sites have comparison wards with intelligence too.
- **Emerging problems**: a county line arrives in a quiet ward at a known week:
  from then on drug trafficking crimes and county-lines intelligence arrive there
  every week (truth: ``emerging_problems``).
- **Disruptions** (APMIS-like): agency and partner disruptions, concentrated in
  CHB wards during clear and hold and in county-line wards after the line is
  noticed, with a background elsewhere; delivered monthly as
  ``landing/soc/disruptions/YYYY-MM/disruptions_YYYY-MM.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from synthetic.faults import FaultSpec
from synthetic.geography import BOUNDARIES, to_wgs84
from synthetic.io import component_rng

__all__ = [
    "PHASE_EFFECTS",
    "PHASE_WEEKS",
    "SocWorld",
    "build_soc",
    "emit_soc",
    "merge_intelligence",
    "ward_of_points",
]

#: Planted rate ratios per CHB phase: crime (all but ASB), ASB, intelligence.
PHASE_EFFECTS: dict[str, dict[str, float]] = {
    "clear": {"crime": 0.80, "asb": 0.80, "intelligence": 1.6},
    "hold": {"crime": 0.55, "asb": 0.50, "intelligence": 2.5},
    "build": {"crime": 0.75, "asb": 0.70, "intelligence": 1.5},
}
#: Length of each phase in weeks.
PHASE_WEEKS = {"clear": 6, "hold": 16, "build": 16}
#: Mondays on which each CHB site's clear phase starts (the phases end before the
#: patrol trial, so the trial's effect is not confounded).
SITE_STARTS = ("2024-09-02", "2024-11-04", "2025-01-06")
#: Mondays on which a county line arrives in a ward.
COUNTY_LINE_ONSETS = ("2025-03-03", "2025-06-02")
#: Weekly counts a county line adds in its ward: trafficking crimes and intelligence.
COUNTY_LINE_CRIMES_PER_WEEK = 2.0
COUNTY_LINE_INTEL_PER_WEEK = 2.0
#: Ward intelligence per week as a share of the ward's weekly crime (busiest wards).
WARD_INTEL_SHARE = 0.25
WARD_INTEL_WARDS = 40
DISRUPTION_TYPES = (
    "Arrest",
    "Drugs warrant",
    "Cash seizure",
    "Closure order",
    "Cuckooing safeguarding visit",
    "Weapons sweep",
    "Vehicle seizure",
)
AGENCIES = (
    "Home force",
    "Local authority",
    "British Transport Police",
    "National Crime Agency",
    "HMRC",
    "Housing provider",
)
OUTCOMES = ("Major", "Moderate", "Minor")
DISRUPTIONS_SPEC = FaultSpec(
    "disruption_id",
    ("disruption_type", "agency"),
    ("disrupted_on",),
    ("easting", "northing"),
    ("location_text",),
)


@dataclass
class SocWorld:
    """What the SOC layer adds to a world.

    Attributes
    ----------
    events : pandas.DataFrame
        The crime world's events after CHB thinning and county-line surges.
    intel_logs : list of dict
        Extra intelligence logs (JSON-ready, ``_month`` for delivery).
    intel_subjects : pandas.DataFrame
        Subject rows of the extra logs (same columns as ``build_intel``'s).
    sites : pandas.DataFrame
        The delivered CHB register, one row per site and phase.
    disruptions : pandas.DataFrame
        The delivered disruptions (typed).
    truth : dict of str to pandas.DataFrame
        ``chb_phase_effects``, ``emerging_problems``, ``ward_of_event``.
    """

    events: pd.DataFrame
    intel_logs: list
    intel_subjects: pd.DataFrame
    sites: pd.DataFrame
    disruptions: pd.DataFrame
    truth: dict


def _wards() -> gpd.GeoDataFrame:
    w = gpd.read_file(BOUNDARIES / "thames_valley_wards_2025.geojson").to_crs(27700)
    return w[["WD25CD", "WD25NM", "geometry"]].rename(
        columns={"WD25CD": "ward_code", "WD25NM": "ward_name"}
    )


def ward_of_points(wards: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Ward code of each BNG point ('' outside every ward).

    Parameters
    ----------
    wards : geopandas.GeoDataFrame
        ``ward_code`` and polygons in EPSG:27700.
    x, y : numpy.ndarray
        BNG metres.
    """
    tree = shapely.STRtree(wards.geometry.to_numpy())
    pts = shapely.points(np.asarray(x, float), np.asarray(y, float))
    pi, wi = tree.query(pts, predicate="within")
    out = np.full(len(pts), "", dtype=object)
    out[pi] = wards["ward_code"].to_numpy()[wi]
    return out


def _weeks(cfg) -> np.ndarray:
    first = cfg.start + ((7 - (cfg.start.astype(int) + 3) % 7) % 7)  # first Monday
    return np.arange(first, cfg.end - 6, 7).astype("datetime64[D]")


def build_soc(seed: int, cfg, cw) -> SocWorld:
    """Plant CHB sites, ward intelligence, county lines and disruptions.

    Parameters
    ----------
    seed : int
    cfg : synthetic.config.WorldConfig
    cw : synthetic.crime.CrimeWorld

    Returns
    -------
    SocWorld
        Its extra intelligence logs have no ids or subjects yet: pass them, with the
        world's own logs, through :func:`merge_intelligence`.
    """
    rng = component_rng(seed, "soc")
    wards = _wards()
    ev = cw.events.copy()
    ev_ward = ward_of_points(wards, ev["x"].to_numpy(), ev["y"].to_numpy())
    day = ev["committed_at"].to_numpy().astype("datetime64[D]")
    busy = pd.Series(ev_ward[ev_ward != ""]).value_counts()
    planted = (ev["hotspot_id"].to_numpy() != "") | (ev["trial_unit_id"].to_numpy() != "")
    excluded = set(ev_ward[planted])
    candidates = [w for w in busy.index if w not in excluded]
    site_wards = candidates[: len(SITE_STARTS)]
    line_wards = [candidates[20], candidates[40]]
    weeks = _weeks(cfg)
    n_weeks = len(weeks)
    crime_per_week = busy / n_weeks
    names = dict(zip(wards["ward_code"], wards["ward_name"], strict=True))
    geom = dict(zip(wards["ward_code"], wards.geometry, strict=True))

    # CHB phases: thin crime and ASB in the site ward.
    keep = np.ones(len(ev), dtype=bool)
    is_asb = ev["crime_type"].to_numpy() == "Anti-social behaviour"
    u = rng.random(len(ev))
    effect_rows, phases = [], []
    for i, (ward, start) in enumerate(zip(site_wards, SITE_STARTS, strict=True)):
        site_id = f"CHB{i + 1:02d}"
        lo = np.datetime64(start)
        for phase, n_w in PHASE_WEEKS.items():
            hi = lo + 7 * n_w
            phases.append((site_id, ward, phase, lo, hi))
            in_phase = (ev_ward == ward) & (day >= lo) & (day < hi)
            for measure, sel in (("crime", ~is_asb), ("asb", is_asb)):
                rr = PHASE_EFFECTS[phase][measure]
                rows = in_phase & sel
                drop = rows & (u >= rr)
                keep &= ~drop
                effect_rows.append(
                    {
                        "site_id": site_id,
                        "ward_code": ward,
                        "phase": phase,
                        "measure": measure,
                        "phase_start": lo,
                        "phase_end": hi - 1,
                        "true_rate_ratio": rr,
                        "events_before_thinning": int(rows.sum()),
                        "events_removed": int(drop.sum()),
                    }
                )
            lo = hi
    # near-repeat offspring of a prevented event do not happen either (two generations)
    ids = ev["event_id"].to_numpy()
    parent = ev["parent_event_id"].to_numpy()
    for _ in range(3):
        orphan = keep & (parent >= 0) & ~np.isin(parent, ids[keep])
        if not orphan.any():
            break
        keep &= ~orphan
    ev = ev.loc[keep].reset_index(drop=True)
    ev_ward_kept = ev_ward[keep]

    # Ward intelligence: a steady stream in the busiest wards, multiplied in CHB phases.
    intel_wards = [w for w in busy.index[:WARD_INTEL_WARDS] if w not in line_wards]
    for w in site_wards:
        if w not in intel_wards:
            intel_wards.append(w)
    new_logs: list[dict] = []
    week_start = np.repeat(weeks, 1)
    for w in intel_wards:
        base = WARD_INTEL_SHARE * crime_per_week[w]
        lam = np.full(n_weeks, base)
        for _site, ward, phase, lo, hi in phases:
            if ward == w:
                m = (week_start >= lo) & (week_start < hi)
                lam[m] *= PHASE_EFFECTS[phase]["intelligence"]
        counts = rng.poisson(lam)
        for k in np.flatnonzero(counts):
            for _ in range(counts[k]):
                new_logs.append(_log(rng, geom[w], weeks[k], ("ocg", "drug_supply")))
    for site_id, ward, phase, lo, hi in phases:
        effect_rows.append(
            {
                "site_id": site_id,
                "ward_code": ward,
                "phase": phase,
                "measure": "intelligence",
                "phase_start": lo,
                "phase_end": hi - 1,
                "true_rate_ratio": PHASE_EFFECTS[phase]["intelligence"],
                "events_before_thinning": 0,
                "events_removed": 0,
            }
        )

    # County lines: trafficking crimes and county-lines intelligence from the onset week.
    extra_events, emerging = [], []
    loc = cw.locations
    loc_ward = ward_of_points(wards, loc["x"].to_numpy(), loc["y"].to_numpy())
    for j, (ward, onset) in enumerate(zip(line_wards, COUNTY_LINE_ONSETS, strict=True)):
        on = np.datetime64(onset)
        live = weeks >= on
        n_crime = rng.poisson(COUNTY_LINE_CRIMES_PER_WEEK, live.sum())
        n_intel = rng.poisson(COUNTY_LINE_INTEL_PER_WEEK, live.sum())
        cand = np.flatnonzero((loc_ward == ward) & (loc["loc_class"].to_numpy() != "address"))
        if len(cand) == 0:
            cand = np.flatnonzero(loc_ward == ward)
        for wk, nc, ni in zip(weeks[live], n_crime, n_intel, strict=True):
            for _ in range(nc):
                li = int(cand[rng.integers(0, len(cand))])
                ts = wk.astype("datetime64[s]") + int(rng.integers(0, 7 * 86400))
                extra_events.append((li, ts))
            for _ in range(ni):
                new_logs.append(_log(rng, geom[ward], wk, ("county_lines", "drug_supply")))
        emerging.append(
            {
                "problem_id": f"CL{j + 1:02d}",
                "kind": "county_line",
                "ward_code": ward,
                "ward_name": names[ward],
                "onset_week": on,
                "soc_categories": "county_lines|drug_supply",
                "crimes_per_week": COUNTY_LINE_CRIMES_PER_WEEK,
                "intelligence_per_week": COUNTY_LINE_INTEL_PER_WEEK,
                "crimes_added": int(n_crime.sum()),
                "intelligence_added": int(n_intel.sum()),
            }
        )
    ev = _append_events(ev, loc, extra_events)
    ev_ward_all = np.r_[ev_ward_kept, np.array([loc_ward[li] for li, _ in extra_events], object)]

    sites = _register(phases, names, geom)
    disruptions = _disruptions(rng, cfg, wards, phases, emerging, geom)
    truth = {
        "chb_phase_effects": pd.DataFrame(effect_rows),
        "emerging_problems": pd.DataFrame(emerging),
        "soc_sites": sites.copy(),
        "event_wards": pd.DataFrame(
            {"event_id": ev["event_id"].to_numpy(np.int64), "ward_code": ev_ward_all}
        ),
    }
    return SocWorld(ev, new_logs, pd.DataFrame(), sites, disruptions, truth)


def merge_intelligence(
    seed: int, soc: SocWorld, logs: list, subjects: pd.DataFrame
) -> tuple[list, pd.DataFrame]:
    """The world's intelligence logs and subjects with the SOC layer's logs added.

    Each added log takes its subjects (new subject ids, same true persons) from an
    existing log, so the person-record truth covers them.
    """
    rng = component_rng(seed, "soc.subjects")
    extra, extra_subjects = _with_subjects(rng, soc.intel_logs, logs, subjects)
    soc.intel_subjects = extra_subjects
    merged = sorted([*logs, *extra], key=lambda r: r["created_at"])
    return merged, pd.concat([subjects, extra_subjects], ignore_index=True)


def _point_in(rng, poly) -> tuple[float, float]:
    minx, miny, maxx, maxy = poly.bounds
    for _ in range(200):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if poly.contains(shapely.Point(x, y)):
            return x, y
    c = poly.representative_point()
    return c.x, c.y


def _log(rng, poly, week: np.datetime64, cats: tuple[str, ...]) -> dict:
    x, y = _point_in(rng, poly)
    ts = str(week.astype("datetime64[s]") + int(rng.integers(0, 7 * 86400)))
    return {
        "created_at": ts,
        "grading": {
            "source": str(rng.choice(["1", "2", "3"], p=[0.2, 0.6, 0.2])),
            "intelligence": str(rng.choice(list("ABCDE"), p=[0.1, 0.35, 0.35, 0.15, 0.05])),
            "handling": str(rng.choice(["P", "C"], p=[0.85, 0.15])),
        },
        "soc_categories": sorted(set(cats[: int(rng.integers(1, len(cats) + 1))])),
        "_point": (int(x), int(y)),
    }


def _with_subjects(rng, new_logs, logs, subjects) -> tuple[list, pd.DataFrame]:
    """Give each new log an id, a location and subjects copied from an existing log."""
    order = sorted(range(len(new_logs)), key=lambda i: new_logs[i]["created_at"])
    # each log's subject rows (person, noise) in their order: one pass, not a
    # group lookup and a row iteration per new log
    by_log: dict[str, list[tuple]] = {}
    for log, person, noise in zip(
        subjects["log_id"].tolist(),
        subjects["person_id"].tolist(),
        subjects["noise"].tolist(),
        strict=True,
    ):
        by_log.setdefault(log, []).append((person, noise))
    templates = [r for r in logs if r.get("subjects")]
    out, sub_rows = [], []
    for n, i in enumerate(order):
        r = new_logs[i]
        log_id = f"ILW{n + 1:07d}"
        t = templates[int(rng.integers(0, len(templates)))]
        subs = []
        for k, (s, (person, noise)) in enumerate(
            zip(t["subjects"], by_log[t["log_id"]], strict=True)
        ):
            sid = f"{log_id}-S{k}"
            subs.append({**s, "subject_id": sid})
            sub_rows.append(
                {"log_id": log_id, "subject_id": sid, "person_id": person, "noise": noise}
            )
        x, y = r.pop("_point")
        soc = r["soc_categories"]
        text = (
            f"Intelligence suggests {subs[0]['forename']} {subs[0]['surname']} is involved "
            f"in {soc[0].replace('_', ' ')} in the area."
        )
        out.append(
            {
                "log_id": log_id,
                "created_at": r["created_at"],
                "grading": r["grading"],
                "soc_categories": soc,
                "subjects": subs,
                "locations": [{"text": "ward intelligence", "easting": x, "northing": y}],
                "text": text,
                "_month": r["created_at"][:7],
            }
        )
    cols = list(subjects.columns)
    return out, pd.DataFrame(sub_rows, columns=cols)


def _append_events(ev: pd.DataFrame, loc: pd.DataFrame, extra: list) -> pd.DataFrame:
    """Append planted trafficking crimes (new event ids after the last) to the events."""
    if not extra:
        return ev
    li = np.array([e[0] for e in extra])
    ts = np.array([e[1] for e in extra], dtype="datetime64[s]")
    start = int(ev["event_id"].max()) + 1
    add = pd.DataFrame(
        {
            "event_id": np.arange(start, start + len(li)),
            "location_id": loc["location_id"].to_numpy()[li] if "location_id" in loc else li,
            "committed_at": ts,
            "parent_event_id": -1,
            "crime_type": "Drugs",
            "offence_code": "92A",
            "x": loc["x"].to_numpy()[li],
            "y": loc["y"].to_numpy()[li],
            "lsoa_idx": loc["lsoa_idx"].to_numpy()[li],
            "h3_cell": loc["h3_cell"].to_numpy()[li],
            "hotspot_id": "",
            "trial_unit_id": "",
            "reported": True,
        }
    )
    add = add[ev.columns]
    out = pd.concat([ev, add.astype({c: ev[c].dtype for c in ev.columns})], ignore_index=True)
    return out.sort_values(["committed_at", "event_id"], kind="stable").reset_index(drop=True)


def _register(phases, names, geom) -> pd.DataFrame:
    leads = ("Neighbourhood Inspector", "SOC Partnership Lead", "Community Safety Manager")
    rows = []
    for site_id, ward, phase, lo, hi in phases:
        poly = geom[ward].simplify(25)
        c = poly.representative_point()
        wgs = shapely.transform(poly, lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1])))
        rows.append(
            {
                "site_phase_id": f"{site_id}-{phase}",
                "site_id": site_id,
                "site_name": f"{names[ward]} Clear-Hold-Build",
                "ward_codes": ward,
                "phase": phase,
                "phase_start": lo.astype("datetime64[s]"),
                "phase_end": (hi - 1).astype("datetime64[s]"),
                "lead": leads[int(site_id[-2:]) % len(leads)],
                "easting": float(round(c.x)),
                "northing": float(round(c.y)),
                "polygon_wkt": shapely.to_wkt(wgs, rounding_precision=5),
            }
        )
    return pd.DataFrame(rows)


def _disruptions(rng, cfg, wards, phases, emerging, geom) -> pd.DataFrame:
    """APMIS-like disruption records: targeted in CHB and county-line wards, a background."""
    plan = []  # (ward, first day, last day, expected count, ocg)
    for site_id, ward, phase, lo, hi in phases:
        rate = {"clear": 3.0, "hold": 1.5, "build": 0.5}[phase]
        plan.append((ward, lo, hi - 1, rate * (hi - lo).astype(int) / 7, f"OCG-{site_id[-2:]}"))
    for j, e in enumerate(emerging):
        on = np.datetime64(e["onset_week"], "D") + 28  # noticed about four weeks in
        plan.append(
            (e["ward_code"], on, cfg.end, 1.0 * (cfg.end - on).astype(int) / 7, f"OCG-L{j + 1}")
        )
    codes = wards["ward_code"].to_numpy()
    bg = rng.choice(codes, 60 * cfg.months // 12)
    for w in bg:
        plan.append((w, cfg.start, cfg.end, 1.0, f"OCG-{int(rng.integers(20, 40)):02d}"))
    rows = []
    for ward, lo, hi, lam, ocg in plan:
        n = rng.poisson(lam)
        span = max(int((hi - lo).astype(int)), 1)
        for _ in range(n):
            x, y = _point_in(rng, geom[ward])
            d = lo + int(rng.integers(0, span + 1))
            rows.append(
                {
                    "disrupted_on": d.astype("datetime64[s]"),
                    "ward_code": ward,
                    "easting": float(round(x)),
                    "northing": float(round(y)),
                    "location_text": "street location",
                    "agency": str(rng.choice(AGENCIES, p=[0.7, 0.1, 0.05, 0.05, 0.05, 0.05])),
                    "disruption_type": str(rng.choice(DISRUPTION_TYPES)),
                    "linked_ocg": ocg,
                    "outcome": str(rng.choice(OUTCOMES, p=[0.2, 0.5, 0.3])),
                }
            )
    df = pd.DataFrame(rows).sort_values(["disrupted_on", "ward_code"], kind="stable")
    df.insert(0, "disruption_id", [f"DIS{i + 1:06d}" for i in range(len(df))])
    return df.reset_index(drop=True)


def emit_soc(em, soc: SocWorld, cfg) -> None:
    """Write the CHB register (one delivery, the end month) and monthly disruptions."""
    from synthetic.emit import month_key, to_text

    em.csv(
        to_text(soc.sites, decimals={"easting": 0, "northing": 0}),
        "soc",
        "chb_sites",
        cfg.end_month,
        "chb_sites.csv",
        None,
    )
    d = soc.disruptions
    months = month_key(d["disrupted_on"])
    txt = to_text(d, ("disrupted_on",), {"easting": 0, "northing": 0})
    for m in np.unique(months):
        em.csv(
            txt[months == m].reset_index(drop=True),
            "soc",
            "disruptions",
            m,
            f"disruptions_{m}.csv",
            DISRUPTIONS_SPEC,
        )

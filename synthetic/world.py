"""Build a simulated multi-agency world and write its landing zone and truth.

Usage::

    python -m synthetic.world --seed 7 --scale small --out /tmp/world

Writes ``<out>/landing/<agency>/<dataset>/<delivery>/<file>`` and
``<out>/truth/*.parquet`` plus ``<out>/truth/world.json``. The same seed and
scale produce byte-identical files.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import resource
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from synthetic.community import build_community, community_truth, emit_community
from synthetic.config import SCALES, WorldConfig
from synthetic.crime import generate_events
from synthetic.emit import Emitter, month_key, to_text
from synthetic.faults import FaultSpec
from synthetic.geography import build_geography, to_wgs84
from synthetic.io import seq_ids, write_parquet
from synthetic.noise import address_text
from synthetic.partners import (
    build_istv,
    build_nhs_safeguarding,
    build_probation,
    build_social_care,
)
from synthetic.patrol import build_patrol, world_teams
from synthetic.people import build_people
from synthetic.places import build_pois
from synthetic.police import (
    build_cad,
    build_intel,
    build_nominals,
    build_occurrences,
    build_police_uk_street,
    build_roles,
    build_stop_search,
)
from synthetic.soc import build_soc, emit_soc, merge_intelligence

SPECS = {
    "occurrences": FaultSpec(
        "occurrence_ref",
        ("offence_code", "location_text", "recorded_at"),
        ("recorded_at", "committed_from"),
        ("easting", "northing"),
        ("location_text",),
    ),
    "nominals": FaultSpec(
        "nominal_id",
        ("surname", "dob"),
        ("dob", "created_at"),
        (),
        ("surname", "forename", "address_line"),
    ),
    "occurrence_nominals": FaultSpec("link_id", ("role", "nominal_id"), ("linked_at",)),
    "cad_incidents": FaultSpec(
        "incident_ref",
        ("grade", "opening_classification"),
        ("call_received_at",),
        ("easting", "northing"),
        ("location_text",),
    ),
    "cin_referrals": FaultSpec(
        "referral_id",
        ("la_child_id", "dob", "surname"),
        ("dob", "referral_date"),
        (),
        ("surname", "forename", "address_line"),
    ),
    "cases": FaultSpec(
        "event_id",
        ("crn", "surname"),
        ("dob", "sentence_date"),
        (),
        ("surname", "forename", "aliases"),
    ),
    "istv_assaults": FaultSpec(
        "attendance_ref",
        ("assault_method_code", "location_type_code"),
        ("arrival_dt", "assault_dt"),
        (),
        ("location_text",),
    ),
    "safeguarding": FaultSpec(
        "referral_id",
        ("nhs_number", "surname"),
        ("dob", "referral_date"),
        (),
        ("surname", "forename"),
    ),
    # community sources (synthetic/community.py)
    "streetsafe_reports": FaultSpec(
        "report_id",
        ("category", "submitted_at"),
        ("submitted_at",),
        ("longitude", "latitude"),
        ("free_text",),
        coords_are_lonlat=True,
    ),
    "voluntary_referrals": FaultSpec(
        "referral_id", ("organisation", "surname"), ("dob", "referral_date"), (), ("surname",)
    ),
}


def generate(cfg: WorldConfig, out: Path, log=print) -> dict:
    """Generate the world described by ``cfg`` into ``out``.

    Parameters
    ----------
    cfg : WorldConfig
    out : pathlib.Path
        Output root; ``landing/`` and ``truth/`` are replaced if present.
    log : callable
        Progress printer.

    Returns
    -------
    dict
        The content of ``truth/world.json``.
    """
    t0 = time.perf_counter()
    seed = cfg.seed
    for sub in ("landing", "truth"):
        shutil.rmtree(out / sub, ignore_errors=True)
    em = Emitter(out, seed, cfg.fault_rate)
    timings = {}

    def tick(name: str) -> None:
        timings[name] = round(time.perf_counter() - t0, 2)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        log(f"[{timings[name]:7.2f}s, peak {rss:6.0f} MB] {name}")

    geo = build_geography(seed, cfg.scale.addresses_per_lsoa)
    pois = build_pois(seed, geo, cfg.scale.pois)
    people = build_people(seed, geo, cfg.scale.population, cfg.end)
    tick("geography, places, people")
    cw = generate_events(seed, cfg, geo, pois)
    # Serious organised crime (synthetic/soc.py): CHB phase effects and county lines.
    soc = build_soc(seed, cfg, cw)
    cw = dataclasses.replace(cw, events=soc.events)
    tick(f"crime events ({len(cw.events):,})")

    occ = build_occurrences(seed, cfg, geo, cw, pois)
    roles = build_roles(seed, occ, people, geo)
    nominals, links = build_nominals(seed, roles, people, geo)
    cad = build_cad(seed, cfg, geo, cw, pois, occ)
    street = build_police_uk_street(seed, cfg, geo, cw, pois, occ)
    logs, subjects = build_intel(seed, cfg, geo, cw, people)
    logs, subjects = merge_intelligence(seed, soc, logs, subjects)
    sas = build_stop_search(seed, cfg, cw, people)
    tick("police records")
    csc = build_social_care(seed, cfg, geo, people, roles, cw)
    prob = build_probation(seed, cfg, geo, people, roles, occ)
    istv = build_istv(seed, cfg, geo, cw, pois)
    sg = build_nhs_safeguarding(seed, cfg, geo, people, roles, csc, cw, pois)
    tick("partner records")
    community = build_community(seed, cfg, geo, cw, people, roles)
    tick("community reports and voluntary referrals")
    patrol = build_patrol(seed, cfg, cw, pois)
    tick("patrol trial")

    # Record-level truth first, so the big police frames can be released as soon as
    # they are written (they dominate peak memory at the large scale).
    person_records = pd.concat(
        [
            _pr("police", "nominals", nominals["nominal_id"], nominals),
            _pr("police", "intelligence", subjects["subject_id"], subjects),
            _pr("social_care", "cin_referrals", csc["referral_id"], csc),
            _pr("probation", "cases", prob["event_id"], prob),
            _pr("nhs", "safeguarding", sg["referral_id"], sg),
            # voluntary-sector referrals (their name and date-of-birth noise is not listed)
            _pr(
                "voluntary",
                "referrals",
                community.referral_truth["referral_id"],
                community.referral_truth.assign(noise=""),
            ),
        ],
        ignore_index=True,
    )
    street_ids = street["Crime ID"].where(
        street["Crime ID"] != "", "asb:" + street["event_id"].astype(str)
    )
    event_records = pd.concat(
        [
            _er("police", "occurrences", occ["occurrence_ref"], occ["event_id"]),
            _er("police", "cad_incidents", cad["incident_ref"], cad["event_id"]),
            _er("police_uk", "street", street_ids, street["event_id"]),
            _er("nhs", "istv_assaults", istv["attendance_ref"], istv["event_id"]),
        ],
        ignore_index=True,
    )
    police_events = int(cw.events["reported"].sum())
    n_occ, n_cad = len(occ), len(cad)
    _emit_places(em, geo, pois, cfg)
    _emit_police(em, occ, nominals, links, cad, logs)
    del occ, nominals, links, cad, logs, subjects, street_ids
    _emit_police_uk(em, street, sas)
    del street, sas
    _emit_partners(em, csc, prob, istv, sg)
    _emit_patrol(em, cw, patrol)
    _emit_teams(em, cw, *world_teams(seed, patrol.officers, pois, cw.events))
    emit_soc(em, soc, cfg)
    emit_community(em, community, SPECS)
    tick("landing files")

    truth = _truth_tables(
        cfg, geo, pois, people, cw, roles, csc, prob, sg, person_records, event_records, patrol, em
    )
    truth.update(soc.truth)
    truth.update(community_truth(community))
    tdir = out / "truth"
    for name, df in truth.items():
        write_parquet(df, tdir / f"{name}.parquet")
        em.manifest.add(tdir / f"{name}.parquet", len(df), "truth", name)
    tick("truth")

    ev = cw.events
    world = {
        "seed": seed,
        "scale": cfg.scale.name,
        "parameters": cfg.to_json(),
        "counts": {
            "events_total": len(ev),
            "police_events": police_events,
            "police_crime_occurrences": int(n_occ),
            "cad_incidents": int(n_cad),
            "person_records": len(person_records),
            "persons": len(people.persons),
            "gps_pings": int(sum(len(p) for p in patrol.pings.values())),
            "faults": len(truth["faults"]),
        },
        "model": _model_description(),
        "files": sorted(em.manifest.files, key=lambda f: f["path"]),
    }
    (tdir / "world.json").write_text(json.dumps(world, indent=1, sort_keys=True) + "\n")
    world["timings_s"] = timings
    log(f"[{time.perf_counter() - t0:7.2f}s] done: {out}")
    return world


def _pr(agency, dataset, record_id, df) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agency": agency,
            "dataset": dataset,
            "record_id": np.asarray(record_id, dtype=object),
            "person_id": df["person_id"].to_numpy(np.int64),
            "noise": df["noise"].to_numpy(dtype=object),
        }
    )


def _er(agency, dataset, record_id, event_id) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agency": agency,
            "dataset": dataset,
            "record_id": np.asarray(record_id, dtype=object),
            "event_id": np.asarray(event_id, dtype=np.int64),
        }
    )


def _place_point(geo, places: pd.DataFrame) -> dict[str, np.ndarray]:
    """Point columns of a places table (``x``, ``y``, ``lsoa_idx``) as delivered.

    BNG ``easting``/``northing``, WGS84 ``longitude``/``latitude`` and ``lsoa_code``,
    in that order (the delivered files' column order).
    """
    x, y = places["x"].to_numpy(), places["y"].to_numpy()
    lon, lat = to_wgs84(x, y)
    return {
        "easting": x,
        "northing": y,
        "longitude": lon,
        "latitude": lat,
        "lsoa_code": geo.lsoa["lsoa_code"].to_numpy()[places["lsoa_idx"]],
    }


def _emit_places(em: Emitter, geo, pois: pd.DataFrame, cfg: WorldConfig) -> None:
    st = geo.streets
    df = pd.DataFrame(
        {
            "poi_id": seq_ids("P", len(pois), 6),
            "category": pois["category"],
            "osm_key": pois["osm_key"],
            "osm_value": pois["osm_value"],
            "name": pois["name"],
            **_place_point(geo, pois),
            "street": st["street_name"].to_numpy()[pois["street_id"]],
            "postcode": st["postcode"].to_numpy()[pois["street_id"]],
        }
    )
    for name, table in (
        ("pois", df),
        ("addresses", address_gazetteer(geo)),
        ("streets", street_gazetteer(geo)),
    ):
        txt = to_text(table, decimals=_POINT_DECIMALS)
        em.csv(txt, "places", name, cfg.end_month, f"{name}.csv", None)


_POINT_DECIMALS = {"easting": 1, "northing": 1, "longitude": 6, "latitude": 6}
#: AddressBase UPRNs are up to 12 digits; the simulated ones are 12 digits, from the index.
UPRN_BASE = 100_000_000_000
#: USRNs are up to 8 digits; the simulated ones are 8 digits, from the index.
USRN_BASE = 30_000_000


def address_gazetteer(geo) -> pd.DataFrame:
    """AddressBase-style address list: one row per simulated address point.

    Parameters
    ----------
    geo : synthetic.geography.Geography

    Returns
    -------
    pandas.DataFrame
        ``uprn`` (12 digits, ``UPRN_BASE + address_id``), ``address_line``, ``town``,
        ``postcode``, ``classification_code`` (``RD``, residential dwelling), the
        address point (BNG ``easting``/``northing``, the same points as the truth's
        address locations; WGS84 ``longitude``/``latitude``) and ``lsoa_code``.
    """
    a = geo.addresses
    ids = a["address_id"].to_numpy()
    text = address_text(geo, ids)
    return pd.DataFrame(
        {
            "uprn": np.char.zfill((UPRN_BASE + ids).astype(str), 12).astype(object),
            "address_line": text["address_line"].to_numpy(),
            "town": text["town"].to_numpy(),
            "postcode": text["postcode"].to_numpy(),
            "classification_code": "RD",
            **_place_point(geo, a),
        }
    )


def street_gazetteer(geo) -> pd.DataFrame:
    """Street gazetteer (OS Open USRN / local street gazetteer style): one row per street.

    Parameters
    ----------
    geo : synthetic.geography.Geography

    Returns
    -------
    pandas.DataFrame
        ``usrn`` (8 digits, ``USRN_BASE + street_id``), ``street_name``, ``town``,
        ``postcode``, the street's point (the one street-located events use: BNG
        ``easting``/``northing``, WGS84 ``longitude``/``latitude``) and ``lsoa_code``.
    """
    s = geo.streets
    ids = s["street_id"].to_numpy()
    return pd.DataFrame(
        {
            "usrn": np.char.zfill((USRN_BASE + ids).astype(str), 8).astype(object),
            "street_name": s["street_name"].to_numpy(),
            "town": s["town"].to_numpy(),
            "postcode": s["postcode"].to_numpy(),
            **_place_point(geo, s),
        }
    )


def _monthly(
    em: Emitter,
    df: pd.DataFrame,
    months: np.ndarray,
    agency: str,
    dataset: str,
    stem: str,
    spec: FaultSpec | None,
    date_only=(),
    decimals=None,
) -> None:
    # Format one month at a time: a full text copy of a large extract costs gigabytes.
    order = np.argsort(months, kind="stable")
    bounds = np.flatnonzero(np.r_[True, months[order][1:] != months[order][:-1], True])
    for lo, hi in itertools.pairwise(bounds):
        rows = order[lo:hi]
        m = months[rows[0]]
        txt = to_text(df.iloc[rows], date_only, decimals)
        em.csv(txt, agency, dataset, m, f"{stem}_{m}.csv", spec)


def _emit_police(em, occ, nominals, links, cad, logs) -> None:
    cols = [
        "occurrence_ref",
        "recorded_at",
        "committed_from",
        "committed_to",
        "offence_code",
        "offence_description",
        "easting",
        "northing",
        "location_text",
        "domestic_abuse_flag",
        "outcome",
    ]
    _monthly(
        em,
        occ[cols],
        month_key(occ["recorded_at"]),
        "police",
        "occurrences",
        "occurrences",
        SPECS["occurrences"],
    )
    ncols = [
        "nominal_id",
        "created_at",
        "surname",
        "forename",
        "middle_names",
        "dob",
        "sex",
        "pnc_id",
        "ethnicity_ic",
        "address_line",
        "town",
        "postcode",
    ]
    nm = nominals.sort_values(["created_at", "nominal_id"], kind="stable")
    _monthly(
        em,
        nm[ncols],
        month_key(nm["created_at"]),
        "police",
        "nominals",
        "nominals",
        SPECS["nominals"],
    )
    lk = links.sort_values(["recorded_at", "occurrence_ref", "nominal_id"], kind="stable")
    lk = pd.DataFrame(
        {
            "link_id": seq_ids("L", len(lk), 9),
            "occurrence_ref": lk["occurrence_ref"].to_numpy(),
            "nominal_id": lk["nominal_id"].to_numpy(),
            "role": lk["role"].to_numpy(),
            "linked_at": lk["recorded_at"].to_numpy(),
        }
    )
    _monthly(
        em,
        lk,
        month_key(lk["linked_at"]),
        "police",
        "occurrence_nominals",
        "occurrence_nominals",
        SPECS["occurrence_nominals"],
    )
    ccols = [c for c in cad.columns if c != "event_id"]
    _monthly(
        em,
        cad[ccols],
        month_key(cad["call_received_at"]),
        "police",
        "cad_incidents",
        "cad_incidents",
        SPECS["cad_incidents"],
    )
    by_month: dict[str, list] = {}
    for r in logs:
        m = r.pop("_month")
        by_month.setdefault(m, []).append(r)
    for m in sorted(by_month):
        em.jsonl(
            by_month[m],
            "police",
            "intelligence",
            m,
            f"intelligence_{m}.jsonl",
            "log_id",
            "created_at",
            "text",
        )


def _emit_police_uk(em, street, sas) -> None:
    cols = [
        "Crime ID",
        "Month",
        "Reported by",
        "Falls within",
        "Longitude",
        "Latitude",
        "Location",
        "LSOA code",
        "LSOA name",
        "Crime type",
        "Last outcome category",
        "Context",
    ]
    for m, g in street.groupby("Month", sort=True):
        em.csv(g[cols], "police_uk", "street", None, f"{m}-thames-valley-street.csv", None)
    scols = [c for c in sas.columns if c != "month"]
    for m, g in sas.groupby("month", sort=True):
        em.csv(
            g[scols],
            "police_uk",
            "stop_and_search",
            None,
            f"{m}-thames-valley-stop-and-search.csv",
            None,
        )


def _emit_partners(em, csc, prob, istv, sg) -> None:
    c = csc.drop(columns=["person_id", "noise"])
    _monthly(
        em,
        c,
        month_key(csc["referral_date"]),
        "social_care",
        "cin_referrals",
        "cin_referrals",
        SPECS["cin_referrals"],
        ("referral_date", "cin_closure_date"),
    )
    p = prob.drop(columns=["person_id", "noise"])
    _monthly(
        em,
        p,
        month_key(prob["sentence_date"]),
        "probation",
        "cases",
        "probation_cases",
        SPECS["cases"],
        ("sentence_date",),
    )
    i = istv.drop(columns=["event_id"])
    txt = to_text(i, ("period_start", "period_end"))
    months = month_key(istv["period_start"])
    sites = istv["site_code"].to_numpy(dtype=object)
    for m in np.unique(months):
        for site in np.unique(sites[months == m]):
            sel = (months == m) & (sites == site)
            em.csv(
                txt[sel], "nhs", "istv_assaults", m, f"istv_{site}_{m}.csv", SPECS["istv_assaults"]
            )
    s = sg.drop(columns=["person_id", "noise"])
    _monthly(
        em,
        s,
        month_key(sg["referral_date"]),
        "nhs",
        "safeguarding",
        "safeguarding",
        SPECS["safeguarding"],
        ("referral_date",),
    )


def _emit_patrol(em, cw, patrol) -> None:
    units = to_text(cw.trial_units)
    first = str(cw.allocation["date"].min())[:7]
    em.csv(units, "patrol", "trial_units", first, "trial_units.csv", None)
    al = to_text(cw.allocation, ("date",))
    em.csv(al, "patrol", "trial_allocation", first, "trial_allocation.csv", None)
    for day in sorted(patrol.pings):
        em.parquet(
            patrol.pings[day], "patrol", "gps", day, "gps_pings.parquet", ("device_id", "ts")
        )
    for day in sorted(patrol.activity):
        recs = patrol.activity[day]
        for i, r in enumerate(recs):
            r["activity_id"] = f"A{day.replace('-', '')}-{i:05d}"
        em.jsonl(recs, "patrol", "activity", day, "activity.jsonl", "activity_id", "ts", "event")


def _emit_teams(em, cw, teams, roster) -> None:
    """The teams reference (teams, and which officer is on which team), as of the trial."""
    first = str(cw.allocation["date"].min())[:7]
    em.csv(to_text(teams), "patrol", "teams", first, "teams.csv", None)
    em.csv(to_text(roster), "patrol", "team_officers", first, "team_officers.csv", None)


def _truth_tables(
    cfg, geo, pois, people, cw, roles, csc, prob, sg, person_records, event_records, patrol, em
) -> dict[str, pd.DataFrame]:
    P = people.persons.copy()
    victims = set(roles.loc[roles["role"] == "victim", "person_id"])
    P["is_victim"] = P["person_id"].isin(victims)
    P["is_suspect_or_offender"] = P["person_id"].isin(
        roles.loc[roles["role"].isin(["suspect", "offender"]), "person_id"]
    )
    P["in_social_care"] = P["person_id"].isin(csc["person_id"])
    P["on_probation"] = P["person_id"].isin(prob["person_id"])
    P["in_nhs_safeguarding"] = P["person_id"].isin(sg["person_id"])
    P["home_lsoa_code"] = geo.lsoa["lsoa_code"].to_numpy()[P["home_lsoa_idx"]]
    addr = geo.addresses
    at = address_text(geo, addr["address_id"].to_numpy())
    addresses = pd.DataFrame(
        {
            "address_id": addr["address_id"],
            "easting": addr["x"],
            "northing": addr["y"],
            "lsoa_code": geo.lsoa["lsoa_code"].to_numpy()[addr["lsoa_idx"]],
            "address_line": at["address_line"],
            "town": at["town"],
            "postcode": at["postcode"],
        }
    )
    ev = cw.events.copy()
    ev["lsoa_code"] = geo.lsoa["lsoa_code"].to_numpy()[ev["lsoa_idx"]]
    ev = ev.drop(columns=["lsoa_idx"]).rename(columns={"x": "easting", "y": "northing"})
    loc = cw.locations.copy()
    loc["lsoa_code"] = geo.lsoa["lsoa_code"].to_numpy()[loc["lsoa_idx"]]
    loc = loc.drop(columns=["lsoa_idx"]).rename(columns={"x": "easting", "y": "northing"})
    hs = cw.hotspots.copy()
    effect = pd.DataFrame(
        {
            "effect": ["incident_rate_ratio"],
            "true_irr": [cfg.trial_irr],
            "applies_to": ["all crime and ASB events in a trial unit cell on a patrol day"],
            "trial_start": [cfg.trial_start.astype("datetime64[s]")],
            "trial_end": [cfg.end.astype("datetime64[s]")],
            "n_units": [len(cw.trial_units)],
        }
    )
    alloc = cw.allocation.copy()
    alloc["date"] = alloc["date"].astype("datetime64[s]")
    hs_of_cell = dict(zip(cw.hotspots["h3_cell"], cw.hotspots["hotspot_id"], strict=True))
    alloc["hotspot_id"] = alloc["h3_cell"].map(hs_of_cell).fillna("").astype(object)
    units = cw.trial_units.copy()
    units["hotspot_id"] = units["h3_cell"].map(hs_of_cell).fillna("").astype(object)
    visits = patrol.visits.copy()
    visits["date"] = pd.to_datetime(visits["date"]).astype("datetime64[s]")
    return {
        "persons": P,
        "person_addresses": people.spells,
        "addresses": addresses,
        "person_records": person_records.sort_values(
            ["agency", "dataset", "record_id"], kind="stable"
        ).reset_index(drop=True),
        "event_records": event_records.sort_values(
            ["agency", "dataset", "record_id"], kind="stable"
        ).reset_index(drop=True),
        "events": ev,
        "locations": loc,
        "hotspots": hs,
        "risk_factors": cw.risk_factors,
        "trial_units": units,
        "trial_allocation": alloc,
        "trial_effect": effect,
        "patrol_visits": visits,
        "faults": em.fault_table(),
    }


def _model_description() -> dict:
    from synthetic.crime import CLASS_SHARES, RISK_FACTORS

    return {
        "class_shares": CLASS_SHARES,
        "risk_factors": [
            {
                "factor_id": f,
                "poi_categories": list(c),
                "distance_m": d,
                "crime_types": list(t),
                "true_relative_risk": rr,
            }
            for f, c, d, t, rr in RISK_FACTORS
        ],
        "base_weight": "address: 1.9*0.88**(imd_decile-1); street: same*(1+3*town_boost); "
        "poi: 1+town_boost",
    }


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scale", choices=sorted(SCALES), default="medium")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--end-month", default="2025-12")
    ap.add_argument("--fault-rate", type=float, default=0.01)
    ap.add_argument("--trial-days", type=int, default=90)
    args = ap.parse_args(argv)
    cfg = WorldConfig(
        seed=args.seed,
        scale=SCALES[args.scale],
        end_month=args.end_month,
        months=args.months,
        fault_rate=args.fault_rate,
        trial_days=args.trial_days,
    )
    return generate(cfg, args.out)


if __name__ == "__main__":
    main()

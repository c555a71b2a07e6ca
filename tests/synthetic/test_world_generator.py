"""Tests of the simulated world: determinism, schemas, truth and planted effects."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthetic.config import SCALES, WorldConfig
from synthetic.crime import RISK_FACTORS, baseline_weights
from synthetic.geography import PUBLIC_DATA
from synthetic.people import nhs_number_valid, pnc_valid, upn_valid
from synthetic.schema import DATASETS
from synthetic.world import generate

README = Path(__file__).resolve().parents[2] / "synthetic" / "README.md"
TV_BOX = (380_000, 130_000, 520_000, 280_000)  # generous BNG box around Thames Valley


def _hash_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _truth(world: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(world / "truth" / f"{name}.parquet")


def _read_csvs(world: Path, agency: str, dataset: str, pattern: str) -> pd.DataFrame:
    files = sorted((world / "landing" / agency / dataset).glob(pattern))
    frames = []
    for f in files:
        d = pd.read_csv(f, dtype=str, keep_default_na=False)
        d["_file"] = f.relative_to(world).as_posix()
        d["_row"] = np.arange(len(d))
        frames.append(d)
    return pd.concat(frames, ignore_index=True)


def test_same_seed_is_byte_identical(small_world, tmp_path):
    again = tmp_path / "again"
    generate(WorldConfig(seed=7, scale=SCALES["small"]), again, log=lambda *_: None)
    a, b = _hash_tree(small_world), _hash_tree(again)
    assert len(a) > 100
    assert a == b


def test_different_seed_differs(tmp_path):
    cfg = WorldConfig(seed=8, scale=SCALES["small"], months=3, trial_days=20)
    generate(cfg, tmp_path, log=lambda *_: None)
    ev = pd.read_parquet(tmp_path / "truth" / "events.parquet")
    assert ev["committed_at"].min() >= pd.Timestamp("2025-10-01")
    assert len(ev) > 500


@pytest.mark.parametrize("ds", DATASETS, ids=lambda d: f"{d.agency}/{d.dataset}")
def test_landing_files_match_schema(small_world, ds):
    files = sorted((small_world / "landing" / ds.agency / ds.dataset).glob(ds.pattern))
    assert files, f"no files for {ds.agency}/{ds.dataset}"
    for f in files[:30]:
        if ds.fmt == "csv":
            header = f.read_text(encoding="utf-8").split("\n", 1)[0]
            assert pd.read_csv(f, nrows=0).columns.tolist() == ds.names, header
        elif ds.fmt == "jsonl":
            first = json.loads(f.read_text(encoding="utf-8").split("\n", 1)[0])
            assert set(first) == set(ds.names)
        else:
            cols = pd.read_parquet(f).columns.tolist()
            assert cols == ds.names


def test_readme_documents_every_dataset_and_column():
    text = README.read_text(encoding="utf-8")
    for ds in DATASETS:
        assert f"landing/{ds.agency}/{ds.dataset}" in text
        for col in ds.names:
            assert f"`{col}`" in text, (ds.dataset, col)


def test_layout_and_delivery_folders(small_world):
    landing = small_world / "landing"
    assert {p.name for p in landing.iterdir()} == {
        "police",
        "police_uk",
        "social_care",
        "probation",
        "nhs",
        "places",
        "patrol",
        "soc",
        "community",
    }
    for f in (landing / "police" / "occurrences").rglob("*.csv"):
        assert re.fullmatch(r"\d{4}-\d{2}", f.parent.name)
    for f in (landing / "patrol" / "gps").rglob("*.parquet"):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", f.parent.name)
    street = sorted((landing / "police_uk" / "street").glob("*.csv"))
    assert len(street) == 24
    assert street[-1].name == "2025-12-thames-valley-street.csv"


def test_police_uk_street_format(small_world):
    d = _read_csvs(small_world, "police_uk", "street", "*.csv")
    asb = d["Crime type"] == "Anti-social behaviour"
    assert (d.loc[asb, "Crime ID"] == "").all()
    assert (d.loc[asb, "Last outcome category"] == "").all()
    assert d.loc[~asb, "Crime ID"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert d.loc[~asb, "Crime ID"].is_unique
    no_loc = d["Longitude"] == ""
    assert 0.01 < no_loc.mean() < 0.05
    assert (d.loc[no_loc, "Location"] == "No location").all()
    assert d.loc[~no_loc, "Location"].str.startswith("On or near ").all()
    real = pd.read_csv(
        PUBLIC_DATA / "police_uk/thames_valley/street/2025-03-thames-valley-street.csv.gz"
    )
    assert set(d["Crime type"]) <= set(real["Crime type"])
    assert real.columns.tolist() == [c for c in d.columns if not c.startswith("_")]
    # Snapped to map points: far fewer distinct points than rows.
    pts = d.loc[~no_loc, ["Longitude", "Latitude"]].drop_duplicates()
    assert len(pts) < 0.8 * (~no_loc).sum()


def test_offence_codes_match_reference(small_world):
    ev = _truth(small_world, "events")
    ref = pd.read_csv(
        PUBLIC_DATA / "reference/home_office_offence_codes_to_police_uk_category.csv", dtype=str
    )
    cat = dict(zip(ref["offence_code"], ref["police_uk_category"].str.lower(), strict=True))
    crimes = ev[ev["crime_type"] != "Anti-social behaviour"]
    mapped = crimes["offence_code"].map(cat)
    assert mapped.notna().all()
    assert (mapped == crimes["crime_type"].str.lower()).all()


def test_every_person_record_maps_to_a_person(small_world):
    pr = _truth(small_world, "person_records")
    persons = _truth(small_world, "persons")
    assert pr["person_id"].isin(persons["person_id"]).all()
    assert not pr.duplicated(["agency", "dataset", "record_id"]).any()
    ids = {
        ("police", "nominals"): _read_csvs(small_world, "police", "nominals", "*/*.csv")[
            "nominal_id"
        ],
        ("social_care", "cin_referrals"): _read_csvs(
            small_world, "social_care", "cin_referrals", "*/*.csv"
        )["referral_id"],
        ("probation", "cases"): _read_csvs(small_world, "probation", "cases", "*/*.csv")[
            "event_id"
        ],
        ("nhs", "safeguarding"): _read_csvs(small_world, "nhs", "safeguarding", "*/*.csv")[
            "referral_id"
        ],
        ("voluntary", "referrals"): _read_csvs(
            small_world, "community", "voluntary_referrals", "*/*.csv"
        )["referral_id"],
    }
    for (agency, dataset), landed in ids.items():
        truth_ids = set(pr.loc[(pr["agency"] == agency) & (pr["dataset"] == dataset), "record_id"])
        landed = set(landed) - {""}
        assert landed == truth_ids, (agency, dataset)
    subjects = []
    for f in sorted((small_world / "landing/police/intelligence").rglob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            subjects += [s["subject_id"] for s in json.loads(line)["subjects"]]
    truth_subj = set(pr.loc[pr["dataset"] == "intelligence", "record_id"])
    assert set(subjects) == truth_subj
    # The same people appear in several agencies.
    per_person = pr.groupby("person_id")["agency"].nunique()
    assert (per_person >= 3).sum() > 10


def test_identifier_noise_and_hard_cases_planted(small_world):
    pr = _truth(small_world, "person_records")
    kinds = pr["noise"].str.split("|").explode()
    for k in ("typo", "nickname", "swap_dm", "old_address", "missing_id", "mistyped_id", "alias"):
        assert (kinds == k).sum() > 0, k
    persons = _truth(small_world, "persons")
    twins = persons[persons["twin_of"] >= 0]
    assert len(twins) > 50
    a = persons.set_index("person_id").loc[twins["twin_of"]]
    assert (a["dob"].to_numpy() == twins["dob"].to_numpy()).all()
    assert (a["surname"].to_numpy() == twins["surname"].to_numpy()).all()
    assert (a["first_name"].to_numpy() != twins["first_name"].to_numpy()).all()
    assert (persons["namesake_of"] >= 0).sum() > 20


def test_nhs_numbers_pass_mod11_except_planted(small_world):
    sg = _read_csvs(small_world, "nhs", "safeguarding", "*/*.csv")
    pr = _truth(small_world, "person_records").set_index("record_id")
    faults = _truth(small_world, "faults")
    faulty = set(zip(faults["file"], faults["row_index"], strict=True))
    valid = nhs_number_valid(sg["nhs_number"])
    present = sg["nhs_number"] != ""
    mistyped = sg["referral_id"].map(pr["noise"]).fillna("").str.contains("mistyped_id")
    in_faults = np.array([(f, r) in faulty for f, r in zip(sg["_file"], sg["_row"], strict=True)])
    bad = present & ~valid
    assert bad.sum() > 0
    assert (mistyped | in_faults)[bad].all()
    assert valid[(present & ~mistyped & ~in_faults).to_numpy()].all()
    persons = _truth(small_world, "persons")
    assert nhs_number_valid(persons["nhs_number"]).all()
    pnc = persons.loc[persons["pnc_id"] != "", "pnc_id"]
    assert len(pnc) > 100 and pnc_valid(pnc).all()
    upn = persons.loc[persons["upn"] != "", "upn"]
    assert len(upn) > 100 and upn_valid(upn).all()
    # Mistyped PNC ids in nominals mostly fail the check letter. The mistype changes
    # one of the 11 digits of YYYY/NNNNNNN; the check letter covers YY and the serial
    # (9 digits) and any change to one of them moves it (23 is prime), but a changed
    # century digit leaves it valid: 9/11, about 82%, are expected to fail. The small
    # world holds about ten such ids (75% seen), so the bar is a majority.
    nom = _read_csvs(small_world, "police", "nominals", "*/*.csv")
    noise = (
        nom["nominal_id"]
        .map(_truth(small_world, "person_records").set_index("record_id")["noise"])
        .fillna("")
    )
    mist = nom[noise.str.contains("mistyped_id") & (nom["pnc_id"] != "")]
    assert len(mist) > 0 and (~pnc_valid(mist["pnc_id"])).mean() > 0.5


def test_persistent_hotspots_stand_out(small_world):
    ev = _truth(small_world, "events")
    hs = _truth(small_world, "hotspots")
    counts = ev.groupby("h3_cell").size()
    mean = counts.mean()
    pers = hs[hs["kind"] == "persistent"]["h3_cell"]
    assert (counts.reindex(pers).fillna(0) > 4 * mean).all()
    assert counts.reindex(pers).median() > 10 * mean


def test_emerging_hotspots_switch_on(small_world):
    ev = _truth(small_world, "events")
    hs = _truth(small_world, "hotspots")
    start = pd.Timestamp("2024-01-01")
    end = pd.Timestamp("2026-01-01")
    em = hs[hs["kind"] == "emerging"]
    before = after = days_before = days_after = 0
    for r in em.itertuples():
        e = ev[ev["h3_cell"] == r.h3_cell]
        s = pd.Timestamp(r.start_date)
        before += (e["committed_at"] < s).sum()
        after += (e["committed_at"] >= s).sum()
        days_before += (s - start).days
        days_after += (end - s).days
    rate_ratio = (after / days_after) / max(before / days_before, 1e-9)
    assert rate_ratio > 3


def test_risk_factor_relative_risks_recoverable(small_world):
    ev = _truth(small_world, "events")
    loc = _truth(small_world, "locations")
    ev = ev[(ev["parent_event_id"] < 0) & (ev["hotspot_id"] == "") & (ev["trial_unit_id"] == "")]
    clean = loc["h3_cell"].isin(_truth(small_world, "hotspots")["h3_cell"]) | loc["h3_cell"].isin(
        _truth(small_world, "trial_units")["h3_cell"]
    )
    for rf_id, _, _, types, rr in RISK_FACTORS[:2]:
        ctype = types[0]
        p0 = baseline_weights(loc, ctype)
        exposed = loc[rf_id].to_numpy()
        ok = ~clean.to_numpy()
        n = ev[ev["crime_type"] == ctype]["location_id"].to_numpy()
        cnt = np.bincount(n, minlength=len(loc))
        est = (cnt[ok & exposed].sum() / p0[ok & exposed].sum()) / (
            cnt[ok & ~exposed].sum() / p0[ok & ~exposed].sum()
        )
        assert abs(np.log(est / rr)) < np.log(1.3), (rf_id, est, rr)


def test_trial_effect_visible(small_world):
    ev = _truth(small_world, "events")
    alloc = _truth(small_world, "trial_allocation")
    eff = _truth(small_world, "trial_effect")
    ev = ev[(ev["trial_unit_id"] != "") & (ev["parent_event_id"] < 0)]
    ev = ev.assign(date=ev["committed_at"].dt.floor("D"))
    c = ev.groupby(["h3_cell", "date"]).size().rename("n").reset_index()
    a = alloc.merge(c, on=["h3_cell", "date"], how="left").fillna({"n": 0})
    rates = a.groupby("arm")["n"].mean()
    irr = rates["patrol"] / rates["control"]
    true = eff["true_irr"].iloc[0]
    assert abs(irr - true) < 0.2, irr
    # Daily randomisation: each day half the units are treated.
    per_day = alloc.groupby("date")["arm"].apply(lambda s: (s == "patrol").sum())
    assert (per_day == len(alloc["unit_id"].unique()) // 2).all()


def test_near_repeats_and_time_cycles(small_world):
    ev = _truth(small_world, "events")
    kids = ev[ev["parent_event_id"] >= 0]
    assert len(kids) > 50
    par = ev.set_index("event_id").loc[kids["parent_event_id"]]
    d = np.hypot(
        kids["easting"].to_numpy() - par["easting"].to_numpy(),
        kids["northing"].to_numpy() - par["northing"].to_numpy(),
    )
    assert np.median(d) < 250
    assert (kids["committed_at"].to_numpy() > par["committed_at"].to_numpy()).all()
    vio = ev[ev["crime_type"] == "Violence and sexual offences"]
    hour = vio["committed_at"].dt.hour
    dow = vio["committed_at"].dt.day_of_week
    weekend_night = ((dow >= 5) & (hour <= 3)).sum() / 2
    weekday_night = ((dow <= 3) & (dow >= 1) & (hour <= 3)).sum() / 3
    assert weekend_night > 1.5 * weekday_night


def test_every_detectable_fault_is_in_truth(small_world):
    faults = _truth(small_world, "faults")
    listed = set(zip(faults["file"], faults["row_index"], strict=True))
    assert set(faults["fault_kind"]) == {
        "missing_field",
        "impossible_date",
        "coords_outside_force",
        "coords_swapped",
        "duplicate_row",
        "stray_encoding",
    }
    d = _read_csvs(small_world, "police", "occurrences", "*/*.csv")
    e = pd.to_numeric(d["easting"], errors="coerce")
    n = pd.to_numeric(d["northing"], errors="coerce")
    outside = ~((e > TV_BOX[0]) & (e < TV_BOX[2]) & (n > TV_BOX[1]) & (n < TV_BOX[3]))
    bad_date = pd.to_datetime(d["recorded_at"], errors="coerce", format="%Y-%m-%dT%H:%M:%S").isna()
    bad_date |= pd.to_datetime(
        d["committed_from"], errors="coerce", format="%Y-%m-%dT%H:%M:%S"
    ).isna()
    late = (pd.to_datetime(d["recorded_at"], errors="coerce") > pd.Timestamp("2026-01-01")) | (
        pd.to_datetime(d["committed_from"], errors="coerce") > pd.Timestamp("2026-01-01")
    )
    mojibake = d["location_text"].str.contains("Ã|â€|\ufffd|Â", regex=True)
    missing = (d[["offence_code", "location_text", "recorded_at"]] == "").any(axis=1)
    dup = d.duplicated(subset=[c for c in d.columns if c != "_row"], keep="first")
    detected = outside | bad_date | late | mojibake | missing | dup
    assert detected.sum() > 20
    rows = set(zip(d.loc[detected, "_file"], d.loc[detected, "_row"], strict=True))
    assert rows <= listed
    occ_faults = faults[faults["dataset"] == "occurrences"]
    assert set(zip(occ_faults["file"], occ_faults["row_index"], strict=True)) == rows
    # Clean rows stay clean: coordinates inside the force area's box.
    assert (~outside[~detected]).all()


def test_fault_rows_point_at_the_right_records(small_world):
    faults = _truth(small_world, "faults")
    for ds in ("nominals", "cin_referrals", "cad_incidents"):
        f = faults[faults["dataset"] == ds].head(50)
        for r in f.itertuples():
            data = pd.read_csv(small_world / r.file, dtype=str, keep_default_na=False)
            key = data.columns[0]
            assert data.iloc[r.row_index][key] == r.record_id


def test_gps_pings_and_activity(small_world):
    files = sorted((small_world / "landing/patrol/gps").rglob("*.parquet"))
    g = pd.read_parquet(files[0])
    assert str(g["ts"].dtype).startswith("datetime64[ms")
    one = g[g["device_id"] == g["device_id"].iloc[0]].drop_duplicates("ts")
    gaps = one["ts"].diff().dt.total_seconds().dropna()
    assert gaps.quantile(0.05) >= 5 - 1e-6 and gaps.median() <= 30
    assert (gaps > 60).any() or len(files) > 1
    visits = _truth(small_world, "patrol_visits")
    alloc = _truth(small_world, "trial_allocation")
    m = visits.merge(alloc, on=["unit_id", "date"])
    assert (m["arm"] == "patrol").all()
    assert len(visits) > 100


def test_world_json_lists_files(small_world):
    w = json.loads((small_world / "truth/world.json").read_text())
    assert w["seed"] == 7 and w["scale"] == "small"
    paths = {f["path"] for f in w["files"]}
    on_disk = {
        p.relative_to(small_world).as_posix()
        for p in small_world.rglob("*")
        if p.is_file() and p.name != "world.json"
    }
    assert paths == on_disk


_PARSERS = {
    "date": lambda s: pd.to_datetime(s, format="%Y-%m-%d", errors="coerce").notna(),
    "datetime": lambda s: pd.to_datetime(s, format="%Y-%m-%dT%H:%M:%S", errors="coerce").notna(),
    "int": lambda s: s.str.fullmatch(r"-?\d+"),
    "float": lambda s: pd.to_numeric(s, errors="coerce").notna(),
    "bool": lambda s: s.isin(["true", "false"]),
}


@pytest.mark.parametrize(
    "ds", [d for d in DATASETS if d.fmt == "csv"], ids=lambda d: f"{d.agency}/{d.dataset}"
)
def test_clean_rows_parse_as_documented_types(small_world, ds):
    faults = _truth(small_world, "faults")
    listed = set(zip(faults["file"], faults["row_index"], strict=True))
    d = _read_csvs(small_world, ds.agency, ds.dataset, ds.pattern)
    clean = ~pd.Series([(f, r) in listed for f, r in zip(d["_file"], d["_row"], strict=True)])
    checked = 0
    for col, typ in ds.columns:
        if typ not in _PARSERS:
            continue
        s = d.loc[clean.to_numpy(), col]
        s = s[s != ""]
        ok = _PARSERS[typ](s)
        assert ok.all(), (col, s[~ok].head().tolist())
        checked += 1
    assert (
        checked
        or ds.dataset in ("trial_units",)
        or all(t in ("str", "code") for _, t in ds.columns)
    )


def test_referential_integrity(small_world):
    faults = _truth(small_world, "faults")
    occ = _read_csvs(small_world, "police", "occurrences", "*/*.csv")
    nom = _read_csvs(small_world, "police", "nominals", "*/*.csv")
    links = _read_csvs(small_world, "police", "occurrence_nominals", "*/*.csv")
    blanked = set(faults.loc[faults["fault_kind"] == "missing_field", "record_id"])
    lk = links[~links["link_id"].isin(blanked)]
    assert lk["occurrence_ref"].isin(occ["occurrence_ref"]).all()
    assert lk["nominal_id"].isin(nom["nominal_id"]).all()
    cad = _read_csvs(small_world, "police", "cad_incidents", "*/*.csv")
    linked = cad.loc[cad["linked_occurrence_ref"] != "", "linked_occurrence_ref"]
    assert linked.isin(occ["occurrence_ref"]).all()
    ev = _truth(small_world, "events")
    street = _read_csvs(small_world, "police_uk", "street", "*.csv")
    assert len(street) == int(ev["reported"].sum())
    er = _truth(small_world, "event_records")
    istv = er[er["dataset"] == "istv_assaults"].merge(ev, on="event_id")
    assert (istv["crime_type"] == "Violence and sexual offences").all()
    assert (~istv["reported"]).mean() > 0.2  # A&E sees assaults the police never hear of


def test_hotspots_visible_in_raw_landing_counts(small_world):
    import h3

    from synthetic.geography import to_wgs84

    occ = _read_csvs(small_world, "police", "occurrences", "*/*.csv")
    e = pd.to_numeric(occ["easting"], errors="coerce")
    n = pd.to_numeric(occ["northing"], errors="coerce")
    ok = (e > TV_BOX[0]) & (e < TV_BOX[2]) & (n > TV_BOX[1]) & (n < TV_BOX[3])
    lon, lat = to_wgs84(e[ok].to_numpy(), n[ok].to_numpy())
    cells = pd.Series([h3.latlng_to_cell(a, b, 9) for a, b in zip(lat, lon, strict=True)])
    counts = cells.value_counts()
    hs = _truth(small_world, "hotspots")
    pers = counts.reindex(hs.loc[hs["kind"] == "persistent", "h3_cell"]).fillna(0)
    assert pers.min() > 4 * counts.mean()


@pytest.mark.parametrize(
    ("dataset", "kind", "key", "base", "digits"),
    [
        ("addresses", "address", "uprn", 100_000_000_000, 12),
        ("streets", "street", "usrn", 30_000_000, 8),
    ],
)
def test_reference_places_are_the_truth_locations(small_world, dataset, kind, key, base, digits):
    """The address and street gazetteers deliver exactly the truth's candidate points."""
    d = _read_csvs(small_world, "places", dataset, "*/*.csv")
    loc = _truth(small_world, "locations")
    loc = loc[loc["loc_class"] == kind].sort_values("ref_id")
    assert len(d) == len(loc) > 100
    assert d[key].str.fullmatch(rf"\d{{{digits}}}").all() and d[key].is_unique
    ref = d[key].astype(np.int64) - base
    assert (ref.to_numpy() == loc["ref_id"].to_numpy()).all()
    assert (d["easting"].astype(float).to_numpy() == loc["easting"].to_numpy()).all()
    assert (d["northing"].astype(float).to_numpy() == loc["northing"].to_numpy()).all()
    assert (d["lsoa_code"].to_numpy() == loc["lsoa_code"].to_numpy()).all()
    assert (d["postcode"] != "").all()
    faults = _truth(small_world, "faults")
    assert not faults["dataset"].eq(dataset).any()
    if dataset == "addresses":
        truth = _truth(small_world, "addresses")
        assert (d["address_line"].to_numpy() == truth["address_line"].to_numpy()).all()
        assert set(d["classification_code"]) == {"RD"}

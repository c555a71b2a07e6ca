"""The dbt project's reference data agrees with the Python contracts."""

import csv
import hashlib

import pytest
import yaml
from support import PUBLIC, REPO

from quality.contracts.police_uk import CRIME_TYPES, QUARANTINE_REASONS

DBT = REPO / "dbt_project"


def _seed(name):
    with open(DBT / "seeds" / f"{name}.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_harm_weight_seed_covers_every_category_and_matches_its_recorded_hash():
    rows = _seed("cchi_harm_weights")
    assert {r["crime_type"] for r in rows} == CRIME_TYPES
    meta = yaml.safe_load((DBT / "seeds" / "_seeds.yml").read_text())["seeds"][0]
    assert meta["name"] == "cchi_harm_weights"
    digest = hashlib.sha256((DBT / "seeds" / "cchi_harm_weights.csv").read_bytes()).hexdigest()
    assert meta["meta"]["sha256"] == digest, "weights changed: bump version and sha256"
    assert "licence" in meta["meta"] and "source" in meta["meta"]


def test_harm_weights_are_the_published_thames_valley_cchi_values():
    published = {}
    with open(PUBLIC / "harm_weights" / "cchi_2026_thames_valley_by_police_uk_category.csv") as f:
        for r in csv.DictReader(f):
            published[r["crime_type"]] = float(r["cchi_days"])
    seed = {r["crime_type"]: float(r["harm_weight_days"]) for r in _seed("cchi_harm_weights")}
    assert {k: seed[k] for k in published} == published
    assert seed["Anti-social behaviour"] == 1.0  # no CCHI value: the source's floor


def test_police_generated_flags():
    flagged = {
        r["crime_type"]
        for r in _seed("police_uk_crime_types")
        if r["is_police_generated"] == "true"
    }
    assert flagged == {"Drugs", "Possession of weapons"}


def test_quarantine_reasons_accepted_by_dbt_are_the_contracts():
    models = yaml.safe_load(
        (DBT / "models" / "staging" / "police_uk" / "_police_uk__models.yml").read_text()
    )["models"]
    (quarantine,) = [m for m in models if m["name"] == "stg_police_uk__quarantined_rows"]
    (reason,) = [c for c in quarantine["columns"] if c["name"] == "reason"]
    accepted = reason["data_tests"][1]["accepted_values"]["arguments"]["values"]
    assert set(accepted) == set(QUARANTINE_REASONS)


def _seed_meta(name):
    seeds = yaml.safe_load((DBT / "seeds" / "_seeds.yml").read_text())["seeds"]
    (meta,) = [s for s in seeds if s["name"] == name]
    return meta


@pytest.mark.parametrize("name", ["home_office_offence_codes", "ons_wards_2025"])
def test_reference_seeds_carry_source_licence_and_their_hash(name):
    meta = _seed_meta(name)["meta"]
    digest = hashlib.sha256((DBT / "seeds" / f"{name}.csv").read_bytes()).hexdigest()
    assert meta["sha256"] == digest, f"{name} changed: bump version and sha256"
    assert meta["licence"].strip() and meta["source"].strip()


def test_offence_code_seed_is_the_shipped_reference_with_police_uk_spelling():
    with open(PUBLIC / "reference" / "home_office_offence_codes_to_police_uk_category.csv") as f:
        shipped = list(csv.DictReader(f))
    seed = _seed("home_office_offence_codes")
    assert [{k: r[k] for k in shipped[0]} for r in seed] == shipped  # nothing added or dropped
    assert {r["crime_type"] for r in seed} <= CRIME_TYPES
    for r in seed:  # the category, spelled as police.uk publishes it
        shipped_name = (
            r["police_uk_category"].lower().replace("public order offences", "public order")
        )
        if shipped_name != "miscellaneous crimes":
            assert r["crime_type"].lower() == shipped_name, r
        else:
            assert r["crime_type"] == "Other crime"
    by_code = {r["offence_code"]: r["crime_type"] for r in seed}
    assert by_code["8N"] == "Violence and sexual offences"  # assault with injury
    assert by_code["28E"] == "Burglary"


def test_ward_seed_names_every_ward_of_the_national_pack():
    import pandas as pd

    pack = pd.read_parquet(
        PUBLIC / "boundaries" / "england_wales" / "ew_wards25_bng.parquet",
        columns=["wd25cd", "wd25nm"],
    )
    shipped = dict(zip(pack["wd25cd"], pack["wd25nm"], strict=True))
    seed = {r["ward_code"]: r["ward_name"] for r in _seed("ons_wards_2025")}
    assert seed == shipped and len(seed) == 7588

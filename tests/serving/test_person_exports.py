"""Person exports: real Dagster runs of the export assets over a real DuckDB warehouse."""

import hashlib
import json
import stat

import dagster as dg
import duckdb
import pandas as pd
import pytest

from assets.exports.publish import persons_analyst_export, persons_safeguarding_export
from config.resources import PlatformConfig
from config.settings import settings
from vrdp.governance.permissions import attach_restricted

KEYS = [hashlib.sha256(f"p{i}".encode()).hexdigest() for i in range(3)]


def build_warehouse(*, bridges: bool = True, leak: bool = False) -> None:
    """A warehouse with the person marts and the identity schema, as dbt shapes them."""
    path = settings().warehouse_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    settings().identity_db_path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    attach_restricted(con, settings().identity_db_path, read_only=False)
    con.execute("create schema marts; create schema restricted.identity")
    persons = pd.DataFrame(
        {
            "person_key": KEYS,
            "agencies_known_to": ["police", "police|nhs", "social_care"],
            "agency_count": [1, 2, 1],
            "is_known_to_nhs": [False, True, False],
            "last_seen_on": pd.to_datetime(["2025-01-01", "2025-06-30", "2025-03-01"]),
        }
    )
    if leak:  # a surname that slipped into the pseudonymised mart
        persons["surname"] = ["Smith", "Jones", "Brown"]
    con.register("persons", persons)
    con.execute("create table marts.dim_persons as select * from persons")
    if bridges:
        events = pd.DataFrame(
            {
                "person_key": [KEYS[0], KEYS[1], KEYS[1]],
                "event_key": [hashlib.md5(f"e{i}".encode()).hexdigest() for i in range(3)],
                "role": ["victim", "suspect", "victim"],
                "source": ["police_rms"] * 3,
                "person_event_key": [hashlib.md5(f"x{i}".encode()).hexdigest() for i in range(3)],
            }
        )
        con.register("events", events)
        con.execute("create table marts.bridge_person_events as select * from events")
    ident = pd.DataFrame(
        {
            "person_key": [KEYS[0], KEYS[1], KEYS[1], KEYS[2]],
            "record_uid": ["police:1", "police:2", "nhs:9", "social_care:4"],
            "forename": ["Ann", "Bob", "Robert", "Cy"],
            "surname": ["Smith", "Jones", "Jones", "Brown"],
            "date_of_birth": pd.to_datetime(["1990-01-01", "1985-05-05", "1985-05-05", None]),
            "postcode": ["OX1 1AA", "RG1 2BB", "RG1 2BB", None],
            "seen_on": pd.to_datetime(["2025-01-01", "2025-06-30", "2025-02-01", "2025-03-01"]),
        }
    )
    con.register("ident", ident)
    con.execute("create table restricted.identity.person_identifiers as select * from ident")
    con.close()


def materialize(*assets, raise_on_error=True):
    return dg.materialize(
        list(assets), resources={"platform": PlatformConfig()}, raise_on_error=raise_on_error
    )


def latest(*parts):
    return (settings().exports_dir.joinpath(*parts) / "latest").resolve()


def test_person_exports_published_apart_with_manifests(data_root):
    build_warehouse()
    result = materialize(persons_analyst_export, persons_safeguarding_export)
    assert result.success
    analyst = latest("persons_analyst")
    manifest = json.loads((analyst / "manifest.json").read_text())
    assert {f["name"]: f["rows"] for f in manifest["files"]} == {
        "persons.parquet": 3,
        "person_events.parquet": 3,
    }
    persons = pd.read_parquet(analyst / "persons.parquet")
    assert sorted(persons["person_key"]) == sorted(KEYS) and "surname" not in persons
    guarded = latest("restricted", "persons_safeguarding")
    ident = pd.read_parquet(guarded / "identities.parquet")
    assert len(ident) == 4 and set(ident["surname"]) == {"Smith", "Jones", "Brown"}
    assert guarded.parent.parent.name == "restricted"
    assert not (analyst / "identities.parquet").exists()
    for d in (guarded.parent.parent, guarded.parent, guarded):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    for f in guarded.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    # the same warehouse republishes the same versions (content-addressed)
    again = materialize(persons_analyst_export, persons_safeguarding_export)
    versions = {
        e.asset_key.path[-1]: (
            e.materialization.metadata["version"].value,
            e.materialization.metadata["created_new_version"].value,
        )
        for e in again.get_asset_materialization_events()
    }
    assert versions["persons_analyst_export"] == (analyst.name, False)
    assert versions["persons_safeguarding_export"] == (guarded.name, False)


def test_analyst_export_without_bridges_has_persons_only(data_root):
    build_warehouse(bridges=False)
    assert materialize(persons_analyst_export).success
    names = {p.name for p in latest("persons_analyst").iterdir()}
    assert names == {"manifest.json", "persons.parquet"}


def test_analyst_export_refuses_identifiers_and_keeps_the_old_version(data_root):
    build_warehouse()
    assert materialize(persons_analyst_export).success
    before = latest("persons_analyst")
    build_warehouse(leak=True)
    result = materialize(persons_analyst_export, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "column 'surname' looks personal" in str(failure.event_specific_data.error)
    assert latest("persons_analyst") == before  # nothing published
    folders = [p for p in before.parent.iterdir() if p.name != "latest"]
    assert folders == [before]  # no staging folder left behind


def test_key_columns_must_hold_pseudonyms(tmp_path):
    from exports.persons import analyst_view_findings

    pd.DataFrame(
        {
            "person_key": [KEYS[0], "Ann Smith"],
            "event_key": [KEYS[1], "9434765919"],
            # dim_places tags address place keys with their kind: still a pseudonym
            "place_key": ["address:" + KEYS[0], "address:OX4 3LE"],
        }
    ).to_parquet(tmp_path / "p.parquet")
    found = analyst_view_findings(tmp_path)
    assert found == [
        "p.parquet.person_key: 1 value(s) are not keyed pseudonyms",
        "p.parquet.event_key: 1 value(s) are not keyed pseudonyms",
        "p.parquet.place_key: 1 value(s) are not keyed pseudonyms",
    ]


@pytest.mark.parametrize("missing", ["marts.dim_persons", "restricted.identity.person_identifiers"])
def test_missing_relations_are_named(data_root, missing):
    from exports.persons import read_analyst_view, read_safeguarding_view

    build_warehouse()
    con = duckdb.connect(str(settings().warehouse_path))
    attach_restricted(con, settings().identity_db_path, read_only=False)
    con.execute(f"drop table {missing}")
    with pytest.raises(LookupError, match=missing):
        (read_analyst_view if missing.startswith("marts") else read_safeguarding_view)(con)
    con.close()

"""Issue 16: the lost-subject search on the small world, through the real read API.

The restricted export is built from the test warehouse by its asset; the API runs
as a real uvicorn server; every call is checked in the hash-chained audit log.
"""

import json

import dagster as dg
import httpx
import pandas as pd
import pytest
from support import apply_env
from surface_support import api_server
from warehouse_support import read_warehouse

from assets.soc.lost_subject import LOST_SUBJECT_KEY, lost_subject_export
from assets.warehouse.dbt import warehouse_dbt_assets
from orchestration.definitions import build_defs
from serving.api.audit import read_audit, verify_audit

TOKENS = {
    "tok-surveil-000000001": {"user": "ds.one", "role": "surveillance", "team": "surv-1"},
    "tok-officer-000000001": {"user": "pc.one", "role": "officer", "team": "a"},
    "tok-analyst-000000001": {"user": "an.one", "role": "analyst", "team": None},
    "tok-safeguard-0000001": {"user": "sg.one", "role": "safeguarding", "team": None},
    "tok-admin-00000000001": {"user": "ad.one", "role": "admin", "team": None},
}
TOKEN = {v["role"]: k for k, v in TOKENS.items()}
PURPOSE = {"X-Purpose": "operation KESTREL: subject lost on foot, authority ref 42"}
PATH = "/v1/surveillance/lost-subject"
#: the SOC source models the warehouse fixture does not build
SOC_MODELS = [
    ("staging", "stg_soc__chb_sites"),
    ("staging", "stg_soc__disruptions"),
    ("intermediate", "int_chb_site_phases"),
    ("intermediate", "int_disruptions"),
    ("marts", "dim_chb_site_phases"),
    ("marts", "fct_disruptions"),
]


@pytest.fixture(scope="module")
def api(warehouse):
    """The lost-subject export built from the small world's warehouse, served by the API."""
    root = warehouse["root"]
    mp = pytest.MonkeyPatch()
    apply_env(mp, warehouse["env"])
    keys = [dg.AssetKey(list(k)) for k in SOC_MODELS]
    result = dg.materialize(
        [warehouse_dbt_assets(), lost_subject_export],
        selection=dg.AssetSelection.assets(*keys, LOST_SUBJECT_KEY),
        instance=warehouse["instance"],
        resources=build_defs().resources,
    )
    assert result.success
    with api_server(root, TOKENS) as url:
        yield url, root
    mp.undo()


def _get(url, role, params, headers=PURPOSE):
    auth = {"Authorization": f"Bearer {TOKEN[role]}"} if role else {}
    return httpx.get(url + PATH, params=params, headers={**auth, **headers}, timeout=30)


def _soc_point(root, category_sql):
    return read_warehouse(
        root,
        "select latitude, longitude, occurred_on, soc_category, event_type"
        f" from marts.fct_soc_events where {category_sql} and latitude is not null"
        " order by occurred_on desc, event_key limit 1",
    ).iloc[0]


def test_refused_to_other_roles_and_every_call_audited(api):
    url, root = api
    ev = _soc_point(root, "event_type = 'intelligence'")
    ok = {"lat": ev["latitude"], "lon": ev["longitude"], "at": str(ev["occurred_on"])}
    audit = root / "audit" / "api_audit.jsonl"
    before = len(read_audit(audit))
    statuses = [_get(url, None, ok).status_code]
    statuses += [_get(url, r, ok).status_code for r in ("officer", "analyst", "safeguarding")]
    statuses += [_get(url, "admin", ok).status_code]
    statuses.append(_get(url, "surveillance", ok, headers={}).status_code)  # no purpose
    statuses.append(_get(url, "surveillance", {**ok, "lat": "north"}).status_code)
    statuses.append(_get(url, "surveillance", {**ok, "radius_m": "99999"}).status_code)
    statuses.append(_get(url, "surveillance", {"lat": ok["lat"], "lon": ok["lon"]}).status_code)
    r = _get(url, "surveillance", ok)
    statuses.append(r.status_code)
    assert statuses == [401, 403, 403, 403, 403, 422, 422, 422, 422, 200], r.text
    rows = read_audit(audit)[before:]
    assert [row["outcome"] for row in rows] == statuses
    last = rows[-1]
    assert last["user"] == "ds.one" and last["purpose"] == PURPOSE["X-Purpose"]
    assert last["query"]["lat"] == str(ok["lat"]) and last["export_version"]
    assert last["row_ids"]["places_of_interest.parquet"] == [
        p["place_id"] for p in r.json()["places"]
    ]
    assert rows[1]["role"] == "officer" and rows[6]["detail"].startswith("lat must be")
    assert verify_audit(audit) == []
    assert r.json()["lawful_bases"]["sources"]


def test_results_nearest_first_with_reasons_and_grading(api):
    url, root = api
    ev = _soc_point(root, "event_type = 'intelligence' and soc_category = 'county_lines'")
    at = (pd.Timestamp(ev["occurred_on"]) + pd.Timedelta(days=1)).isoformat()
    r = _get(url, "surveillance", {"lat": ev["latitude"], "lon": ev["longitude"], "at": at})
    assert r.status_code == 200, r.text
    body = r.json()
    places = body["places"]
    assert places and body["count"] == len(places)
    d = [p["distance_m"] for p in places]
    assert d == sorted(d) and d[-1] <= 400
    first = places[0]
    assert first["distance_m"] <= 1
    assert any(x.startswith("intelligence: county lines on") for x in first["reasons"])
    assert any(", graded " in x for x in first["reasons"]) == (first["best_grading"] is not None)
    # nothing from after the time the subject was lost
    assert all(p["last_activity_on"] <= at[:10] for p in places)
    # the planted county lines show several kinds of place around the point
    kinds = {k for p in places for k in p["kinds"].split("|")}
    assert "soc_intelligence" in kinds


def test_chb_sites_and_known_addresses_without_identifiers(api):
    url, root = api
    chb = read_warehouse(
        root, "select * from marts.dim_chb_site_phases order by phase_start, site_id limit 1"
    ).iloc[0]
    at = (pd.Timestamp(chb["phase_start"]) + pd.Timedelta(days=3)).isoformat()
    r = _get(url, "surveillance", {"lat": chb["latitude"], "lon": chb["longitude"], "at": at})
    assert r.status_code == 200
    site = [p for p in r.json()["places"] if p["place_id"] == f"chb:{chb['site_id']}"]
    assert site and site[0]["distance_m"] == 0 and chb["phase"] in " ".join(site[0]["reasons"])
    # a perpetrator's address: its cell centre, a pseudonymous key, no address text
    perp = read_warehouse(
        root,
        "select pp.place_key, pp.person_key, pp.valid_from, pl.h3_cell, a.address_line,"
        " a.postcode from marts.bridge_person_events be"
        " join marts.fct_soc_events se on be.event_key = se.event_key"
        " join marts.bridge_person_places pp on be.person_key = pp.person_key"
        " join marts.dim_places pl on pp.place_key = pl.place_key"
        " join restricted.identity.address_places a on a.place_key = pp.place_key"
        " where be.role in ('suspect', 'offender', 'subject') and pl.h3_cell is not null"
        " and pp.valid_to is null order by pp.place_key limit 1",
    )
    assert len(perp), "the small world has people linked to SOC events with addresses"
    p = perp.iloc[0]
    import h3

    lat, lon = h3.cell_to_latlng(p["h3_cell"])
    r = _get(url, "surveillance", {"lat": lat, "lon": lon, "at": "2026-01-01", "radius_m": 50})
    body = r.json()
    addr = [x for x in body["places"] if x["place_id"] == f"addr:{p['place_key']}"]
    assert addr and "known_address" in addr[0]["kinds"]
    assert addr[0]["location_precision_m"] > 100
    assert any(x.startswith("known address of a person recorded as") for x in addr[0]["reasons"])
    text = json.dumps(body).upper()
    assert p["address_line"].upper() not in text and p["postcode"].upper() not in text
    # every person listed has a perpetrator role on a SOC event (never a victim only)
    listed = {k for x in body["places"] for k in x["linked_person_keys"]}
    roles = read_warehouse(
        root,
        "select distinct be.person_key from marts.bridge_person_events be"
        " join marts.fct_soc_events se on be.event_key = se.event_key"
        " where be.role in ('suspect', 'offender', 'subject')",
    )
    assert listed and listed <= set(roles["person_key"])
    # the same place found from its postcode (the locator's postcode centroids)
    r = _get(url, "surveillance", {"postcode": p["postcode"].lower(), "at": "2026-01-01"})
    assert r.status_code == 200 and r.json()["point"]["located_as"]
    assert _get(url, "surveillance", {"postcode": "ZZ9 9ZZ", "at": "2026-01-01"}).status_code == 404

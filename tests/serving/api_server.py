"""A real uvicorn server on 127.0.0.1 over a temporary data root with a hand-built export."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import h3
import httpx
import pandas as pd
import pytest

from exports.format import ExportFile, publish_export

REPO = Path(__file__).resolve().parents[2]
ORIGIN = (51.7520, -1.2577)  # Carfax, Oxford
TOKENS = {
    "tok-officer-0000000001": {"user": "pc.one", "role": "officer", "team": "oxford-a"},
    "tok-analyst-0000000001": {"user": "an.one", "role": "analyst", "team": None},
    "tok-safeguard-00000001": {"user": "sg.one", "role": "safeguarding", "team": None},
    "tok-admin-000000000001": {"user": "ad.one", "role": "admin", "team": None},
}
TOKEN = {v["role"]: k for k, v in TOKENS.items()}
TODAY = "2025-12-01"


def hotspot_rows(offsets) -> pd.DataFrame:
    """Hot spot rows at cell centres near ORIGIN; ``offsets`` in degrees (dlat, dlon)."""
    rows = []
    for i, (dlat, dlon) in enumerate(offsets, start=1):
        cell = h3.latlng_to_cell(ORIGIN[0] + dlat, ORIGIN[1] + dlon, 9)
        lat, lon = h3.cell_to_latlng(cell)
        rows.append(
            {
                "rank": i,
                "h3_cell": cell,
                "h3_resolution": 9,
                "harm_days": 1000.0 / i,
                "events": 50 // i,
                "main_crime_types": "Violence and sexual offences; Robbery",
                "ward_name": "Carfax & Jericho",
                "latitude": lat,
                "longitude": lon,
                "window_start": "2025-10-01",
                "window_end": "2025-12-01",
            }
        )
    return pd.DataFrame(rows)


OFFSETS = [(0.002, 0.0), (0.0, 0.005), (-0.004, -0.004), (0.05, 0.05)]


def publish(exports_dir: Path, df: pd.DataFrame, *, extra: list[ExportFile] = (), as_of="2025-12"):
    files = [
        ExportFile("top_harm_cells.parquet", len(df), lambda p: df.to_parquet(p, index=False)),
        *extra,
    ]
    return publish_export(exports_dir, files, as_of=as_of, parameters={"n": len(df)})


def risk_file() -> ExportFile:
    cells = [h3.latlng_to_cell(ORIGIN[0] + d, ORIGIN[1] - d, 9) for d in (0.001, 0.003, 0.006)]
    feats = []
    for i, c in enumerate(cells):
        ring = [[lng, lat] for lat, lng in h3.cell_to_boundary(c)]
        feats.append(
            {
                "type": "Feature",
                "properties": {"rrs": 1.0 + i, "high_risk": i == 2, "event_count": i},
                "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            }
        )
    doc = {"type": "FeatureCollection", "features": feats}
    return ExportFile("risk_terrain.geojson", 3, lambda p: p.write_text(json.dumps(doc)))


#: keyed pseudonyms as the warehouse writes them (hex digests)
PERSON_1 = hashlib.sha256(b"person one").hexdigest()
PERSON_2 = hashlib.sha256(b"person two").hexdigest()


def publish_person_exports(exports_dir: Path):
    """The analyst and safeguarding person exports, published as the assets do."""
    from exports.persons import publish_analyst_view, publish_safeguarding_view

    persons = pd.DataFrame(
        {
            "person_key": [PERSON_1, PERSON_2],
            "agencies_known_to": ["police|social_care", "nhs"],
            "agency_count": [2, 1],
            "is_known_to_nhs": [False, True],
            "has_safeguarding_concern": [True, False],
            "last_seen_on": pd.to_datetime(["2025-11-20", "2025-10-02"]),
        }
    )
    events = pd.DataFrame(
        {
            "person_key": [PERSON_1, PERSON_1, PERSON_2],
            "event_key": [hashlib.md5(f"e{i}".encode()).hexdigest() for i in range(3)],
            "role": ["victim", "suspect", "patient"],
            "source": ["police_rms", "police_rms", "nhs_istv"],
            "person_event_key": [hashlib.md5(f"pe{i}".encode()).hexdigest() for i in range(3)],
        }
    )
    identities = pd.DataFrame(
        {
            "person_key": [PERSON_1, PERSON_1, PERSON_2],
            "record_uid": ["police:N1", "social_care:C7", "nhs:S3"],
            "agency": ["police", "social_care", "nhs"],
            "forename": ["Alex", "Alex", "Sam"],
            "surname": ["Example", "Example", "Sample"],
            "date_of_birth": pd.to_datetime(["1990-01-01", "1990-01-01", "2001-02-03"]),
            "postcode": ["OX1 1AA", "OX1 1AA", "RG1 2BB"],
            "nhs_number": [None, None, "9434765919"],
        }
    )
    analyst = publish_analyst_view(
        exports_dir, {"persons.parquet": persons, "person_events.parquet": events}
    )
    safeguarding = publish_safeguarding_view(exports_dir, identities)
    return analyst, safeguarding


def publish_partnership_exports(exports: Path):
    """The restricted partnership and cohort exports, published as the partner assets do."""
    timeline = pd.DataFrame(
        {
            "person_event_key": ["pe1", "pe2", "pe3", "pe4"],
            "person_key": [PERSON_1, PERSON_1, PERSON_1, PERSON_2],
            "event_key": ["e1", "e2", "e3", "e4"],
            "occurred_on": pd.to_datetime(["2025-03-01", "2025-05-02", "2025-06-03", "2025-01-01"]),
            "agency": ["police", "police", "social_care", "nhs"],
            "source_system": ["police_rms", "police_rms", "social_care", "nhs_safeguarding"],
            "event_type": ["crime", "crime", "referral", "referral"],
            "offence_code": ["8N", "8N", None, None],
            "crime_type": ["Violence and sexual offences"] * 2 + [None, None],
            "harm_weight_days": [30.0, 30.0, None, None],
            "is_violence": [True, True, False, False],
            "role": ["victim", "suspect", "referred child", "patient"],
            "is_child_at_event": [True, True, True, False],
            "ward_code": ["E05000001"] * 4,
            "ward_name": ["Carfax & Jericho"] * 4,
            "side": ["victimisation", "offending", "contact", "contact"],
        }
    )
    listed = pd.DataFrame(
        {
            "person_key": [PERSON_1],
            "agencies_known_to": ["police|social_care"],
            "agency_count": [2],
            "last_event_on": pd.to_datetime(["2025-06-03"]).date,
            "rule_ids": ["child_victim_open_to_social_care"],
            "reasons": [
                "victim of violence as a child in the last 90 days and known to "
                "children's social care"
            ],
            "rules_version": [1],
            "as_of": pd.to_datetime(["2025-06-30"]).date,
        }
    )
    rules = json.dumps({"version": 1, "rules": [{"id": "child_victim_open_to_social_care"}]})
    publish_export(
        exports / "restricted" / "partnership",
        [
            ExportFile("timeline.parquet", 4, lambda p: timeline.to_parquet(p, index=False)),
            ExportFile(
                "safeguarding_opportunities.parquet", 1, lambda p: listed.to_parquet(p, index=False)
            ),
            ExportFile("safeguarding_rules.json", 1, lambda p: p.write_text(rules)),
        ],
        as_of="2025-06-30",
        parameters={},
        restricted=True,
    )
    cohort = pd.DataFrame({"person_key": [PERSON_1], "rank": [1], "victim_risk": [0.4]})
    card = json.dumps({"model": "early_intervention_victim", "excluded_fields": ["ethnicity"]})
    files = []
    for kind in ("victim", "perpetration"):
        files.append(
            ExportFile(f"{kind}_cohort.parquet", 1, lambda p: cohort.to_parquet(p, index=False))
        )
        files.append(ExportFile(f"{kind}_model_card.json", 1, lambda p: p.write_text(card)))
    publish_export(
        exports / "restricted" / "cohorts",
        files,
        as_of="2025-06-30",
        parameters={},
        restricted=True,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data_root: Path, extra_env: dict | None = None) -> None:
        self.data_root = data_root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "VRDP_DATA_ROOT": str(data_root),
            "VRDP_API_TOKENS": json.dumps(TOKENS),
            "VRDP_API_HOST": "127.0.0.1",
            "VRDP_API_PORT": str(self.port),
            "VRDP_API_TODAY": TODAY,
            "VRDP_API_MAX_GPS_PINGS": "50",
            "VRDP_API_MAX_BODY_BYTES": "200000",
        }
        env.pop("VRDP_API_DEMO_TOKENS", None)
        env.update(extra_env or {})
        self.log = data_root / "server.log"
        data_root.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "serving.api"],
            cwd=REPO,
            env=env,
            stdout=open(self.log, "wb"),  # noqa: SIM115 (closed with the process)
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def client(self, role: str | None = None, **kw) -> httpx.Client:
        headers = {"Authorization": f"Bearer {TOKEN[role]}"} if role else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10, **kw)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def write_ward_layer(root: Path) -> None:
    """The demo force's wards where the ``geography/wards_boundaries`` asset writes them."""
    import geopandas as gpd

    out = root / "lake" / "geography" / "wards_boundaries.parquet"
    if out.exists():
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    wards = gpd.read_file(
        REPO / "public_data/boundaries/thames_valley/thames_valley_wards_2025.geojson"
    )
    wards[["WD25CD", "WD25NM", "LAD25CD", "LAD25NM", "geometry"]].to_parquet(out)
    # the force area the geography assets record (the API's area check reads its box)
    import json

    from config.demo import DEMO_WORLD_BOX_BNG

    (out.parent / "force_area.json").write_text(json.dumps({"box_bng": DEMO_WORLD_BOX_BNG}))


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("api") / "data"
    write_ward_layer(root)
    publish(root / "exports", hotspot_rows(OFFSETS), extra=[risk_file()])
    publish_person_exports(root / "exports")
    publish_partnership_exports(root / "exports")
    srv = Server(root)
    yield srv
    srv.stop()


@pytest.fixture
def start_server():
    started = []

    def start(root: Path, **env) -> Server:
        write_ward_layer(root)
        srv = Server(root, env)
        started.append(srv)
        return srv

    yield start
    for s in started:
        s.stop()


def recent(minutes_ago: float) -> str:
    """A Europe/London wall time ``minutes_ago`` before the real clock (patrol posts are
    refused more than a day from the server clock)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo("Europe/London")).replace(tzinfo=None, microsecond=0)
    return (now - timedelta(minutes=minutes_ago)).isoformat()

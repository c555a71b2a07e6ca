"""The OpenAPI document against a real server, checked by schemathesis; /docs offline.

schemathesis (the CLI, every check) generates requests from ``/openapi.json``
and checks each answer: status documented, content type, response schema,
headers, no 5xx, invalid input rejected. A bounded number of examples per
operation keeps it to seconds.

``positive_data_acceptance`` (schema-valid input must be accepted) is off for
five operations whose rules span fields and cannot be said in OpenAPI: a visit
of at most 12 hours and no timestamps in the future (the two uploads), lat and
lon together or neither (random), two identifiers or one strong one (person
search), a safeguarding review of "no action" needs a reason. Each of those rules
has its own test in test_api_*.py.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from api_server import TOKEN

ST = Path(sys.executable).with_name("st")
CROSS_FIELD = (
    "/v1/patrols/activity",
    "/v1/patrols/gps",
    "/v1/taskings/random",
    "/v1/persons",
    "/v1/partners/safeguarding/opportunities/{person_key}/review",
)


def _config(tmp_path: Path) -> Path:
    lines = []
    for path in CROSS_FIELD:
        lines += [
            "[[operations]]",
            f'include-path = "{path}"',
            "checks.positive_data_acceptance.enabled = false",
            "",
        ]
    cfg = tmp_path / "schemathesis.toml"
    cfg.write_text("\n".join(lines))
    return cfg


@pytest.mark.parametrize("role", ["admin", "safeguarding"])
def test_schemathesis_finds_no_violation(server, tmp_path, role):
    cmd = [
        str(ST),
        "--config-file",
        str(_config(tmp_path)),
        "run",
        f"{server.url}/openapi.json",
        "--header",
        f"Authorization: Bearer {TOKEN[role]}",
        "--max-examples",
        "8",
        "--seed",
        "22",
        "--phases",
        "examples,coverage,fuzzing",
        "--no-color",
    ]
    out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    report = out.stdout + out.stderr
    assert out.returncode == 0, report[-6000:]
    tested = re.search(r"Tested: (\d+)", report)
    assert tested and int(tested.group(1)) >= 12, report[-3000:]


def test_openapi_declares_bearer_problems_and_models(server):
    doc = httpx.get(server.url + "/openapi.json").json()
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    nearby = doc["paths"]["/v1/hotspots/nearby"]["get"]
    assert nearby["security"] == [{"bearerAuth": []}]
    ok = nearby["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] == {"$ref": "#/components/schemas/NearbyOut"}
    assert ok["example"]["items"][0]["compass"] == "NE"
    for status in ("401", "403", "414", "422", "500", "503"):
        content = nearby["responses"][status]["content"]
        assert list(content) == ["application/problem+json"], status
    assert all(p.get("description") for p in nearby["parameters"])
    gps = doc["paths"]["/v1/patrols/gps"]["post"]
    key = next(p for p in gps["parameters"] if p["name"].lower() == "idempotency-key")
    assert key["in"] == "header" and key["required"] and "409" in key["description"]
    assert "409" in gps["responses"] and "201" in gps["responses"]
    assert "security" not in doc["paths"]["/v1/health"]["get"]


def test_docs_page_loads_only_local_assets(server):
    html = httpx.get(server.url + "/docs").text
    srcs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert srcs and all(s.startswith("/docs/static/") for s in srcs), srcs
    for s in srcs:
        r = httpx.get(server.url + s)
        assert r.status_code == 200 and len(r.content) > 500, s
    assert "persistAuthorization" in html


def _raw(port: int, request: bytes) -> tuple[str, dict, bytes]:
    """Send bytes as they are (httpx refuses URLs over 64 kB) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


@pytest.mark.parametrize("size", [9_000, 100_000])
def test_long_query_string_is_a_problem(server, size):
    url = b"/v1/health?x=" + b"a" * size
    status, headers, body = _raw(
        server.port, b"GET " + url + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert status.startswith("HTTP/1.1 414 "), status
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 414


def test_malformed_request_is_a_problem(server):
    status, headers, body = _raw(server.port, b"BREW /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status.startswith("HTTP/1.1 400 "), status
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["title"] == "Bad Request"

import os
import re
import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--virtual-time-budget=5000",
]


# On a developer's machine without Chromium the test skips; in CI (.ci/run installs
# Chromium) a missing browser is a failure, never a silent skip.
@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="chromium not installed (apt-get install chromium)",
)
def test_map_renders_layers_in_headless_chromium(server, tmp_path):
    with server.client("officer") as c:
        url = server.url + c.post("/v1/map/ticket").json()["url"]
        html = c.get("/map").text
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    assert 'src="/map/static/leaflet/leaflet.js"' in html
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [*cmd, "--dump-dom", url], capture_output=True, text=True, timeout=60
    ).stdout
    assert 'data-ready="yes"' in dom, dom[-2000:]
    counts = {
        k: len(re.findall(rf'<path class="[^"]*vrdp-{k}\b', dom))
        for k in ("hotspot", "ward", "risk", "tasking")
    }
    assert counts["hotspot"] == 4 and counts["tasking"] == 4 and counts["risk"] == 3
    assert counts["ward"] > 200  # Thames Valley wards
    assert "leaflet-control-layers" in dom
    shot = tmp_path / "map.png"
    subprocess.run(
        [*cmd, "--window-size=1200,800", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=60,
    )
    assert shot.exists() and shot.stat().st_size > 10_000
    shutil.copy(shot, server.data_root / "map.png")


def test_bad_ticket_needs_token(server):
    with server.client() as c:
        assert c.get("/map", params={"ticket": "forged"}).status_code == 401


def test_exported_map_is_self_contained(server, tmp_path):
    from serving.map import write_map

    out = write_map(
        server.data_root / "exports" / "latest", tmp_path / "map.html", day="2025-12-01"
    )
    text = out.read_text()
    assert "L.geoJSON" in text and "vrdp-hotspot" in text
    assert "<script src=" not in text and "<link rel=" not in text  # Leaflet inlined

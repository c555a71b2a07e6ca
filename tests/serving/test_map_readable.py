"""The map as officers read it, in headless Chromium: basemap setting, streets, legend,
first view on the force, risk visible at force scale, ward and places in popups,
tasking dots opening their briefing, plain layer names. Screenshots are kept."""

import re
import shutil
import subprocess

import pytest
from test_map_chromium import CHROMIUM, FLAGS, chromium_dom, tasking_world

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")


def test_map_reads_for_an_officer(tmp_path, start_server):
    root = tmp_path / "data"
    cells = tasking_world(root)
    tiles = "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"
    srv = start_server(root, VRDP_MAP_TILE_URL=tiles, VRDP_MAP_TILE_ATTRIBUTION="Force tiles")
    with srv.client("officer") as c:
        url = srv.url + c.post("/v1/map/ticket").json()["url"]

    first = chromium_dom(url, tmp_path / "p0")
    assert 'data-ready="yes"' in first, first[-2000:]
    # the first view is the whole force (Thames Valley: zoom 8-9 in a default window)
    zoom = int(re.search(r'data-zoom="(\d+)"', first).group(1))
    assert zoom <= 10, zoom
    # the basemap comes from the configured tile server
    assert re.search(r'<img [^>]*src="http://127\.0\.0\.1:9/tiles/\d+/\d+/\d+\.png"', first)
    assert "Force tiles" in first
    # offline streets, a legend, plain layer names, a plain header
    assert len(re.findall(r'<path class="[^"]*vrdp-street\b', first)) > 1000
    assert "vrdp-legend" in first and "Hot spot: most harm" in first
    for name in ("Streets", "Ward boundaries", "Risky places (risk terrain)",
                 "Hot spots (tap for the briefing)", "Today's patrols"):  # fmt: skip
        assert f"<span> {name}</span>" in first, name
    assert "risk layer: near" in first and "lake:" not in first.split("<body")[1][:400]
    # risk cells keep a 3 px stroke: visible at force scale
    risk = re.findall(r'<path class="[^"]*vrdp-risk[^"]*"[^>]*stroke-width="3"', first)
    assert len(risk) == 4

    # a hot spot popup names its ward (found from the wards: the tasking has none) and
    # the named places within 300 m (OSM points of interest of central Oxford)
    opened = chromium_dom(f"{url}#hotspot={cells[0]}", tmp_path / "p1")
    popup = re.search(r'<div class="vrdp-briefing" data-hotspot="[0-9a-f]+">(.*?)</div>', opened)
    assert popup and "Ward: Carfax &amp; Jericho" in popup.group(1), popup and popup.group(1)
    assert "Near: Balliol College, Trinity College" in popup.group(1)
    assert "<b>Hot spot: Carfax &amp; Jericho near Balliol College" in popup.group(1)

    # a tasking dot opens the same briefing
    dot = chromium_dom(f"{url}#tasking={cells[2]}", tmp_path / "p2")
    popup = re.search(r'<div class="vrdp-briefing" data-hotspot="([0-9a-f]+)">(.*?)</div>', dot)
    assert popup and popup.group(1) == cells[2] and "Briefing 2:" in popup.group(2)

    shots = {}
    for name, target in (("force", url), ("briefing", f"{url}#hotspot={cells[0]}")):
        shot = tmp_path / f"map_{name}.png"
        subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / name}", "--window-size=1200,800",
             f"--screenshot={shot}", target],
            capture_output=True, timeout=90,
        )  # fmt: skip
        assert shot.exists() and shot.stat().st_size > 20_000
        shots[name] = shot
    for shot in shots.values():
        shutil.copy(shot, root / shot.name)

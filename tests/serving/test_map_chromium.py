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
    # risk cells drawn: the elevated ones only (scores 2 and 3; the cell at 1.0 is not)
    assert counts["hotspot"] == 4 and counts["tasking"] == 4 and counts["risk"] == 2
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
    from exports.map import write_map

    out = write_map(
        server.data_root / "exports" / "latest", tmp_path / "map.html", day="2025-12-01"
    )
    text = out.read_text()
    assert "L.geoJSON" in text and "vrdp-hotspot" in text
    assert "<script src=" not in text and "<link rel=" not in text  # Leaflet inlined


def chromium_dom(url: str, profile) -> str:
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90).stdout


def layer_counts(dom: str) -> dict:
    return {
        k: len(re.findall(rf'<path class="[^"]*vrdp-{k}\b', dom))
        for k in ("hotspot", "ward", "risk", "tasking", "community")
    }


def tasking_world(root):
    """A tasking export shaped like the patrol asset's (4 patrol cells, 1 control) and
    two lake risk terrain layers: one around the hot spots, one far away."""
    import json

    import h3
    import pandas as pd
    from api_server import ORIGIN, hotspot_rows, publish

    from exports.format import ExportFile, publish_export

    offsets = [(0.002, 0.0), (0.0, 0.005), (-0.004, -0.004), (0.003, -0.006), (-0.002, 0.004)]
    cells = [h3.latlng_to_cell(ORIGIN[0] + a, ORIGIN[1] + b, 9) for a, b in offsets]

    def wkt(cell):
        ring = [(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]
        ring.append(ring[0])
        return "POLYGON ((" + ", ".join(f"{x} {y}" for x, y in ring) + "))"

    table = pd.DataFrame(
        {
            "hotspot_id": cells,
            "h3_cell": cells,
            "date": ["2025-11-28"] * 5,
            "centre_latitude": [h3.cell_to_latlng(c)[0] for c in cells],
            "centre_longitude": [h3.cell_to_latlng(c)[1] for c in cells],
            "patrol_windows": ["Fri 22:00-Sat 01:00"] * 5,
            "arm": ["patrol"] * 4 + ["control"],
            "tasked": [True] * 4 + [False],
            "target_minutes": [90.0] * 5,
            "geofence_wkt": [wkt(c) for c in cells],
        }
    )
    briefs = [{"hotspot_id": c, "text": f"Briefing {i}: violence peaks late Friday"}
              for i, c in enumerate(cells)]  # fmt: skip
    publish(root / "exports", hotspot_rows(offsets))
    publish_export(
        root / "exports" / "patrol_tasking",
        [
            ExportFile("tasking.parquet", 5, lambda p: table.to_parquet(p, index=False)),
            ExportFile("briefings.json", 5, lambda p: p.write_text(json.dumps(briefs))),
        ],
        as_of="2025-11-28",
        parameters={},
    )

    def layer(centre, scores):
        feats = []
        for i, rrs in enumerate(scores):
            c = h3.latlng_to_cell(centre[0] + 0.001 * i, centre[1] - 0.001 * i, 10)
            ring = [[lng, lat] for lat, lng in h3.cell_to_boundary(c)]
            props = {"rrs": rrs, "high_risk": rrs >= 3, "event_count": i}
            geom = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
            feats.append({"type": "Feature", "properties": props, "geometry": geom})
        return {"type": "FeatureCollection", "features": feats}

    # public reports of feeling unsafe in the lake: 4 in the first hot spot's cell in the
    # 90 days before the tasking day, 2 in the second (under the map's 3), 5 after the day
    reports = pd.DataFrame(
        {
            "report_id": [f"SS{i:03d}" for i in range(11)],
            "submitted_at": pd.to_datetime(["2025-11-20 21:00"] * 6 + ["2025-11-29 21:00"] * 5),
            "category": ["Poor street lighting"] * 11,
            "free_text": ["SECRET FREE TEXT"] * 11,
            "h3_cell": [cells[0]] * 4 + [cells[1]] * 2 + [cells[2]] * 5,
        }
    )
    community = root / "lake" / "community" / "streetsafe_reports" / "2025-11"
    community.mkdir(parents=True)
    reports.to_parquet(community / "part-0.parquet")

    for name, centre, scores in [
        ("near", ORIGIN, [0.5, 0.8, 1.2, 1.5, 2.0, 3.0]),  # 4 elevated cells
        ("far", (52.04, -0.76), [2.0] * 10),  # Milton Keynes: no hot spot inside
    ]:
        d = root / "lake" / "risk_terrain" / name
        d.mkdir(parents=True)
        (d / "cells.geojson").write_text(json.dumps(layer(centre, scores)))
    return cells


@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="chromium not installed (apt-get install chromium)",
)
def test_tasking_map_served_and_exported_shows_all_layers(tmp_path, start_server, monkeypatch):
    root = tmp_path / "data"
    cells = tasking_world(root)
    srv = start_server(root)
    with srv.client("officer") as c:
        url = srv.url + c.post("/v1/map/ticket").json()["url"]
        assert c.get("/v1/version").json()["tasking_source"] == "tasking"
    served = chromium_dom(f"{url}#hotspot={cells[1]}", tmp_path / "p1")
    assert 'data-ready="yes"' in served, served[-2000:]
    # 4 patrol hot spots with their geofences (the control cell is never shown), the
    # latest tasking (none for "today", 2025-12-01, so 2025-11-28 is shown and said),
    # the 4 elevated risk cells of the layer around the hot spots, Thames Valley wards
    counts = layer_counts(served)
    assert counts["hotspot"] == 4 and counts["tasking"] == 4 and counts["risk"] == 4, counts
    # the community layer: one cell (4 reports before the day), counts only, no free text
    assert counts["community"] == 1 and "SECRET FREE TEXT" not in served, counts
    assert counts["ward"] > 200
    assert "no tasking for 2025-12-01" in served and "risk layer: near" in served
    popup = re.search(r'<div class="vrdp-briefing" data-hotspot="([0-9a-f]+)">(.*?)</div>', served)
    assert popup and popup.group(1) == cells[1]
    assert "Briefing 1: violence peaks late Friday" in popup.group(2)
    assert "Patrol windows: Fri 22:00-Sat 01:00" in popup.group(2)

    from exports.map import write_map

    monkeypatch.setenv("VRDP_DATA_ROOT", str(root))
    out = write_map(root / "exports" / "patrol_tasking" / "latest", tmp_path / "map.html",
                    day="2025-11-28")  # fmt: skip
    text = out.read_text()
    # nothing fetched from outside: Leaflet inlined, no tile server, no CDN
    assert "<script src=" not in text and "<link rel=" not in text
    assert not re.search(r"https?://[^\"' ]*\{[xyz]\}", text) and "unpkg" not in text
    exported = chromium_dom(f"file://{out}#hotspot={cells[0]}", tmp_path / "p2")
    assert 'data-ready="yes"' in exported, exported[-2000:]
    assert layer_counts(exported) == {**counts, "ward": layer_counts(exported)["ward"]}
    assert layer_counts(exported)["ward"] == counts["ward"]
    assert "no tasking for" not in exported and "tasking for 2025-11-28" in exported
    assert f'data-hotspot="{cells[0]}"' in exported and "Briefing 0:" in exported

"""Issue 19: officer answers carry the lawful bases of the export they come from."""

from api_server import OFFSETS, ORIGIN, TODAY, hotspot_rows

from exports.format import ExportFile, publish_export
from vrdp.governance.register import bases_for, load_register


def test_officer_endpoints_carry_the_exports_lawful_bases(tmp_path, start_server):
    root = tmp_path / "data"
    df = hotspot_rows(OFFSETS)
    bases = bases_for(load_register(), "hotspot_tasking")
    publish_export(
        root / "exports",
        [ExportFile("top_harm_cells.parquet", len(df), lambda p: df.to_parquet(p, index=False))],
        as_of="2025-12",
        parameters={"n": len(df)},
        lawful_bases=bases,
    )
    srv = start_server(root)
    with srv.client("officer") as c:
        near = c.get("/v1/hotspots/nearby", params={"lat": ORIGIN[0], "lon": ORIGIN[1]})
        today = c.get("/v1/taskings/today")
        first = near.json()["items"][0]["id"]
        brief = c.get(f"/v1/hotspots/{first}/briefing")
        doc = c.get("/openapi.json").json()
    assert near.status_code == 200 and today.status_code == 200, TODAY
    for r in (near, today, brief):
        got = r.json()["lawful_bases"]
        assert got == bases and got["sources"][0]["basis"]
    served = doc["components"]["schemas"]["NearbyOut"]["properties"]
    assert "lawful-basis register" in served["lawful_bases"]["description"]

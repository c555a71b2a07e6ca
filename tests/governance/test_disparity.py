"""Disparity report on a small hand-made area, and suppression of every partner-facing output."""

import json

import dagster as dg
import duckdb
import pandas as pd
import pytest

from assets.governance.disparity import disparity_report
from assets.governance.transparency import transparency_page
from config.resources import PlatformConfig
from config.settings import REPO_ROOT
from vrdp.governance.suppression import PARTNER_FACING, small_count_findings
from vrdp.lake import write_parquet_atomic

N_AREAS = 40


def _area(root):
    """40 LSOAs; crimes spread evenly; stops piled on the most deprived half; one area 3 stops."""
    imd = pd.read_csv(REPO_ROOT / "public_data/reference/imd2019_lsoa11_england.csv.gz")
    l11 = imd.sort_values("IMD_rank")["lsoa_code"].iloc[:: len(imd) // N_AREAS].head(N_AREAS)
    l11 = l11.tolist()
    occ = pd.DataFrame({"lsoa21_code": [f"X{i}" for i in range(N_AREAS)], "lsoa11_code": l11})
    write_parquet_atomic(occ, root / "lake/police/occurrences/2024-01/part-0.parquet")
    ev = pd.DataFrame(
        {
            "lsoa21_code": [f"X{i % N_AREAS}" for i in range(800)],
            "h3_cell": [f"c{i % N_AREAS}" for i in range(800)],
            "harm_weight_days": 10.0,
            "is_violence": True,
        }
    )
    (root / "warehouse").mkdir(parents=True)
    con = duckdb.connect(str(root / "warehouse" / "vrdp.duckdb"))
    con.execute("create schema marts")
    con.register("ev", ev)
    con.execute("create table marts.fct_events as select * from ev")
    con.close()
    codes = l11[:20] * 10 + l11[-1:] * 3  # most deprived half: 200 stops; one area: 3
    eth = ["White"] * 150 + ["Black"] * (len(codes) - 153) + ["Mixed"] * 3
    stops = pd.DataFrame({"lsoa11_code": codes, "officer_defined_ethnicity": eth})
    write_parquet_atomic(stops, root / "lake/police_uk/stop_searches/2024-01/part-0.parquet")
    dosage = pd.DataFrame(
        {
            "hotspot_id": ["c0", "c0", "c1"],
            "date": ["d1", "d2", "d1"],
            "dosage_minutes": [90.0, 20.0, 40.0],
        }
    )
    write_parquet_atomic(dosage, root / "lake/patrol/daily_dosage.parquet")


@pytest.fixture
def report(data_root):
    _area(data_root)
    run_config = {
        "ops": {"exports__disparity_report": {"config": {"cap_minutes_per_cell_shift": 60}}}
    }
    result = dg.materialize(
        [disparity_report, transparency_page],
        resources={"platform": PlatformConfig()},
        run_config=run_config,
    )
    assert result.success
    return data_root / "exports"


def test_attention_on_deprived_areas_shows_against_harm(report):
    d = pd.read_csv(report / "disparity_report/latest/disparity_by_decile.csv")
    stops = d[(d.decile_kind == "force_decile") & (d.measure == "stops")].set_index("decile")
    # harm is even (10% a decile); stops all in the most deprived half
    assert stops.loc[1, "ratio"] > 1.5 and stops.loc[1, "ratio_ci_low"] > 1
    assert stops.loc[8, "attention"] == 0 and stops.loc[8, "ratio"] == 0
    assert stops["small_numbers"].any()  # deciles with few events are flagged
    summary = json.loads((report / "disparity_report/latest/summary.json").read_text())
    assert summary["dosage_guard"]["minutes_capped"] == 30.0  # c0 on d1: 90 -> 60
    assert 0 < summary["gini_attention_vs_harm"]["stops"] <= 1
    manifest = json.loads((report / "disparity_report/latest/manifest.json").read_text())
    assert "police_uk.stop_searches" in {s["source"] for s in manifest["lawful_bases"]["sources"]}


def test_every_partner_facing_output_suppresses_counts_under_five(report):
    walked = 0
    for output, files in PARTNER_FACING.items():
        latest = report / output / "latest"
        assert latest.exists(), f"partner-facing output {output} was not published"
        published = {f["name"] for f in json.loads((latest / "manifest.json").read_text())["files"]}
        assert set(files) <= published, output
        for name, cols in files.items():
            df = pd.read_csv(latest / name)
            assert small_count_findings(df, cols) == [], (output, name)
            walked += 1
    eth = pd.read_csv(report / "disparity_report/latest/disparity_by_ethnicity.csv")
    mixed = eth.set_index("ethnicity").loc["Mixed"]
    assert (
        bool(mixed["stops_suppressed"])
        and pd.isna(mixed["stops"])
        and pd.isna(mixed["share_of_stops"])
    )
    assert walked >= 2

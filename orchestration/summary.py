"""What ``make run`` prints at the end: where everything is and what it found."""

from __future__ import annotations

from pathlib import Path

from config.settings import Settings

__all__ = ["summary", "analysis_lines", "lake_rows"]


def summary(s: Settings, outcome: dict) -> str:
    """The closing report: data delivered, where outputs are, top hot spots, analyses."""
    import json

    import pandas as pd

    from config.locks import open_warehouse

    latest = s.exports_dir / "latest"
    manifest = json.loads((latest / "manifest.json").read_text())
    with open_warehouse(s.warehouse_path) as con:
        crimes = "select count(*) from staging.stg_police_uk__street_crimes"
        loaded = con.execute(crimes).fetchone()[0]
        reasons = con.execute(
            "select reason, count(*) from staging.stg_police_uk__quarantined_rows"
            " group by 1 order by 1"
        ).fetchall()
    top = pd.read_parquet(latest / "top_harm_cells.parquet").head(5)
    lines = [
        "",
        f"data.police.uk {s.police_uk_force}: {len(outcome['months'])} months delivered "
        f"({outcome['months'][0]}..{outcome['months'][-1]}), "
        f"missing: {', '.join(outcome['missing']) or 'none'} (reported, not invented)",
        f"  rows loaded: {loaded:,}; quarantined: "
        + (", ".join(f"{r} {n:,}" for r, n in reasons) or "none"),
        f"landing zone : {s.landing_dir}",
        f"lake (Parquet): {s.lake_dir}",
        f"warehouse    : {s.warehouse_path}",
        "  schemas staging, intermediate, linkage, marts, reference; identity is restricted",
        f"export       : {latest} -> {manifest['version']}",
    ]
    for f in manifest["files"]:
        lines.append(f"    {f['name']:<26} {f['rows']:>5} rows  sha256 {f['sha256'][:12]}")
    lines.append(
        "top hot spot cells by harm "
        f"({manifest['parameters']['window_start']} .. {manifest['parameters']['window_end']}):"
    )
    for r in top.itertuples():
        lines.append(
            f"  {r.rank:>2}. {r.h3_cell}  {r.harm_days:>9,.0f} harm days  "
            f"{r.events:>4} events  {r.ward_name}  [{r.main_crime_types}]"
        )
    lines += analysis_lines(s, outcome)
    lines.append("open the asset graph: make ui  (http://127.0.0.1:3000)")
    return "\n".join(lines)


def analysis_lines(s: Settings, outcome: dict) -> list[str]:
    """Agency loads, the hot spot list, forecast accuracy and risk terrain, if present."""
    import pandas as pd

    lines = []
    if outcome.get("agencies"):
        lines.append(f"simulated agencies (world {s.world_dir.name}): rows loaded / quarantined")
        for source in outcome["agencies"]:
            agency, dataset = source.split(".")
            loaded = lake_rows(s.lake_dir / agency / dataset)
            quarantined = lake_rows(s.lake_dir / "quarantine" / f"{agency}_{dataset}")
            lines.append(f"  {source:<28} {loaded:>9,} / {quarantined:,}")
    families = (
        ("hotspots", f"data.police.uk {s.police_uk_force}"),
        ("force_hotspots", "force and partner records (fct_events)"),
    )
    for folder, label in families:
        lines += _hotspot_lines(s.lake_dir / folder, label)
    effect = s.lake_dir / "patrol" / "trial_effect.parquet"
    if effect.exists():
        import json

        est = {r.estimate: json.loads(r.value_json) for r in pd.read_parquet(effect).itertuples()}
        if "nb_irr" in est and "irr" in est["nb_irr"]:
            e = est["nb_irr"]
            lines.append(
                f"patrol trial (simulated): incident rate ratio {e['irr']:.2f} "
                f"(95% CI {e['ci_low']:.2f}-{e['ci_high']:.2f}, NB with hot spot fixed effects)"
            )
    lines += _patrol_lines(s, outcome)
    tasking = s.exports_dir / "patrol_tasking" / "latest"
    if (tasking / "manifest.json").exists():
        lines.append(f"patrol tasking export: {tasking} -> {tasking.resolve().name}")
    for folder, label in (
        ("police_uk", "the force's own POIs + police.uk"),
        ("oxford", "central Oxford (real OSM + police.uk)"),
    ):
        factors = s.lake_dir / "risk_terrain" / folder / "factor_table.parquet"
        if factors.exists():
            ft = pd.read_parquet(factors)
            picked = "; ".join(
                f"{r.factor} {r.operationalisation} {r.spatial_influence_m:.0f} m RRV {r.rrv:.1f}"
                for r in ft.itertuples()
            )
            lines.append(f"risk terrain, {label}: {picked or 'none'}")
    return lines


def _hotspot_lines(hot: Path, label: str) -> list[str]:
    """The hot spot list and forecast backtest of one hot spot family, if built."""
    import pandas as pd

    lines = []
    if (hot / "hotspot_list.parquet").exists():
        hl = pd.read_parquet(hot / "hotspot_list.parquet")
        chosen = hl[hl["selected"]]
        lines.append(
            f"hot spot list, {label}: {len(chosen)} cells selected (Gi* FDR hot spots ranked "
            f"by 91-day harm), {int(hl['override'].notna().sum())} analyst overrides applied"
        )
        for r in chosen.head(3).itertuples():
            lines.append(
                f"  {r.rank:>2}. {r.h3_cell}  z {r.z_score:5.1f}  {r.hotspot_category}, "
                f"forecast rank {r.forecast_rank}"
            )
    if (hot / "backtest.parquet").exists():
        bt = pd.read_parquet(hot / "backtest.parquet")
        if "study_area" not in bt:
            bt = bt.assign(study_area="force_area")
        for study, text in (
            ("force_area", "every cell of the force area"),
            ("active_cells", "cells with an event in training"),
        ):
            at5 = bt[(bt["area_share"] == 0.05) & (bt["study_area"] == study)]
            at5 = at5.groupby("method")[["pai", "pei"]].mean()
            baselines = at5.drop(index=["forecast"], errors="ignore")
            if len(baselines) and "forecast" in at5.index:
                best = baselines["pai"].idxmax()
                lines.append(
                    f"  backtest at 5% of {text}: forecast PAI {at5.loc['forecast', 'pai']:.1f} "
                    f"PEI {at5.loc['forecast', 'pei']:.3f}; best baseline {best} "
                    f"PAI {baselines.loc[best, 'pai']:.1f} PEI {baselines.loc[best, 'pei']:.3f}"
                )
    return lines


def lake_rows(folder: Path) -> int:
    """Rows in a dataset's partition files (from Parquet footers, no data read)."""
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in folder.glob("*/part-0.parquet"))


def _patrol_lines(s, outcome: dict) -> list[str]:
    """Who allocated the trial (seed, digest, balance) and the twin days stepped."""
    import json

    import pandas as pd

    lines = []
    folder = s.lake_dir / "patrol" / "trial_design"
    design = folder / "trial_design.json"
    alloc = folder / "trial_allocation.parquet"
    if design.exists() and alloc.exists() and len(a := pd.read_parquet(alloc)):
        d = json.loads(design.read_text())
        digests = (folder / "allocation_digests.jsonl").read_text().splitlines()
        digest = json.loads(digests[-1])["digest"][:12] if digests else "?"
        lines.append(
            f"patrol trial allocation: {d.get('source')} ({a['design'].iloc[0]}, seed "
            f"{int(a['seed'].iloc[0])}), {a['unit_id'].nunique()} hot spots x "
            f"{a['date'].nunique()} days, digest {digest}"
        )
        if d.get("rule"):
            lines.append(f"  cohort rule: {d['rule']}")
        if (bal := folder / "balance.csv").exists():
            b = pd.read_csv(bal).dropna(subset=["smd"])
            smds = ", ".join(f"{r.covariate} {r.smd:+.2f}" for r in b.itertuples())
            lines.append(
                f"  balance (standardised mean difference, patrol - control; |SMD| < 0.1 is"
                f" conventionally balanced): {smds}"
            )
    comp = s.lake_dir / "patrol" / "tasked_dosage.parquet"
    gps = s.lake_dir / "patrol" / "gps"
    if comp.exists() and len(c := pd.read_parquet(comp)):
        by_arm = c.groupby("arm")["dosage_minutes"].mean().round(1).to_dict()
        lines.append(
            f"patrol dosage: {len(c):,} tasked spot-days measured, mean minutes by arm {by_arm}"
            + ("" if gps.exists() and any(gps.iterdir()) else " (no patrol.gps delivered yet)")
        )
    for day in outcome.get("twin_days", []):
        lines.append(
            f"  twin day {day['day']}: {day['tasked_patrol']} spots tasked, {day['pings']:,} "
            f"pings, {day['true_minutes']:.0f} true patrol minutes, {day['crimes']} crimes"
            + ("" if day.get("stepped_now", True) else " (lived in an earlier run)")
        )
    return lines

"""What ``make run`` prints at the end: where everything is and what it found.

The report has two readings: the screen's, one line per finding (it has to fit
on one screen with the stage lines above it), and the full one, written to
``data/logs/make_run_summary.txt``, which adds the detail behind each line
(rows loaded and quarantined per agency dataset, every export file with its
checksum, the hot spot lists, the cohort rule and balance, each twin day).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from config.settings import Settings

__all__ = ["Report", "summary", "analysis_lines", "lake_rows", "stage_times_line", "shown"]


@dataclass
class Report:
    """Lines in order, each either on the screen (and in the file) or in the file only."""

    lines: list[tuple[str, bool]] = field(default_factory=list)

    def add(self, text: str) -> None:
        """A headline: on the screen and in the file."""
        self.lines.append((text, True))

    def detail(self, text: str) -> None:
        """Detail behind the line above it: in the file only."""
        self.lines.append((text, False))

    def screen(self) -> list[str]:
        """The headlines, for the screen."""
        return [t for t, on_screen in self.lines if on_screen]

    def full(self) -> list[str]:
        """Every line, for the file."""
        return [t for t, _ in self.lines]


def shown(path: Path) -> str:
    """``path`` as the screen shows it: relative to the working folder when inside it.

    >>> shown(Path.cwd() / "data" / "lake"), shown(Path("/elsewhere/lake"))
    ('data/lake', '/elsewhere/lake')
    """
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def summary(s: Settings, outcome: dict) -> Report:
    """The closing report: data delivered, where outputs are, top hot spots, analyses."""
    import json

    import pandas as pd

    from config.locks import open_warehouse

    r = Report()
    latest = s.exports_dir / "latest"
    manifest = json.loads((latest / "manifest.json").read_text())
    with open_warehouse(s.warehouse_path) as con:
        crimes = "select count(*) from staging.stg_police_uk__street_crimes"
        loaded = con.execute(crimes).fetchone()[0]
        reasons = con.execute(
            "select reason, count(*) from staging.stg_police_uk__quarantined_rows"
            " group by 1 order by 1"
        ).fetchall()
    top = pd.read_parquet(latest / "top_harm_cells.parquet")
    months = outcome["months"]
    missing = ", ".join(outcome["missing"])
    r.add(
        f"police.uk {s.police_uk_force}: {len(months)} months {months[0]}..{months[-1]}"
        + (f" ({missing} missing, not invented)" if missing else "")
        + f": {loaded:,} rows loaded, {sum(n for _, n in reasons):,} quarantined"
    )
    r.detail(
        "  quarantined by reason: "
        + (", ".join(f"{reason} {n:,}" for reason, n in reasons) or "none")
    )
    _agency_lines(r, s, outcome)
    r.add(f"warehouse {shown(s.warehouse_path)} (identity restricted); lake {shown(s.lake_dir)}")
    r.detail("  schemas staging, intermediate, linkage, marts, reference; identity is restricted")
    r.detail(f"landing zone: {shown(s.landing_dir)}")
    names = sorted({f["name"].split(".", 1)[0] for f in manifest["files"]})
    kinds = ", ".join(f["name"].split(".", 1)[1] for f in manifest["files"])
    r.add(
        f"export {shown(latest)} -> {manifest['version']}: {', '.join(names)}"
        f" ({manifest['files'][0]['rows']} rows; {kinds})"
    )
    for f in manifest["files"]:
        r.detail(f"    {f['name']:<26} {f['rows']:>5} rows  sha256 {f['sha256'][:12]}")
    r.add(
        "top hot spot cells by harm "
        f"({manifest['parameters']['window_start']} .. {manifest['parameters']['window_end']}):"
    )
    for i, c in enumerate(top.head(5).itertuples()):
        text = (
            f"  {c.rank:>2}. {c.h3_cell}  {c.harm_days:>7,.0f} harm days  "
            f"{c.events:>4} events  {c.ward_name}  [{c.main_crime_types}]"
        )
        if i < 3:
            r.add(text)
        else:
            r.detail(text)
    r.lines += analysis_lines(s, outcome)
    r.add("next: make ui (asset graph), make dashboard (ward SOC), make serve (API)")
    return r


def _agency_lines(r: Report, s: Settings, outcome: dict) -> None:
    """One line for the simulated agencies' loads; the table per dataset in the file."""
    if not outcome.get("agencies"):
        return
    rows = []
    for source in outcome["agencies"]:
        agency, dataset = source.split(".")
        loaded = lake_rows(s.lake_dir / agency / dataset)
        quarantined = lake_rows(s.lake_dir / "quarantine" / f"{agency}_{dataset}")
        rows.append((source, loaded, quarantined))
    loaded = sum(n for _, n, _ in rows)
    quarantined = sum(q for _, _, q in rows)
    share = quarantined / (loaded + quarantined) if loaded + quarantined else 0.0
    r.add(
        f"simulated agencies (world {s.world_dir.name}): {len(rows)} datasets, {loaded:,} rows "
        f"loaded, {quarantined:,} quarantined ({share:.2%})"
    )
    for source, n, q in rows:
        r.detail(f"  {source:<32} {n:>10,} loaded / {q:,} quarantined")


def analysis_lines(s: Settings, outcome: dict) -> list[tuple[str, bool]]:
    """Hot spot lists, forecast accuracy, the patrol trial and risk terrain, if present.

    Each line comes with whether it is a headline (on the screen) or detail.
    """
    import pandas as pd

    r = Report()
    families = (
        ("hotspots", "data.police.uk"),
        ("force_hotspots", "force and partner records"),
    )
    for folder, label in families:
        _hotspot_lines(r, s.lake_dir / folder, label)
    _patrol_lines(r, s, outcome)
    effect = s.lake_dir / "patrol" / "trial_effect.parquet"
    if effect.exists():
        import json

        est = {e.estimate: json.loads(e.value_json) for e in pd.read_parquet(effect).itertuples()}
        if "nb_irr" in est and "irr" in est["nb_irr"]:
            e = est["nb_irr"]
            r.add(
                f"patrol trial (simulated): incident rate ratio {e['irr']:.2f} "
                f"(95% CI {e['ci_low']:.2f}-{e['ci_high']:.2f}, NB with hot spot fixed effects)"
            )
    tasking = s.exports_dir / "patrol_tasking" / "latest"
    if (tasking / "manifest.json").exists():
        r.add(f"patrol tasking export: {shown(tasking)} -> {tasking.resolve().name}")
    for folder, label in (
        ("police_uk", "the force's own POIs + police.uk"),
        ("oxford", "central Oxford (real OSM + police.uk)"),
    ):
        factors = s.lake_dir / "risk_terrain" / folder / "factor_table.parquet"
        if factors.exists():
            ft = pd.read_parquet(factors)
            picked = "; ".join(
                f"{f.factor} {f.operationalisation} {f.spatial_influence_m:.0f} m RRV {f.rrv:.1f}"
                for f in ft.itertuples()
            )
            r.add(f"risk terrain, {label}: {picked or 'none'}")
    return r.lines


def _hotspot_lines(r: Report, hot: Path, label: str) -> None:
    """The hot spot list and forecast backtest of one hot spot family, if built.

    On the screen: how many cells, and the forecast against its best baseline at
    5% of the force area; the cells and both backtest frames in the file.
    """
    import pandas as pd

    backtest = {}  # study area -> (forecast PAI, PEI, best baseline, its PAI, PEI)
    if (hot / "backtest.parquet").exists():
        bt = pd.read_parquet(hot / "backtest.parquet")
        if "study_area" not in bt:
            bt = bt.assign(study_area="force_area")
        for study in ("force_area", "active_cells"):
            at5 = bt[(bt["area_share"] == 0.05) & (bt["study_area"] == study)]
            # a frame with no event in a window has no PAI: left out, not a crash
            at5 = at5.groupby("method")[["pai", "pei"]].mean().dropna(subset=["pai"])
            baselines = at5.drop(index=["forecast"], errors="ignore")
            if len(baselines) and "forecast" in at5.index:
                best = baselines["pai"].idxmax()
                backtest[study] = (*at5.loc["forecast", ["pai", "pei"]], best,
                                   *baselines.loc[best, ["pai", "pei"]])  # fmt: skip
    if (hot / "hotspot_list.parquet").exists():
        hl = pd.read_parquet(hot / "hotspot_list.parquet")
        chosen = hl[hl["selected"]]
        overrides = int(hl["override"].notna().sum())
        headline = f"hot spots, {label}: {len(chosen)} cells (Gi* FDR" + (
            f", {overrides} analyst overrides)" if overrides else ")"
        )
        if "force_area" in backtest:
            _, pei, best, _, best_pei = backtest["force_area"]
            headline += (
                f"; PEI at 5% of the force area: forecast {pei:.3f}, "
                f"best baseline {best_pei:.3f} ({best})"
            )
        r.add(headline)
        r.detail("  selected: Gi* hot spots (FDR-corrected), ranked by 91-day harm")
        for c in chosen.head(3).itertuples():
            r.detail(
                f"  {c.rank:>2}. {c.h3_cell}  z {c.z_score:5.1f}  {c.hotspot_category}, "
                f"forecast rank {c.forecast_rank}"
            )
    for study, text in (
        ("force_area", "every cell of the force area"),
        ("active_cells", "cells with an event in training"),
    ):
        if study in backtest:
            pai, pei, best, best_pai, best_pei = backtest[study]
            r.detail(
                f"  backtest at 5% of {text}: forecast PAI {pai:.1f} PEI {pei:.3f}; "
                f"best baseline {best} PAI {best_pai:.1f} PEI {best_pei:.3f}"
            )


def lake_rows(folder: Path) -> int:
    """Rows in a dataset's partition files (from Parquet footers, no data read)."""
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in folder.glob("*/part-0.parquet"))


def _patrol_lines(r: Report, s, outcome: dict) -> None:
    """Who allocated the trial (seed, digest, balance), dosage, and the twin days stepped."""
    import json

    import pandas as pd

    folder = s.lake_dir / "patrol" / "trial_design"
    design = folder / "trial_design.json"
    alloc = folder / "trial_allocation.parquet"
    if design.exists() and alloc.exists() and len(a := pd.read_parquet(alloc)):
        d = json.loads(design.read_text())
        digests = (folder / "allocation_digests.jsonl").read_text().splitlines()
        digest = json.loads(digests[-1])["digest"][:12] if digests else "?"
        line = (
            f"patrol trial allocation: {d.get('source')} ({a['design'].iloc[0]}, seed "
            f"{int(a['seed'].iloc[0])}), {a['unit_id'].nunique()} hot spots x "
            f"{a['date'].nunique()} days, digest {digest}"
        )
        details = []
        if d.get("rule"):
            details.append(f"  cohort rule: {d['rule']}")
        if (bal := folder / "balance.csv").exists() and len(
            b := pd.read_csv(bal).dropna(subset=["smd"])
        ):
            worst = b.loc[b["smd"].abs().idxmax()]
            details.append(f"  largest imbalance: {worst['covariate']} SMD {worst['smd']:+.2f}")
            smds = ", ".join(f"{c.covariate} {c.smd:+.2f}" for c in b.itertuples())
            details.append(
                f"  balance (standardised mean difference, patrol - control; |SMD| < 0.1 is"
                f" conventionally balanced): {smds}"
            )
        r.add(line)
        for text in details:
            r.detail(text)
    comp = s.lake_dir / "patrol" / "tasked_dosage.parquet"
    gps = s.lake_dir / "patrol" / "gps"
    if comp.exists() and len(c := pd.read_parquet(comp)):
        by_arm = c.groupby("arm")["dosage_minutes"].mean().round(1)
        r.add(
            f"patrol dosage: {len(c):,} tasked spot-days measured, mean minutes "
            + ", ".join(f"{arm} {m:.1f}" for arm, m in by_arm.items())
            + ("" if gps.exists() and any(gps.iterdir()) else " (no patrol.gps delivered yet)")
        )
    days = outcome.get("twin_days", [])
    if days:
        lived = sum(not d.get("stepped_now", True) for d in days)
        r.add(
            f"  twin days {days[0]['day']}..{days[-1]['day']}: "
            f"{sum(d['tasked_patrol'] for d in days)} spots tasked, "
            f"{sum(d['pings'] for d in days):,} pings, "
            f"{sum(d['true_minutes'] for d in days):,.0f} true patrol minutes, "
            f"{sum(d['crimes'] for d in days):,} crimes"
            + (f" ({lived} lived in an earlier run)" if lived else "")
        )
    for day in days:
        r.detail(
            f"    twin day {day['day']}: {day['tasked_patrol']} spots tasked, {day['pings']:,} "
            f"pings, {day['true_minutes']:.0f} true patrol minutes, {day['crimes']:,} crimes"
            + ("" if day.get("stepped_now", True) else " (lived in an earlier run)")
        )


_SHORT = {
    "land the demo data": "land",
    "warehouse and analyses": "warehouse",
    "warehouse and analyses after the twin days": "after them",
}


def stage_times_line(timings: dict[str, float], total: float, beside: float = 0.0) -> str:
    """Every stage's time on one line, with the total (stage names shortened).

    >>> stage_times_line({"land the demo data": 14.9, "step 3 twin day(s)": 21.2}, 36.1, 5.7)
    'time per stage: land 14.9 s, twin days 21.2 s (5.7 s beside the warehouse); total 36.1 s'
    """
    import re

    parts = []
    for name, sec in timings.items():
        short = name.split(" (")[0]
        short = _SHORT.get(short, re.sub(r"^step \d+ twin day\(s\)$", "twin days", short))
        if short == "twin days" and beside:
            parts.append(f"{short} {sec:.1f} s ({beside:.1f} s beside the warehouse)")
        else:
            parts.append(f"{short} {sec:.1f} s")
    return f"time per stage: {', '.join(parts)}; total {total:.1f} s"

"""The main job behind ``make run``: land the demo data, materialize every asset, report.

Steps, each safe to repeat:

1. land the shipped data.police.uk months for the configured force into the
   landing zone (a copy, as if the force had delivered them);
2. register one partition per delivered month (what the file sensor does);
3. materialize boundaries, then each month not already loaded from identical
   content, then the warehouse, hot spots and the export, in-process against
   the persistent Dagster instance that ``make ui`` shows;
4. print where everything is.

``python -m orchestration.main``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from orchestration.settings import REPO_ROOT, Settings, settings

__all__ = ["demo_deliveries", "land_demo_data", "ensure_dagster_home", "run_all", "main"]

#: Pseudonym secret make run uses when none is set: clearly not a secret.
DEMO_PSEUDONYM_SECRET = "demo-only-not-secret"

#: The patrol trial's published design, read by the patrol assets (not source assets).
TRIAL_DESIGN_DATASETS = [
    ("patrol", "trial_units", "trial_units.csv"),
    ("patrol", "trial_allocation", "trial_allocation.csv"),
]

#: The demo lands the 2025 releases. The shipped 2018-06 Thames Valley month is
#: kept for boundary-vintage tests (LSOA 2011 codes), not for the demo window.
DEMO_YEAR = "2025"


def demo_deliveries(s: Settings) -> list[Path]:
    """Shipped street-level files of the configured force for the demo year."""
    folder = s.public_data / "police_uk" / s.police_uk_force.replace("-", "_") / "street"
    files = sorted(folder.glob(f"{DEMO_YEAR}-*-{s.police_uk_force}-street.csv.gz"))
    if not files:
        raise SystemExit(f"no shipped data.police.uk files for {s.police_uk_force} in {folder}")
    return files


def land_demo_data(s: Settings) -> list[Path]:
    """Copy the demo files into ``landing/police_uk/street`` unless already identical."""
    from vrdp.lake import sha256_file

    landing = s.landing_dir / "police_uk" / "street"
    landing.mkdir(parents=True, exist_ok=True)
    landed = []
    for src in demo_deliveries(s):
        dest = landing / src.name
        if not dest.exists() or sha256_file(dest) != sha256_file(src):
            tmp = dest.with_name(f".{dest.name}.tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        landed.append(dest)
    return landed


def simulated_world(s: Settings, log=print) -> Path | None:
    """Generate the simulated world once per seed and scale; None when disabled."""
    import json

    if s.world_scale == "none":
        return None
    out = s.world_dir
    meta = out / "truth" / "world.json"
    if meta.exists():
        recorded = json.loads(meta.read_text())
        if recorded.get("seed") == s.world_seed and recorded.get("scale") == s.world_scale:
            return out
    from synthetic.config import SCALES, WorldConfig
    from synthetic.world import generate

    log(f"generating the simulated world ({s.world_scale}, seed {s.world_seed}) in {out} ...")
    generate(WorldConfig(seed=s.world_seed, scale=SCALES[s.world_scale]), out, log=lambda *_: None)
    return out


def land_world(s: Settings, world: Path) -> int:
    """Copy the world's agency deliveries into the landing zone unless already identical.

    The world's data.police.uk-format files are not landed: street crime comes from
    the real shipped releases, so the two never mix.
    """
    from assets.sources.agencies import LANDING_SOURCES
    from vrdp.lake import sha256_file

    copied = 0
    datasets = [(spec.agency, spec.dataset, spec.file_glob) for spec in LANDING_SOURCES]
    datasets += TRIAL_DESIGN_DATASETS
    for agency, dataset, glob in datasets:
        src_root = world / "landing" / agency / dataset
        for src in sorted(src_root.glob(f"*/{glob}")):
            dest = s.landing_dir / agency / dataset / src.parent.name / src.name
            if dest.exists() and sha256_file(dest) == sha256_file(src):
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
            copied += 1
    return copied


def ensure_dagster_home(s: Settings) -> Path:
    """Create the persistent Dagster home with the project's ``dagster.yaml``."""
    home = Path(os.environ.get("DAGSTER_HOME") or s.dagster_home)
    home.mkdir(parents=True, exist_ok=True)
    template = REPO_ROOT / "orchestration" / "dagster.yaml"
    target = home / "dagster.yaml"
    if not target.exists() or target.read_text() != template.read_text():
        shutil.copyfile(template, target)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


#: Bump when loading logic changes so that make run reloads every delivery.
LOADER_VERSION = "2"


def _delivery_fingerprint(folder: Path, glob: str) -> str:
    """Loader version plus the names and hashes of a delivery's files."""
    import hashlib

    from vrdp.lake import sha256_file

    h = hashlib.sha256(LOADER_VERSION.encode())
    for p in sorted(folder.glob(glob)):
        h.update(f"{p.name}\0{sha256_file(p)}\n".encode())
    return h.hexdigest()


class _RunState:
    """Deliveries make run loaded successfully (written only after a run succeeds)."""

    def __init__(self, path: Path) -> None:
        import json

        self.path = path
        self.done: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}

    def record(self, key: str, fingerprint: str) -> None:
        import json

        self.done[key] = fingerprint
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.done, indent=0, sort_keys=True))
        os.replace(tmp, self.path)


def _load_agency_deliveries(instance, s: Settings, run, log, workers: int) -> dict[str, dict]:
    """Register and materialize every agency delivery that is new or changed."""
    import dagster as dg

    from assets.sources.agencies import (
        LANDING_SOURCES,
        delivery_partitions,
        source_keys,
    )

    outcome = {}
    tasks: list[tuple[str, str, str]] = []
    state = _RunState(s.data_root / "state" / "make_run_deliveries.json")
    for spec in LANDING_SOURCES:
        root = s.landing_dir / spec.agency / spec.dataset
        deliveries = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.exists() else []
        if not deliveries:
            continue
        partitions = delivery_partitions(spec)
        known = set(instance.get_dynamic_partitions(partitions.name))
        if new := [d for d in deliveries if d not in known]:
            instance.add_dynamic_partitions(partitions.name, new)
        prints = {d: _delivery_fingerprint(root / d, spec.file_glob) for d in deliveries}
        todo = [d for d in deliveries if state.done.get(f"{spec.source}/{d}") != prints[d]]
        log(f"{spec.source}: {len(deliveries)} deliveries, {len(todo)} to load")
        tasks.extend((spec.source, d, prints[d]) for d in todo)
        outcome[spec.source] = {"deliveries": len(deliveries), "loaded_now": len(todo)}
    if workers > 1 and len(tasks) > 1 and not instance.is_ephemeral:
        _load_in_workers(tasks, workers, log, state)
    else:
        by_source = {spec.source: spec for spec in LANDING_SOURCES}
        for source, d, fingerprint in tasks:
            run(dg.AssetSelection.assets(*source_keys(by_source[source])[:2]), partition_key=d)
            state.record(f"{source}/{d}", fingerprint)
    return outcome


_WORKER: dict = {}


def _worker_init(log_level: str) -> None:
    import warnings

    import dagster as dg

    from orchestration.definitions import build_defs

    warnings.filterwarnings("ignore", message=".*partitions_def on an AssetCheckSpec.*")
    defs = build_defs()
    _WORKER.update(
        defs=defs,
        everything=[*defs.assets, *defs.asset_checks],
        instance=dg.DagsterInstance.get(),
        log_level=log_level,
    )


def _worker_load(task: tuple[str, str, str]) -> tuple[str, str, str]:
    import dagster as dg

    from assets.sources.agencies import LANDING_SOURCES, source_keys

    source, delivery, _ = task
    spec = next(x for x in LANDING_SOURCES if x.source == source)
    w = _WORKER
    dg.materialize(
        w["everything"],
        selection=dg.AssetSelection.assets(*source_keys(spec)[:2]),
        partition_key=delivery,
        instance=w["instance"],
        resources=w["defs"].resources,
        raise_on_error=True,
        run_config={"loggers": {"console": {"config": {"log_level": w["log_level"]}}}},
    )
    return task


def _load_in_workers(tasks: list[tuple[str, str, str]], workers: int, log, state) -> None:
    """Materialize deliveries in parallel processes (each run is independent).

    Each delivery is its own Dagster run on the persistent instance, whose
    storage keeps one event log per run, so runs in several processes do not
    contend. None of these runs opens the DuckDB warehouse.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=_worker_init, initargs=("WARNING",)
    ) as pool:
        for done, (source, delivery, fingerprint) in enumerate(
            pool.map(_worker_load, tasks, chunksize=4), start=1
        ):
            state.record(f"{source}/{delivery}", fingerprint)
            if done % 50 == 0 or done == len(tasks):
                log(f"  {done}/{len(tasks)} deliveries loaded")


def _loaded_hash(instance, key, month: str) -> str | None:
    import dagster as dg

    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[month]), limit=1
    ).records
    if not records:
        return None
    meta = records[0].asset_materialization.metadata
    value = meta.get("source_sha256")
    return value.value if value is not None else None


def run_all(
    instance, s: Settings, *, log=print, log_level: str = "WARNING", workers: int = 1
) -> dict:
    """Materialize every asset; return a summary (months, skipped, export).

    Dagster's console log is kept to ``log_level``: the full event log is stored
    in the instance and shown by ``make ui``; ``log`` gets one line per step.
    """
    import dagster as dg

    from assets.sources.police_uk import (
        POLICE_UK_MONTHS,
        STREET_CRIMES_KEY,
        STREET_QUARANTINE_KEY,
        street_lake_paths,
    )
    from orchestration.definitions import build_defs
    from vrdp.ingest.police_uk import find_street_files, missing_months
    from vrdp.lake import sha256_file

    defs = build_defs()
    graph_assets = list(defs.assets or [])
    checks = list(defs.asset_checks or [])
    resources = dict(defs.resources or {})
    everything = [*graph_assets, *checks]

    def run(selection, partition_key=None) -> None:
        result = dg.materialize(
            everything,
            selection=selection,
            partition_key=partition_key,
            instance=instance,
            resources=resources,
            raise_on_error=True,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        )
        if not result.success:
            raise SystemExit(f"run {result.run_id} failed")

    files = find_street_files(s.landing_dir / "police_uk" / "street", s.police_uk_force)
    months = sorted(files)
    known = set(instance.get_dynamic_partitions(POLICE_UK_MONTHS.name))
    new = [m for m in months if m not in known]
    if new:
        instance.add_dynamic_partitions(POLICE_UK_MONTHS.name, new)

    log("materializing boundaries ...")
    run(dg.AssetSelection.groups("geography"))
    source = dg.AssetSelection.assets(STREET_CRIMES_KEY, STREET_QUARANTINE_KEY)
    skipped = []
    for month in months:
        lake_file = street_lake_paths(s.lake_dir, month)[0]
        if lake_file.exists() and _loaded_hash(instance, STREET_CRIMES_KEY, month) == sha256_file(
            files[month]
        ):
            skipped.append(month)
            continue
        log(f"loading data.police.uk {s.police_uk_force} {month} ...")
        run(source, partition_key=month)
    if skipped:
        log(f"unchanged since last load, not reloaded: {', '.join(skipped)}")
    agencies = _load_agency_deliveries(instance, s, run, log, workers)
    log("building the warehouse (dbt), hot spots and the export ...")
    from assets import DOWNSTREAM_SELECTION

    run(DOWNSTREAM_SELECTION)
    return {
        "months": months,
        "missing": missing_months(set(months)),
        "skipped": skipped,
        "agencies": agencies,
    }


def _summary(s: Settings, outcome: dict) -> str:
    import json

    import duckdb
    import pandas as pd

    latest = s.exports_dir / "latest"
    manifest = json.loads((latest / "manifest.json").read_text())
    con = duckdb.connect(str(s.warehouse_path), read_only=True)
    try:
        loaded = con.execute(
            "select count(*) from staging.stg_police_uk__street_crimes"
        ).fetchone()[0]
        reasons = con.execute(
            "select reason, count(*) from staging.stg_police_uk__quarantined_rows"
            " group by 1 order by 1"
        ).fetchall()
    finally:
        con.close()
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
        f"warehouse    : {s.warehouse_path}  (schemas staging, marts, reference)",
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
    lines += _analysis_lines(s, outcome)
    lines.append("open the asset graph: make ui  (http://127.0.0.1:3000)")
    return "\n".join(lines)


def _analysis_lines(s: Settings, outcome: dict) -> list[str]:
    """Agency loads, the hot spot list, forecast accuracy and risk terrain, if present."""
    import pandas as pd

    lines = []
    if outcome.get("agencies"):
        lines.append(f"simulated agencies (world {s.world_dir.name}): rows loaded / quarantined")
        for source in outcome["agencies"]:
            agency, dataset = source.split(".")
            loaded = _lake_rows(s.lake_dir / agency / dataset)
            quarantined = _lake_rows(s.lake_dir / "quarantine" / f"{agency}_{dataset}")
            lines.append(f"  {source:<28} {loaded:>9,} / {quarantined:,}")
    hot = s.lake_dir / "hotspots"
    if (hot / "hotspot_list.parquet").exists():
        hl = pd.read_parquet(hot / "hotspot_list.parquet")
        chosen = hl[hl["selected"]]
        lines.append(
            f"hot spot list: {len(chosen)} cells selected (Gi* FDR hot spots ranked by 91-day "
            f"harm), {int(hl['override'].notna().sum())} analyst overrides applied"
        )
        for r in chosen.head(3).itertuples():
            lines.append(
                f"  {r.rank:>2}. {r.h3_cell}  z {r.z_score:5.1f}  {r.hotspot_category}, "
                f"forecast rank {r.forecast_rank}"
            )
    if (hot / "backtest.parquet").exists():
        bt = pd.read_parquet(hot / "backtest.parquet")
        at5 = bt[bt["area_share"] == 0.05].set_index("method")["pei"]
        baselines = at5.drop(labels=["forecast"], errors="ignore")
        forecast = at5.get("forecast", float("nan"))
        lines.append(
            f"forecast backtest (PEI at 5% of area): forecast {forecast:.3f}, "
            f"best baseline {baselines.max():.3f} ({baselines.idxmax()})"
        )
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
    tasking = s.exports_dir / "patrol_tasking" / "latest"
    if (tasking / "manifest.json").exists():
        lines.append(f"patrol tasking export: {tasking} -> {tasking.resolve().name}")
    factors = s.lake_dir / "risk_terrain" / "oxford" / "factor_table.parquet"
    if factors.exists():
        ft = pd.read_parquet(factors)
        picked = "; ".join(
            f"{r.factor} {r.operationalisation} {r.spatial_influence_m:.0f} m RRV {r.rrv:.1f}"
            for r in ft.itertuples()
        )
        lines.append(f"risk terrain, central Oxford (real OSM + police.uk): {picked or 'none'}")
    return lines


def _lake_rows(folder: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in folder.glob("*/part-0.parquet"))


def main() -> None:
    """Entry point for ``make run``."""
    import warnings

    import dagster as dg

    # Partitioned asset checks are a Dagster preview feature; we rely on them knowingly.
    warnings.filterwarnings("ignore", message=".*partitions_def on an AssetCheckSpec.*")

    s = settings()
    if not os.environ.get("VRDP_PSEUDONYM_SECRET"):
        # DEMO ONLY: the shipped data is public or simulated. Real deployments set
        # their own secret; every asset that needs it fails without one.
        os.environ["VRDP_PSEUDONYM_SECRET"] = DEMO_PSEUDONYM_SECRET
        print("VRDP_PSEUDONYM_SECRET not set: using the DEMO secret (never for real data)")
    ensure_dagster_home(s)
    landed = land_demo_data(s)
    print(f"landed {len(landed)} data.police.uk files in {landed[0].parent}")
    world = simulated_world(s)
    if world is not None:
        print(f"simulated world {world.name}: {land_world(s, world)} agency files newly landed")
    with dg.DagsterInstance.get() as instance:
        outcome = run_all(instance, s, workers=min(2, os.cpu_count() or 1))
    print(_summary(s, outcome))


if __name__ == "__main__":
    sys.exit(main())

"""The main job behind ``make run``: land the demo data, materialize every asset, report.

Steps, each safe to repeat:

1. land the shipped data.police.uk months and the simulated world's agency
   deliveries (:mod:`orchestration.demo_data`), as if they had been delivered;
2. register one partition per delivered month or delivery (what the sensors do);
3. materialize boundaries, then each month and delivery not already loaded from
   identical content (agency deliveries in two worker processes), then
   everything downstream, in-process against the persistent Dagster instance
   that ``make ui`` shows;
4. print where everything is (:mod:`orchestration.summary`).

``python -m orchestration.main``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from config.settings import REPO_ROOT, Settings, settings

__all__ = ["DEMO_PSEUDONYM_SECRET", "ensure_dagster_home", "run_all", "main"]

#: Pseudonym secret make run uses when none is set: clearly not a secret.
DEMO_PSEUDONYM_SECRET = "demo-only-not-secret"


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
LOADER_VERSION = "3"


def _delivery_fingerprint(folder: Path, glob: str) -> str:
    """Loader version plus the sensor's fingerprint of the delivery's files."""
    import hashlib

    from sensors.landing import folder_fingerprint

    return hashlib.sha256(
        f"{LOADER_VERSION}\0{folder_fingerprint(folder, glob)}".encode()
    ).hexdigest()


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


def _load_agency_deliveries(
    instance, s: Settings, run, log, workers: int, *, geocoded: bool = False
) -> dict[str, dict]:
    """Register and materialize every agency delivery that is new or changed.

    ``geocoded`` selects the datasets located from text against the gazetteer
    (loaded after it is built), otherwise every other dataset.
    """
    import dagster as dg

    from assets.sources.agencies import (
        LANDING_SOURCES,
        delivery_partitions,
        source_keys,
    )

    outcome = {}
    tasks: list[tuple[str, str, str]] = []
    state = _RunState(s.data_root / "state" / "make_run_deliveries.json")
    extra = _gazetteer_fingerprint(s) if geocoded else ""
    for spec in LANDING_SOURCES:
        if (spec.locate == "gazetteer") != geocoded:
            continue
        root = s.landing_dir / spec.agency / spec.dataset
        deliveries = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.exists() else []
        if not deliveries:
            continue
        partitions = delivery_partitions(spec)
        known = set(instance.get_dynamic_partitions(partitions.name))
        if new := [d for d in deliveries if d not in known]:
            instance.add_dynamic_partitions(partitions.name, new)
        prints = {d: _delivery_fingerprint(root / d, spec.file_glob) + extra for d in deliveries}
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


def _gazetteer_fingerprint(s: Settings) -> str:
    """Content hash of the built gazetteer (geocoded deliveries reload when it changes)."""
    from assets.sources.gazetteer import gazetteer_path
    from vrdp.lake import sha256_file

    path = gazetteer_path(s.lake_dir)
    return ":" + sha256_file(path)[:16] if path.exists() else ":none"


def _load_stop_search_months(instance, s: Settings, run, log) -> dict:
    """Register and materialize each stop and search month not loaded from identical content."""
    import dagster as dg

    from assets.sources.police_uk_stop_search import (
        STOP_SEARCH_MONTHS,
        STOP_SEARCH_QUARANTINE_KEY,
        STOP_SEARCHES_KEY,
        stop_search_lake_paths,
    )
    from vrdp.ingest.stop_search import find_stop_search_files
    from vrdp.lake import sha256_file

    files = find_stop_search_files(
        s.landing_dir / "police_uk" / "stop_and_search", s.police_uk_force
    )
    months = sorted(files)
    known = set(instance.get_dynamic_partitions(STOP_SEARCH_MONTHS.name))
    if new := [m for m in months if m not in known]:
        instance.add_dynamic_partitions(STOP_SEARCH_MONTHS.name, new)
    selection = dg.AssetSelection.assets(STOP_SEARCHES_KEY, STOP_SEARCH_QUARANTINE_KEY)
    todo = [
        m
        for m in months
        if not stop_search_lake_paths(s.lake_dir, m)[0].exists()
        or _loaded_hash(instance, STOP_SEARCHES_KEY, m) != sha256_file(files[m])
    ]
    log(f"police_uk.stop_searches: {len(months)} months, {len(todo)} to load")
    for month in todo:
        run(selection, partition_key=month)
    return {"months": len(months), "loaded_now": len(todo)}


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
    stop_search = _load_stop_search_months(instance, s, run, log)
    agencies = _load_agency_deliveries(instance, s, run, log, workers)
    from assets.sources.gazetteer import GAZETTEER_KEY

    log("building the gazetteer of places ...")
    run(dg.AssetSelection.assets(GAZETTEER_KEY))
    agencies.update(_load_agency_deliveries(instance, s, run, log, workers, geocoded=True))
    log("building the warehouse (dbt), hot spots and the export ...")
    from assets.automation import DOWNSTREAM_SELECTION

    run(DOWNSTREAM_SELECTION)
    return {
        "months": months,
        "missing": missing_months(set(months)),
        "skipped": skipped,
        "agencies": agencies,
        "stop_search": stop_search,
    }


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
    from orchestration.demo_data import land_demo_data, land_world, simulated_world
    from orchestration.summary import summary
    from orchestration.twin_days import apply_twin_environment, make_runner, step_twin_days

    landed = land_demo_data(s)
    print(f"landed {len(landed)} data.police.uk files in {landed[0].parent}")
    world = simulated_world(s)
    if world is not None:
        print(f"simulated world {world.name}: {land_world(s, world)} agency files newly landed")
    # The twin days run the platform's own trial; without them the static world's
    # crimes follow its published schedule, which the demo then imports explicitly.
    s = apply_twin_environment(s, world)
    if not os.environ.get("VRDP_TRIAL_SOURCE"):
        os.environ["VRDP_TRIAL_SOURCE"] = "import"
        print("VRDP_TWIN_DAYS=0: the demo imports the simulated world's trial schedule")
        s = settings()
    with dg.DagsterInstance.get() as instance:
        outcome = run_all(instance, s, workers=min(2, os.cpu_count() or 1))
        if world is not None and s.twin_days > 0:
            print(f"stepping {s.twin_days} twin day(s) ...")
            run = make_runner(instance)
            outcome["twin_days"] = step_twin_days(
                s, world, run, lambda: _load_agency_deliveries(instance, s, run, lambda *_: None, 1)
            )
    print(summary(s, outcome))


if __name__ == "__main__":
    sys.exit(main())

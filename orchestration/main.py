"""The main job behind ``make run``: land the demo data, materialize every asset, report.

``make run`` is a list of stages (:data:`STAGES`), each a function of one
:class:`RunContext`, each safe to repeat and timed:

1. ``land``: the shipped data.police.uk months and the simulated world's agency
   deliveries (:mod:`orchestration.demo_data`), as if they had been delivered;
2. ``boundaries``: the boundary layers every located source reads;
3. ``sources``: every month and delivery not already loaded from identical
   content, registered as partitions (what the sensors do) and loaded in few
   Dagster runs: one run per dataset over its range of new deliveries (each
   delivery still recorded, and checked by its own asset checks, as its own
   partition), spread over two worker processes; the gazetteer, and the A&E
   deliveries geocoded against it, start as soon as the places they need are in;
4. ``warehouse and analyses``: what is stale downstream (dbt, linkage, hot
   spots, risk terrain, patrol, exports): everything after a change of code,
   settings, police.uk months or boundaries, else only what depends on the
   agency datasets that loaded new deliveries, and nothing when nothing changed
   ("nothing new, nothing done"); what the twin days are about to make stale
   and do not need waits for them;
5. the twin days (:mod:`orchestration.twin_days`), then the downstream stage
   again for what their deliveries changed, so a run ends with nothing stale;
6. ``summary``: where everything is (:mod:`orchestration.summary`) and the
   time of each stage.

The screen shows one line per stage with its time (and a counter for long
stages); Dagster's and dbt's output go to ``data/logs/make_run.log``; stage
times go to ``data/logs/make_run_timings.json``.

``python -m orchestration.main``.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from config.settings import ENV_VARS, REPO_ROOT, Settings, settings

__all__ = [
    "DEMO_PSEUDONYM_SECRET",
    "STAGES",
    "RunContext",
    "Stage",
    "ensure_dagster_home",
    "run_all",
    "main",
]

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
LOADER_VERSION = "4"


def _delivery_fingerprint(folder: Path, glob: str, cache: dict | None = None) -> str:
    """Loader version plus the sensor's fingerprint of the delivery's files.

    With ``cache`` (folder -> [stat signature, fingerprint]), a folder whose
    files have the same names, sizes and modification times as when last
    hashed is not read again (a second run hashes nothing unchanged).
    """
    from sensors.landing import folder_fingerprint

    signature = "|".join(
        f"{p.name}:{st.st_size}:{st.st_mtime_ns}"
        for p in sorted(folder.glob(glob))
        for st in [p.stat()]
    )
    if cache is not None and cache.get(str(folder), [None])[0] == signature:
        return cache[str(folder)][1]
    fingerprint = hashlib.sha256(
        f"{LOADER_VERSION}\0{folder_fingerprint(folder, glob)}".encode()
    ).hexdigest()
    if cache is not None:
        cache[str(folder)] = [signature, fingerprint]
    return fingerprint


class _RunState:
    """What make run loaded successfully (written only after a run succeeds)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}

    def record(self, key: str, fingerprint: str) -> None:
        self.done[key] = fingerprint
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.done, indent=0, sort_keys=True))
        os.replace(tmp, self.path)


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class LoadTask:
    """One Dagster run of the sources stage: a selection over one partition or a range.

    ``records`` are the (state key, fingerprint) pairs to remember once the run
    succeeds; ``units`` how many deliveries or months it loads.
    """

    label: str
    keys: tuple[tuple[str, ...], ...]  # asset key paths selected
    partitions: tuple[str, ...] = ()  # one partition, a contiguous range, or none
    records: tuple[tuple[str, str], ...] = ()
    group: str = "other"  # "places", "gazetteer" or "geocoded": ordering of the stage
    run_config: str = ""  # JSON of the run's config beside its loggers (e.g. a day's tasking)

    @property
    def units(self) -> int:
        """Deliveries or months the task loads (1 for an unpartitioned asset)."""
        return max(1, len(self.partitions))


def _materialize(defs, instance, keys, partitions, log_level: str, run_config: str = ""):
    """One in-process Dagster run of ``keys`` over ``partitions`` (none, one or a range).

    It runs as the named stage job selecting exactly those assets
    (:func:`orchestration.jobs.run_stage`), so the UI says which stage ran.
    ``run_config``: JSON of the run's config (ops' config), beside its loggers.
    """
    import dagster as dg

    from orchestration.jobs import run_stage

    tags = {}
    partition_key = None
    if len(partitions) == 1:
        partition_key = partitions[0]
    elif partitions:
        tags = {
            "dagster/asset_partition_range_start": partitions[0],
            "dagster/asset_partition_range_end": partitions[-1],
        }
    return run_stage(
        defs,
        dg.AssetSelection.assets(*(dg.AssetKey(list(k)) for k in keys)),
        partition_key=partition_key,
        instance=instance,
        raise_on_error=False,
        tags=tags,
        run_config={
            "loggers": {"console": {"config": {"log_level": log_level}}},
            **(json.loads(run_config) if run_config else {}),
        },
    ).success


def run_task(task: LoadTask, materialize: Callable) -> tuple[LoadTask, list[str]]:
    """Run a task; a failed range run is retried one partition per run.

    Returns the task and the partitions that failed on their own (empty when
    all loaded). A range run fails as a whole when one delivery fails (e.g. an
    unreadable file, moved to ``rejected/``): the retry loads every other
    delivery and reports the failing one by name, as per-delivery runs would.
    """
    if materialize(task.keys, task.partitions, task.run_config):
        return task, []
    if len(task.partitions) <= 1:
        return task, list(task.partitions) or [task.label]
    return task, [p for p in task.partitions if not materialize(task.keys, (p,), task.run_config)]


_WORKER: dict = {}


def _worker_init(log_level: str) -> None:
    import warnings

    import dagster as dg

    from orchestration.definitions import build_defs

    warnings.filterwarnings("ignore", message=".*partitions_def on an AssetCheckSpec.*")
    defs = build_defs()
    _WORKER.update(
        defs=defs,
        instance=dg.DagsterInstance.get(),
        log_level=log_level,
    )


def _apply_settings_env(env: dict[str, str | None]) -> None:
    """Make this process's settings variables ``env`` (name -> value, None: unset)."""
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _worker_run(task: LoadTask, env: dict[str, str | None]) -> tuple[LoadTask, list[str]]:
    """Run ``task`` with make run's settings as they were when it was submitted."""
    _apply_settings_env(env)
    w = _WORKER

    def materialize(keys, partitions, run_config=""):
        return _materialize(w["defs"], w["instance"], keys, partitions, w["log_level"], run_config)

    return run_task(task, materialize)


def _worker_warm() -> None:
    """Import what the first delivery would (great-expectations alone takes about 4 s)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations  # noqa: F401

    import vrdp.geo
    import vrdp.ingest.contract  # noqa: F401


def _settings_env() -> dict[str, str | None]:
    """The settings variables as this process has them now (None: unset)."""
    return {name: os.environ.get(name) for name in ENV_VARS}


class WorkerPool:
    """make run's worker processes, started once and shared by every stage.

    Each worker imports Dagster, builds the definitions and imports
    great-expectations: about ten seconds of a core. The pool used to be
    started for the sources stage, again for each twin day's few deliveries and
    again for the risk terrain models; now the same workers serve them all, and
    :meth:`start` warms them up while the main process generates the simulated
    world. Workers are started with ``spawn`` (a forked Dagster instance would
    share the parent's database handles); each task carries the settings
    variables as they are when it is submitted (make run sets the twin trial's
    after the world exists, when the workers are already up).
    """

    def __init__(self, workers: int, log_level: str) -> None:
        self.workers, self.log_level, self._pool = workers, log_level, None

    def _executor(self):
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init,
                initargs=(self.log_level,),
            )
        return self._pool

    def start(self) -> None:
        """Start every worker now and warm it up, without waiting for it."""
        pool = self._executor()
        for _ in range(self.workers):  # the executor starts a process per queued task
            pool.submit(_worker_warm)

    def submit(self, task: LoadTask):
        """Run ``task`` in a worker (started now if not yet); its future."""
        return self._executor().submit(_worker_run, task, _settings_env())

    def close(self) -> None:
        """Stop the workers (waits for running tasks)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def make_pool_runner(pool, defs):
    """``run`` as :func:`orchestration.twin_days.make_runner`'s, each run in a worker.

    ``pool`` is make run's :class:`WorkerPool`. The twin days' tasking and
    measurement then run beside whatever this process is running
    (:class:`orchestration.twin_days.BackgroundTwinDays`); like the day's
    deliveries they open no DuckDB file (tests/test_orchestration_jobs.py checks
    it on the asset graph).
    """
    graph = defs.resolve_asset_graph()

    def run(selection, partition_key=None, run_config=None) -> None:
        keys = tuple(sorted(tuple(k.path) for k in selection.resolve(graph)))
        label = ", ".join("/".join(k) for k in keys)
        task = LoadTask(
            label,
            keys,
            (partition_key,) if partition_key else (),
            run_config=json.dumps(run_config or {}),
        )
        _, failed = pool.submit(task).result()
        if failed:
            raise SystemExit(f"the run of {label} failed (see make ui)")

    return run


@dataclass
class RunContext:
    """What every stage reads and writes: settings, the instance, the screen, the outcome."""

    instance: object
    settings: Settings
    log: Callable[[str], None] = print
    log_level: str = "WARNING"
    count: Callable[[int, int, str], None] = lambda done, total, unit: None
    outcome: dict = field(default_factory=dict)
    #: folder -> [stat signature, fingerprint] of delivery folders already hashed
    hash_cache: dict = field(default_factory=dict)
    #: worker processes shared by the stages (None: every run in this process)
    pool: WorkerPool | None = None
    #: downstream asset keys to leave for a later call (make run's twin days)
    defer: frozenset = frozenset()
    #: called (from another thread) once the run that builds the tasking has
    #: succeeded, while the stage's other runs go on (make run's twin days start)
    when_tasking_ready: Callable[[], object] | None = None
    _defs: object = None

    @property
    def defs(self):
        """The code location's definitions, built once."""
        if self._defs is None:
            from orchestration.definitions import build_defs

            self._defs = build_defs()
        return self._defs

    def materialize(self, keys, partitions=(), run_config: str = "") -> bool:
        """One in-process run of asset keys (paths) over none, one or a range of partitions."""
        return _materialize(
            self.defs, self.instance, keys, tuple(partitions), self.log_level, run_config
        )

    def run(self, selection) -> str:
        """Materialize an asset selection in-process (its run id); stop make run if it fails."""
        from orchestration.jobs import run_stage

        result = run_stage(
            self.defs,
            selection,
            instance=self.instance,
            raise_on_error=True,
            run_config={"loggers": {"console": {"config": {"log_level": self.log_level}}}},
        )
        if not result.success:
            raise SystemExit(f"run {result.run_id} failed")
        return result.run_id


def _contiguous(wanted: list[str], order: list[str]) -> list[list[str]]:
    """Split ``wanted`` partitions into ranges contiguous in the partition order.

    >>> _contiguous(["a", "b", "d"], ["a", "b", "c", "d", "e"])
    [['a', 'b'], ['d']]
    """
    pos = {p: i for i, p in enumerate(order)}
    runs: list[list[str]] = []
    for p in sorted(wanted, key=pos.__getitem__):
        if runs and pos[runs[-1][-1]] + 1 == pos[p]:
            runs[-1].append(p)
        else:
            runs.append([p])
    return runs


#: Most deliveries in one range run: a failed run is retried delivery by
#: delivery, and smaller runs balance the two workers.
MAX_DELIVERIES_PER_RUN = 48


#: The datasets the gazetteer of places is built from (``build_lake_gazetteer``):
#: the gazetteer, and the deliveries geocoded against it, wait for these only.
GAZETTEER_INPUTS = frozenset({"places.pois", "police.occurrences", "police.cad_incidents"})


def _key_path(key) -> tuple[str, ...]:
    return tuple(key.path)


def _agency_tasks(ctx: RunContext, state: _RunState, *, geocoded: bool) -> list[LoadTask]:
    """Range-run tasks for every agency delivery that is new or changed."""
    from assets.sources.agencies import LANDING_SOURCES, delivery_partitions, source_keys

    s, instance = ctx.settings, ctx.instance
    tasks = []
    extra = _gazetteer_fingerprint(s) if geocoded else ""
    for spec in LANDING_SOURCES:
        if (spec.locate == "gazetteer") != geocoded:
            continue
        root = s.landing_dir / spec.agency / spec.dataset
        deliveries = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.exists() else []
        if not deliveries:
            continue
        partitions = delivery_partitions(spec)
        known = instance.get_dynamic_partitions(partitions.name)
        if new := [d for d in deliveries if d not in set(known)]:
            instance.add_dynamic_partitions(partitions.name, new)
            known = instance.get_dynamic_partitions(partitions.name)
        prints = {
            d: _delivery_fingerprint(root / d, spec.file_glob, ctx.hash_cache) + extra
            for d in deliveries
        }
        todo = [d for d in deliveries if state.done.get(f"{spec.source}/{d}") != prints[d]]
        _report_landed(instance, source_keys(spec)[2], {d: prints[d] for d in todo})
        ctx.outcome.setdefault("agencies", {})[spec.source] = {
            "deliveries": len(deliveries),
            "loaded_now": len(todo),
        }
        keys = tuple(_key_path(k) for k in source_keys(spec)[:2])
        group = (
            "geocoded" if geocoded else ("places" if spec.source in GAZETTEER_INPUTS else "other")
        )
        for run in _contiguous(todo, list(known)):
            for i in range(0, len(run), MAX_DELIVERIES_PER_RUN):
                chunk = tuple(run[i : i + MAX_DELIVERIES_PER_RUN])
                tasks.append(
                    LoadTask(
                        f"{spec.source} {chunk[0]}..{chunk[-1]}",
                        keys,
                        chunk,
                        tuple((f"{spec.source}/{d}", prints[d]) for d in chunk),
                        group,
                    )
                )
    return tasks


def _report_landed(instance, key, arrived: dict) -> None:
    """Record files that arrived as events of the external landing asset (as the sensors do)."""
    from pathlib import Path

    from sensors.landing import fingerprint, landing_events

    changed = [(k, fingerprint(v) if isinstance(v, Path) else v) for k, v in arrived.items()]
    for event in landing_events(key, changed):
        instance.report_runless_asset_event(event)


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
    """The built gazetteer's vocabulary digest: geocoded deliveries reload when it changes.

    Not the file's hash: every day of calls moves some streets' median points and
    support counts, and reloading every A&E delivery for that took about 75 s of
    each twin day (:func:`vrdp.ingest.gazetteer.vocabulary_digest`).
    """
    import pandas as pd

    from assets.sources.gazetteer import gazetteer_path
    from vrdp.ingest.gazetteer import vocabulary_digest

    path = gazetteer_path(s.lake_dir)
    if not path.exists():
        return ":none"
    entries = pd.read_parquet(path, columns=["kind", "key", "town", "category"])
    return ":" + vocabulary_digest(entries)[:16]


def _street_tasks(ctx: RunContext) -> list[LoadTask]:
    """One run per data.police.uk street month not loaded from identical content."""
    from assets.sources.police_uk import (
        POLICE_UK_MONTHS,
        STREET_CRIMES_KEY,
        STREET_LANDING_KEY,
        STREET_QUARANTINE_KEY,
        street_lake_paths,
    )
    from vrdp.force_area import files_sha256, street_files_by_month
    from vrdp.ingest.police_uk import missing_months

    s, instance = ctx.settings, ctx.instance
    files = street_files_by_month(s.landing_dir / "police_uk" / "street", s.police_uk_forces)
    months = sorted(files)
    known = set(instance.get_dynamic_partitions(POLICE_UK_MONTHS.name))
    if new := [m for m in months if m not in known]:
        instance.add_dynamic_partitions(POLICE_UK_MONTHS.name, new)
    skipped = [
        m
        for m in months
        if street_lake_paths(s.lake_dir, m)[0].exists()
        and _loaded_hash(instance, STREET_CRIMES_KEY, m) == files_sha256(files[m])
    ]
    ctx.outcome.update(months=months, missing=missing_months(set(months)), skipped=skipped)
    to_load = [m for m in months if m not in skipped]
    _report_landed(instance, STREET_LANDING_KEY, {m: files_sha256(files[m]) for m in to_load})
    keys = (_key_path(STREET_CRIMES_KEY), _key_path(STREET_QUARANTINE_KEY))
    return [LoadTask(f"police_uk.street {m}", keys, (m,)) for m in months if m not in skipped]


def _stop_search_tasks(ctx: RunContext) -> list[LoadTask]:
    """One run per stop and search month not loaded from identical content."""
    from assets.sources.police_uk_stop_search import (
        STOP_SEARCH_LANDING_KEY,
        STOP_SEARCH_MONTHS,
        STOP_SEARCH_QUARANTINE_KEY,
        STOP_SEARCHES_KEY,
        stop_search_lake_paths,
    )
    from vrdp.force_area import files_sha256, street_files_by_month
    from vrdp.ingest.stop_search import find_stop_search_files

    s, instance = ctx.settings, ctx.instance
    files = street_files_by_month(
        s.landing_dir / "police_uk" / "stop_and_search",
        s.police_uk_forces,
        find=find_stop_search_files,
    )
    months = sorted(files)
    known = set(instance.get_dynamic_partitions(STOP_SEARCH_MONTHS.name))
    if new := [m for m in months if m not in known]:
        instance.add_dynamic_partitions(STOP_SEARCH_MONTHS.name, new)
    todo = [
        m
        for m in months
        if not stop_search_lake_paths(s.lake_dir, m)[0].exists()
        or _loaded_hash(instance, STOP_SEARCHES_KEY, m) != files_sha256(files[m])
    ]
    ctx.outcome["stop_search"] = {"months": len(months), "loaded_now": len(todo)}
    arrived = {m: files[m][0] if len(files[m]) == 1 else files_sha256(files[m]) for m in todo}
    _report_landed(instance, STOP_SEARCH_LANDING_KEY, arrived)
    keys = (_key_path(STOP_SEARCHES_KEY), _key_path(STOP_SEARCH_QUARANTINE_KEY))
    return [LoadTask(f"police_uk.stop_search {m}", keys, (m,)) for m in todo]


def _gazetteer_built(s: Settings) -> bool:
    from assets.sources.gazetteer import gazetteer_path

    return gazetteer_path(s.lake_dir).exists()


def _gazetteer_task() -> LoadTask:
    from assets.sources.gazetteer import GAZETTEER_KEY

    return LoadTask("gazetteer", (_key_path(GAZETTEER_KEY),), group="gazetteer")


#: Which load tasks go first when a worker is free: the gazetteer's inputs and the
#: gazetteer (the geocoded deliveries wait for them), the geocoded deliveries, then
#: the rest; within a rank, the longest runs first.
_RANK = {"places": 0, "gazetteer": 0, "geocoded": 1}


class _Scheduler:
    """Runs load tasks in order: gazetteer inputs -> gazetteer -> geocoded; others any time.

    ``submit(task)`` queues a task; finished tasks come back from ``wait()``.
    Tasks are handed to a worker only when one is free, taken by rank
    (:data:`_RANK`), so the gazetteer, queued when its last input finishes, runs
    next instead of behind every other delivery (seen: built 80 s into the
    stage, then the A&E deliveries ran on one core while the other idled). With
    one worker (or an ephemeral instance) tasks run in this process.
    """

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.pool = ctx.pool
        self.pending: set = set()
        self.queue: list[tuple[tuple[int, int, int], LoadTask]] = []
        self._seq = 0

    def submit(self, task: LoadTask) -> None:
        self._seq += 1
        heapq.heappush(self.queue, ((_RANK.get(task.group, 2), -task.units, self._seq), task))

    def _next(self) -> LoadTask:
        return heapq.heappop(self.queue)[1]

    def wait(self) -> list[tuple[LoadTask, list[str]]]:
        """At least one finished task (empty when nothing is queued or running)."""
        if self.pool is None:
            if not self.queue:
                return []
            return [run_task(self._next(), self.ctx.materialize)]
        from concurrent.futures import FIRST_COMPLETED, wait

        while self.queue and len(self.pending) < self.pool.workers:
            self.pending.add(self.pool.submit(self._next()))
        if not self.pending:
            return []
        done, self.pending = wait(self.pending, return_when=FIRST_COMPLETED)
        return [f.result() for f in done]

    def close(self) -> None:
        """Drop what is queued and wait for what is running; the workers stay up."""
        self.queue = []
        if self.pending:
            from concurrent.futures import wait

            wait(self.pending)
            self.pending = set()


def stage_boundaries(ctx: RunContext) -> str:
    """The boundary layers (LSOA 2021/2011, wards) every located source reads.

    Rebuilt only when a layer is missing or the code or the shipped
    boundaries changed since they were last built (rebuilding rewrites the
    files, which would make everything downstream look changed).
    """
    import dagster as dg

    from assets.geography.boundaries import BOUNDARIES

    s = ctx.settings
    record = s.data_root / "state" / "make_run_boundaries.json"
    shipped = s.public_data / "boundaries"
    h = hashlib.sha256(code_fingerprint().encode())
    for path in sorted(shipped.rglob("*")) if shipped.exists() else []:
        if path.is_file():
            st = path.stat()
            h.update(f"{path.relative_to(shipped)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    fingerprint = h.hexdigest()
    built = all(
        (s.lake_dir / "geography" / f"{b.name}_boundaries.parquet").exists() for b in BOUNDARIES
    )
    if (
        built
        and record.exists()
        and json.loads(record.read_text()).get("fingerprint") == (fingerprint)
    ):
        return "unchanged: not rebuilt"
    ctx.run(dg.AssetSelection.groups("geography"))
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"fingerprint": fingerprint}))
    return "built"


def stage_sources(ctx: RunContext) -> str:
    """Every new or changed month and delivery, in few runs over two workers."""
    s = ctx.settings
    state = _RunState(s.data_root / "state" / "make_run_deliveries.json")
    cache_path = s.data_root / "state" / "make_run_hashes.json"
    if cache_path.exists():
        ctx.hash_cache.update(json.loads(cache_path.read_text()))
    ctx.outcome.setdefault("agencies", {})
    tasks = _street_tasks(ctx) + _stop_search_tasks(ctx) + _agency_tasks(ctx, state, geocoded=False)
    places_left = sum(1 for t in tasks if t.group == "places")
    # The gazetteer is rebuilt when places were loaded now (or it was never built);
    # otherwise the geocoded deliveries can start at once.
    rebuild_gazetteer = places_left > 0 or not _gazetteer_built(s)
    loaded, failed, runs, total = 0, [], 0, 0
    sched = _Scheduler(ctx)

    def submit(batch: list[LoadTask]) -> None:
        nonlocal total, runs
        for t in batch:
            sched.submit(t)
        total += sum(t.units for t in batch)
        runs += len(batch)

    try:
        submit(tasks)
        if not rebuild_gazetteer:
            submit(_agency_tasks(ctx, state, geocoded=True))
        elif places_left == 0:
            submit([_gazetteer_task()])
        while finished := sched.wait():
            for task, bad in finished:
                failed += [f"{task.label}: {p}" for p in bad]
                for key, fingerprint in task.records:
                    if key.rsplit("/", 1)[1] not in bad:
                        state.record(key, fingerprint)
                loaded += task.units
                if task.group == "places":
                    places_left -= 1
                    if places_left == 0:
                        submit([_gazetteer_task()])
                elif task.group == "gazetteer":
                    submit(_agency_tasks(ctx, state, geocoded=True))
                ctx.count(loaded, total, "deliveries and months")
    finally:
        sched.close()
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        cache_path.write_text(json.dumps(ctx.hash_cache))
    ctx.outcome["failed_loads"] = failed
    for line in failed:
        ctx.log(f"  FAILED {line} (see the log and rejected/)")
    return f"{loaded} deliveries and months in {runs} runs" if runs else "nothing new"


#: Folders whose files decide what the downstream assets compute: a change to
#: any of them reruns the downstream stage.
CODE_FOLDERS = ("assets", "config", "dbt_project", "exports", "quality", "vrdp")


def code_fingerprint(root: Path = REPO_ROOT) -> str:
    """sha256 over the platform's source files (names and contents).

    dbt's ``target/`` and ``logs/`` and Python caches are left out: they are
    products of the code, not the code.
    """
    h = hashlib.sha256()
    for folder in CODE_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            rel = path.relative_to(root).as_posix()
            if not path.is_file() or "__pycache__" in rel or rel.endswith(".pyc"):
                continue
            if rel.startswith(("dbt_project/target/", "dbt_project/logs/")):
                continue
            h.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


#: Settings only make run's driver reads: how many twin days it steps (the trial
#: they run is in VRDP_TRIAL_* (set from it unless given), which the assets read),
#: and how its processes ask for memory (config.runtime), which changes no output.
DRIVER_SETTINGS = frozenset({"VRDP_TWIN_DAYS", "VRDP_MEMORY_TUNING"})


def inputs_fingerprints(s: Settings) -> dict:
    """What the downstream assets read, in parts: ``base`` and one per loaded source.

    ``base``: the code, the settings, the police.uk months (their lake files'
    names, sizes and modification times: rewritten only when reloaded), the
    boundaries and a force's delivered population estimates; a change there
    rebuilds everything downstream. ``sources``: each agency dataset's loaded
    deliveries (make run's record of them) and the gazetteer's file; a change
    there rebuilds what depends on that dataset only.
    """
    from assets.partners.needs_population import population_files
    from assets.sources.gazetteer import gazetteer_path
    from orchestration.jobs import GAZETTEER_SOURCE

    h = hashlib.sha256(code_fingerprint().encode())
    for folder in ("police_uk", "quarantine/police_uk_street_crimes", "geography"):
        root = s.lake_dir / folder
        for path in sorted(root.rglob("*.parquet")) if root.exists() else []:
            if "/hotspots/" in path.as_posix():
                continue
            st = path.stat()
            h.update(f"{path.relative_to(s.lake_dir)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    for path in population_files(s.landing_dir):
        st = path.stat()
        h.update(f"{path.relative_to(s.landing_dir)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    for name in sorted(set(ENV_VARS) - DRIVER_SETTINGS):
        h.update(f"{name}={os.environ.get(name, '')}\n".encode())
    state = s.data_root / "state" / "make_run_deliveries.json"
    loaded = json.loads(state.read_text()) if state.exists() else {}
    by_source: dict[str, list[str]] = {}
    for key, fingerprint in sorted(loaded.items()):
        by_source.setdefault(key.rsplit("/", 1)[0], []).append(f"{key}={fingerprint}")
    sources = {
        name: hashlib.sha256("\n".join(lines).encode()).hexdigest()
        for name, lines in by_source.items()
    }
    gazetteer = gazetteer_path(s.lake_dir)
    if gazetteer.exists():
        st = gazetteer.stat()
        sources[GAZETTEER_SOURCE] = f"{st.st_size}:{st.st_mtime_ns}"
    return {"base": h.hexdigest(), "sources": sources}


def _downstream_record(s: Settings) -> Path:
    return s.data_root / "state" / "make_run_downstream.json"


def stale_downstream(ctx: RunContext, now: dict) -> tuple[set, str, set]:
    """The downstream assets to build, why, and every downstream asset.

    Everything, unless the last downstream runs on this instance succeeded with
    the same ``base`` (code, settings, police.uk months, boundaries); then what
    depends on the sources whose loaded deliveries changed since, and what those
    runs left to build later (``missing``).
    """
    import dagster as dg

    from assets.automation import DOWNSTREAM_SELECTION
    from orchestration.jobs import reading, source_asset_keys

    graph = ctx.defs.resolve_asset_graph()
    everything = DOWNSTREAM_SELECTION.resolve(graph)
    record = _downstream_record(ctx.settings)
    last = json.loads(record.read_text()) if record.exists() else {}
    runs = [ctx.instance.get_run_by_id(i) for i in last.get("run_ids", [])]
    if not all(r is not None and r.is_success for r in runs) or "sources" not in last:
        return everything, "first build", everything
    if last.get("base") != now["base"]:
        return everything, "code, settings, police.uk months or boundaries changed", everything
    before, after = last["sources"], now["sources"]
    changed = sorted(n for n in before.keys() | after.keys() if before.get(n) != after.get(n))
    stale = reading(graph, source_asset_keys(changed))
    missing = {dg.AssetKey.from_user_string(k) for k in last.get("missing", [])}
    stale = (stale | missing) & everything
    why = f"new deliveries of {', '.join(changed)}" if changed else ""
    if len(changed) > 3:  # the screen gets their number, the timings file their names
        ctx.outcome.setdefault("downstream_new_deliveries", []).append(changed)
        why = f"{len(changed)} sources with new deliveries"
    if missing & everything:
        why = (why + "; " if why else "") + f"{len(missing & everything)} left for later"
    return stale, why, everything


def stage_downstream(ctx: RunContext) -> str:
    """dbt, linkage, hot spots, risk terrain, patrol and exports: what is stale of them.

    What is stale (:func:`stale_downstream`) is built, except the assets in
    ``ctx.defer`` (make run's twin days are about to load new data they read):
    those are recorded as ``missing`` and built by the next call. Nothing is run
    when nothing is stale ("nothing new, nothing done").
    """
    s = ctx.settings
    now = inputs_fingerprints(s)
    stale, why, everything = stale_downstream(ctx, now)
    if not stale:
        ctx.outcome["downstream"] = "unchanged"
        return "no new data and no code change: nothing rebuilt"
    build = stale - set(ctx.defer)
    run_ids = _run_downstream(ctx, build)
    ctx.outcome["downstream"] = "rebuilt" if build == everything else "refreshed"
    ctx.outcome.setdefault("downstream_assets_built", []).append(len(build))
    if not ctx.outcome.get("failed_loads"):
        record = _downstream_record(s)
        record.parent.mkdir(parents=True, exist_ok=True)
        missing = sorted(k.to_user_string() for k in stale - build)
        record.write_text(json.dumps({**now, "missing": missing, "run_ids": run_ids}))
    later = f"; {len(stale) - len(build)} after the twin days" if stale - build else ""
    return f"{len(build)} of {len(everything)} assets ({why}){later}"


def _run_downstream(ctx: RunContext, build: set) -> list[str]:
    """``build`` (downstream asset keys) in make run's runs over three processes.

    The risk terrain models need only the loaded sources, and their model
    selection is the stage's longest step (about 50 s). ``model_risk_terrain``
    runs in one worker process while this process builds the dbt warehouse up to
    person linkage (``build_warehouse_for_hot_spots``); then the hot spot
    families' harm windows (read from the warehouse) and the analyses on them
    run in the other worker (``analyse_hot_spots_beside_warehouse``) while this
    process runs person linkage and the dbt models on it
    (``link_persons_beside_hot_spot_analyses``), then the SOC, governance and hot
    spot cell analyses (``refresh_analytics_beside_hot_spot_analyses``) while
    what reads the person marts is shared out (``publish_person_analyses``, a run
    per export: the longest to the workers, one at a time per worker, and the
    shortest to this process when it is done). What reads the models runs in
    the workers once they and the analyses' run are built: first
    ``refresh_analytics_after_risk_terrain`` (the force forecast, the hot spot
    list, the patrol trial and tasking), then the force family's backtest
    (``backtest_force_hot_spots``). Runs side by side read nothing the other
    writes, and only this process writes the warehouse; what runs beside it in
    the workers opens it only to read, and the warehouse's lock
    (``config.locks.warehouse_lock``) makes a writer and readers wait for each
    other (tests/test_orchestration_jobs.py checks the rest on the asset graph).
    Each run takes its part of ``build``; a run with none is not started. With
    one worker, the same runs one after another. Returns this process's run ids.
    """
    import threading

    import dagster as dg

    from orchestration.jobs import downstream_stages

    graph = ctx.defs.resolve_asset_graph()
    parts = {}
    for name, (_, sel) in downstream_stages().items():
        if keys := sel.resolve(graph) & build:
            parts[name] = keys
    if ctx.pool is None:
        return [ctx.run(dg.AssetSelection.assets(*keys)) for keys in parts.values()]

    def task(name) -> LoadTask:
        return LoadTask(name, tuple(sorted(_key_path(k) for k in parts[name])))

    def here(name) -> list[str]:
        return [ctx.run(dg.AssetSelection.assets(*parts[name]))] if name in parts else []

    def succeeded(name) -> bool:
        future = futures.get(name)
        return future is None or (future.exception() is None and not future.result()[1])

    futures = {}
    if "model_risk_terrain" in parts:
        futures["model_risk_terrain"] = ctx.pool.submit(task("model_risk_terrain"))
    ids = here("build_warehouse_for_hot_spots")
    if "analyse_hot_spots_beside_warehouse" in parts:
        futures["analyse_hot_spots_beside_warehouse"] = ctx.pool.submit(
            task("analyse_hot_spots_beside_warehouse")
        )

    def when_models_are_built() -> None:
        # both read the models and the harm windows the analyses' run builds
        if not (
            succeeded("model_risk_terrain") and succeeded("analyse_hot_spots_beside_warehouse")
        ):
            return
        if "refresh_analytics_after_risk_terrain" in parts:  # the tasking: first
            after = ctx.pool.submit(task("refresh_analytics_after_risk_terrain"))
            futures["refresh_analytics_after_risk_terrain"] = after
            if ctx.when_tasking_ready is not None:
                after.add_done_callback(tasking_built)
        if "backtest_force_hot_spots" in parts:
            futures["backtest_force_hot_spots"] = ctx.pool.submit(task("backtest_force_hot_spots"))

    def tasking_built(future) -> None:
        if future.exception() is None and not future.result()[1]:
            ctx.when_tasking_ready()

    waiter = threading.Thread(target=when_models_are_built, daemon=True)
    waiter.start()

    def refresh() -> list[str]:
        ids = here("link_persons_beside_hot_spot_analyses")
        # the warehouse's last writer is done: what reads the person marts is shared
        # out, longest first to the workers, shortest first to this process once it
        # has run the rest
        readers = _separate_runs(graph, parts.get("publish_person_analyses", set()))
        shared = _SharedRuns(
            [
                (f"publish_person_analyses ({', '.join(k.to_user_string() for k in keys)})", keys)
                for keys in _longest_first(ctx.instance, readers)
            ]
        )
        feeder = shared.feed(ctx.pool, futures)
        ids += here("refresh_analytics_beside_hot_spot_analyses")
        while (run := shared.take_last()) is not None:
            ids.append(ctx.run(dg.AssetSelection.assets(*run[1])))
        feeder.join()
        return ids

    # The twin days wait for the tasking, at the end of the stage's longest path (the
    # risk terrain models, then what reads them), not for this run: it yields the
    # cores to that path and goes on beside the days.
    ids += _yielding(refresh) if ctx.when_tasking_ready is not None else refresh()
    waiter.join()
    # a run the waiter did not start is one whose inputs' run failed: named here
    for name, future in futures.items():
        if future.result()[1]:
            raise SystemExit(f"the {name} run failed (see make ui: {name})")
    return ids


def _separate_runs(graph, keys: set) -> list[list]:
    """``keys`` as groups that share no dependency among them (a run each), in key order.

    Two assets of ``keys`` where one reads the other (directly or through
    ``keys``) are in the same group, so each group's run has what it reads.
    """
    group = {k: k for k in keys}

    def root(k):
        while group[k] != k:
            group[k] = group[group[k]]
            k = group[k]
        return k

    for k in sorted(keys):
        for parent in graph.get(k).parent_keys & keys:
            group[root(parent)] = root(k)
    runs: dict = {}
    for k in sorted(keys):
        runs.setdefault(root(k), []).append(k)
    return list(runs.values())


def _longest_first(instance, runs: list[list]) -> list[list]:
    """``runs`` by how long their assets' steps took when last materialized, longest first.

    A run with an asset never built has no known time: it goes first, as if the
    longest (key order among those; on a first make run, all of them).
    """

    def seconds(key) -> float:
        event = instance.get_latest_materialization_event(key)
        if event is None or not event.step_key:
            return float("inf")
        stats = instance.get_run_step_stats(event.run_id, step_keys=[event.step_key])
        return sum((st.end_time or 0) - (st.start_time or 0) for st in stats)

    return sorted(runs, key=lambda run: -sum(seconds(k) for k in run))


class _SharedRuns:
    """Runs shared by the worker processes (from the front) and this process (from the back).

    :meth:`feed` hands the next run to the workers only when one of its own runs
    there has finished (never more at once than there are workers), so a run
    waits here, where this process can still take it, rather than in the
    executor's queue.
    """

    def __init__(self, runs: list[tuple[str, list]]) -> None:
        import threading
        from collections import deque

        self._runs = deque(runs)
        self._lock = threading.Lock()

    def _take(self, last: bool):
        with self._lock:
            if not self._runs:
                return None
            return self._runs.pop() if last else self._runs.popleft()

    def take_last(self):
        """The shortest run not yet handed out ``(name, keys)``, or None."""
        return self._take(last=True)

    def feed(self, pool, futures: dict):
        """Start handing runs to ``pool``'s workers in a thread; their futures go to ``futures``."""
        import threading
        from concurrent.futures import Future

        slots = threading.Semaphore(pool.workers)

        def body() -> None:
            while True:
                slots.acquire()
                run = self._take(last=False)
                if run is None:
                    return
                name, keys = run
                try:
                    future = pool.submit(LoadTask(name, tuple(sorted(map(_key_path, keys)))))
                except BaseException as exc:  # the pool is gone: the run fails by name
                    future = Future()
                    future.set_exception(exc)
                futures[name] = future
                future.add_done_callback(lambda _: slots.release())

        thread = threading.Thread(target=body, name="shared-runs", daemon=True)
        thread.start()
        return thread


#: How much lower a run off the stage's longest path is scheduled (Linux nice steps).
YIELD_NICENESS = 10


def _yielding(fn: Callable[[], list]) -> list:
    """``fn()`` in a thread of its own at a lower scheduling priority (Linux), its result.

    Threads are scheduled separately on Linux: the lower priority is the new
    thread's, and what it starts inherits it (dbt's subprocess, the threads of
    the DuckDB databases it opens), while this process's other threads and the
    worker processes keep theirs. On two busy cores the longest path (the risk
    terrain models in a worker) then gets them first; the thread only ever runs
    slower, never differently. Elsewhere ``fn`` runs at the same priority. An
    unprivileged process cannot raise a priority again, so the run stays lower
    to its end (on the large world it then becomes the stage's longest path:
    docs/make_run.md).
    """
    import threading

    out: dict = {}

    def body() -> None:
        try:
            if not sys.platform.startswith("linux"):  # a thread id is not a process id there
                raise OSError("per-thread priority is Linux's")
            tid = threading.get_native_id()
            os.setpriority(
                os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + YIELD_NICENESS
            )
        except (AttributeError, OSError):  # no per-thread priority here
            pass
        try:
            out["result"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread
            out["error"] = exc

    thread = threading.Thread(target=body, name="yielding-run", daemon=True)  # ^C ends it
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["result"]


@dataclass(frozen=True)
class Stage:
    """A named step of make run: a function of the :class:`RunContext` returning a note."""

    name: str
    fn: Callable[[RunContext], str]


def stage_land(ctx: RunContext) -> str:
    """The shipped data.police.uk months and the simulated world's deliveries."""
    from orchestration.demo_data import land_demo_data, land_world, simulated_world

    s = ctx.settings
    landed = land_demo_data(s)
    note = f"{len(landed)} police.uk files ({s.police_uk_force})"
    world = simulated_world(s, log=ctx.log)
    ctx.outcome["world"] = world
    if world is not None:
        note += f", {land_world(s, world)} agency files (world {world.name}) newly landed"
    return note


#: make run's stages after landing, in order (``run_all`` runs these).
STAGES: list[Stage] = [
    Stage("boundaries", stage_boundaries),
    Stage("sources (police.uk months, agency deliveries, gazetteer)", stage_sources),
    Stage("warehouse and analyses (dbt, linkage, hot spots, patrol, exports)", stage_downstream),
]


def run_all(
    instance,
    s: Settings,
    *,
    log=print,
    log_level: str = "WARNING",
    workers: int = 1,
    console=None,
    stages: list[Stage] | None = None,
    pool: WorkerPool | None = None,
    defer=frozenset(),
    defs=None,
    when_tasking_ready=None,
) -> dict:
    """Run the stages after landing; return a summary (months, skipped, agencies, timings).

    Dagster's console log is kept to ``log_level``: the full event log is stored
    in the instance and shown by ``make ui``. ``console`` (a
    :class:`orchestration.progress.Console`) shows stage lines, counters and
    times; without one, ``log`` gets one line per stage. ``pool``: worker
    processes to share with the caller's later stages (else started here when
    ``workers`` > 1 and closed on return). ``defer``: downstream asset keys to
    leave for a later downstream stage (make run's twin days); ``defs``: the
    definitions, if the caller has built them; ``when_tasking_ready``: see
    :class:`RunContext`.
    """
    own_pool = pool is None and workers > 1 and not instance.is_ephemeral
    if own_pool:
        pool = WorkerPool(workers, log_level)
    ctx = RunContext(
        instance,
        s,
        log=log,
        log_level=log_level,
        pool=pool,
        defer=frozenset(defer),
        when_tasking_ready=when_tasking_ready,
        _defs=defs,
    )
    if console is not None:
        ctx.log, ctx.count = console.line, console.count
    timings = {}
    try:
        for stage in stages or STAGES:
            t0 = time.monotonic()
            if console is not None:
                console.start(stage.name)
            else:
                log(f"{stage.name} ...")
            note = stage.fn(ctx)
            if console is not None:
                console.done(note)
            timings[stage.name] = round(time.monotonic() - t0, 1)
    finally:
        if own_pool:
            pool.close()
    ctx.outcome["timings"] = timings
    ctx.outcome.setdefault("agencies", {})
    return ctx.outcome


def _write_timings(s: Settings, timings: dict, total: float, outcome: dict) -> Path:
    path = s.data_root / "logs" / "make_run_timings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "total_seconds": round(total, 1),
                "stages_seconds": timings,
                "world_scale": s.world_scale,
                "downstream": outcome.get("downstream"),
                "downstream_after_twin_days": outcome.get("downstream_after_twin_days"),
                "downstream_assets_built": outcome.get("downstream_assets_built", []),
                "downstream_new_deliveries": outcome.get("downstream_new_deliveries", []),
                # stages overlap by this much: the twin days start beside the first
                # warehouse stage as soon as the tasking is built
                "twin_days_beside_warehouse_seconds": outcome.get(
                    "twin_days_beside_warehouse_seconds", 0.0
                ),
                "agency_deliveries_loaded_now": sum(
                    a["loaded_now"] for a in outcome.get("agencies", {}).values()
                ),
                "twin_days_stepped_now": [
                    {k: v for k, v in d.items() if k == "day" or k.startswith("seconds_")}
                    for d in outcome.get("twin_days", [])
                    if d.get("stepped_now")
                ],
            },
            indent=1,
        )
    )
    return path


def main() -> None:
    """Entry point for ``make run``."""
    import warnings

    from orchestration.progress import Console, quiet_output
    from orchestration.summary import shown, stage_times_line, summary

    # Partitioned asset checks are a Dagster preview feature; we rely on them knowingly.
    warnings.filterwarnings("ignore", message=".*partitions_def on an AssetCheckSpec.*")
    # This process and its workers (spawned: they inherit the environment) keep their
    # event log connections open (orchestration.storage): before anything opens an instance.
    from orchestration.storage import KEEP_OPEN_ENV

    os.environ[KEEP_OPEN_ENV] = "1"

    s = settings()
    log_path = s.data_root / "logs" / "make_run.log"
    console = Console(sys.stdout)
    if not os.environ.get("VRDP_PSEUDONYM_SECRET"):
        # DEMO ONLY: the shipped data is public or simulated. Real deployments set
        # their own secret; every asset that needs it fails without one.
        os.environ["VRDP_PSEUDONYM_SECRET"] = DEMO_PSEUDONYM_SECRET
        console.line("VRDP_PSEUDONYM_SECRET not set: using the DEMO secret (never for real data)")
    console.line(f"make run: Dagster and dbt output in {shown(log_path)}")
    ensure_dagster_home(s)
    if log_path.exists():
        log_path.unlink()
    with quiet_output(log_path) as screen:
        console.stream = screen
        import dagster as dg

        from orchestration.definitions import build_defs
        from orchestration.progress import fmt_seconds
        from orchestration.twin_days import (
            BackgroundTwinDays,
            apply_twin_environment,
            built_after_twin_days,
            days_ahead,
            make_runner,
        )

        workers = min(2, os.cpu_count() or 1)
        # The instance (its SQLite storages) is created here before any worker opens
        # it: processes creating them at once race on alembic's version table.
        with dg.DagsterInstance.get() as instance:
            from orchestration.stale_runs import mark_stale_runs_failed

            for run_id in mark_stale_runs_failed(instance):  # e.g. a make run killed mid-flight
                console.line(f"run {run_id}: its process is gone; marked failed")
            pool = WorkerPool(workers, "WARNING") if workers > 1 else None
            try:
                from orchestration.demo_data import world_to_generate

                if pool is not None and world_to_generate(s):
                    # a new world: its deliveries will load. The workers start
                    # (Dagster, definitions, great-expectations) while it is
                    # generated here. Otherwise they start at the first load, if any
                    # (a run with nothing new starts none).
                    pool.start()
                ctx = RunContext(None, s, log=console.line)
                console.start("land the demo data")
                console.done(stage_land(ctx))
                landed_in = console.timings.pop("land the demo data")
                world = ctx.outcome["world"]
                # The twin days run the platform's own trial; without them the static
                # world's crimes follow its published schedule, which the demo then
                # imports explicitly.
                s = apply_twin_environment(s, world, log=console.line)
                if not os.environ.get("VRDP_TRIAL_SOURCE"):
                    os.environ["VRDP_TRIAL_SOURCE"] = "import"
                    console.line(
                        "VRDP_TWIN_DAYS=0: the demo imports the simulated world's trial schedule"
                        if world is not None
                        else "no simulated world: a trial runs only on a delivered schedule"
                        " (or VRDP_TRIAL_SOURCE=platform with VRDP_TRIAL_START)"
                    )
                    s = settings()
                ahead = days_ahead(s, world) if world is not None else []
                # what the twin days' deliveries change and they do not need is built
                # once, after them (orchestration.twin_days.built_after_twin_days)
                defs = build_defs()
                defer = built_after_twin_days(defs) if ahead else frozenset()
                stepping = world is not None and s.twin_days > 0
                name = f"step {s.twin_days} twin day(s)"
                days = BackgroundTwinDays(s, world, log=console.line) if stepping else None
                twin = RunContext(instance, s, log=console.line, pool=pool, _defs=defs)
                beside = None
                if days is not None and ahead and pool is not None:
                    # The days need only the tasking: they start when its run is
                    # built, beside linkage and the partner analyses. Their loads
                    # use this thread's own instance (its own database connections).
                    def load_beside():
                        if twin.instance is instance:
                            twin.instance = dg.DagsterInstance.get()
                        return stage_sources(twin)

                    def beside():
                        days.start(
                            make_pool_runner(pool, defs),
                            load_beside,
                            lambda: console.line(
                                f"[{fmt_seconds(console.elapsed())}] {name}, beside the "
                                "warehouse stage ..."
                            ),
                        )

                outcome = run_all(
                    instance,
                    s,
                    workers=workers,
                    console=console,
                    pool=pool,
                    defer=defer,
                    defs=defs,
                    when_tasking_ready=beside,
                )
                stage_ended = time.monotonic()
                if days is not None:
                    # the tasking run's callback may be starting them this very moment:
                    # start() decides, under its lock, which of the two did
                    sequential = days.start(
                        make_runner(instance, defs=defs),
                        lambda: stage_sources(twin),
                        lambda: console.start(name),
                    )
                    if not sequential and days.ended_at is None:
                        console.line(f"[{fmt_seconds(console.elapsed())}] {name}: finishing ...")
                    outcome["twin_days"] = days.join()
                    if twin.instance is not instance:
                        twin.instance.dispose()
                        twin.instance = instance
                    now = sum(d["stepped_now"] for d in outcome["twin_days"])
                    lived = len(outcome["twin_days"]) - now
                    note = f"{now} day(s) tasked, answered and measured" + (
                        f"; {lived} lived in an earlier run" if lived else ""
                    )
                    if sequential:
                        console.done(note)
                        outcome["timings"][name] = console.timings.pop(name)
                    else:
                        overlap = max(0.0, min(days.ended_at, stage_ended) - days.started_at)
                        outcome["timings"][name] = days.seconds
                        outcome["twin_days_beside_warehouse_seconds"] = round(overlap, 1)
                        console.line(
                            f"      twin days: done in {days.seconds:.1f} s  {note} ("
                            + (
                                f"{overlap:.1f} s beside the warehouse stage"
                                if overlap >= 0.1
                                else "started as the warehouse stage ended"
                            )
                            + ")"
                        )
                    name = "warehouse and analyses after the twin days"
                    console.start(name)
                    console.done(stage_downstream(twin))
                    outcome["timings"][name] = console.timings.pop(name)
                    outcome["downstream_after_twin_days"] = twin.outcome.get("downstream")
                    for key in ("downstream_assets_built", "downstream_new_deliveries"):
                        outcome.setdefault(key, []).extend(twin.outcome.get(key, []))
            finally:
                if pool is not None:
                    pool.close()
        timings = {"land the demo data": landed_in, **outcome["timings"]}
        console.start("summary")
        report = summary(s, outcome)
        console.done()
        timings["summary"] = console.timings["summary"]
    total = console.elapsed()
    times = stage_times_line(timings, total, outcome.get("twin_days_beside_warehouse_seconds", 0))
    full = s.data_root / "logs" / "make_run_summary.txt"
    full.write_text("\n".join([*report.full(), times, ""]))
    print("\n".join(["", *report.screen(), times]))
    timings_file = _write_timings(s, timings, total, outcome)
    print(f"full summary: {shown(full)}; timings: {timings_file.name} beside it")
    sys.stdout.flush()


if __name__ == "__main__":
    from config import runtime

    # NumPy and glibc read their memory settings at start: re-executed with them
    runtime.ensure(["-m", "orchestration.main", *sys.argv[1:]])
    main()
    # Skip the interpreter's teardown: freeing the millions of objects a run
    # leaves behind (Dagster definitions, frames, C extensions' handles) took
    # about 40 s after the summary was printed (seen with py-spy: the main
    # thread busy in C with no Python frame left). Every file is closed and
    # every run is recorded by now; flush what is buffered and leave.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)

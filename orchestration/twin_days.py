"""make run's twin days: the simulated force answers the platform's own taskings.

For each day after the static world ends (``VRDP_TWIN_DAYS`` of them), in order:

1. the platform's daily tasking for that day is built and published (the trial
   allocation the platform randomised, :mod:`assets.patrol.design`);
2. :func:`synthetic.twin.step` reads that published export, exactly what an
   officer's app reads, and writes the day's GPS, app activity and crimes into
   the world's landing zone (truth beside, never read by the platform);
3. the day's deliveries are landed and loaded, and the patrol assets (visits,
   dosage, compliance, evaluation) run again.

A day happens once. A repeated ``make run`` on the same world does not step a
day again (:func:`synthetic.twin.stepped`): by then the platform has loaded that
day and the ones after it, so the tasking it would publish for the day (hot spot
briefings, live visit counts) is not the one the officers were given, the twin's
officers would walk other routes, and the trial would be measured on a different
history (seen: IRR 0.57 on the first run, 0.75 on a second that re-stepped the
same three days). Days still ahead are stepped; regenerating the world starts
the days again.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

__all__ = [
    "TWIN_SOURCES",
    "REUSED_AFTER_TWIN_DAYS",
    "twin_trial_environment",
    "first_twin_day",
    "days_ahead",
    "built_after_twin_days",
    "step_twin_days",
    "apply_twin_environment",
    "make_runner",
    "BackgroundTwinDays",
]

#: The agency datasets a twin day delivers (:mod:`synthetic.twin`'s landing folders).
TWIN_SOURCES = (
    "patrol.gps",
    "patrol.activity",
    "police.occurrences",
    "police.cad_incidents",
    "nhs.istv_assaults",
)


def first_twin_day(world: Path) -> str:
    """The day after the simulated world's last day."""
    import pandas as pd

    params = json.loads((world / "truth" / "world.json").read_text())["parameters"]
    return str((pd.Timestamp(params["end"]) + pd.Timedelta(days=1)).date())


def days_ahead(s, world: Path) -> list[str]:
    """The twin days this run will step: the first ``s.twin_days`` the world has not lived."""
    import pandas as pd

    from synthetic.twin import stepped

    start = pd.Timestamp(first_twin_day(world))
    days = [str((start + pd.Timedelta(days=i)).date()) for i in range(s.twin_days)]
    return [d for d in days if stepped(world, d) is None]


#: Assets that read the twin days' deliveries but compute from whole months only
#: and reuse their last output when what they compute from is unchanged
#: (:mod:`assets.reuse`): the force family's backtest (about 25 s on the medium
#: world). make run builds them before the days, beside them; after the days
#: they are stale and reused, unless a day's delivery changed a whole month.
REUSED_AFTER_TWIN_DAYS = (("force_hotspots", "backtest"),)


def built_after_twin_days(defs) -> frozenset:
    """Downstream assets make run builds once, after the twin days, instead of before too.

    What reads the twin days' deliveries (:data:`TWIN_SOURCES`) is stale once they
    are loaded, so the downstream stage after them rebuilds it anyway. Of that,
    what the days themselves need (the tasking each morning, the measurement each
    evening, and everything upstream of them) is built before as well; the rest
    (the events' person bridge, the SOC, needs and serious violence marts, early
    warning, the partners' exports) only after: built before, it would be thrown
    away. Person linkage is not among them: the person records read no twin-day
    dataset. Nor are the assets of :data:`REUSED_AFTER_TWIN_DAYS`: built before
    (beside the days), their output is reused after them.
    """
    import dagster as dg

    from orchestration.jobs import (
        GAZETTEER_SOURCE,
        reading,
        source_asset_keys,
        stage_selections,
    )

    graph = defs.resolve_asset_graph()
    stages = stage_selections()
    # calls for service carry located text: the gazetteer is rebuilt with them
    reads = reading(graph, source_asset_keys([*TWIN_SOURCES, GAZETTEER_SOURCE]))
    needed = (stages["publish_daily_tasking"][1] | stages["measure_patrol_day"][1]).upstream()
    reused = {dg.AssetKey(list(path)) for path in REUSED_AFTER_TWIN_DAYS}
    return frozenset(reads - needed.resolve(graph) - reused)


def twin_trial_environment(world: Path, days: int) -> dict[str, str]:
    """The platform trial make run runs on the twin days (unless VRDP_TRIAL_* is set).

    The platform chooses the cohort and randomises every twin day; the static
    world's own published schedule is not imported.
    """
    return {
        "VRDP_TRIAL_SOURCE": "platform",
        "VRDP_TRIAL_START": first_twin_day(world),
        "VRDP_TRIAL_DAYS": str(days),
    }


def step_twin_days(s, world: Path, run, load, log=print) -> list[dict]:
    """Step the ``s.twin_days`` days from the world's end that it has not lived yet.

    ``run(selection, partition_key=None, run_config=None)`` materializes;
    ``load()`` registers and loads the agency deliveries landed since the last call.
    Returns each day's summary, ``stepped_now`` False for a day lived by an earlier
    run (its deliveries were landed then; this run's sources stage loaded any left).
    """
    import pandas as pd

    from assets.patrol.common import DAILY_TASKING_KEY
    from assets.patrol.tasking import EXPORT_SUBDIR
    from config.runtime import release_free_memory
    from orchestration.demo_data import land_world
    from orchestration.jobs import stage_selections
    from synthetic.twin import step, stepped

    start = pd.Timestamp(first_twin_day(world))
    stages = stage_selections()  # named jobs, so the UI says what each run did
    tasking = stages["publish_daily_tasking"][1]
    measure = stages["measure_patrol_day"][1]
    out = []
    lived_days: list[str] = []  # said in one line, before the next day stepped or at the end

    def say_lived():
        if lived_days:
            many = len(lived_days) > 1
            span = lived_days[0] + (f"..{lived_days[-1]}" if many else "")
            log(f"twin day{'s' if many else ''} {span}: already happened, not stepped again")
            lived_days.clear()

    for i in range(s.twin_days):
        day = str((start + pd.Timedelta(days=i)).date())
        if (lived := stepped(world, day)) is not None:
            lived_days.append(day)
            out.append({k: v for k, v in lived.items() if k != "planted"} | {"stepped_now": False})
            continue
        say_lived()
        t0 = time.monotonic()
        key = DAILY_TASKING_KEY.to_python_identifier()
        run(tasking, run_config={"ops": {key: {"config": {"date": day}}}})
        latest = (s.exports_dir / EXPORT_SUBDIR / "latest").resolve()
        t1 = time.monotonic()
        summary = step(world, day, latest)
        release_free_memory()  # the simulated day's frames, freed (config.runtime)
        log(
            f"twin day {day}: {summary['tasked_patrol']} spots tasked, {summary['pings']:,} pings, "
            f"{summary['crimes']:,} crimes (export {latest.name})"
        )
        t2 = time.monotonic()
        land_world(s, world)
        load()
        run(measure)
        seconds = {
            "seconds_tasking_published": round(t1 - t0, 1),
            "seconds_twin_step": round(t2 - t1, 1),
            # the day's files landing -> loaded, and visits, dosage, the effect updated
            "seconds_landing_to_updated_evaluation": round(time.monotonic() - t2, 1),
        }
        out.append(
            {k: v for k, v in summary.items() if k != "planted"} | seconds | {"stepped_now": True}
        )
    say_lived()
    return out


def apply_twin_environment(s, world: Path | None, log=print):
    """Set the twin trial's VRDP_TRIAL_* for make run when none is set; new settings."""
    from config.settings import settings

    if world is None or s.twin_days <= 0:
        return s
    if any(os.environ.get(k) for k in ("VRDP_TRIAL_SOURCE", "VRDP_TRIAL_START")):
        return s
    env = twin_trial_environment(world, s.twin_days)
    os.environ.update(env)
    log(
        f"platform trial on {s.twin_days} twin days from {env['VRDP_TRIAL_START']} "
        "(randomised here; VRDP_TWIN_DAYS=0: the world's own schedule)"
    )
    return settings()


def make_runner(instance, log_level: str = "WARNING", defs=None):
    """``run(selection, partition_key=None, run_config=None)`` over the code location.

    A selection equal to a named stage job's runs as that job
    (:func:`orchestration.jobs.run_stage`), e.g. ``publish_daily_tasking``.
    ``defs``: the definitions to run (built here if not given).
    """
    from orchestration.jobs import run_stage

    if defs is None:
        from orchestration.definitions import build_defs

        defs = build_defs()

    def run(selection, partition_key=None, run_config=None) -> None:
        cfg = {"loggers": {"console": {"config": {"log_level": log_level}}}, **(run_config or {})}
        result = run_stage(
            defs,
            selection,
            partition_key=partition_key,
            instance=instance,
            raise_on_error=True,
            run_config=cfg,
        )
        if not result.success:
            raise SystemExit(f"run {result.run_id} failed")

    return run


class BackgroundTwinDays:
    """make run's twin days in a thread, started as soon as the tasking can be built.

    The first warehouse stage ends with person linkage and the partner analyses
    (this process), which no twin day needs: the days only need the tasking
    (the force family's hot spots, the trial), built in a worker before them.
    :meth:`start` (called when that worker's run succeeds, or by make run after
    the stage) runs :func:`step_twin_days` in a thread; started beside the
    stage, its runs go to the workers (``orchestration.main.make_pool_runner``).
    Nothing the days write is read by the stage's remaining runs and nothing
    those write is read by the days (checked on the asset graph by
    tests/test_orchestration_jobs.py). :meth:`join` waits and returns the days'
    summaries (raising what the thread raised).
    """

    def __init__(self, s, world: Path, log=print, clock=time.monotonic) -> None:
        import threading

        self.s, self.world, self.log, self.clock = s, world, log, clock
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self._lock = threading.Lock()
        self._thread = None
        self._result: list[dict] = []
        self._error: BaseException | None = None

    @property
    def started(self) -> bool:
        """Whether :meth:`start` has started the days (waits for a start in progress)."""
        with self._lock:
            return self._thread is not None

    def start(self, run, load, announce=None) -> bool:
        """Start the days unless started already (thread-safe); whether this call did.

        ``run`` and ``load`` are :func:`step_twin_days`'s; ``announce()``, if given,
        is called (e.g. to print the stage's line) only when this call starts them.
        The thread is published only once it is running, so a caller that sees
        :attr:`started` (or gets ``False`` here) can :meth:`join` at once: make run's
        thread and the tasking run's callback can both call this as the stage ends.
        """
        import threading

        with self._lock:
            if self._thread is not None:
                return False
            self.started_at = self.clock()
            if announce is not None:
                announce()
            thread = threading.Thread(
                target=self._days, args=(run, load), name="twin-days", daemon=True
            )
            thread.start()
            self._thread = thread
            return True

    def _days(self, run, load) -> None:
        try:
            self._result = step_twin_days(self.s, self.world, run, load, log=self.log)
        except BaseException as exc:  # re-raised by join() in make run's thread
            self._error = exc
        finally:
            self.ended_at = self.clock()

    def join(self) -> list[dict]:
        """Wait for the days, once started; their summaries."""
        if self._thread is None:
            raise RuntimeError("the twin days were not started")
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result

    @property
    def seconds(self) -> float:
        """The days' own duration, start to end (after :meth:`join`)."""
        return round((self.ended_at or self.clock()) - (self.started_at or self.clock()), 1)

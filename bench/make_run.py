"""Benchmark: ``make run`` after the install, again with nothing new, then with one new day.

Run with ``python -m bench.make_run [--scale medium] [--data-root DIR] [--engine
spark]``; writes ``bench/results/make_run.json`` (``make_run_<scale>.json`` for a
scale other than the default demo's, ``_spark`` added for ``--engine spark``,
``VRDP_ENGINE``'s other value): wall time of the first and the second run, each stage's time
and share (from ``data/logs/make_run_timings.json``), the processes' CPU time,
peak memory of the largest process, and the machine's load while it ran (the
machine may be shared, so the load is reported beside every time). The third run
steps one more twin day (:func:`one_more_day`) and reports the seconds from its
files landing to updated exports.

The install is not timed: run ``make prepare`` first. The data root is a fresh
temporary folder unless ``--data-root`` is given (the simulated world, once
generated there, is reused by a later benchmark with the same root, and the
world generation stage is then reported as reused).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


class _LoadSampler(threading.Thread):
    """Samples the 1-minute load average every few seconds while a run goes on."""

    def __init__(self, every: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.every, self.samples, self._stop = every, [], threading.Event()

    def run(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> dict:
        self._stop.set()
        s = self.samples or [os.getloadavg()[0]]
        return {"mean": round(sum(s) / len(s), 2), "max": round(max(s), 2), "samples": len(s)}


def timed_make_run(env: dict) -> dict:
    """Run ``python -m orchestration.main`` (what ``make run`` runs after prepare) once."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler = _LoadSampler()
    sampler.start()
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.main"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    load = sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"make run failed (exit {proc.returncode})")
    root = Path(env["VRDP_DATA_ROOT"])
    timings = json.loads((root / "logs" / "make_run_timings.json").read_text())
    stages = timings["stages_seconds"]
    total = timings["total_seconds"]
    return {
        "wall_seconds": round(wall, 1),
        # from the last line printed to process exit: should be well under a second
        "exit_after_summary_seconds": round(wall - total, 1),
        "stages_seconds": stages,
        "stages_share": {k: round(v / total, 3) for k, v in stages.items()} if total else {},
        "cpu_seconds": round(
            (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1
        ),
        "peak_rss_mib_largest_process": round(after.ru_maxrss / 1024, 1),
        "load_average_1min_during": load,
        "downstream": timings.get("downstream"),
        "screen_lines": len(proc.stdout.splitlines()),
        # a line longer than the terminal wraps: rows it takes on an 80- and a 120-column one
        "screen_rows_80_columns": _rows(proc.stdout, 80),
        "screen_rows_120_columns": _rows(proc.stdout, 120),
    }


def _rows(text: str, columns: int) -> int:
    """Terminal rows ``text`` takes at ``columns`` wide (long lines wrap).

    >>> _rows("x" * 150, 120), _rows("x" * 240, 80), _rows("", 80)
    (2, 3, 0)
    """
    return sum(max(1, -(-len(line) // columns)) for line in text.splitlines())


def one_more_day(env: dict, world: Path) -> dict:
    """One more ``make run``, with one more twin day: a new day's deliveries land and load.

    ``VRDP_TWIN_DAYS`` goes up by one; the trial stays the first run's (its
    ``VRDP_TRIAL_*`` given as make run set them), so what is rebuilt is what the
    new day's deliveries change. Landing to updated exports: the day's files
    landing, loaded, and the patrol evaluation updated, then the downstream
    assets that read them rebuilt (its exports among them).
    """
    from orchestration.twin_days import first_twin_day

    days = int(env.get("VRDP_TWIN_DAYS") or 3)
    env = {
        **env,
        "VRDP_TWIN_DAYS": str(days + 1),
        "VRDP_TRIAL_SOURCE": "platform",
        "VRDP_TRIAL_START": first_twin_day(world),
        "VRDP_TRIAL_DAYS": str(days),
    }
    result = timed_make_run(env)
    logs = Path(env["VRDP_DATA_ROOT"]) / "logs"
    timings = json.loads((logs / "make_run_timings.json").read_text())
    (day,) = timings["twin_days_stepped_now"]
    after = result["stages_seconds"].get("warehouse and analyses after the twin days", 0.0)
    result["new_day"] = day
    result["downstream_assets_built"] = timings["downstream_assets_built"]
    result["seconds_landing_to_updated_exports"] = round(
        day["seconds_landing_to_updated_evaluation"] + after, 1
    )
    return result


def run(scale: str, data_root: Path, engine: str = "duckdb") -> dict:
    """First run and second run (nothing new) of the demo at ``scale`` on ``engine``."""
    env = {
        **os.environ,
        "VRDP_ENGINE": engine,
        "VRDP_DATA_ROOT": str(data_root),
        "DAGSTER_HOME": str(data_root / "dagster_home"),
        "VRDP_WORLD_SCALE": scale,
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }
    world = data_root / "world" / f"{scale}-seed7"
    world_reused = (world / "truth" / "world.json").exists()
    first = timed_make_run(env)
    second = timed_make_run(env)
    third = one_more_day(env, world) if (world / "truth" / "world.json").exists() else None
    return {
        "benchmark": "make_run",
        "scale": scale,
        "engine": engine,
        "world_generated_in_first_run": not world_reused,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "first_run": first,
        "second_run_nothing_new": second,
        "third_run_one_new_day": third,
        "targets": {"first_run_seconds": 180, "second_run_seconds": 30},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def result_name(scale: str, engine: str) -> str:
    """The result file of a benchmark of ``scale`` on ``engine``.

    >>> result_name("medium", "duckdb"), result_name("large", "duckdb")
    ('make_run.json', 'make_run_large.json')
    >>> result_name("medium", "spark"), result_name("small", "spark")
    ('make_run_spark.json', 'make_run_small_spark.json')
    """
    stem = "make_run" if scale == "medium" else f"make_run_{scale}"
    return f"{stem}{'' if engine == 'duckdb' else '_' + engine}.json"


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", default="medium", choices=["small", "medium", "large", "none"])
    p.add_argument("--data-root", type=Path, default=None)
    p.add_argument("--engine", default="duckdb", choices=["duckdb", "spark"])
    args = p.parse_args(argv)
    if args.data_root is None:
        with tempfile.TemporaryDirectory(prefix="bench_make_run_") as tmp:
            result = run(args.scale, Path(tmp) / "data", args.engine)
    else:
        result = run(args.scale, args.data_root.resolve(), args.engine)
    name = result_name(args.scale, args.engine)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

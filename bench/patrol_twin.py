"""Twin day stepping: one simulated day answering a tasking, on the medium world.

Run: ``python -m bench.patrol_twin [--world DIR] [--scale medium] [--days 3]
[--out bench/results/patrol_twin.json]``

Set-up (not timed): the world (generated once into the bench cache when not
given) is copied to a scratch folder with only what the stepper reads; a tasking
export for each day is written the way the platform publishes it (the world's
trial units, half on patrol, re-randomised each day with a recorded seed).

Timed: :func:`synthetic.twin.step` for each day in turn (reading the tasking,
writing GPS, activity and crimes, truth beside). Also recorded: pings, crimes,
true patrol minutes and whether a repeated step is byte-identical.
"""

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["main"]

SEED = 2026


def _copy(world: Path, dest: Path) -> Path:
    for rel in (
        "truth/world.json",
        "truth/events.parquet",
        "truth/trial_units.parquet",
        "truth/event_records.parquet",
    ):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(world / rel, dest / rel)
    for rel in (
        "landing/places/pois",
        "landing/police/occurrences",
        "landing/police/cad_incidents",
        "landing/nhs/istv_assaults",
        "landing/patrol/teams",
        "landing/patrol/team_officers",
    ):
        if not (world / rel).exists():
            continue
        shutil.copytree(world / rel, dest / rel)
    return dest


def _tasking(world: Path, day: str, path: Path) -> Path:
    units = pd.read_parquet(world / "truth" / "trial_units.parquet")
    rng = np.random.default_rng([SEED, pd.Timestamp(day).toordinal()])
    arm = np.where(rng.permutation(len(units)) < len(units) // 2, "patrol", "control")
    pd.DataFrame(
        {
            "hotspot_id": units["unit_id"],
            "h3_cell": units["h3_cell"],
            "date": day,
            "arm": arm,
            "tasked": arm == "patrol",
            "target_visits": np.where(arm == "patrol", 6, 0),
        }
    ).to_parquet(path, index=False)
    return path


def main(argv=None) -> dict:
    """Run the benchmark and write its JSON."""
    from bench.worlds import ensure_world
    from synthetic.twin import step

    ap = argparse.ArgumentParser()
    ap.add_argument("--world", type=Path)
    ap.add_argument("--scale", default="medium")
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("bench/results/patrol_twin.json"))
    a = ap.parse_args(argv)
    world = ensure_world(a.world, a.scale)
    start = pd.Timestamp(
        json.loads((world / "truth" / "world.json").read_text())["parameters"]["end"]
    )
    with tempfile.TemporaryDirectory() as tmp:
        scratch = _copy(world, Path(tmp) / "w")
        again = _copy(world, Path(tmp) / "again")
        days = []
        for i in range(a.days):
            day = str((start + pd.Timedelta(days=i + 1)).date())
            t = _tasking(world, day, Path(tmp) / f"tasking_{day}.parquet")
            t0 = time.perf_counter()
            s = step(scratch, day, t)
            secs = time.perf_counter() - t0
            step(again, day, t)
            same = all(
                (scratch / rel).read_bytes() == (again / rel).read_bytes()
                for rel in (
                    f"landing/patrol/gps/{day}/gps_pings.parquet",
                    f"landing/patrol/activity/{day}/activity.jsonl",
                    f"landing/police/occurrences/{day}/occurrences_{day}.csv",
                )
            )
            days.append(
                {
                    "day": day,
                    "seconds": round(secs, 2),
                    "pings": s["pings"],
                    "crimes": s["crimes"],
                    "true_minutes": s["true_minutes"],
                    "tasked_patrol": s["tasked_patrol"],
                    "repeat_byte_identical": same,
                }
            )
            print(days[-1])
    result = {
        "benchmark": "patrol_twin",
        "world": {"scale": a.scale, "path": str(world)},
        "machine": "2 cores shared by several engineers (timings include contention)",
        "target_seconds_per_day": 10,
        "max_seconds_per_day": max(d["seconds"] for d in days),
        "days": days,
    }
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()

"""Benchmark: generate the ``large`` simulated world and record time and memory.

Run with ``python -m bench.synthetic_world``; writes ``bench/results/synthetic_world.json``.
The world is generated into a temporary directory that is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from bench.bookkeeping import load_average, machine, peak_rss_mb, write_result


def _cpu_seconds() -> float:
    """User plus system CPU time of this process (s).

    Reported next to wall time because the benchmark machine may be shared.
    """
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run(seed: int = 7, scale: str = "large") -> dict:
    """Generate one world and return the measured figures.

    Parameters
    ----------
    seed : int
        World seed.
    scale : str
        Scale preset name.

    Returns
    -------
    dict
        Timings, peak memory and record counts.
    """
    t_import = time.perf_counter()
    from synthetic.config import SCALES, WorldConfig
    from synthetic.world import generate

    import_s = time.perf_counter() - t_import
    with tempfile.TemporaryDirectory(prefix="synthetic_world_") as tmp:
        t0 = time.perf_counter()
        world = generate(WorldConfig(seed=seed, scale=SCALES[scale]), Path(tmp))
        seconds = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    counts = world["counts"]
    return {
        "scale": scale,
        "seed": seed,
        "seconds": round(seconds + import_s, 1),
        "generate_seconds": round(seconds, 1),
        "stage_seconds_cumulative": world["timings_s"],
        "peak_rss_mb": peak_rss_mb(),
        "cpu_seconds": round(_cpu_seconds(), 1),
        "load_average_at_end": load_average(),
        "police_events": counts["police_events"],
        "police_crime_occurrences": counts["police_crime_occurrences"],
        "events_total": counts["events_total"],
        "cad_incidents": counts["cad_incidents"],
        "person_records": counts["person_records"],
        "persons": counts["persons"],
        "gps_pings": counts["gps_pings"],
        "faults": counts["faults"],
        "files": len(world["files"]),
        "output_mb": round(size / 2**20, 0),
        **machine(),
    }


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scale", default="large")
    args = ap.parse_args()
    result = run(args.seed, args.scale)
    if args.scale == "large":
        write_result("synthetic_world", result, sort_keys=True)
    print(json.dumps(result, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()

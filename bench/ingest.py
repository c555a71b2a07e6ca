"""Benchmark: every source of a simulated world validated, located and loaded.

``python -m bench.ingest`` (options: ``--world /tmp/w_large``, ``--workers 2``)
loads every delivery of every source of the world into a temporary data root
with the functions the source assets run (no Dagster in the timed part):

- agency datasets: :func:`assets.sources.agencies.ingest_agency_delivery`;
- data.police.uk street crimes: :func:`assets.sources.police_uk.ingest_street_month`;
- data.police.uk stop and search:
  :func:`assets.sources.police_uk_stop_search.ingest_stop_search_month`;
- the gazetteer (:func:`assets.sources.gazetteer.build_lake_gazetteer`), then the
  ISTV deliveries geocoded against it.

Deliveries run in ``--workers`` processes (the platform's make run uses two).
Written to ``bench/results/ingest.json``: rows and rows/s per source (rows over
the summed wall time of that source's deliveries), total wall, peak RSS of any
process, the load average, and the Dagster per-run overhead measured separately
on a few deliveries (``dg.materialize`` of the source asset, with and without its
checks, against the same function called directly).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

from bench.bookkeeping import load_average, machine, peak_rss_mb, write_result
from config.settings import REPO_ROOT

OUT = REPO_ROOT / "bench" / "results" / "ingest.json"
FORCE = "thames-valley"
H3_RESOLUTION = 9
TARGET_SECONDS = 300

_STATE: dict = {}


def _layers():
    if "layers" not in _STATE:
        from vrdp.ingest.locate import read_area_layers

        b = REPO_ROOT / "public_data" / "boundaries" / "thames_valley"
        _STATE["layers"] = read_area_layers(
            b / "thames_valley_lsoa21.geojson",
            b / "thames_valley_lsoa11.geojson",
            b / "thames_valley_wards_2025.geojson",
        )
    return _STATE["layers"]


def _area():
    from config.demo import DEMO_WORLD_BOX_BNG
    from vrdp.coords import AreaBox

    return AreaBox(**DEMO_WORLD_BOX_BNG)


def _gazetteer(lake: Path):
    if "gazetteer" not in _STATE:
        from assets.sources.gazetteer import read_gazetteer

        _STATE["gazetteer"] = read_gazetteer(lake)
    return _STATE["gazetteer"]


def run_task(task: tuple) -> dict:
    """Load one delivery or month (runs in a worker process)."""
    import warnings

    warnings.filterwarnings("ignore")
    kind, source, key, path, lake = task
    lake = Path(lake)
    t0, c0 = time.perf_counter(), time.process_time()
    if kind == "agency":
        from assets.sources.agencies import LANDING_SOURCES, ingest_agency_delivery

        spec = next(s for s in LANDING_SOURCES if s.source == source)
        files = sorted(Path(path).glob(spec.file_glob))
        done = ingest_agency_delivery(
            spec,
            files,
            delivery=key,
            lake_dir=lake,
            validated_on=date.today(),
            layers=_layers() if spec.locate else None,
            h3_resolution=H3_RESOLUTION,
            gazetteer=_gazetteer(lake) if spec.locate == "gazetteer" else None,
            area=_area(),
        )
        rows_in, loaded, quarantined = (
            done.result.rows_in,
            len(done.loaded),
            len(done.result.quarantine),
        )
        collapsed = done.result.rows_collapsed
    elif kind == "street":
        from assets.sources.police_uk import ingest_street_month

        layers = _layers()
        parsed, located = ingest_street_month(
            Path(path),
            month=key,
            lake_dir=lake,
            h3_resolution=H3_RESOLUTION,
            lsoa21=layers.lsoa21,
            lsoa11=layers.lsoa11,
            wards=layers.wards,
        )
        rows_in, loaded, quarantined = parsed.rows_in, len(located), len(parsed.quarantine)
        collapsed = parsed.collapsed
    elif kind == "stop_search":
        from assets.sources.police_uk_stop_search import ingest_stop_search_month

        parsed = ingest_stop_search_month(
            Path(path),
            month=key,
            lake_dir=lake,
            validated_on=date.today(),
            force=FORCE,
            layers=_layers(),
            h3_resolution=H3_RESOLUTION,
            area=_area(),
        )
        rows_in, loaded, quarantined = parsed.rows_in, len(parsed.loaded), len(parsed.quarantine)
        collapsed = parsed.collapsed
    else:
        raise ValueError(kind)
    return {
        "source": source,
        "key": key,
        "rows_in": rows_in,
        "rows_loaded": loaded,
        "rows_quarantined": quarantined,
        "rows_collapsed": collapsed,
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": time.process_time() - c0,
        "peak_rss_mb": peak_rss_mb(),
    }


def plan(world: Path, lake: Path) -> tuple[list[tuple], list[tuple]]:
    """(tasks before the gazetteer, tasks after it), largest first within each."""
    from assets.sources.agencies import LANDING_SOURCES
    from vrdp.ingest.police_uk import find_street_files
    from vrdp.ingest.stop_search import find_stop_search_files

    before, after = [], []
    for spec in LANDING_SOURCES:
        root = world / "landing" / spec.agency / spec.dataset
        for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []:
            size = sum(f.stat().st_size for f in folder.glob(spec.file_glob))
            task = ("agency", spec.source, folder.name, str(folder), str(lake))
            (after if spec.locate == "gazetteer" else before).append((size, task))
    pu = world / "landing" / "police_uk"
    for month, f in find_street_files(pu / "street", FORCE).items():
        before.append(
            (f.stat().st_size, ("street", "police_uk.street_crimes", month, str(f), str(lake)))
        )
    for month, f in find_stop_search_files(pu / "stop_and_search", FORCE).items():
        before.append(
            (f.stat().st_size, ("stop_search", "police_uk.stop_searches", month, str(f), str(lake)))
        )

    def order(tasks):
        return [t for _, t in sorted(tasks, key=lambda x: (-x[0], x[1][1], x[1][2]))]

    return order(before), order(after)


def _run_all(tasks: list[tuple], workers: int) -> list[dict]:
    if workers <= 1:
        return [run_task(t) for t in tasks]
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        return list(pool.map(run_task, tasks))


def dagster_overhead(world: Path, root: Path, source: str = "nhs.safeguarding", n: int = 4) -> dict:
    """Per-run Dagster overhead on ``n`` deliveries of a small source.

    Each delivery is loaded three ways into fresh lakes: the function directly,
    ``dg.materialize`` of the source asset without its checks, and with them.
    One more delivery is loaded first each way, untimed, so imports and caches
    (great-expectations, pyproj) are warm for all three.
    """
    import warnings

    import dagster as dg

    from assets.sources.agencies import LANDING_SOURCES, ingest_agency_delivery, source_keys
    from orchestration.definitions import build_defs

    warnings.filterwarnings("ignore")
    spec = next(s for s in LANDING_SOURCES if s.source == source)
    src = world / "landing" / spec.agency / spec.dataset
    folders = sorted(p for p in src.iterdir() if p.is_dir())[: n + 1]
    os.environ["VRDP_DATA_ROOT"] = str(root)
    for f in folders:
        shutil.copytree(f, root / "landing" / spec.agency / spec.dataset / f.name)
    defs = build_defs()
    everything = [*defs.assets, *defs.asset_checks]
    config = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    rows = 0
    direct, bare, checked = [], [], []
    for i, folder in enumerate(folders):
        lake = root / f"direct_{i}"
        t = time.perf_counter()
        done = ingest_agency_delivery(
            spec,
            sorted(folder.glob(spec.file_glob)),
            delivery=folder.name,
            lake_dir=lake,
            validated_on=date.today(),
        )
        if i:
            direct.append(time.perf_counter() - t)
            rows += done.result.rows_in
    for with_checks, out in ((False, bare), (True, checked)):
        instance = dg.DagsterInstance.ephemeral()
        instance.add_dynamic_partitions(f"{spec.slug}_deliveries", [f.name for f in folders])
        selection = dg.AssetSelection.assets(*source_keys(spec)[:2])
        if not with_checks:
            selection = selection.without_checks()
        for i, folder in enumerate(folders):
            t = time.perf_counter()
            result = dg.materialize(
                everything,
                selection=selection,
                partition_key=folder.name,
                instance=instance,
                resources=defs.resources,
                run_config=config,
            )
            if i:
                out.append(time.perf_counter() - t)
            assert result.success
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    return {
        "source": source,
        "deliveries_timed": len(folders) - 1,
        "rows_per_delivery": round(rows / (len(folders) - 1)),
        "steps_per_run_with_checks": 2,
        "direct_seconds_mean": round(mean(direct), 3),
        "materialize_without_checks_seconds_mean": round(mean(bare), 3),
        "materialize_with_checks_seconds_mean": round(mean(checked), 3),
        "overhead_per_run_seconds": round(mean(bare) - mean(direct), 3),
        "overhead_per_run_with_checks_seconds": round(mean(checked) - mean(direct), 3),
    }


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and write its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="/tmp/w_large")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-dagster", action="store_true", help="skip the overhead runs")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    from bench.worlds import ensure_world

    world = ensure_world(Path(args.world), "large")
    load_before = load_average()
    tmp = Path(tempfile.mkdtemp(prefix="vrdp_bench_ingest_"))
    lake = tmp / "data" / "lake"
    try:
        before, after = plan(world, lake)
        t0 = time.perf_counter()
        results = _run_all(before, args.workers)
        t1 = time.perf_counter()
        from assets.sources.gazetteer import build_lake_gazetteer, gazetteer_path
        from vrdp.lake import write_parquet_atomic

        g, _, police = build_lake_gazetteer(lake)
        write_parquet_atomic(g.entries, gazetteer_path(lake))
        t2 = time.perf_counter()
        results += _run_all(after, args.workers)
        t3 = time.perf_counter()
        gazetteer_rss = peak_rss_mb()
        per = defaultdict(lambda: defaultdict(float))
        for r in results:
            p = per[r["source"]]
            for k in (
                "rows_in",
                "rows_loaded",
                "rows_quarantined",
                "rows_collapsed",
                "seconds",
                "cpu_seconds",
            ):
                p[k] += r[k]
            p["deliveries"] += 1
            p["peak_rss_mb"] = max(p["peak_rss_mb"], r["peak_rss_mb"])
        sources = {
            s: {
                "deliveries": int(p["deliveries"]),
                "rows_in": int(p["rows_in"]),
                "rows_loaded": int(p["rows_loaded"]),
                "rows_quarantined": int(p["rows_quarantined"]),
                "rows_collapsed": int(p["rows_collapsed"]),
                "conserved": int(p["rows_in"])
                == int(p["rows_loaded"] + p["rows_quarantined"] + p["rows_collapsed"]),
                "seconds": round(p["seconds"], 2),
                "cpu_seconds": round(p["cpu_seconds"], 2),
                "rows_per_second": round(p["rows_in"] / p["seconds"]) if p["seconds"] else None,
                "peak_rss_mb": p["peak_rss_mb"],
            }
            for s, p in sorted(per.items())
        }
        total_rows = sum(v["rows_in"] for v in sources.values())
        wall = t3 - t0
        cpu = sum(v["cpu_seconds"] for v in sources.values())
        figures = {
            "world": str(world),
            "workers": args.workers,
            "sources": sources,
            "gazetteer": {
                **g.summary,
                "police_locations": len(police),
                "seconds": round(t2 - t1, 2),
            },
            "total_rows_in": total_rows,
            "total_wall_seconds": round(wall, 1),
            "total_task_cpu_seconds": round(cpu, 1),
            # What the wall would be with the workers' CPU to themselves: task CPU
            # spread over the workers, plus the gazetteer step (on a shared machine
            # the measured wall is dominated by waiting for a core).
            "wall_seconds_if_cores_were_free": round(cpu / args.workers + (t2 - t1), 1),
            "rows_per_second_overall": round(total_rows / wall),
            "target_seconds": TARGET_SECONDS,
            "target_met": wall < TARGET_SECONDS,
            "peak_rss_mb_any_process": max([gazetteer_rss, *(r["peak_rss_mb"] for r in results)]),
            "load_average_before": load_before,
            "load_average_after": load_average(),
            **machine(),
            "command": "python -m bench.ingest " + " ".join(sys.argv[1:] if argv is None else argv),
        }
        if not args.no_dagster:
            figures["dagster_overhead"] = dagster_overhead(world, tmp / "dagster" / "data")
        write_result(Path(args.out), figures)
        return figures
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
    print("written to", sys.argv[sys.argv.index("--out") + 1] if "--out" in sys.argv else OUT)

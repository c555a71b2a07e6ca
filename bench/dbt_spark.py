"""Benchmark: the whole dbt project on Spark (local mode) beside DuckDB, on one lake.

``python -m bench.dbt_spark --data-root PATH [--master local[2]]`` writes
``bench/results/dbt_spark.json``. ``PATH`` is a ``make run`` data root: its lake
(every loaded delivery, the data.police.uk months and the linkage asset's copy
of the person links) is what both engines read, e.g. the large world's after
``VRDP_WORLD_SCALE=large VRDP_DATA_ROOT=PATH make run``.

In a scratch root (the lake linked, never written) each engine runs
``dbt seed`` and ``dbt run`` on every model, staging to marts: DuckDB in a
subprocess into a new warehouse file (the person links loaded into it first,
as the linkage asset writes them), Spark in this process through dbt-spark's
session method, as ``make run`` would. Reported: seconds of each command on
each engine, the Spark session's start, and the rows of every model on both
(``same_rows``: every model has as many rows on Spark as on DuckDB; the full
column-by-column comparison is ``tests/spark/test_dbt_spark.py``, on the small
world). The load average is recorded: the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bookkeeping import load_average, machine, write_result

OUT = Path(__file__).resolve().parent / "results" / "dbt_spark.json"
REPO = Path(__file__).resolve().parents[1]
#: the pseudonymisation secret of the demo (the benchmark's data is simulated)
DEMO_SECRET = "demo-only-not-secret"


def dbt_args(root: Path, target: str, *args: str) -> list[str]:
    """Dbt's arguments for ``target``, its target and log folders under ``root``."""
    return [
        *args,
        "--target",
        target,
        "--quiet",
        "--project-dir",
        str(REPO / "dbt_project"),
        "--profiles-dir",
        str(REPO / "dbt_project"),
        "--target-path",
        str(root / f"dbt_target_{target}"),
        "--log-path",
        str(root / "dbt_logs"),
    ]


def run_dbt(root: Path, target: str, *args: str) -> None:
    """Run one dbt command; raise when it fails.

    DuckDB's runs in a subprocess (it keeps its file open in-process), Spark's in
    this process (dbt-spark's session method takes this process's session). Also
    used by tests/spark/test_dbt_spark.py.
    """
    argv = dbt_args(root, target, *args)
    if target == "spark":
        from dbt.cli.main import dbtRunner

        result = dbtRunner().invoke(argv)
        if not result.success:
            raise RuntimeError(f"dbt {' '.join(args)} failed on Spark: {result.exception}")
    else:
        code = "from dbt.cli.main import dbtRunner; import sys; "
        code += "sys.exit(0 if dbtRunner().invoke(sys.argv[1:]).success else 1)"
        subprocess.run([sys.executable, "-c", code, *argv], check=True)


def _timed_dbt(root: Path, target: str, *args: str) -> float:
    """Seconds of one dbt command (:func:`run_dbt`)."""
    t0 = time.perf_counter()
    run_dbt(root, target, *args)
    return round(time.perf_counter() - t0, 2)


def scratch_root(data_root: Path, parent: Path) -> Path:
    """A data root whose lake is ``data_root``'s, with an empty warehouse and restricted layer.

    The person links are loaded into the new DuckDB warehouse from the lake copy
    the linkage asset writes (``lake/linkage/person_record_links``), as that asset
    writes them to the warehouse.
    """
    import duckdb

    from assets.warehouse.linkage import person_links_lake_path
    from vrdp.governance.permissions import ensure_restricted_db, owner_only

    links = person_links_lake_path(data_root / "lake")
    if not links.exists():
        raise SystemExit(f"{links} is missing: run make run on {data_root} first")
    root = parent / "data"
    with owner_only():
        (root / "warehouse").mkdir(parents=True)
    (root / "lake").symlink_to((data_root / "lake").resolve())
    ensure_restricted_db(root / "restricted" / "identity.duckdb")
    con = duckdb.connect(str(root / "warehouse" / "vrdp.duckdb"))
    try:
        con.execute("create schema linkage")
        con.execute(
            "create table linkage.person_record_links as select * from read_parquet(?)",
            [str(links)],
        )
    finally:
        con.close()
    return root


def duckdb_rows(root: Path) -> dict[str, int]:
    """Rows of every table and view dbt built in the DuckDB warehouse and restricted file."""
    import duckdb

    con = duckdb.connect(str(root / "warehouse" / "vrdp.duckdb"), read_only=True)
    try:
        con.execute(f"attach '{root / 'restricted' / 'identity.duckdb'}' as restricted (read_only)")
        names = con.execute(
            "select table_catalog, table_schema, table_name from information_schema.tables "
            "where table_schema not in ('linkage', 'main', 'information_schema')"
        ).fetchall()
        return {
            t: con.execute(f'select count(*) from "{c}"."{s}"."{t}"').fetchone()[0]
            for c, s, t in names
        }
    finally:
        con.close()


def spark_rows(spark) -> dict[str, int]:
    """Rows of every table and view in the session's catalog (dbt's schemas)."""
    out = {}
    for db in spark.catalog.listDatabases():
        if db.name == "default":
            continue
        for t in spark.catalog.listTables(db.name):
            out[t.name] = spark.table(f"`{db.name}`.`{t.name}`").count()
    return out


def main(argv: list[str] | None = None) -> int:
    """Build the project on both engines from one lake; write the result."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", type=Path, required=True)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    os.environ.setdefault("VRDP_PSEUDONYM_SECRET", DEMO_SECRET)
    figures: dict = {"data_root": str(args.data_root), "master": args.master}
    figures["load_average_before"] = load_average()
    with tempfile.TemporaryDirectory(prefix="bench_dbt_spark_") as tmp:
        root = scratch_root(args.data_root, Path(tmp))
        os.environ["VRDP_DATA_ROOT"] = str(root)
        seconds: dict = {"duckdb": {}, "spark": {}}
        for cmd in ("seed", "run"):
            seconds["duckdb"][cmd] = _timed_dbt(root, "dev", cmd)
        print("duckdb", seconds["duckdb"], flush=True)
        rows_duckdb = duckdb_rows(root)

        from vrdp.engines.spark import prepare_dbt_session, spark_session

        t0 = time.perf_counter()
        spark = spark_session(args.master, root / "spark")
        figures["spark_session_start_seconds"] = round(time.perf_counter() - t0, 2)
        prepare_dbt_session(spark, root, os.environ["VRDP_PSEUDONYM_SECRET"].encode())
        for cmd in ("seed", "run"):
            seconds["spark"][cmd] = _timed_dbt(root, "spark", cmd)
        print("spark", seconds["spark"], flush=True)
        rows_spark = spark_rows(spark)
        spark.stop()
    figures["seconds"] = seconds
    figures["relations"] = len(rows_duckdb)
    figures["rows_duckdb"] = dict(sorted(rows_duckdb.items()))
    differ = {
        name: {"duckdb": n, "spark": rows_spark.get(name)}
        for name, n in rows_duckdb.items()
        if rows_spark.get(name) != n
    }
    figures["same_rows"] = not differ
    figures["rows_differ"] = differ
    figures["load_average_after"] = load_average()
    figures["machine"] = machine()
    print(write_result(args.out, figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

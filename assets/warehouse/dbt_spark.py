"""The executable the dbt warehouse assets run in place of ``dbt`` when Spark is the engine.

dagster-dbt runs dbt as a subprocess and reads its JSON log lines. With
``VRDP_ENGINE=spark`` that subprocess is ``bin/dbt-spark`` (:data:`EXECUTABLE`,
``$VRDP_PYTHON -m assets.warehouse.dbt_spark``), which

1. starts the platform's session (:func:`vrdp.engines.spark_session`) with the
   Hive catalog (Spark's built-in metastore, an embedded Derby database under
   ``<data root>/spark/metastore``): the tables one dbt step builds are the refs
   of the next step's models, built in another process;
2. prepares it for dbt (:func:`vrdp.engines.prepare_dbt_session`: the
   restricted schemas' owner-only folder, the pseudonymisation secret as a
   session variable);
3. runs dbt's command with dbt's own runner (the same lines on stdout as dbt's
   command line, the same exit codes);
4. publishes every relation the command built into the DuckDB warehouse
   (:func:`vrdp.engines.dbt_spark.publish_to_duckdb`).
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

__all__ = ["EXECUTABLE", "main"]

#: The executable dagster-dbt runs in place of ``dbt`` when Spark is the engine
#: (a shell script: ``$VRDP_PYTHON -m assets.warehouse.dbt_spark "$@"``).
EXECUTABLE = Path(__file__).parent / "bin" / "dbt-spark"


def main(argv: list[str] | None = None) -> int:
    """Run dbt's command ``argv`` on Spark in a prepared session, then publish; the exit code.

    0 when dbt succeeded, 1 when a model or test failed (what was built is
    published all the same, as DuckDB keeps what it built), 2 when dbt or the
    publication raised, as dbt's own command line.
    """
    from dbt.cli.main import dbtRunner

    from config.settings import settings
    from vrdp.engines.dbt_spark import (
        PUBLISHED_COMMANDS,
        built_relations,
        dbt_command,
        publish_to_duckdb,
    )
    from vrdp.engines.spark import prepare_dbt_session, spark_session
    from vrdp.linkage.keys import pseudonym_secret

    argv = list(sys.argv[1:] if argv is None else argv)
    if "--target" not in argv and not any(a.startswith("--target=") for a in argv):
        argv += ["--target", "spark"]
    s = settings()
    spark = spark_session(catalog="hive")
    restricted = prepare_dbt_session(spark, s.data_root, pseudonym_secret())
    result = dbtRunner().invoke(argv)
    if result.exception is not None:
        print(f"dbt on Spark raised: {result.exception!r}", file=sys.stderr)
        return 2
    if dbt_command(argv) in PUBLISHED_COMMANDS and result.result is not None:
        relations = built_relations(result.result.results)
        started = time.perf_counter()
        try:
            rows = publish_to_duckdb(
                spark,
                relations,
                s.warehouse_path,
                s.identity_db_path,
                scratch=s.data_root / "spark" / "publish",
                restricted_scratch=restricted / "_publish",
            )
        except Exception:
            traceback.print_exc()
            print("publishing dbt's relations from Spark into DuckDB failed", file=sys.stderr)
            return 2
        print(
            f"published {len(rows)} relations built on Spark ({sum(rows.values()):,} rows) "
            f"into the DuckDB warehouse in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())

"""The platform's Spark session: one per process, configured from the settings.

``VRDP_ENGINE=spark`` sends the heavy steps (GPS dwell and dosage, Splink
linkage, dbt) to Apache Spark; ``VRDP_SPARK_MASTER`` says where: ``local[2]``
runs Spark inside this process's JVM on two cores, ``spark://host:7077``,
``yarn`` or ``k8s://...`` send the same jobs to a cluster. pyspark is imported
inside the functions, so importing this module costs nothing.

The session works offline and leaves nothing in the working tree: the SQL
warehouse and Splink's checkpoints live under ``<data root>/spark``, the catalog
in memory; the UI is off; the Splink similarity functions
(Jaro-Winkler and friends) come from the jar shipped inside the splink wheel.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = [
    "spark_conf",
    "spark_session",
    "stop_spark_session",
    "prepare_dbt_session",
    "SECRET_VARIABLE",
    "SHUFFLE_PARTITIONS",
]

#: Shuffle partitions in local mode: Spark's default of 200 is tuned for clusters
#: and makes every small shuffle on a laptop pay for 200 empty tasks.
SHUFFLE_PARTITIONS = 4
#: The session variable dbt's Spark models read the pseudonymisation secret from
#: (``models/intermediate/int_address_places/int_address_places.sql``)
SECRET_VARIABLE = "vrdp_pseudonym_secret"


def _splink_jar() -> str | None:
    """The Scala similarity UDF jar shipped inside the splink wheel (Spark 4 build)."""
    import splink

    jars = sorted(
        (Path(splink.__file__).parent / "internals" / "files" / "spark_jars").glob(
            "scala-udf-similarity-*_spark4.x.jar"
        )
    )
    return str(jars[-1]) if jars else None


def spark_conf(
    master: str, spark_dir: Path, *, driver_memory: str = "2g", catalog: str = "in-memory"
) -> dict[str, str]:
    """The Spark configuration the platform uses (pure: no session is started).

    Parameters
    ----------
    master
        Spark master URL (``local[2]``, ``spark://host:7077``, ``yarn``, ...).
    spark_dir
        Folder for the SQL warehouse and checkpoints, and the Hive catalog's
        Derby database (``metastore/metastore_db``) when ``catalog="hive"``.
    driver_memory
        Memory of the driver JVM (in local mode, of every executor too).
    catalog
        ``in-memory`` (the tables a session creates live as long as it does) or
        ``hive``: Spark's built-in Hive metastore in an embedded Derby database,
        so that another process (the next dbt step) finds the tables. Derby lets
        one JVM at a time open it: the dbt steps, which run one after another,
        use it; GPS dwell and linkage, which create no tables, keep the catalog
        in memory.

    >>> c = spark_conf("local[2]", Path("/tmp/x"))
    >>> c["spark.master"], c["spark.ui.enabled"], c["spark.sql.session.timeZone"]
    ('local[2]', 'false', 'UTC')
    >>> c["spark.sql.catalogImplementation"], c["spark.sql.shuffle.partitions"]
    ('in-memory', '4')
    >>> h = spark_conf("local[2]", Path("/tmp/x"), catalog="hive")
    >>> h["spark.sql.catalogImplementation"]
    'hive'
    >>> h["spark.hadoop.javax.jdo.option.ConnectionURL"]
    'jdbc:derby:;databaseName=/tmp/x/metastore/metastore_db;create=true'
    """
    if catalog not in ("in-memory", "hive"):
        raise ValueError(f"catalog must be 'in-memory' or 'hive', not {catalog!r}")
    spark_dir = Path(spark_dir)
    local = master.startswith("local")
    conf = {
        "spark.master": master,
        "spark.app.name": "vrdp",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # Timestamps are UTC instants everywhere in the platform (local time is
        # derived explicitly with from_utc_timestamp), as in the DuckDB path.
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.warehouse.dir": str(spark_dir / "warehouse"),
        # By default the catalog lives in the driver's memory: no Derby metastore,
        # whose lock would stop two Dagster steps (two JVMs) from starting
        # sessions at once. A cluster with a shared Hive metastore sets its own.
        "spark.sql.catalogImplementation": catalog,
        # A driver out of heap ends (the step fails) rather than hang: an
        # OutOfMemoryError in the thread serving results to Python leaves the
        # Python side waiting on its socket for ever.
        "spark.driver.extraJavaOptions": (
            f"-Dderby.system.home={spark_dir / 'metastore'} -XX:+ExitOnOutOfMemoryError"
        ),
        "spark.checkpoint.dir": str(spark_dir / "checkpoints"),
        "spark.driver.memory": driver_memory,
        # pyspark 4.3 warns on every pandas conversion that pandas 3 is new to it;
        # the platform's Spark tests compare its answers with the pandas path.
        "spark.executorEnv.PYTHONWARNINGS": "ignore::FutureWarning",
    }
    if catalog == "hive":
        metastore = Path(spark_dir) / "metastore" / "metastore_db"
        conf["spark.hadoop.javax.jdo.option.ConnectionURL"] = (
            f"jdbc:derby:;databaseName={metastore};create=true"
        )
    if local:
        conf["spark.sql.shuffle.partitions"] = str(SHUFFLE_PARTITIONS)
        conf["spark.default.parallelism"] = str(SHUFFLE_PARTITIONS)
        conf["spark.driver.host"] = "127.0.0.1"
        conf["spark.driver.bindAddress"] = "127.0.0.1"
    jar = _splink_jar()
    if jar:
        conf["spark.jars"] = jar
    return conf


def spark_session(
    master: str | None = None, spark_dir: Path | None = None, *, catalog: str = "in-memory"
):
    """The process's SparkSession, started on first use (``getOrCreate``).

    ``master`` defaults to ``VRDP_SPARK_MASTER`` and ``spark_dir`` to
    ``<VRDP_DATA_ROOT>/spark``; ``catalog`` as in :func:`spark_conf` (a static
    setting: it applies when this call starts the session). dbt-spark's
    ``session`` method and Splink's ``SparkAPI`` pick up the same session, so
    one JVM serves every step of a run.
    """
    from config.settings import settings

    s = settings()
    master = master or s.spark_master
    spark_dir = Path(spark_dir or s.data_root / "spark")
    for sub in ("warehouse", "metastore", "checkpoints"):
        (spark_dir / sub).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python workers (pandas UDFs) run the same interpreter as the driver.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    import warnings

    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    conf = spark_conf(master, spark_dir, driver_memory=s.spark_driver_memory, catalog=catalog)
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(str(spark_dir / "checkpoints"))
    return spark


def prepare_dbt_session(spark, data_root: Path, secret: bytes) -> Path:
    """Make ``spark`` ready for ``dbt --target spark``; return the restricted folder.

    dbt-spark's session method runs the models in this session. The restricted
    layer's schemas (``restricted_intermediate``, ``restricted_identity``) keep
    their files in ``<data root>/restricted/spark``: created here owner-only
    (0700, :func:`vrdp.governance.permissions.owner_only`), so the files Spark
    writes inside, whatever their own mode, are reachable by the owner alone.
    The pseudonymisation secret becomes the session variable
    :data:`SECRET_VARIABLE`, bound as a query parameter: dbt's SQL names the
    variable, so the secret is in no compiled SQL, log or file.
    """
    from vrdp.governance.permissions import owner_only

    folder = Path(data_root) / "restricted" / "spark"
    with owner_only():
        folder.mkdir(parents=True, exist_ok=True)
    spark.sql(f"declare or replace variable {SECRET_VARIABLE} string")
    spark.sql(f"set var {SECRET_VARIABLE} = :secret", args={"secret": secret.decode()})
    return folder


def stop_spark_session() -> None:
    """Stop the process's session, if one is running (the next call starts a new one)."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()

"""dbt on Spark, its built relations served from DuckDB.

With ``VRDP_ENGINE=spark`` the warehouse assets build the warehouse with ``dbt
--target spark`` in a process whose SparkSession the platform prepared
(:mod:`assets.warehouse.dbt_spark`, the executable dagster-dbt runs in place of
``dbt``). What each dbt step built is then published into the DuckDB warehouse
(:func:`publish_to_duckdb`; the restricted layer's into the owner-only
restricted file), so that what reads the warehouse after dbt (hot spots, the
patrol loop, exports, the API, the dashboard) reads the same tables whichever
engine built them. On a cluster the serving copy is the deployment's choice
(docs/spark.md); on one machine DuckDB serves.

Spark's tables are read by DuckDB from their Parquet files; Spark's views
(staging) are written to Parquet first. Types follow the files: Spark's
``timestamp`` (an instant; the session's time zone is UTC) arrives as DuckDB's
``timestamp`` in UTC, as DuckDB's own build has it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from vrdp.governance.permissions import RESTRICTED_CATALOG, attach_restricted
from vrdp.lake import sql_string

__all__ = [
    "PUBLISHED_COMMANDS",
    "Built",
    "built_relations",
    "dbt_command",
    "publish_to_duckdb",
]

#: dbt commands that build relations, whose results are published to DuckDB
PUBLISHED_COMMANDS = frozenset({"build", "run", "seed", "snapshot"})
_RESTRICTED_PREFIX = "restricted_"


@dataclass(frozen=True)
class Built:
    """A relation dbt built on Spark and where it is served in DuckDB.

    >>> b = Built("restricted_identity", "person_identifiers", True, False)
    >>> b.spark_name, b.duckdb_schema
    ('restricted_identity.person_identifiers', 'identity')
    """

    spark_schema: str
    name: str
    restricted: bool
    view: bool

    @property
    def spark_name(self) -> str:
        """The relation's name in Spark's catalog."""
        return f"{self.spark_schema}.{self.name}"

    @property
    def duckdb_schema(self) -> str:
        """The schema in DuckDB: a restricted model's Spark schema without its prefix.

        ``restricted_identity`` is ``restricted.identity`` (macros/generate_schema_name.sql).
        """
        if self.restricted:
            return self.spark_schema.removeprefix(_RESTRICTED_PREFIX)
        return self.spark_schema


def built_relations(results) -> list[Built]:
    """The relations a dbt invocation built, in the order dbt ran them.

    Each model, seed and snapshot of ``results`` (``dbtRunnerResult.result.results``)
    that succeeded; ephemeral models build nothing.
    """
    built = []
    for r in results:
        node = r.node
        if node.resource_type not in ("model", "seed", "snapshot"):
            continue
        if str(r.status) != "success":
            continue
        materialized = node.config.materialized
        if materialized == "ephemeral":
            continue
        built.append(
            Built(
                spark_schema=node.schema,
                name=node.alias or node.name,
                restricted=node.config.database == RESTRICTED_CATALOG,
                view=materialized == "view",
            )
        )
    return built


def _files_of(spark, relation: Built, scratch: Path) -> tuple[str, Path | None]:
    """A Parquet glob DuckDB reads for ``relation``, and a folder to delete afterwards.

    A table's own files where it keeps them; a view (or a table whose folder
    holds no Parquet file) written by Spark into ``scratch`` first.
    """
    if not relation.view:
        described = spark.sql(f"describe table extended {relation.spark_name}").collect()
        info = {r[0]: r[1] for r in described}
        location = Path(str(info.get("Location", "")).removeprefix("file:"))
        if location.is_dir() and any(location.glob("*.parquet")):
            return str(location / "*.parquet"), None
    out = scratch / relation.spark_schema / relation.name
    spark.table(relation.spark_name).write.mode("overwrite").parquet(str(out))
    return str(out / "*.parquet"), out


def _select_list(con, files: str) -> str:
    """Every column of ``files`` as DuckDB reads it, instants as UTC timestamps."""
    described = con.execute(f"describe select * from read_parquet({sql_string(files)})").fetchall()
    columns = []
    for name, kind, *_ in described:
        ident = '"' + name.replace('"', '""') + '"'
        if kind == "TIMESTAMP WITH TIME ZONE":
            columns.append(f"timezone('UTC', {ident}) as {ident}")
        else:
            columns.append(ident)
    return ", ".join(columns)


def _replace(con, database: str, relation: Built, files: str) -> int:
    """Replace ``relation`` in ``database`` by a table of ``files``; its rows."""
    schema = relation.duckdb_schema
    target = f'"{database}"."{schema}"."{relation.name}"'
    con.execute(f'create schema if not exists "{database}"."{schema}"')
    kind = con.execute(
        "select table_type from information_schema.tables "
        "where table_catalog = ? and table_schema = ? and table_name = ?",
        [database, schema, relation.name],
    ).fetchone()
    if kind is not None:
        con.execute(f"drop {'view' if kind[0] == 'VIEW' else 'table'} {target}")
    con.execute(
        f"create table {target} as select {_select_list(con, files)}"
        f" from read_parquet({sql_string(files)})"
    )
    return con.execute(f"select count(*) from {target}").fetchone()[0]


def publish_to_duckdb(
    spark,
    relations: list[Built],
    warehouse_path: Path,
    identity_path: Path,
    *,
    scratch: Path,
    restricted_scratch: Path,
) -> dict[str, int]:
    """Copy ``relations`` from Spark into the DuckDB warehouse; rows per relation.

    Each becomes a table of the same schema and name in ``warehouse_path``, or in
    the restricted file ``identity_path`` (attached as ``restricted``, created
    owner-only when missing) for the restricted layer, replacing a table or view
    of that name. One transaction per file: a reader sees every relation of the
    step replaced in it, or none. A view's rows are written by Spark to ``scratch`` first
    (``restricted_scratch``, inside the owner-only folder, for the restricted
    layer's) and deleted after.
    """
    import duckdb

    rows: dict[str, int] = {}
    staged = []
    try:
        located = []
        for relation in relations:
            folder = restricted_scratch if relation.restricted else scratch
            files, temporary = _files_of(spark, relation, folder)
            staged += [temporary] if temporary else []
            located.append((relation, files))
        con = duckdb.connect(str(warehouse_path))
        try:
            catalog = con.execute("select current_database()").fetchone()[0]
            if any(r.restricted for r in relations):
                attach_restricted(con, identity_path, read_only=False)
            # one transaction per file (DuckDB writes one attached database per
            # transaction): a reader sees all of a file's relations replaced, or none
            for restricted in (False, True):
                batch = [(r, f) for r, f in located if r.restricted == restricted]
                if not batch:
                    continue
                database = RESTRICTED_CATALOG if restricted else catalog
                con.execute("begin")
                for relation, files in batch:
                    rows[f"{database}.{relation.duckdb_schema}.{relation.name}"] = _replace(
                        con, database, relation, files
                    )
                con.execute("commit")
        finally:
            con.close()
    finally:
        for folder in staged:
            shutil.rmtree(folder, ignore_errors=True)
    return rows


def dbt_command(argv: list[str]) -> str | None:
    """The dbt command in ``argv``: its first word that is not an option.

    >>> dbt_command(["--log-format", "json", "build", "--select", "x"])
    'build'
    >>> dbt_command(["--no-use-colors", "seed"])
    'seed'
    """
    takes_value = {"--log-format", "--log-level", "--log-path", "--profiles-dir", "--project-dir"}
    skip = False
    for word in argv:
        if skip:
            skip = False
            continue
        if word.startswith("-"):
            skip = word in takes_value
            continue
        return word
    return None

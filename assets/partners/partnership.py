"""Restricted partnership export: safeguarding opportunities (with their rules) and timelines."""

import dagster as dg

from config.resources import WAREHOUSE_POOL, PlatformConfig

__all__ = [
    "PARTNERSHIP_SUBDIR",
    "OPPORTUNITIES_FILE",
    "TIMELINE_FILE",
    "RULES_FILE",
    "partnership_export",
    "read_person_events",
    "write_timeline",
]

PARTNERSHIP_SUBDIR = "restricted/partnership"
OPPORTUNITIES_FILE = "safeguarding_opportunities.parquet"
TIMELINE_FILE = "timeline.parquet"
RULES_FILE = "safeguarding_rules.json"


#: The timeline file: every column, dates as timestamps (as the export always had them).
_TIMELINE_SQL = (
    "select * replace (occurred_on::timestamp as occurred_on)"
    " from marts.fct_person_timeline order by person_event_key"
)


#: DuckDB's memory for writing the timeline (beyond it, its sort spills to disk).
TIMELINE_MEMORY_LIMIT = "1GB"


def read_person_events(con):
    """What the safeguarding rules read of every person's events in the timeline mart.

    Only their columns (:data:`vrdp.cohorts.safeguarding.EVENT_COLUMNS`), not all sixteen.
    """
    from vrdp.cohorts.safeguarding import EVENT_COLUMNS as columns
    from vrdp.lake import query_frame

    return query_frame(con, f"select {', '.join(columns)} from marts.fct_person_timeline")


def write_timeline(con, path) -> None:
    """The whole timeline as Parquet, written by DuckDB (it never passes through pandas).

    The large world's timeline (2.2 million rows) took 4.3 GiB through a data frame;
    written here it streams.
    """
    import shutil
    from pathlib import Path

    import duckdb

    from vrdp.lake import sql_string

    # its sort is held to TIMELINE_MEMORY_LIMIT and spills beside the file (in the
    # restricted export's owner-only staging folder), removed before publication.
    # DuckDB keeps a temporary folder once it has used it: then the sort is left
    # unbounded rather than spill restricted rows anywhere else.
    spill = Path(path).parent / ".timeline_spill"
    try:
        con.execute(f"set temp_directory = {sql_string(spill)}")
        con.execute(f"set memory_limit = '{TIMELINE_MEMORY_LIMIT}'")
        limited = True
    except duckdb.NotImplementedException:
        limited = False
    try:
        con.execute(f"copy ({_TIMELINE_SQL}) to {sql_string(path)} (format parquet)")
    finally:
        if limited:  # the database may be shared by other connections of this process
            con.execute("reset memory_limit")
        shutil.rmtree(spill, ignore_errors=True)


def _parquet(df, name):
    from exports.format import ExportFile

    return ExportFile(name, len(df), lambda path: df.to_parquet(path, index=False))


@dg.asset(
    key=dg.AssetKey(["exports", "partnership_export"]),
    deps=[
        dg.AssetKey(["marts", "fct_person_timeline"]),
        dg.AssetKey(["marts", "dim_persons"]),
    ],
    group_name="serving",
    kinds={"python", "duckdb", "parquet"},
    pool=WAREHOUSE_POOL,
    code_version="1",
)
def partnership_export(
    context: dg.AssetExecutionContext, platform: PlatformConfig
) -> dg.MaterializeResult:
    """Safeguarding opportunities and person timelines, restricted to the safeguarding role.

    People known to 2+ agencies with a recent event, each with the versioned rules that
    list them in words; every person's cross-agency timeline (victimisation and
    offending side by side).
    """
    import json

    from exports.format import ExportFile, publish_export
    from vrdp.cohorts.safeguarding import load_rules, safeguarding_opportunities

    s = platform.resolve()
    rules = load_rules()
    rules_doc = {"version": rules.version, "min_agencies": rules.min_agencies}
    rules_doc |= {"recent_days": rules.recent_days, "rules": rules.listing()}
    text = json.dumps(rules_doc, indent=2) + "\n"

    def write_rules(path):
        path.write_text(text)

    with platform.warehouse(read_only=True) as con:
        events = read_person_events(con)
        persons = con.execute("select * from marts.dim_persons").df()
        listed = safeguarding_opportunities(persons, events, rules)
        del events, persons  # before the timeline is written
        timeline_rows = con.execute("select count(*) from marts.fct_person_timeline").fetchone()[0]
        as_of = str(listed["as_of"].max()) if len(listed) else "empty"
        published = publish_export(  # inside the block: the timeline is written from it
            s.exports_dir / PARTNERSHIP_SUBDIR,
            [
                _parquet(listed, OPPORTUNITIES_FILE),
                ExportFile(TIMELINE_FILE, timeline_rows, lambda p: write_timeline(con, p)),
                ExportFile(RULES_FILE, len(rules.rules), write_rules),
            ],
            as_of=as_of,
            parameters={
                "rules_version": rules.version,
                "rules_file": rules.path.rsplit("/", 1)[-1],
            },
            restricted=True,
        )
    by_rule = {r["id"]: int(listed["rule_ids"].str.contains(r["id"]).sum()) for r in rules.rules}
    context.log.info(f"partnership export {published.version}: {len(listed)} people listed")
    return dg.MaterializeResult(
        metadata={
            "version": published.version,
            "path": dg.MetadataValue.path(str(published.path)),
            "people_listed": len(listed),
            "listed_by_rule": dg.MetadataValue.json(by_rule),
            "rules_version": rules.version,
            "timeline_rows": timeline_rows,
            "dagster/row_count": len(listed),
        }
    )

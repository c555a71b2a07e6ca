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
]

PARTNERSHIP_SUBDIR = "restricted/partnership"
OPPORTUNITIES_FILE = "safeguarding_opportunities.parquet"
TIMELINE_FILE = "timeline.parquet"
RULES_FILE = "safeguarding_rules.json"


def read_person_events(con):
    """``marts.fct_person_timeline`` (every person's events, roles and sides)."""
    return con.execute("select * from marts.fct_person_timeline order by 1").df()


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
    with platform.warehouse(read_only=True) as con:
        timeline = read_person_events(con)
        persons = con.execute("select * from marts.dim_persons").df()
    rules = load_rules()
    listed = safeguarding_opportunities(persons, timeline, rules)
    rules_doc = {"version": rules.version, "min_agencies": rules.min_agencies}
    rules_doc |= {"recent_days": rules.recent_days, "rules": rules.listing()}
    text = json.dumps(rules_doc, indent=2) + "\n"

    def write_rules(path):
        path.write_text(text)

    as_of = str(listed["as_of"].max()) if len(listed) else "empty"
    published = publish_export(
        s.exports_dir / PARTNERSHIP_SUBDIR,
        [
            _parquet(listed, OPPORTUNITIES_FILE),
            _parquet(timeline, TIMELINE_FILE),
            ExportFile(RULES_FILE, len(rules.rules), write_rules),
        ],
        as_of=as_of,
        parameters={"rules_version": rules.version, "rules_file": rules.path.rsplit("/", 1)[-1]},
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
            "timeline_rows": len(timeline),
            "dagster/row_count": len(listed),
        }
    )

"""The patrol loop as Dagster drives it: new GPS or activity -> dosage and evaluation.

A GPS or activity delivery lands, its sensor requests the delivery's run, and
declarative automation brings dosage, evaluation and tasking up to date.

:func:`patrol_flow_defs` is the patrol slice of the code location: the sources the
patrol assets read, their blocking checks, the file-arrival sensors of GPS and app
activity, and every patrol asset under the same automation condition as in
``assets.defs()``. :func:`sensor_tick` and :func:`automation_tick` evaluate one tick
of a sensor or of the automation against a real :class:`dagster.DagsterInstance` and
execute what it requests in-process, as the daemon's runs would, so tests and the
``bench.patrol_loop`` benchmark exercise the same requests the daemon acts on.
"""

import dagster as dg

__all__ = [
    "PATROL_INPUTS",
    "WATCHED_SOURCES",
    "patrol_flow_defs",
    "sensor_tick",
    "automation_tick",
]

#: Agency datasets the patrol assets read.
PATROL_INPUTS = (
    "places.pois",
    "police.occurrences",
    "police.cad_incidents",
    "patrol.gps",
    "patrol.activity",
)
#: Datasets whose new deliveries drive the loop.
WATCHED_SOURCES = ("patrol.gps", "patrol.activity")


def _specs(names):
    from assets.sources.agencies import LANDING_SOURCES

    return [s for s in LANDING_SOURCES if s.source in names]


def patrol_flow_defs() -> dg.Definitions:
    """Sources, checks, GPS/activity sensors and the automated patrol assets (no I/O)."""
    from assets.automation import DOWNSTREAM_AUTOMATION
    from assets.patrol import patrol_assets
    from assets.sources.agencies import agency_source_assets, source_keys
    from config.resources import PlatformConfig
    from quality.checks.agencies import agency_source_checks
    from sensors.landing import delivery_sensor

    keys = {k for spec in _specs(PATROL_INPUTS) for k in source_keys(spec)}
    sources = [
        a
        for a in agency_source_assets()
        if (a.key in keys if isinstance(a, dg.AssetSpec) else set(a.keys) & keys)
    ]
    checks = [c for c in agency_source_checks() if {ck.asset_key for ck in c.check_keys} <= keys]
    derived = dg.map_asset_specs(
        lambda spec: spec.replace_attributes(automation_condition=DOWNSTREAM_AUTOMATION),
        patrol_assets(),
    )
    return dg.Definitions(
        assets=[*sources, *derived],
        asset_checks=checks,
        sensors=[delivery_sensor(s) for s in _specs(WATCHED_SOURCES)],
        resources={"platform": PlatformConfig()},
    )


def _executable(defs: dg.Definitions) -> list:
    return [*defs.assets, *(defs.asset_checks or [])]


def sensor_tick(
    defs: dg.Definitions, sensor_name: str, instance: dg.DagsterInstance, cursor: str | None
) -> tuple[str | None, list]:
    """Evaluate one tick of a file-arrival sensor and execute the runs it requests.

    Dynamic partitions the tick adds are added to ``instance`` first, as the daemon
    does. Returns the new cursor and the run results (one per requested delivery).
    """
    (sensor,) = [s for s in defs.sensors or [] if s.name == sensor_name]
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources=defs.resources, definitions=defs
    )
    result = sensor(context)
    for req in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
    runs = []
    for req in result.run_requests or []:
        runs.append(
            dg.materialize(
                _executable(defs),
                selection=sensor.asset_selection,
                partition_key=req.partition_key,
                instance=instance,
                resources=defs.resources,
                tags={**req.tags, "dagster/sensor_name": sensor_name, "vrdp/run_key": req.run_key},
            )
        )
    return result.cursor, runs


def automation_tick(defs: dg.Definitions, instance: dg.DagsterInstance, cursor=None):
    """Evaluate every asset's automation condition once and execute what it requests.

    The requested (unpartitioned) assets run together in one run, as the automation
    sensor launches them. Returns ``(cursor, requested asset keys, run result or None)``.
    """
    evaluation = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    requested = sorted(
        (k for k in defs.resolve_all_asset_keys() if evaluation.get_requested_partitions(k)),
        key=lambda k: k.to_user_string(),
    )
    run = None
    if requested:
        run = dg.materialize(
            _executable(defs),
            selection=requested,
            instance=instance,
            resources=defs.resources,
            tags={"dagster/automation_condition": "true"},
        )
    return evaluation.cursor, requested, run

"""Named jobs for the pipeline's stages, the schedules that run them, owners and freshness.

Every run ``make run`` and the schedules start is one of these jobs, so the
Dagster UI's runs list and overview timeline say which stage ran (never
``__ephemeral_asset_job__``). :func:`run_stage` executes the named job whose
selection is exactly the assets asked for, falling back to an ad hoc
materialization only for a selection no job covers.

Owners (``team:<name>``) are set per asset group; freshness policies where
data is expected on a cadence (police.uk months monthly, analyses and exports
nightly, the patrol tasking every morning).
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

__all__ = [
    "GROUP_OWNERS",
    "FRESHNESS",
    "stage_selections",
    "downstream_stages",
    "HOT_SPOT_ANALYSES_BESIDE_WAREHOUSE",
    "stage_jobs",
    "schedules",
    "automation_sensor",
    "AUTOMATION_SENSOR",
    "with_owners_and_freshness",
    "run_stage",
    "GAZETTEER_SOURCE",
    "source_asset_keys",
    "reading",
]

#: asset group -> owners (Dagster accepts e-mail addresses or ``team:<name>``)
GROUP_OWNERS: dict[str, list[str]] = {
    "geography": ["team:data-engineering"],
    "landing": ["team:data-engineering"],
    "sources": ["team:data-engineering"],
    "quarantine": ["team:data-engineering"],
    "reference": ["team:data-engineering"],
    "staging": ["team:data-engineering"],
    "intermediate": ["team:data-engineering"],
    "marts": ["team:data-engineering", "team:analysts"],
    "identity": ["team:information-governance"],
    "linkage": ["team:data-engineering", "team:information-governance"],
    "hotspots": ["team:analysts"],
    "force_hotspots": ["team:analysts"],
    "risk_terrain": ["team:analysts"],
    "patrol": ["team:evaluation"],
    "serving": ["team:data-engineering"],
    "soc": ["team:analysts"],
    "governance": ["team:information-governance"],
    "retention": ["team:information-governance"],
    "warehouse": ["team:data-engineering"],
}
DEFAULT_OWNERS = ["team:data-engineering"]

#: asset group -> freshness policy (a group missing here has no cadence: reference
#: data, boundaries, partner deliveries that arrive when they arrive)
FRESHNESS: dict[str, dg.FreshnessPolicy] = {
    # data.police.uk publishes each month's file in the following month
    "sources": dg.FreshnessPolicy.time_window(
        fail_window=timedelta(days=45), warn_window=timedelta(days=35)
    ),
    # rebuilt by the nightly refresh (02:00 Europe/London)
    **{
        g: dg.FreshnessPolicy.time_window(
            fail_window=timedelta(hours=30), warn_window=timedelta(hours=26)
        )
        for g in ("marts", "hotspots", "force_hotspots", "serving")
    },
    # the day's tasking is published every morning (05:30)
    "patrol": dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=26), warn_window=timedelta(hours=24)
    ),
}
# Only sources loaded monthly by data.police.uk files get the monthly policy.
MONTHLY_SOURCE_PREFIXES = ("police_uk",)

AUTOMATION_SENSOR = "analytics_automation"


#: the gazetteer's name among the downstream record's sources
GAZETTEER_SOURCE = "places.gazetteer"


def source_asset_keys(names) -> list:
    """Asset keys of named sources (agency datasets as ``agency.dataset``, the gazetteer)."""
    from assets.sources.agencies import LANDING_SOURCES, source_keys
    from assets.sources.gazetteer import GAZETTEER_KEY

    by_name = {spec.source: source_keys(spec)[:2] for spec in LANDING_SOURCES}
    keys = []
    for name in names:
        keys += [GAZETTEER_KEY] if name == GAZETTEER_SOURCE else list(by_name.get(name, ()))
    return keys


def reading(graph, keys) -> set:
    """The downstream assets that read the source assets ``keys``, directly or not.

    Through downstream assets only, not through another source: a source built
    from another (the deliveries geocoded against the gazetteer) is reloaded only
    when what it reads of it changed (its vocabulary), and is then a changed
    source of its own.
    """
    from assets.automation import DOWNSTREAM_SELECTION

    everything = DOWNSTREAM_SELECTION.resolve(graph)
    keys = [k for k in keys if graph.has(k)]
    if not keys:
        return set()
    direct = dg.AssetSelection.assets(*keys).downstream(depth=1).resolve(graph) & everything
    if not direct:
        return set()
    return dg.AssetSelection.assets(*direct).downstream().resolve(graph) & everything


def _keys(*names: str) -> list[dg.AssetKey]:
    return [dg.AssetKey(n.split("/")) for n in names]


def stage_selections() -> dict[str, tuple[str, dg.AssetSelection]]:
    """Job name -> (description, selection), in pipeline order."""
    from assets.automation import DOWNSTREAM_SELECTION
    from assets.sources.agencies import LANDING_SOURCES, source_keys
    from assets.sources.gazetteer import GAZETTEER_KEY
    from assets.sources.police_uk import STREET_CRIMES_KEY, STREET_QUARANTINE_KEY
    from assets.sources.police_uk_stop_search import (
        STOP_SEARCH_QUARANTINE_KEY,
        STOP_SEARCHES_KEY,
    )

    stages: dict[str, tuple[str, dg.AssetSelection]] = {
        "load_boundaries": (
            "ONS boundaries of the force area (LSOA, ward, local authority).",
            dg.AssetSelection.groups("geography"),
        ),
        "load_police_uk_street": (
            "One data.police.uk street crime month: typed rows and quarantine.",
            dg.AssetSelection.assets(STREET_CRIMES_KEY, STREET_QUARANTINE_KEY),
        ),
        "load_police_uk_stop_search": (
            "One data.police.uk stop and search month: typed rows and quarantine.",
            dg.AssetSelection.assets(STOP_SEARCHES_KEY, STOP_SEARCH_QUARANTINE_KEY),
        ),
    }
    for spec in LANDING_SOURCES:
        stages[f"load_{spec.slug}"] = (
            f"One {spec.agency} {spec.dataset} delivery: typed rows and quarantine.",
            dg.AssetSelection.assets(*source_keys(spec)[:2]),
        )
    stages["build_gazetteer"] = (
        "The gazetteer of places (POIs, addresses, streets, located police text).",
        dg.AssetSelection.assets(GAZETTEER_KEY),
    )
    stages["refresh_analytics"] = (
        "Warehouse (dbt, linkage), hot spots, risk terrain, the patrol trial and the "
        "exports: everything downstream of the loaded sources.",
        DOWNSTREAM_SELECTION,
    )
    # make run's downstream stage in eight runs (orchestration.main.stage_downstream):
    # the risk terrain models in one worker process; here the dbt warehouse; then
    # the hot spot families' harm windows and analyses in the other worker while
    # linkage, SOC and partners run here and what reads the person marts in the
    # workers; then what reads the models
    stages.update(downstream_stages())
    from assets.patrol.common import (
        COMPLIANCE_KEY,
        DAILY_DOSAGE_KEY,
        DAILY_TASKING_KEY,
        ITT_TABLE_KEY,
        SUPERVISOR_KEY,
        TASKING_EXPORT_KEY,
        TRIAL_EFFECT_KEY,
        VISITS_KEY,
    )

    stages["publish_daily_tasking"] = (
        "A day's patrol tasking and its versioned export (what an officer's app reads); "
        "make run's twin days run it each morning.",
        dg.AssetSelection.assets(DAILY_TASKING_KEY, TASKING_EXPORT_KEY),
    )
    stages["measure_patrol_day"] = (
        "Visits, dosage, compliance, the supervisor's view and the trial effect, after a "
        "day's GPS and activity are loaded.",
        dg.AssetSelection.assets(
            VISITS_KEY,
            DAILY_DOSAGE_KEY,
            COMPLIANCE_KEY,
            SUPERVISOR_KEY,
            ITT_TABLE_KEY,
            TRIAL_EFFECT_KEY,
        ),
    )
    stages["build_warehouse"] = (
        "The dbt warehouse and person linkage only.",
        dg.AssetSelection.groups(
            "reference", "staging", "intermediate", "linkage", "identity", "marts"
        ),
    )
    stages["analyse_hotspots"] = (
        "Both hot spot families (data.police.uk and force records) and their backtests.",
        dg.AssetSelection.groups("hotspots", "force_hotspots"),
    )
    stages["patrol_tasking_and_evaluation"] = (
        "The patrol trial: allocation, the day's tasking export, dosage and the effect.",
        dg.AssetSelection.groups("patrol"),
    )
    stages["publish_exports"] = (
        "The versioned exports for apps, BI tools and the read API.",
        dg.AssetSelection.groups("serving"),
    )
    return stages


#: The hot spot analyses make run runs in a worker process beside person linkage,
#: after the harm windows they read (built in the same run, the warehouse only read):
#: they write nothing to the warehouse and are read by nothing that runs beside them
#: (tests/test_orchestration_jobs.py checks both).
HOT_SPOT_ANALYSES_BESIDE_WAREHOUSE = tuple(
    dg.AssetKey([family, name])
    for family, names in (
        ("hotspots", ("backtest", "classification", "forecast", "gi_star", "kde", "hotspot_list")),
        ("force_hotspots", ("classification", "gi_star", "kde")),
    )
    for name in names
)


def downstream_stages() -> dict[str, tuple[str, dg.AssetSelection]]:
    """The downstream selection as make run's runs, in an order that respects it (a partition).

    ``model_risk_terrain`` needs only the loaded sources; what reads the models
    waits for it: the force family's backtest (``backtest_force_hot_spots``) and
    the rest (``refresh_analytics_after_risk_terrain``). The others start with
    the dbt warehouse up to person linkage (``build_warehouse_for_hot_spots``),
    then the hot spot families' harm windows and analyses
    (``analyse_hot_spots_beside_warehouse``) run beside person linkage and the
    dbt models built on it (``link_persons_beside_hot_spot_analyses``), then
    beside the SOC, governance and hot spot cell analyses
    (``refresh_analytics_beside_hot_spot_analyses``) and what reads the person
    marts (``publish_person_analyses``), which only read the warehouse.
    """
    from assets.automation import DOWNSTREAM_SELECTION
    from assets.warehouse.linkage import PERSON_LINKS_KEY

    rtm = dg.AssetSelection.groups("risk_terrain")
    after = (rtm.downstream() & DOWNSTREAM_SELECTION) - rtm
    beside = DOWNSTREAM_SELECTION - rtm - after
    spare = dg.AssetSelection.assets(*HOT_SPOT_ANALYSES_BESIDE_WAREHOUSE) & beside
    # the whole dbt warehouse up to linkage (one dbt build, not a subset now and the
    # rest later) and its inputs; the harm windows the analyses read go with them,
    # in a worker: they only read the warehouse
    linked = dg.AssetSelection.assets(PERSON_LINKS_KEY).downstream()
    dbt = dg.AssetSelection.from_string("kind:dbt")
    dbt_before_linkage = (dbt & beside) - linked
    first = dbt_before_linkage.upstream() & beside
    spare = (spare.upstream() & beside) - first
    backtest = dg.AssetSelection.assets(dg.AssetKey(["force_hotspots", "backtest"])) & after
    rest = beside - first - spare
    # what writes the warehouse after linkage (linkage itself, the dbt models on it)
    # and what they need; what reads what they build, and nothing else of the
    # rest, only reads the warehouse and may run in other processes meanwhile
    link = ((dbt | dg.AssetSelection.assets(PERSON_LINKS_KEY)) & rest).upstream() & rest
    others = rest - link - (link.downstream() & rest)
    persons = (link.downstream() & rest) - link - others.downstream()
    return {
        "model_risk_terrain": (
            "Risk terrain models (central Oxford, the simulated world).",
            rtm,
        ),
        "build_warehouse_for_hot_spots": (
            "The dbt warehouse up to person linkage; make run runs it while "
            "model_risk_terrain runs in another process.",
            first,
        ),
        "analyse_hot_spots_beside_warehouse": (
            "Both hot spot families' study events and harm windows (read from the "
            "warehouse) and the analyses on them (the data.police.uk family's backtest, "
            "forecast, classification and list; both families' Gi* and KDE); make run "
            "runs them in a worker process beside linkage.",
            spare,
        ),
        "link_persons_beside_hot_spot_analyses": (
            "Person linkage and the dbt models built on it (identity, person, needs and "
            "serious violence marts): the last writers of the warehouse in a refresh.",
            link,
        ),
        "refresh_analytics_beside_hot_spot_analyses": (
            "The SOC, governance and hot spot cell analyses and their exports: what "
            "reads neither the risk terrain models, the hot spot analyses beside it, "
            "nor the person marts.",
            rest - link - persons,
        ),
        "publish_person_analyses": (
            "What reads the person marts (cohorts, lost-subject, partnership, needs "
            "pack, persons exports): read-only on the warehouse, so make run runs them "
            "in the worker processes, one run per export, once the marts are built.",
            persons,
        ),
        "backtest_force_hot_spots": (
            "The force family's rolling-origin backtest (its forecaster reads the risk "
            "terrain model); make run runs it in the models' worker once they are built.",
            backtest,
        ),
        "refresh_analytics_after_risk_terrain": (
            "What reads the risk terrain models: the force family's forecast onwards (hot "
            "spot list, tasking, patrol trial, exports).",
            after - backtest,
        ),
    }


def stage_jobs() -> list:
    """One asset job per stage (their asset checks run with them)."""
    return [
        dg.define_asset_job(name, selection=sel, description=text)
        for name, (text, sel) in stage_selections().items()
    ]


def schedules() -> list[dg.ScheduleDefinition]:
    """The nightly refresh and the morning tasking (both off until turned on)."""
    return [
        dg.ScheduleDefinition(
            name="nightly_refresh",
            description="Rebuild the warehouse and every analysis from the day's loaded sources.",
            job_name="refresh_analytics",
            cron_schedule="0 2 * * *",
            execution_timezone="Europe/London",
            default_status=dg.DefaultScheduleStatus.STOPPED,
        ),
        dg.ScheduleDefinition(
            name="morning_tasking",
            description="Publish the day's patrol tasking (and update dosage and the effect).",
            job_name="patrol_tasking_and_evaluation",
            cron_schedule="30 5 * * *",
            execution_timezone="Europe/London",
            default_status=dg.DefaultScheduleStatus.STOPPED,
        ),
    ]


def automation_sensor() -> dg.AutomationConditionSensorDefinition:
    """The declarative-automation sensor, named and off by default (``make ui`` says so)."""
    return dg.AutomationConditionSensorDefinition(
        AUTOMATION_SENSOR,
        target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus.STOPPED,
        minimum_interval_seconds=30,
        description="Materializes derived assets when their inputs change (after a file "
        "sensor loads a delivery). Off by default: turn it on under Automation.",
    )


def with_owners_and_freshness(defs: dg.Definitions) -> dg.Definitions:
    """``defs`` with owners on every asset and freshness where a cadence is expected."""

    def apply(spec: dg.AssetSpec) -> dg.AssetSpec:
        group = spec.group_name or "default"
        attrs: dict = {"owners": GROUP_OWNERS.get(group, DEFAULT_OWNERS)}
        policy = FRESHNESS.get(group)
        if group == "sources" and spec.key.path[0] not in MONTHLY_SOURCE_PREFIXES:
            policy = None
        if policy is not None:
            attrs["freshness_policy"] = policy
        return spec.replace_attributes(**attrs)

    # dg.map_asset_specs on the asset list (Definitions.map_asset_specs is a preview API)
    return dg.Definitions(
        assets=dg.map_asset_specs(apply, list(defs.assets or [])),
        asset_checks=defs.asset_checks,
        jobs=defs.jobs,
        schedules=defs.schedules,
        sensors=defs.sensors,
        resources=defs.resources,
    )


_RESOLVED: dict[int, list] = {}


def run_stage(defs: dg.Definitions, selection: dg.AssetSelection, **kwargs):
    """Execute the named stage job selecting exactly ``selection``'s assets.

    A selection that is part of a stage job's (make run rebuilding only what
    depends on what changed) runs as the smallest such job, on that subset
    (checks of the selected assets included). ``kwargs`` go to
    ``execute_in_process`` (instance, partition_key, run_config, raise_on_error).
    A selection no stage job covers runs as an ad hoc materialization.
    """
    from config.runtime import release_free_memory

    try:
        return _run_stage(defs, selection, **kwargs)
    finally:
        # make run's processes keep what they free (config.runtime): give it back
        # between runs, so this run's peak does not stay beside the next one's
        release_free_memory()


def _run_stage(defs: dg.Definitions, selection: dg.AssetSelection, **kwargs):
    graph = defs.resolve_asset_graph()
    resolved = _RESOLVED.get(id(defs))
    if resolved is None:  # once per Definitions: make run calls this for every delivery
        resolved = [(n, sel.resolve(graph)) for n, (_, sel) in stage_selections().items()]
        _RESOLVED[id(defs)] = resolved
    wanted = selection.resolve(graph)
    for name, keys in resolved:
        if keys == wanted:
            return defs.resolve_job_def(name).execute_in_process(**kwargs)
    holders = [(len(keys), name) for name, keys in resolved if wanted <= keys]
    if holders:
        job = defs.resolve_job_def(min(holders)[1])
        return job.execute_in_process(asset_selection=sorted(wanted), **kwargs)
    return dg.materialize(
        [*defs.assets, *(defs.asset_checks or [])],
        selection=selection,
        resources=defs.resources,
        **kwargs,
    )

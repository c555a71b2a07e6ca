"""Risk terrain models (issues 7, 18): factor table, cell layer, fitted model, report.

Outputs go to ``<lake>/risk_terrain/<model>/``: ``factor_table.parquet``,
``cells.parquet`` (GeoParquet, WGS84), ``cells.geojson``, ``model.pkl`` (the
fitted model the hot spot forecast and the map score H3 cells with) and
``report.json``; see :mod:`vrdp.risk_terrain.outputs`. The police.uk model
(``risk_terrain/police_uk_rtm``) writes ``police_uk/`` on the force's own POIs and
``oxford/`` on the demo's; the simulated world's writes ``simulated_world/``.
"""

from pathlib import Path

import dagster as dg

from assets.geography.boundaries import boundary_key
from assets.reuse import computed, input_digest, unchanged_output
from assets.sources.police_uk import STREET_CRIMES_KEY
from config.resources import PlatformConfig

__all__ = [
    "POLICE_UK_RTM_KEY",
    "POLICE_UK_RTM_FOLDERS",
    "SIMULATED_RTM_KEY",
    "RiskTerrainConfig",
    "police_uk_risk_terrain",
    "simulated_world_risk_terrain",
    "risk_terrain_dir",
    "split_months",
    "whole_months",
]

#: The police.uk RTM of any force (issue 18; the Oxford demo when the force delivers no
#: POIs). Named ``oxford_rtm`` before: a data root made then keeps that key's history.
POLICE_UK_RTM_KEY = dg.AssetKey(["risk_terrain", "police_uk_rtm"])
#: Its output folders: the force's own POIs, and the Oxford demo.
POLICE_UK_RTM_FOLDERS = ("police_uk", "oxford")
SIMULATED_RTM_KEY = dg.AssetKey(["risk_terrain", "simulated_world_rtm"])
POIS_KEY = dg.AssetKey(["places", "pois"])
ADDRESSES_KEY = dg.AssetKey(["places", "addresses"])
STREETS_KEY = dg.AssetKey(["places", "streets"])
OCCURRENCES_KEY = dg.AssetKey(["police", "occurrences"])
#: the model's code, part of what decides whether its last output can be reused
RTM_CODE = Path(__file__).resolve().parents[2] / "vrdp" / "risk_terrain"


class RiskTerrainConfig(dg.Config):
    """Run-time choices: model vs next-period months, crime types, block length (m), seed.

    Cells are half a block (RTMDx's usual choice); spatial influences run to 3 blocks
    in half-block steps.
    """

    model_months: list[str] | None = None
    next_months: list[str] | None = None
    next_period_months: int = 3
    crime_types: list[str] | None = None
    block_length_m: float = 100.0
    seed: int = 0


def risk_terrain_dir(lake_dir: Path, model: str) -> Path:
    """Folder of one model's outputs in the lake."""
    return lake_dir / "risk_terrain" / model


def whole_months(deliveries: list[str]) -> dict[str, list[str]]:
    """Calendar month -> its deliveries, for the months delivered whole.

    A ``YYYY-MM`` delivery is its month; ``YYYY-MM-DD`` deliveries (the patrol
    loop's daily crimes) make up their month only once every day of it has
    arrived, so a model never takes a few days for a period of months (seen:
    three twin days became the whole next period). Other names stand alone.

    >>> whole_months(["2025-11", "2025-12", "2026-01-01", "2026-01-02"])
    {'2025-11': ['2025-11'], '2025-12': ['2025-12']}
    >>> days = [f"2026-02-{d:02d}" for d in range(1, 29)]
    >>> list(whole_months(days)), len(whole_months(days)["2026-02"])
    (['2026-02'], 28)
    """
    import calendar
    import re

    months: dict[str, list[str]] = {}
    days: dict[str, set[int]] = {}
    for d in sorted(deliveries):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", d):
            months.setdefault(d[:7], []).append(d)
            days.setdefault(d[:7], set()).add(int(d[8:]))
        else:
            months.setdefault(d, []).append(d)  # a month, or a name of its own
    whole = {}
    for month, ds in sorted(months.items()):
        if month in days and month not in ds:  # only daily deliveries of this month
            year, mon = map(int, month.split("-"))
            if len(days[month]) < calendar.monthrange(year, mon)[1]:
                continue
        whole[month] = ds
    return whole


def split_months(
    delivered: list[str],
    model_months: list[str] | None,
    next_months: list[str] | None,
    n_next: int,
) -> tuple[list[str], list[str]]:
    """Model and next-period months; default all but the last ``n_next`` vs the last ``n_next``."""
    delivered = sorted(delivered)
    if next_months is None:
        next_months = [m for m in delivered if m not in (model_months or [])][-n_next:]
    if model_months is None:
        model_months = [m for m in delivered if m not in next_months]
    return sorted(model_months), sorted(next_months)


def _metadata(result, paths, extra: dict) -> dict:
    """The model report: factor table, family and BICs, dispersion, validation, files."""
    from vrdp.risk_terrain.outputs import factor_table_markdown, rtm_summary

    md = {f"rtm/{k}": v for k, v in rtm_summary(result).items() if v is not None}
    md.update(extra)
    rep = result.report
    md["selected_factors"] = dg.MetadataValue.md(factor_table_markdown(result))
    md["model"] = dg.MetadataValue.md(
        f"**{rep['family']}** chosen by BIC (Poisson {rep['bic']['poisson']:.1f}, "
        f"NB2 {rep['bic']['negbin']:.1f}; {rep['negbin_parameterisation']}, "
        f"alpha {rep['nb_alpha']:.4g}); Pearson chi2/df {rep['dispersion']['poisson']:.3f} "
        f"under Poisson variance, {rep['dispersion']['model']:.3f} under the chosen model; "
        f"{rep['n_candidate_variables']} candidate variables, {rep['n_shortlisted']} "
        f"shortlisted by elastic-net CV, {rep['n_selected']} selected by stepwise BIC."
    )
    if result.validation is not None:
        md["validation"] = dg.MetadataValue.md(
            "Following period, top cells by "
            + ("RRS" if rep["validation_score"] == "rrs" else "expected events")
            + " (RTM) against the model period's counts (hot spot baseline):\n\n"
            + result.validation.to_markdown(index=False, floatfmt=".3g")
        )
    from vrdp.risk_terrain.outputs import combined_relative_risk, priority_places

    comb = combined_relative_risk(result)
    if len(comb) and comb["combined_rr"].notna().any():
        md["combined_relative_risk"] = dg.MetadataValue.md(
            "Proximity RRV x the factor's venues' own attraction (relative to the "
            "commonest place class): expected events at one of its venues.\n\n"
            + comb[
                ["factor", "rrv", "venue_classes", "venue_attraction", "combined_rr"]
            ].to_markdown(index=False, floatfmt=".3g")
        )
    top = priority_places(result, n=10)
    md["priority_places"] = dg.MetadataValue.md(
        "RTMDx priority places: the highest-risk cells and the factors there "
        "(all 20 in priority_places.parquet).\n\n"
        + top[
            ["priority_rank", "latitude", "longitude", "rrs", "event_count", "factors"]
        ].to_markdown(index=False, floatfmt=".4g")
    )
    md["dagster/row_count"] = len(result.factor_table)
    for name, p in paths.items():
        md[f"path/{name}"] = dg.MetadataValue.path(str(p))
    return md


@dg.asset(
    key=POLICE_UK_RTM_KEY,
    deps=[STREET_CRIMES_KEY, POIS_KEY, boundary_key("lsoa21"), boundary_key("wards")],
    group_name="risk_terrain",
    kinds={"python", "parquet", "geojson"},
    code_version="3",
)
def police_uk_risk_terrain(
    context: dg.AssetExecutionContext, platform: PlatformConfig, config: RiskTerrainConfig
) -> dg.MaterializeResult:
    """Risk terrain model of the force's police.uk street crimes against points of interest.

    POIs: the force's latest ``places/pois`` delivery, over the study area
    ``VRDP_RTM_STUDY_AREA`` (district or ward codes; default the force district with
    the most street crimes in the model period), cells cut from the force's boundary
    layers, outputs in ``risk_terrain/police_uk``. Without a delivery of its own (none,
    the simulated world's, or one mostly outside the force area) the demo: the shipped
    OSM points of central Oxford, outputs in ``risk_terrain/oxford``. The asset key
    keeps the demo's name. Metadata: ``poi_source`` and ``study_area``.
    """
    import pandas as pd

    from vrdp.risk_terrain.model import NoEventsError, RTMConfig
    from vrdp.risk_terrain.police_uk import choose_poi_source

    s = platform.resolve()
    root = s.lake_dir / "police_uk" / "street_crimes"
    files = {p.parent.name: p for p in sorted(root.glob("*/part-0.parquet"))}
    if not files:
        raise dg.Failure(
            f"no police.uk street crimes in {root}; materialize police_uk/street_crimes"
        )
    model_m, next_m = split_months(
        list(files), config.model_months, config.next_months, config.next_period_months
    )
    if not model_m:
        raise dg.Failure(f"no model-period months left among {sorted(files)}")

    def read(months, extra=()):
        cols = ["easting_m", "northing_m", "month", "crime_type", *extra]
        frames = [pd.read_parquet(files[m], columns=cols) for m in months if m in files]
        crimes = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
        return crimes.dropna(subset=["easting_m", "northing_m"])

    cfg = RTMConfig(
        block_length_m=config.block_length_m, n_folds=3, max_shortlist=20, seed=config.seed
    )
    poi_files = sorted((s.lake_dir / "places" / "pois").glob("*/part-0.parquet"))
    share = _in_force_area_share(poi_files[-1]) if poi_files else None
    source, source_note = choose_poi_source(bool(poi_files), s.world_scale, share)
    common = {
        "model_months": ", ".join(model_m),
        "next_months": ", ".join(next_m) or "none",
        "crime_types": ", ".join(config.crime_types or ["all"]),
        "seed": config.seed,
        "poi_source": f"{source}: {source_note}",
    }
    if share is not None:
        common["pois_in_force_area_share"] = round(share, 4)
    try:
        if source == "delivered":
            name, result, extra = _police_uk_run(
                context, platform, poi_files[-1], read, model_m, next_m, config, cfg
            )
        else:
            name, result, extra = _oxford_run(read, model_m, next_m, config, cfg)
    except NoEventsError as exc:
        # e.g. another force's crimes (City of London in tests) against the Oxford demo
        context.log.warning(f"police.uk RTM skipped: {exc}")
        return dg.MaterializeResult(
            metadata={
                "skipped": True,
                "reason": f"{exc} (force {s.police_uk_force})",
                "poi_source": common["poi_source"],
            }
        )
    result.report["data"].update({"model_months": model_m, "next_months": next_m})
    folder = risk_terrain_dir(s.lake_dir, name)
    from vrdp.risk_terrain.outputs import write_rtm_outputs

    paths = write_rtm_outputs(result, folder)
    _rtm_card(name, result, folder, config.seed)
    context.log.info(
        f"police.uk RTM ({name}): {result.report['n_selected']} factors, {result.report['family']}"
    )
    return dg.MaterializeResult(
        metadata=_metadata(result, paths, {"skipped": False, **common, **extra})
    )


def _in_force_area_share(path: Path) -> float | None:
    """Share of a located place delivery's rows inside the force area (None: not located)."""
    import pandas as pd
    import pyarrow.parquet as pq

    if "in_force_area" not in pq.read_schema(path).names:
        return None
    located = pd.read_parquet(path, columns=["in_force_area"])["in_force_area"]
    return float(located.fillna(False).astype(bool).mean()) if len(located) else 0.0


def _force_gazetteers(s):
    """The force's own latest address and street gazetteers as candidate locations, or None.

    Both must be delivered and be the force's own
    (:func:`vrdp.risk_terrain.police_uk.is_force_own_delivery`).
    """
    import pandas as pd

    from vrdp.risk_terrain.police_uk import is_force_own_delivery

    parts = []
    for dataset, cls in (("addresses", "address"), ("streets", "street")):
        files = sorted((s.lake_dir / "places" / dataset).glob("*/part-0.parquet"))
        if not files or not is_force_own_delivery(s.world_scale, _in_force_area_share(files[-1])):
            return None
        xy = pd.read_parquet(files[-1], columns=["easting_m", "northing_m"])
        parts.append(xy.assign(location_class=cls))
    return pd.concat(parts, ignore_index=True).dropna()


def _oxford_run(read, model_m, next_m, config, cfg):
    """The demo: the shipped OSM points of central Oxford over their own extent."""
    from vrdp.risk_terrain.oxford import run_oxford_frames

    result = run_oxford_frames(
        read(model_m), read(next_m) if next_m else None, crime_types=config.crime_types, config=cfg
    )
    box = result.report["data"]["study_area_bng"]
    return (
        "oxford",
        result,
        {
            "study_area": "the shipped OSM extract's extent (central Oxford, BNG box "
            f"{', '.join(f'{v:.0f}' for v in box)}): the demo POIs cover nothing more",
            "exposure": "2011 census residents per 50 m cell (LSOA density x cell "
            "area): RRVs are rate ratios per resident; town-centre footfall is not "
            "controlled for, so night-time-economy RRVs are upper bounds.",
        },
    )


def _police_uk_run(context, platform, poi_file, read, model_m, next_m, config, cfg):
    """The force's own POIs over its configured (or default) study area."""
    import pandas as pd

    from assets.geography.boundaries import read_boundaries
    from vrdp.risk_terrain.police_uk import default_or_configured_study_area, run_police_uk_rtm

    s = platform.resolve()
    try:
        lsoa21, wards = read_boundaries(platform, "lsoa21"), read_boundaries(platform, "wards")
    except FileNotFoundError as exc:
        raise dg.Failure(str(exc)) from exc
    model_crimes = read(model_m, ("lsoa21_code",))
    try:
        area = default_or_configured_study_area(
            s.rtm_study_area, lsoa21, wards, model_crimes["lsoa21_code"]
        )
    except ValueError as exc:
        raise dg.Failure(f"risk terrain study area: {exc}") from exc
    pois = pd.read_parquet(poi_file, columns=["category", "easting_m", "northing_m"])
    candidates = _force_gazetteers(s)
    result = run_police_uk_rtm(
        pois,
        model_crimes,
        area,
        lsoa21,
        wards,
        next_crimes=read(next_m) if next_m else None,
        crime_types=config.crime_types,
        config=cfg,
        candidates=candidates,
    )
    result.report["data"]["poi_delivery"] = poi_file.parent.name
    rec = area.record()
    context.log.info(f"police.uk RTM study area: {', '.join(area.codes)} ({area.rule})")
    cells = result.cells
    return (
        "police_uk",
        result,
        {
            "study_area": ", ".join(
                f"{a['code']} ({a['kind']}{'' if a['name'] == a['code'] else ' ' + a['name']})"
                for a in rec["areas"]
            ),
            "study_area_rule": area.rule,
            "study_area_km2": rec["area_km2"],
            "crimes_by_district": dg.MetadataValue.json(rec["crimes_by_district"][:20]),
            "poi_delivery": poi_file.parent.name,
            "pois_per_factor": dg.MetadataValue.json(result.report["data"]["pois_per_factor"]),
            "cells_with_ward": int(cells["ward_code"].notna().sum()),
            "wards_in_study_area": int(cells["ward_code"].nunique()),
            "exposure": "none: RRVs are area-based (a cell's count also reflects how many "
            "places it holds); no population table is held outside the demo area, and no "
            "address and street gazetteer of the force's own is delivered."
            if candidates is None
            else "the force's delivered address and street gazetteers and its POIs as "
            "candidate event locations (study cells: those of the study area holding one), "
            "each class's attraction estimated jointly with the model; RRVs are rate ratios "
            "per unit of opportunity.",
            **_exposure_model_md(result),
        },
    )


def _exposure_model_md(result) -> dict:
    """The estimated attractions as metadata, when the model estimated them."""
    import pandas as pd

    em = result.report.get("exposure_model")
    if em is None:
        return {}
    att = pd.DataFrame(em["attractions"]).sort_values("attraction", ascending=False)
    return {
        "exposure_model": dg.MetadataValue.md(
            f"{em['method']}; {len(em['selections'])} selection(s), converged: "
            f"{em['converged']}.\n\n" + att.to_markdown(index=False, floatfmt=".3g")
        )
    }


def _rtm_card(name: str, result, folder: Path, seed) -> None:
    """The risk terrain model's card, beside its folder (vrdp.governance.model_card)."""
    from vrdp.governance.model_card import ModelCard, write_model_card

    rep = result.report
    write_model_card(
        ModelCard(
            name=f"risk terrain model ({name})",
            inputs=["points of interest by category", "crime locations (model period)"],
            owner="VRU analysts (risk terrain)",
            excluded_fields=["every person-level field", "victim and offender details"],
            parameters={
                "seed": seed,
                "family": rep.get("family"),
                "factors_selected": rep.get("n_selected"),
            },
            training_window=", ".join(
                rep.get("data", {}).get("model_months")
                or rep.get("data", {}).get("model_deliveries")
                or []
            )
            or "see report.json",
            accuracy={k: v for k, v in rep.items() if k in ("validation", "dispersion")},
            accuracy_method="next-period validation against the model period (report.json)",
            known_limits=[
                "relative risk of places, not people",
                "exposure is candidate locations (addresses, streets, POIs); footfall "
                "beyond them is not controlled for"
                if rep.get("exposure_model") is not None
                else "exposure is residents; footfall is not controlled for"
                if rep.get("offset") is not None
                else "no exposure offset: relative risks are per cell, so they also carry "
                "how many people and places a cell holds",
            ],
            intended_use="explain why places are risky; prioritise place-based prevention",
        ),
        folder,
    )


def _planted_attraction(truth_dir, crimes, crime_types):
    """Evaluation only: the world's planted events per place by class for the modelled mix."""
    import json

    import pandas as pd

    from vrdp.risk_terrain.world import planted_attractions

    model = json.loads((truth_dir / "world.json").read_text()).get("model", {})
    loc_path = truth_dir / "locations.parquet"
    if "class_shares" not in model or not loc_path.exists():
        return None
    locations = pd.read_parquet(loc_path, columns=["loc_class"])["loc_class"].value_counts()
    wanted = {t.lower() for t in crime_types}
    types = crimes["crime_type"].dropna()
    weights = types[types.str.lower().isin(wanted)].value_counts().to_dict()
    return planted_attractions(model["class_shares"], locations, weights)


@dg.asset(
    key=SIMULATED_RTM_KEY,
    deps=[POIS_KEY, ADDRESSES_KEY, STREETS_KEY, OCCURRENCES_KEY],
    group_name="risk_terrain",
    kinds={"python", "parquet", "geojson"},
    code_version="3",
)
def simulated_world_risk_terrain(
    context: dg.AssetExecutionContext, platform: PlatformConfig, config: RiskTerrainConfig
) -> dg.MaterializeResult:
    """Risk terrain model of the simulated world's POIs and RMS occurrences (if landed).

    Exposure: the candidate event locations of the reference places (address and
    street gazetteers, POIs), each class's attraction estimated with the model
    (:func:`vrdp.risk_terrain.world.run_rtm_on_reference_places`); census residents
    per cell when no gazetteer has landed
    (:func:`vrdp.risk_terrain.world.run_rtm_per_resident`). With the world's truth
    at ``Settings.world_truth_dir`` the metadata compares planted and estimated RRVs
    (evaluation only).

    The model and next periods are whole calendar months (:func:`whole_months`).
    When the files it reads, its code and its configuration are those of its last
    materialization, that output is reused (:mod:`assets.reuse`): make run's twin
    days add days of crimes to a month not yet whole, which change nothing here.
    """
    import pandas as pd

    s = platform.resolve()

    def latest(*parts):
        files = sorted((s.lake_dir.joinpath(*parts)).glob("*/part-0.parquet"))
        return files[-1] if files else None

    poi_file = latest("places", "pois")
    occ_root = s.lake_dir / "police" / "occurrences"
    occ_files = {p.parent.name: p for p in sorted(occ_root.glob("*/part-0.parquet"))}
    if poi_file is None or not occ_files:
        context.log.info("no simulated world landed in the lake; nothing to model")
        return dg.MaterializeResult(
            metadata={
                "skipped": True,
                "note": "no simulated world landed (places/pois and police/occurrences "
                "have no lake files)",
            }
        )
    xy = ["easting_m", "northing_m"]
    months = whole_months(list(occ_files))
    model_months, next_months = split_months(
        list(months), config.model_months, config.next_months, config.next_period_months
    )
    model_m = [d for m in model_months for d in months.get(m, [])]
    next_m = [d for m in next_months for d in months.get(m, [])]
    address_file, street_file = latest("places", "addresses"), latest("places", "streets")
    places = [f for f in (poi_file, address_file, street_file) if f is not None]
    digest = input_digest(
        [*places, *(occ_files[d] for d in model_m + next_m)],
        code=[Path(__file__), *RTM_CODE.glob("*.py")],
        config=config.model_dump_json(),
    )
    if (reused := unchanged_output(context, SIMULATED_RTM_KEY, digest)) is not None:
        return reused

    from vrdp.risk_terrain.model import RTMConfig
    from vrdp.risk_terrain.outputs import write_rtm_outputs
    from vrdp.risk_terrain.world import (
        DEFAULT_CRIME_TYPES,
        offence_crime_types,
        run_rtm_on_reference_places,
        run_rtm_per_resident,
        truth_recovery,
    )

    pois = pd.read_parquet(poi_file, columns=["category", *xy])

    def read(deliveries):
        cols = ["offence_code", *xy]
        frames = [pd.read_parquet(occ_files[d], columns=cols) for d in deliveries]
        d = pd.concat(frames, ignore_index=True).dropna(subset=xy)
        d["crime_type"] = offence_crime_types(d["offence_code"])
        return d

    crime_types = tuple(config.crime_types or DEFAULT_CRIME_TYPES)
    rtm_config = RTMConfig(block_length_m=config.block_length_m, seed=config.seed, n_jobs=2)
    common = {
        "crime_types": crime_types,
        "config": rtm_config,
        "next_crimes": read(next_m) if next_m else None,
    }
    if address_file is not None and street_file is not None:
        result = run_rtm_on_reference_places(
            pois.dropna(),
            read(model_m),
            pd.read_parquet(address_file, columns=xy),
            pd.read_parquet(street_file, columns=xy),
            **common,
        )
        exposure_note = (
            "Study area: the 50 m cells holding an address (address gazetteer), a street "
            "(street gazetteer) or a POI. Offset: log of the cell's summed attraction, each "
            "class's attraction (expected events per place before environmental risk) "
            "estimated jointly with the model; RRVs are rate ratios per unit of opportunity. "
            "Factors that reach little beyond their own premises (50 m) are confounded with "
            "their category's own attraction and may not be selected."
        )
    else:
        result = run_rtm_per_resident(pois.dropna(), read(model_m), **common)
        exposure_note = (
            "No address or street gazetteer in the lake: study area = the cells holding a POI "
            "or a recorded crime of any type; offset = 2011 census residents per cell. RRVs "
            "are rate ratios per resident; footfall is not controlled for, so factors of busy "
            "places (e.g. licensed premises) read high."
        )
    result.report["data"].update({"model_deliveries": model_m, "next_deliveries": next_m})
    paths = write_rtm_outputs(result, risk_terrain_dir(s.lake_dir, "simulated_world"))
    _rtm_card(
        "simulated_world", result, risk_terrain_dir(s.lake_dir, "simulated_world"), config.seed
    )
    extra = {
        "skipped": False,
        "model_deliveries": ", ".join(model_m),
        "next_deliveries": ", ".join(next_m) or "none",
        "crime_types": ", ".join(crime_types),
        "seed": config.seed,
        "exposure": exposure_note,
        **computed(digest),
    }
    em = result.report.get("exposure_model")
    if em is not None:
        att = pd.DataFrame(em["attractions"]).sort_values("attraction", ascending=False)
        extra["exposure_model"] = dg.MetadataValue.md(
            f"{em['method']}; {len(em['selections'])} selection(s), converged: "
            f"{em['converged']}.\n\n" + att.to_markdown(index=False, floatfmt=".3g")
        )
    truth_dir = s.world_truth_dir
    if truth_dir is not None and (truth_dir / "risk_factors.parquet").exists():
        planted_att = _planted_attraction(truth_dir, read(model_m), crime_types)
        rec = truth_recovery(
            result,
            pd.read_parquet(truth_dir / "risk_factors.parquet"),
            crime_types,
            planted_attraction=planted_att,
        )
        extra["truth/recovery"] = dg.MetadataValue.md(
            "Evaluation only (the simulated world's truth, "
            f"{truth_dir}); nothing in the model is computed from it.\n\n"
            + (rec.to_markdown(index=False, floatfmt=".3g") if len(rec) else "_none_")
        )
        for r in rec.itertuples():
            extra[f"truth/{r.factor}_planted_rr"] = r.planted_rr
            if pd.notna(r.rrv):
                extra[f"truth/{r.factor}_rrv"] = float(r.rrv)
            if "planted_combined_rr" in rec and pd.notna(r.planted_combined_rr):
                extra[f"truth/{r.factor}_planted_combined_rr"] = round(r.planted_combined_rr, 4)
                if pd.notna(r.combined_rr):
                    extra[f"truth/{r.factor}_combined_rr"] = round(float(r.combined_rr), 4)
    return dg.MaterializeResult(
        metadata=_metadata(result, paths, extra), data_version=dg.DataVersion(digest)
    )

"""Disparity report: where patrols and stops fall by deprivation and ethnicity, against harm."""

import dagster as dg

from config.resources import WAREHOUSE_POOL, PlatformConfig

__all__ = ["disparity_report", "DISPARITY_SUBDIR", "DisparityConfig"]

DISPARITY_SUBDIR = "disparity_report"


class DisparityConfig(dg.Config):
    """The dosage guard the report simulates (off by default: no cap, no reserve)."""

    cap_minutes_per_cell_shift: float | None = None
    reserve_share: float = 0.0


def _lake(s, *parts):
    import pandas as pd

    files = sorted((s.lake_dir.joinpath(*parts)).glob("*/part-0.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files]) if files else pd.DataFrame()


def _located_pairs(s):
    """LSOA 2021/2011 code pairs of located police occurrences (none without 2011 layers)."""
    import pandas as pd

    occ = _lake(s, "police", "occurrences")
    if occ.empty or not {"lsoa21_code", "lsoa11_code"} <= set(occ.columns):
        return pd.DataFrame(columns=["lsoa21_code", "lsoa11_code"])
    return occ[["lsoa21_code", "lsoa11_code"]]


@dg.asset(
    key=dg.AssetKey(["exports", "disparity_report"]),
    group_name="governance",
    kinds={"python", "csv"},
    pool=WAREHOUSE_POOL,
    deps=[
        dg.AssetKey(["marts", "fct_events"]),
        dg.AssetKey(["police_uk", "stop_searches"]),
        dg.AssetKey(["police", "occurrences"]),
    ],
)
def disparity_report(
    context: dg.AssetExecutionContext, platform: PlatformConfig, config: DisparityConfig
) -> dg.MaterializeResult:
    """Where attention falls: patrol dosage and stops by deprivation decile, against harm.

    National and within-force IMD deciles, stops by officer-defined ethnicity,
    ratios of attention share to harm share with 95% CIs, Lorenz curves and
    Gini, small-number warnings, counts under 5 suppressed; and what the
    optional dosage guard (cap per cell per shift, reserve for lower-risk
    areas) would change.
    """
    import json

    import pandas as pd

    from exports.format import ExportFile, publish_export
    from vrdp.governance.disparity import (
        attention_vs_harm,
        cap_dosage,
        lorenz_curve,
        lsoa21_to_lsoa11,
        within_force_deciles,
    )
    from vrdp.governance.register import bases_for, load_register
    from vrdp.governance.suppression import PARTNER_FACING, suppress_small_counts

    s = platform.resolve()
    with platform.warehouse(read_only=True) as con:
        built = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'fct_events'"
        ).fetchone()[0]
    if not built:
        return dg.MaterializeResult(metadata={"skipped": True, "reason": "no marts.fct_events"})
    imd = pd.read_csv(s.public_data / "reference" / "imd2019_lsoa11_england.csv.gz")
    with platform.warehouse(read_only=True) as con:
        events = con.execute(
            "select lsoa21_code, h3_cell, harm_weight_days from marts.fct_events "
            "where lsoa21_code is not null and is_violence is not null"
        ).df()
    pairs = _located_pairs(s)  # read once: the events' and the stops' crosswalks
    crosswalk = lsoa21_to_lsoa11(pairs, events["lsoa21_code"], imd["lsoa_code"])
    located_events = len(events)
    events = events.merge(crosswalk[["lsoa21_code", "lsoa11_code"]], on="lsoa21_code")
    if events.empty:
        return dg.MaterializeResult(
            metadata={"skipped": True, "reason": "no located harm events with an LSOA 2011 code"}
        )
    harm = (
        events.groupby("lsoa11_code")
        .agg(harm_days=("harm_weight_days", "sum"), events=("harm_weight_days", "size"))
        .reset_index()
    )
    stops = _lake(s, "police_uk", "stop_searches")
    if len(stops) and "lsoa21_code" in stops:  # a stop with no 2011 code takes the crosswalk's
        more = lsoa21_to_lsoa11(pairs, stops["lsoa21_code"], imd["lsoa_code"])
        by21 = more.set_index("lsoa21_code")["lsoa11_code"]
        own = stops["lsoa11_code"] if "lsoa11_code" in stops else pd.Series(None, index=stops.index)
        stops = stops.assign(lsoa11_code=own.fillna(stops["lsoa21_code"].map(by21)))
    stop_counts = (
        stops.dropna(subset=["lsoa11_code"]).groupby("lsoa11_code").size().rename("stops")
        if len(stops) and "lsoa11_code" in stops
        else pd.Series(dtype="int64", name="stops", index=pd.Index([], name="lsoa11_code"))
    )
    # dosage: minutes per hot spot cell, placed in the LSOA most of the cell's events fall in
    dosage_path = s.lake_dir / "patrol" / "daily_dosage.parquet"
    cell_lsoa = (
        events.groupby(["h3_cell", "lsoa11_code"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values("n", ascending=False)
        .drop_duplicates("h3_cell")
    )
    no_areas = pd.Index([], name="lsoa11_code", dtype="object")
    dosage_by_lsoa = pd.Series(dtype="float64", name="dosage_minutes", index=no_areas)
    guard = {"cap_minutes_per_cell_shift": None, "reserve_share": 0.0}
    dosage_after_by_lsoa = dosage_by_lsoa
    if dosage_path.exists():
        dosage = pd.read_parquet(dosage_path)
        dosage = dosage.assign(h3_cell=dosage["hotspot_id"].astype(str))
        planned, guard = cap_dosage(
            dosage,
            cap_minutes=config.cap_minutes_per_cell_shift,
            reserve_share=config.reserve_share,
            lower_risk_cells=cell_lsoa.merge(harm, on="lsoa11_code")
            .nsmallest(10, "harm_days")["h3_cell"]
            .tolist(),
            cell="h3_cell",
        )
        dosage_by_lsoa = (
            dosage.merge(cell_lsoa, on="h3_cell").groupby("lsoa11_code")["dosage_minutes"].sum()
        )
        dosage_after_by_lsoa = (
            planned.merge(cell_lsoa, on="h3_cell").groupby("lsoa11_code")["dosage_minutes"].sum()
        )
    force = within_force_deciles(imd, harm["lsoa11_code"])
    areas = (
        force.rename(columns={"lsoa_code": "lsoa11_code"})
        .merge(harm, on="lsoa11_code", how="left")
        .merge(stop_counts.reset_index(), on="lsoa11_code", how="left")
        .merge(dosage_by_lsoa.rename("dosage_minutes").reset_index(), on="lsoa11_code", how="left")
        .merge(
            dosage_after_by_lsoa.rename("dosage_minutes_guarded").reset_index(),
            on="lsoa11_code",
            how="left",
        )
        .fillna({"harm_days": 0.0, "events": 0, "stops": 0, "dosage_minutes": 0.0})
        .fillna({"dosage_minutes_guarded": 0.0})
    )
    areas = areas.astype({"events": "int64", "stops": "int64"})
    tables, lorenz_rows, gini, warnings = [], [], {}, []
    for kind in ("national_decile", "force_decile"):
        for measure in ("stops", "dosage_minutes", "dosage_minutes_guarded"):
            t = attention_vs_harm(areas, kind, measure, "harm_days", "events")
            t = t.rename(columns={kind: "decile", measure: "attention"})
            t.insert(0, "measure", measure)
            t.insert(0, "decile_kind", kind)
            tables.append(t)
            warnings += [
                f"{kind} {int(d)} {measure}: {w}"
                for d, w in zip(t["decile"], t["warning"], strict=True)
                if w
            ]
    for measure in ("stops", "dosage_minutes", "dosage_minutes_guarded"):
        curve, g = lorenz_curve(areas, measure, "harm_days")
        gini[measure] = round(g, 4)
        lorenz_rows.append(curve.assign(measure=measure))
    by_decile = pd.concat(tables, ignore_index=True)
    counts = PARTNER_FACING[DISPARITY_SUBDIR]
    by_decile = suppress_small_counts(by_decile, counts["disparity_by_decile.csv"])
    # a share or ratio of a suppressed count would give the count back: blank them too
    hidden = by_decile["attention_suppressed"] | by_decile["events_suppressed"]
    derived = ["attention_share", "harm_share", "ratio", "ratio_ci_low", "ratio_ci_high"]
    by_decile.loc[hidden, derived] = float("nan")
    eth_col = "officer_defined_ethnicity"
    by_eth = (
        stops[eth_col]
        .fillna("Not stated")
        .value_counts()
        .rename_axis("ethnicity")
        .rename("stops")
        .reset_index()
        if len(stops) and eth_col in stops
        else pd.DataFrame({"ethnicity": [], "stops": []})
    )
    by_eth["share_of_stops"] = by_eth["stops"] / max(by_eth["stops"].sum(), 1)
    by_eth = suppress_small_counts(by_eth, counts["disparity_by_ethnicity.csv"])
    by_eth.loc[by_eth["stops_suppressed"], "share_of_stops"] = float("nan")
    lorenz = pd.concat(lorenz_rows, ignore_index=True)
    summary = {
        "gini_attention_vs_harm": gini,
        "dosage_guard": guard,
        "what_the_guard_changes": "compare measure dosage_minutes with dosage_minutes_guarded",
        "ethnicity_baseline": "no resident-population baseline is shipped: stops by officer-"
        "defined ethnicity are shares of stops only",
        "small_number_warnings": warnings,
        "areas": len(areas),
        "lsoa_2011_crosswalk": {
            "located": int((crosswalk["basis"] == "located").sum()),
            "same_code": int((crosswalk["basis"] == "same code").sum()),
            "harm_events_with_a_2011_code": len(events),
            "harm_events_located": located_events,
        },
    }

    def csv(df):
        return lambda p: df.to_csv(p, index=False, float_format="%.6f", lineterminator="\n")

    files = [
        ExportFile("disparity_by_decile.csv", len(by_decile), csv(by_decile)),
        ExportFile("disparity_by_ethnicity.csv", len(by_eth), csv(by_eth)),
        ExportFile("lorenz.csv", len(lorenz), csv(lorenz)),
        ExportFile(
            "summary.json", 1, lambda p: p.write_text(json.dumps(summary, indent=1, default=str))
        ),
    ]
    published = publish_export(
        s.exports_dir / DISPARITY_SUBDIR,
        files,
        as_of="report",
        parameters={"cap": config.cap_minutes_per_cell_shift, "reserve": config.reserve_share},
        lawful_bases=bases_for(load_register(s.governance_dir), DISPARITY_SUBDIR),
    )
    context.log.info(f"disparity report {published.version} at {published.path}")
    return dg.MaterializeResult(
        metadata={
            "version": published.version,
            "path": dg.MetadataValue.path(str(published.path)),
            "areas": len(areas),
            "stops": int(areas["stops"].sum()),
            "dosage_minutes": float(areas["dosage_minutes"].sum()),
            "gini_stops_vs_harm": gini["stops"],
            "gini_dosage_vs_harm": gini["dosage_minutes"],
            "small_number_warnings": len(warnings),
            "harm_events_with_a_2011_code": f"{len(events)} of {located_events}",
            "dosage_guard": dg.MetadataValue.json(guard),
        }
    )

"""Early-intervention cohorts (victim risk, perpetration risk): restricted, reviewed, audited."""

import dagster as dg

from config.resources import WAREHOUSE_POOL, PlatformConfig

__all__ = ["COHORTS_SUBDIR", "cohorts_export", "read_cohort_inputs", "truth_labeller"]

COHORTS_SUBDIR = "restricted/cohorts"

#: Inputs that are only for eligibility and the fairness report, never model features.
_BIRTHS_SQL = """
select person_key, min(date_of_birth) as date_of_birth
from restricted.identity.person_identifiers where date_of_birth is not null group by person_key
"""
_ETHNICITY_SQL = """
select ids.person_key, max(n.ethnicity_ic) as ethnicity
from restricted.identity.person_identifiers as ids
join staging.stg_police__nominals as n
  on ids.agency = 'police' and ids.dataset = 'nominals' and ids.record_id = n.nominal_id
where n.ethnicity_ic is not null and n.ethnicity_ic != 'IC9'
group by ids.person_key
"""
_IMD_SQL = """
select pp.person_key, max(pop.imd_decile_national) as imd_decile
from marts.bridge_person_places as pp
join marts.dim_places as pl on pp.place_key = pl.place_key
join marts.needs_lsoa_population as pop on pl.lsoa21_code = pop.lsoa21_code
where pp.is_current
group by pp.person_key
"""


def read_cohort_inputs(con):
    """(person events, births by person key, fairness groups by person key) from the warehouse."""
    from vrdp.cohorts.pipeline import INPUT_COLUMNS
    from vrdp.lake import query_frame

    cols = ", ".join(INPUT_COLUMNS)
    events = query_frame(con, f"select {cols} from marts.fct_person_timeline")
    births = con.execute(_BIRTHS_SQL).df().set_index("person_key")["date_of_birth"]
    eth = con.execute(_ETHNICITY_SQL).df().set_index("person_key")
    imd = con.execute(_IMD_SQL).df().set_index("person_key")
    groups = imd.join(eth, how="outer")
    return events, births, groups


def truth_labeller(con, world_dir):
    """Evaluation only: true outcomes by person key, from the simulated world's truth."""
    from vrdp.cohorts.truth import true_outcomes, true_person_of

    ids = con.execute(
        "select person_key, agency, dataset, record_id from restricted.identity.person_identifiers"
    ).df()
    person_of = true_person_of(ids, world_dir / "truth")

    def labels(person_keys, start, days):
        import pandas as pd

        truth = true_outcomes(world_dir, start, days)
        pid = person_of.reindex(person_keys)
        out = truth.reindex(pid.to_numpy()).fillna(0).astype(int)
        out.index = pd.Index(person_keys, name="person_key")
        return out

    return labels


@dg.asset(
    key=dg.AssetKey(["exports", "cohorts_export"]),
    deps=[
        dg.AssetKey(["marts", "fct_person_timeline"]),
        dg.AssetKey(["marts", "needs_lsoa_population"]),
    ],
    group_name="serving",
    kinds={"python", "scikitlearn", "parquet"},
    pool=WAREHOUSE_POOL,
    code_version="2",
)
def cohorts_export(
    context: dg.AssetExecutionContext, platform: PlatformConfig
) -> dg.MaterializeResult:
    """Early-intervention cohorts, restricted to the safeguarding role.

    Two separate rankings of people aged 10-24 for the next 6 months (victim risk,
    perpetration risk; never combined), each with its backtest, rules baseline,
    fairness report and model card. Offers of support only, after a recorded review.
    Every cutoff's feature and outcome windows are checked on the data (no record
    on or after a cutoff reaches a feature), and each card sets the model beside a
    plain count of the outcome's own kind of record in the last 12 months.
    """
    import json

    from exports.format import ExportFile, publish_export
    from vrdp.cohorts.model import governance_card, model_card_markdown
    from vrdp.cohorts.pipeline import InsufficientHistoryError, build_cohorts
    from vrdp.governance.model_card import render_model_card
    from vrdp.governance.permissions import attach_restricted

    s = platform.resolve()
    seed = 17
    with platform.warehouse(read_only=True) as con:
        if s.identity_db_path.exists():  # the restricted identity layer (births, ethnicity)
            attach_restricted(con, s.identity_db_path, read_only=True)
        linked = con.execute(
            "select count(*) from information_schema.tables where table_catalog = 'restricted'"
            " and table_schema = 'identity' and table_name = 'person_identifiers'"
        ).fetchone()[0]
        if not linked:  # no partner person data loaded (e.g. the real-data slice alone)
            return dg.MaterializeResult(
                metadata={"skipped": "no linked persons in the warehouse: no cohort built"}
            )
        events, births, groups = read_cohort_inputs(con)
        truth = s.world_truth_dir
        labels = truth_labeller(con, truth.parent) if truth is not None else None
        try:
            run = build_cohorts(events, births, groups, seed=seed, truth_labels=labels)
        except InsufficientHistoryError as exc:  # a young warehouse: say why, build nothing
            context.log.warning(f"no cohort built: {exc}")
            return dg.MaterializeResult(metadata={"skipped": f"no cohort built: {exc}"})
    files = []
    for kind in run.cohorts:
        df, fair = run.cohorts[kind], run.fairness[kind]
        files.append(
            ExportFile(
                f"{kind}_cohort.parquet", len(df), lambda p, d=df: d.to_parquet(p, index=False)
            )
        )
        files.append(
            ExportFile(
                f"{kind}_fairness.csv", len(fair), lambda p, d=fair: d.to_csv(p, index=False)
            )
        )
        card = run.cards[kind]
        text = json.dumps(card, indent=2, default=str) + "\n"
        md = model_card_markdown(card)
        files.append(ExportFile(f"{kind}_model_card.json", 1, lambda p, t=text: p.write_text(t)))
        files.append(ExportFile(f"{kind}_model_card.md", 1, lambda p, t=md: p.write_text(t)))
        # the same card in the common format of every model card (vrdp.governance)
        common, page = render_model_card(governance_card(card), f"{kind}_cohort.parquet")
        for name, t in (
            (f"{kind}_cohort.model_card.json", common),
            (f"{kind}_cohort.model_card.md", page),
        ):
            files.append(ExportFile(name, 1, lambda p, t=t: p.write_text(t)))
    published = publish_export(
        s.exports_dir / COHORTS_SUBDIR,
        files,
        as_of=str(run.as_of.date()),
        parameters={"seed": seed, "cohort_share": 0.02, "horizon_days": 182},
        restricted=True,
    )
    meta = {"version": published.version, "path": dg.MetadataValue.path(str(published.path))}
    for kind in run.cohorts:
        bt = run.backtest[kind]
        meta[f"{kind}_cohort_size"] = len(run.cohorts[kind])
        meta[f"{kind}_backtest_auc"] = bt["auc"]
        meta[f"{kind}_backtest_precision_at_cohort"] = bt["precision_at_cohort"]
        meta[f"{kind}_baseline_precision"] = run.baseline[kind]["precision"]
        meta[f"{kind}_history_baseline_auc"] = run.history[kind]["auc"]
        meta[f"{kind}_history_baseline_precision_at_cohort"] = run.history[kind][
            "precision_at_cohort"
        ]
        if kind in run.truth:
            meta[f"{kind}_truth_auc"] = run.truth[kind]["auc"]
            meta[f"{kind}_truth_precision_at_cohort"] = run.truth[kind]["precision_at_cohort"]
    if run.truth:
        meta["truth_source"] = f"simulated world truth ({truth}), evaluation only"
    return dg.MaterializeResult(metadata=meta)

"""Evaluation only: the simulated world's true outcomes for the cohort models.

Reads the world's ``truth/`` (true person of every person record, true crime type
and time of every event) and its delivered police roles. Nothing the platform
scores or lists depends on it; the cohort asset and ``bench/cohorts.py`` report
what it gives as metrics on the simulated truth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["true_outcomes", "true_person_of", "true_propensities"]

_VIOLENCE = ("Violence and sexual offences", "Robbery", "Public order")


def true_person_of(identities: pd.DataFrame, truth_dir: str | Path) -> pd.Series:
    """The true person of each ``person_key`` (the most common among its records).

    ``identities`` holds ``person_key``, ``agency``, ``dataset``, ``record_id``
    (``identity.person_identifiers``).
    """
    pr = pd.read_parquet(Path(truth_dir) / "person_records.parquet")
    m = identities.merge(pr, on=["agency", "dataset", "record_id"], how="inner")
    top = m.groupby(["person_key", "person_id"]).size().rename("n").reset_index()
    top = top.sort_values(["person_key", "n", "person_id"], ascending=[True, False, True])
    return top.drop_duplicates("person_key").set_index("person_key")["person_id"]


def true_outcomes(world_dir: str | Path, start, days: int = 182) -> pd.DataFrame:
    """True people who were victims / suspects or offenders of violence in the window.

    Uses every delivered police role (landing ``occurrence_nominals``, all
    deliveries, read whatever was quarantined) mapped to true people and true
    events, so linkage and ingest errors do not leak into the labels.

    Returns
    -------
    pandas.DataFrame
        Indexed by true ``person_id``: ``victim`` and ``perpetrator`` (0/1).
    """
    world = Path(world_dir)
    truth = world / "truth"
    files = sorted((world / "landing" / "police" / "occurrence_nominals").rglob("*.csv"))
    links = pd.concat(
        [pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True
    )
    pr = pd.read_parquet(truth / "person_records.parquet")
    pr = pr[pr["dataset"] == "nominals"][["record_id", "person_id"]]
    er = pd.read_parquet(truth / "event_records.parquet")
    er = er[er["dataset"] == "occurrences"][["record_id", "event_id"]]
    ev = pd.read_parquet(
        truth / "events.parquet", columns=["event_id", "committed_at", "crime_type"]
    )
    m = links.merge(pr, left_on="nominal_id", right_on="record_id").drop(columns="record_id")
    m = m.merge(er, left_on="occurrence_ref", right_on="record_id").merge(ev, on="event_id")
    start = pd.Timestamp(start)
    t = pd.to_datetime(m["committed_at"])
    w = m[(t >= start) & (t < start + pd.Timedelta(days=days)) & m["crime_type"].isin(_VIOLENCE)]
    people = np.union1d(w["person_id"].unique(), [])
    out = pd.DataFrame(index=pd.Index(people.astype(np.int64), name="person_id"))
    out["victim"] = out.index.isin(w.loc[w["role"] == "victim", "person_id"]).astype(np.int8)
    out["perpetrator"] = out.index.isin(
        w.loc[w["role"].isin(["suspect", "offender"]), "person_id"]
    ).astype(np.int8)
    return out


def true_propensities(person_of: pd.Series, truth_dir: str | Path) -> pd.DataFrame:
    """The simulator's own rate of each person key's true person: the ceiling of any ranking.

    ``person_of``: true person by person key (:func:`true_person_of`). Returns
    ``victim`` and ``perpetration`` (the world's ``victim_propensity`` and
    ``offender_propensity``, 0 for keys with no true person), by person key. A
    ranking by these knows what no platform can; evaluation only.
    """
    cols = ["person_id", "victim_propensity", "offender_propensity"]
    p = pd.read_parquet(Path(truth_dir) / "persons.parquet", columns=cols).set_index("person_id")
    p = p.reindex(person_of.to_numpy()).fillna(0.0)
    return pd.DataFrame(
        {
            "victim": p["victim_propensity"].to_numpy(float),
            "perpetration": p["offender_propensity"].to_numpy(float),
        },
        index=person_of.index,
    )

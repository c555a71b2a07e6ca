"""Features of the two early-intervention models, built apart by construction.

Both models see only agency events (``marts.fct_person_timeline`` rows: role,
source, date, violence, harm). Neither sees a protected characteristic: the
builders select the columns they use by name (:data:`EVENT_COLUMNS`) and never
read age, sex, ethnicity, religion, disability or address.

* **Victim risk** may use every side of a person's history (a person who offends
  is also more often a victim), from the sources in :data:`VICTIM_SOURCES`.
* **Perpetration risk** is built from offending-side rows only: the builder drops
  every victim, patient, referred-child and witness row *before* counting, and the
  welfare sources (children's social care, NHS safeguarding) entirely, so a
  victimisation history cannot raise (or lower) anyone's perpetration score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vrdp.keys import isin

__all__ = [
    "EVENT_COLUMNS",
    "PROTECTED_COLUMNS",
    "PERPETRATION_ROLES",
    "PERPETRATION_SOURCES",
    "VICTIM_SOURCES",
    "VICTIM_FEATURES",
    "PERPETRATION_FEATURES",
    "victim_features",
    "perpetration_features",
    "outcomes",
]

#: The only columns of the person-event history a feature builder reads.
EVENT_COLUMNS = ("person_key", "event_key", "occurred_on", "role", "source_system")
EVENT_COLUMNS += ("is_violence", "harm_weight_days")
#: Never features (Equality Act 2010 protected characteristics and their proxies).
PROTECTED_COLUMNS = (
    "age",
    "date_of_birth",
    "sex",
    "gender",
    "ethnicity",
    "ethnicity_ic",
    "religion",
    "disability",
    "pregnancy",
    "marital_status",
    "sexual_orientation",
    "gender_reassignment",
    "postcode",
    "address_line",
    "lsoa21_code",
    "ward_code",
    "imd_decile",
)
#: Rows the perpetration model may count: offending roles and intelligence subjects.
PERPETRATION_ROLES = ("suspect", "offender", "subject")
#: Sources it may count (the welfare sources record people mostly as victims).
PERPETRATION_SOURCES = ("police_rms", "police_intelligence", "probation")
#: Sources the victim model may count. A new source enters a model by decision, with
#: its own backtest, never by appearing in the timeline: voluntary-sector referrals
#: (linked with consent) stay out, as the simulated ones are drawn by a person's
#: involvement over the whole period, after the referral date too (a world-made leak).
VICTIM_SOURCES = ("police_rms", "police_intelligence", "probation", "social_care")
VICTIM_SOURCES += ("nhs_safeguarding",)

VICTIM_FEATURES = (
    "victim_violence_24m",
    "victim_violence_6m",
    "victim_any_24m",
    "victim_harm_24m",
    "offending_violence_24m",
    "social_care_24m",
    "nhs_safeguarding_24m",
    "intelligence_24m",
    "sources_24m",
    "recent_any_90d",
)
PERPETRATION_FEATURES = (
    "offending_violence_24m",
    "offending_violence_6m",
    "offending_any_24m",
    "offending_harm_24m",
    "probation_24m",
    "intelligence_24m",
    "recent_offending_90d",
)


def _window(events: pd.DataFrame, cutoff: pd.Timestamp, days: int) -> pd.DataFrame:
    on = pd.to_datetime(events["occurred_on"])
    return events[(on < cutoff) & (on >= cutoff - pd.Timedelta(days=days))]


def _count(df: pd.DataFrame, mask, name: str) -> pd.Series:
    return df.loc[mask].groupby("person_key")["event_key"].nunique().rename(name)


def _frame(people, parts, names) -> pd.DataFrame:
    out = pd.DataFrame(index=pd.Index(sorted(set(people)), name="person_key"))
    for p in parts:
        out = out.join(p, how="left")
    return out.reindex(columns=list(names)).fillna(0.0).astype(float)


def victim_features(events: pd.DataFrame, people, cutoff) -> pd.DataFrame:
    """Victim-model features of ``people`` from events before ``cutoff``.

    Parameters
    ----------
    events : pandas.DataFrame
        Person-event rows with at least :data:`EVENT_COLUMNS`; other columns are ignored.
    people : iterable of str
        Person keys to score (rows of the result, in sorted order).
    cutoff : date-like
        Features use events strictly before it.
    """
    cutoff = pd.Timestamp(cutoff)
    ev = events.loc[:, list(EVENT_COLUMNS)]
    ev = ev[ev["source_system"].isin(VICTIM_SOURCES)]
    y2, m6, d90 = (_window(ev, cutoff, d) for d in (730, 182, 90))
    viol = y2["is_violence"].fillna(False).astype(bool)
    victim = y2["role"].eq("victim")
    offend = y2["role"].isin(["suspect", "offender"])
    parts = [
        _count(y2, victim & viol, "victim_violence_24m"),
        _count(
            m6,
            m6["role"].eq("victim") & m6["is_violence"].fillna(False).astype(bool),
            "victim_violence_6m",
        ),
        _count(y2, victim, "victim_any_24m"),
        y2.loc[victim].groupby("person_key")["harm_weight_days"].sum().rename("victim_harm_24m"),
        _count(y2, offend & viol, "offending_violence_24m"),
        _count(y2, y2["source_system"].eq("social_care"), "social_care_24m"),
        _count(y2, y2["source_system"].eq("nhs_safeguarding"), "nhs_safeguarding_24m"),
        _count(y2, y2["source_system"].eq("police_intelligence"), "intelligence_24m"),
        y2.groupby("person_key")["source_system"].nunique().rename("sources_24m"),
        _count(d90, d90["person_key"].notna(), "recent_any_90d"),
    ]
    return _frame(people, parts, VICTIM_FEATURES)


def perpetration_features(events: pd.DataFrame, people, cutoff) -> pd.DataFrame:
    """Perpetration-model features: offending-side rows only (see the module docstring).

    The victim side is removed before anything is counted, so adding or removing
    victimisation rows leaves every value unchanged.
    """
    cutoff = pd.Timestamp(cutoff)
    ev = events.loc[:, list(EVENT_COLUMNS)]
    ev = ev[ev["role"].isin(PERPETRATION_ROLES) & ev["source_system"].isin(PERPETRATION_SOURCES)]
    y2, m6, d90 = (_window(ev, cutoff, d) for d in (730, 182, 90))
    offend = y2["role"].isin(["suspect", "offender"])
    viol = y2["is_violence"].fillna(False).astype(bool)
    m6_off = m6["role"].isin(["suspect", "offender"]) & m6["is_violence"].fillna(False).astype(bool)
    parts = [
        _count(y2, offend & viol, "offending_violence_24m"),
        _count(m6, m6_off, "offending_violence_6m"),
        _count(y2, offend, "offending_any_24m"),
        y2.loc[offend].groupby("person_key")["harm_weight_days"].sum().rename("offending_harm_24m"),
        _count(y2, y2["source_system"].eq("probation"), "probation_24m"),
        _count(y2, y2["source_system"].eq("police_intelligence"), "intelligence_24m"),
        _count(d90, d90["role"].isin(["suspect", "offender"]), "recent_offending_90d"),
    ]
    return _frame(people, parts, PERPETRATION_FEATURES)


def outcomes(events: pd.DataFrame, people, start, days: int = 182) -> pd.DataFrame:
    """Recorded outcomes in ``[start, start + days)``: violence as victim, as suspect/offender.

    Returns
    -------
    pandas.DataFrame
        Indexed by person key: ``victim`` and ``perpetrator`` (0/1), kept apart.
    """
    start = pd.Timestamp(start)
    on = pd.to_datetime(events["occurred_on"])
    w = events[(on >= start) & (on < start + pd.Timedelta(days=days))]
    w = w[w["is_violence"].fillna(False).astype(bool)]
    idx = pd.Index(sorted(set(people)), name="person_key")
    v = isin(idx, w.loc[w["role"].eq("victim"), "person_key"])
    p = isin(idx, w.loc[w["role"].isin(["suspect", "offender"]), "person_key"])
    return pd.DataFrame({"victim": v.astype(np.int8), "perpetrator": p.astype(np.int8)}, index=idx)

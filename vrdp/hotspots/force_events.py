"""Hot spots on the force's own records (``marts.fct_events``): crimes, calls and A&E assaults.

The police.uk family (:mod:`vrdp.hotspots.pipeline`) has months and snapped
locations only. ``marts.fct_events`` has a time window per event
(``occurred_from``/``occurred_to``) and the recorded location, so the same
pipeline runs here with real times: harm windows count an event when its time
is inside the window, KDE weights by the same rule, and each hot spot gets
hour-of-week patrol windows.

Event time: the midpoint of ``occurred_from`` and ``occurred_to``
(``occurred_from`` when the end is blank), as the patrol trial's evaluation
events (:func:`assets.patrol.common.trial_events`) are timed, so the hot spot
list, its patrol windows and the trial agree.

Which events count (defaults):

* ``crime`` (police RMS), ``incident`` (CAD calls) and ``ae_assault`` (A&E
  assaults, ISTV) rows that are located (``is_located`` and coordinates);
* harm is the CCHI seed weight of the row's ``crime_type`` (``harm_weight_days``
  of the mart when set); an A&E assault without a crime type is violence
  (``"Violence and sexual offences"``); a call whose classification is not a
  crime type has no harm (it still counts as an event);
* a call linked to a recorded crime (``linked_event_key`` of the mart, when
  the column is there) is that crime reported, not a second event: it is left
  out (counted as ``linked_to_crime``) while the crime itself is a study event;
* harm may be multiplied per event type (default 1 for all: an unlinked call
  carries the harm of its classification, e.g. 1 day for anti-social behaviour);
* the feedback-loop guard flags ``is_police_generated`` rows (drugs, possession
  of weapons, stop and search: found by police activity); they are kept in the
  table (``excluded_by_guard``) and left out of every count by default.

Nothing is lost: every input row is a study event or counted in the record
under the reason it is not (other event type, not located, no time, a call
linked to a study crime).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from vrdp.keys import isin

__all__ = [
    "FORCE_EVENT_TYPES",
    "EVENT_TYPE_HARM_WEIGHTS",
    "VIOLENCE_TYPES",
    "FCT_EVENTS_COLUMNS",
    "event_times",
    "prepare_force_events",
    "series_span",
    "force_series",
    "planted_hotspot_recall",
    "fct_events_from_landing",
]

#: Event types the force-data hot spots count by default.
FORCE_EVENT_TYPES: tuple[str, ...] = ("crime", "incident", "ae_assault")
#: Harm multiplier per event type (1 when absent).
EVENT_TYPE_HARM_WEIGHTS: dict[str, float] = {"crime": 1.0, "incident": 1.0, "ae_assault": 1.0}
#: police.uk categories counted as violence (the benchmark's violence target).
VIOLENCE_TYPES: tuple[str, ...] = ("Violence and sexual offences", "Robbery", "Public order")
#: The ``marts.fct_events`` columns this module reads.
FCT_EVENTS_COLUMNS: tuple[str, ...] = (
    "event_key",
    "source_system",
    "event_type",
    "occurred_from",
    "occurred_to",
    "crime_type",
    "harm_weight_days",
    "is_violence",
    "is_police_generated",
    "easting_m",
    "northing_m",
    "longitude",
    "latitude",
    "is_located",
)
_AE_CRIME_TYPE = "Violence and sexual offences"


def event_times(occurred_from: pd.Series, occurred_to: pd.Series) -> pd.Series:
    """Midpoint of each event's time window (the start when the end is blank or earlier).

    >>> event_times(pd.Series(pd.to_datetime(["2025-01-01 22:00", "2025-01-02 10:00"])),
    ...             pd.Series(pd.to_datetime(["2025-01-02 02:00", None]))).astype(str).tolist()
    ['2025-01-02 00:00:00', '2025-01-02 10:00:00']
    """
    start = pd.to_datetime(occurred_from)
    end = pd.to_datetime(occurred_to)
    end = end.where(end.notna() & (end >= start), start)
    return start + (end - start) / 2


def _flag(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s):
        return s.fillna(False).to_numpy(bool)
    return s.astype(str).str.strip().str.lower().isin(["true", "1", "t", "yes"]).to_numpy()


def prepare_force_events(
    events: pd.DataFrame,
    harm_weights: pd.DataFrame,
    *,
    resolution: int,
    event_types: Sequence[str] = FORCE_EVENT_TYPES,
    exclude_police_generated: bool = True,
    type_harm_weights: Mapping[str, float] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """``marts.fct_events`` rows as study events of the hot spot pipeline, and what was done.

    Parameters
    ----------
    events
        Rows shaped like ``marts.fct_events`` (:data:`FCT_EVENTS_COLUMNS`).
    harm_weights
        The CCHI seed: ``crime_type``, ``harm_weight_days``.
    resolution
        H3 resolution of the grid.
    event_types
        Which ``event_type`` values count.
    exclude_police_generated
        The feedback-loop guard (recorded in the output either way).
    type_harm_weights
        Harm multiplier per event type (default :data:`EVENT_TYPE_HARM_WEIGHTS`).

    Returns
    -------
    study, record
        ``study`` has the columns of
        :func:`vrdp.hotspots.pipeline.prepare_study_events` (``event_id``,
        ``month``, ``crime_type``, ``harm_weight_days``, coordinates,
        ``h3_cell``, ``excluded_by_guard``) plus ``occurred_at``, ``source``
        (the event type) and ``is_violence``, sorted by ``event_id``.
        ``record`` counts rows in, selected, left out by type and unlocated,
        without time, calls linked to a study crime, flagged by the guard, per
        event type, and says which weights applied; ``rows_in == study_events +
        not_selected_type + not_located + no_time + linked_to_crime``.

    Examples
    --------
    >>> ev = pd.DataFrame({"event_key": ["a", "b", "c", "d"],
    ...     "event_type": ["crime", "incident", "ae_assault", "crime"],
    ...     "occurred_from": pd.to_datetime(["2025-03-01 22:00"] * 4), "occurred_to": pd.NaT,
    ...     "crime_type": ["Drugs", "Burglary", None, "Robbery"], "harm_weight_days": None,
    ...     "is_violence": [False, False, True, True],
    ...     "is_police_generated": [True, False, False, False],
    ...     "easting_m": [451300.0, 451300.0, 451300.0, None],
    ...     "northing_m": [206400.0, 206400.0, 206400.0, None],
    ...     "longitude": [-1.2577, -1.2577, -1.2577, None],
    ...     "latitude": [51.752, 51.752, 51.752, None], "is_located": [True, True, True, False]})
    >>> w = pd.DataFrame({"crime_type": ["Drugs", "Burglary", "Violence and sexual offences"],
    ...                   "harm_weight_days": [2.0, 244.0, 100.0]})
    >>> study, rec = prepare_force_events(ev, w, resolution=9)
    >>> study[["source", "crime_type", "harm_weight_days", "excluded_by_guard"]].values.tolist()
    [['crime', 'Drugs', 2.0, True], ['incident', 'Burglary', 244.0, False], \
['ae_assault', 'Violence and sexual offences', 100.0, False]]
    >>> rec["rows_in"], rec["study_events"], rec["not_located"], rec["events_excluded"]
    (4, 3, 1, 1)
    """
    from vrdp.hotspots.grid import cells_of_points

    mult = {**EVENT_TYPE_HARM_WEIGHTS, **(type_harm_weights or {})}
    ev = events.reset_index(drop=True)
    wanted = ev["event_type"].isin(list(event_types)).to_numpy()
    located = (
        _flag(ev["is_located"])
        & ev["latitude"].notna().to_numpy()
        & ev["longitude"].notna().to_numpy()
        & ev["easting_m"].notna().to_numpy()
    )
    timed = ev["occurred_from"].notna().to_numpy()
    keep = wanted & located & timed
    linked = np.zeros(len(ev), bool)
    if "linked_event_key" in ev:
        crimes = ev.loc[keep & (ev["event_type"] == "crime").to_numpy(), "event_key"]
        linked = (
            keep
            & (ev["event_type"] == "incident").to_numpy()
            & isin(ev["linked_event_key"], crimes)
        )
        keep &= ~linked
    d = ev[keep]
    crime_type = d["crime_type"].astype(object).where(d["crime_type"].notna(), None)
    is_ae = (d["event_type"] == "ae_assault").to_numpy()
    crime_type = crime_type.where(~(is_ae & crime_type.isna().to_numpy()), _AE_CRIME_TYPE)
    seed = harm_weights.set_index("crime_type")["harm_weight_days"].astype(float)
    own = pd.to_numeric(d["harm_weight_days"], errors="coerce")
    harm = own.fillna(crime_type.map(seed)).fillna(0.0).to_numpy(float)
    harm = harm * d["event_type"].map(lambda t: mult.get(t, 1.0)).to_numpy(float)
    guard = _flag(d["is_police_generated"])
    at = event_times(d["occurred_from"], d["occurred_to"])
    study = pd.DataFrame(
        {
            "event_id": d["event_key"].astype(str).to_numpy(),
            "month": at.dt.to_period("M").dt.to_timestamp().to_numpy(),
            "occurred_at": at.to_numpy(),
            "source": d["event_type"].astype(str).to_numpy(),
            "crime_type": crime_type.fillna("Other incident").astype(str).to_numpy(),
            "is_violence": _flag(d["is_violence"]) if "is_violence" in d else False,
            "harm_weight_days": harm,
            "latitude": d["latitude"].to_numpy(float),
            "longitude": d["longitude"].to_numpy(float),
            "easting_m": d["easting_m"].to_numpy(float),
            "northing_m": d["northing_m"].to_numpy(float),
            "h3_cell": cells_of_points(
                d["latitude"].to_numpy(float), d["longitude"].to_numpy(float), resolution
            ),
            "excluded_by_guard": guard if exclude_police_generated else np.zeros(len(d), bool),
            "is_police_generated": guard,
        }
    )
    study = study.sort_values("event_id", kind="mergesort").reset_index(drop=True)
    by_type = {
        str(t): {
            "rows": int((ev["event_type"] == t).sum()),
            "study_events": int((study["source"] == t).sum()),
            "excluded_by_guard": int(study.loc[study["source"] == t, "excluded_by_guard"].sum()),
        }
        for t in sorted(ev["event_type"].dropna().unique())
    }
    record = {
        "exclude_police_generated": bool(exclude_police_generated),
        "guard_rule": "is_police_generated of marts.fct_events",
        "police_generated_crime_types": sorted(
            set(study.loc[study["is_police_generated"], "crime_type"])
        ),
        "event_types": list(event_types),
        "type_harm_weights": {t: float(mult.get(t, 1.0)) for t in event_types},
        "rows_in": len(ev),
        "study_events": len(study),
        "not_selected_type": int((~wanted).sum()),
        "not_located": int((wanted & ~located).sum()),
        "no_time": int((wanted & located & ~timed).sum()),
        "linked_to_crime": int(linked.sum()),
        "events_in": len(study),
        "events_excluded": int(study["excluded_by_guard"].sum()),
        "by_event_type": by_type,
    }
    return study, record


def series_span(month: pd.Series, *, min_share: float = 0.5):
    """The monthly series' span, without partial first or last months; and those left out.

    Event times are windows, so a few events start before the first full month
    of the records (a crime committed in December, recorded in January), and an
    extract may end mid-month. A first or last month holding fewer than
    ``min_share`` × the median month's events is partial: it is left out of the
    monthly series (its events still count in the harm windows by their
    times), repeatedly from either end. Months inside the span are never
    dropped (a month with no events is missing, as in
    :func:`vrdp.hotspots.pipeline.month_span`).

    >>> m = pd.Series(pd.to_datetime(["2023-12-01"] + ["2024-01-01"] * 10 + ["2024-02-01"] * 9))
    >>> span, partial = series_span(m)
    >>> span.months, partial
    (['2024-01', '2024-02'], ['2023-12'])
    """
    from vrdp.hotspots.pipeline import MonthSpan, month_span

    span = month_span(month)
    per = pd.to_datetime(pd.Series(month)).dt.strftime("%Y-%m")
    n = per.value_counts().reindex(span.months, fill_value=0)
    floor = min_share * float(n[n > 0].median())
    lo, hi = 0, len(span.months)
    while hi - lo > 1 and n.iloc[lo] < floor:
        lo += 1
    while hi - lo > 1 and n.iloc[hi - 1] < floor:
        hi -= 1
    months = span.months[lo:hi]
    partial = span.months[:lo] + span.months[hi:]
    return MonthSpan(months, [m for m in span.published if m in set(months)]), partial


def force_series(
    study: pd.DataFrame,
    cells: np.ndarray,
    span,
    *,
    target_event_types: Sequence[str] = ("crime",),
    violence_only: bool = False,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Monthly target counts and the forecast's auxiliary series, cells × months.

    The target is the guarded study events of ``target_event_types`` (recorded
    crime by default; ``violence_only`` keeps :data:`VIOLENCE_TYPES` and A&E
    assaults' violence). Auxiliary series: one per crime type of those events,
    and one per other event type (``source:incident``, ``source:ae_assault``),
    so calls and A&E assaults inform the crime forecast without being its target.

    >>> from vrdp.hotspots.pipeline import month_span
    >>> ev = pd.DataFrame({"h3_cell": ["a", "a", "b"], "crime_type": ["Robbery", "x", "y"],
    ...     "source": ["crime", "incident", "crime"], "is_violence": [True, False, False],
    ...     "month": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-02-01"]),
    ...     "excluded_by_guard": False})
    >>> counts, aux = force_series(ev, np.array(["a", "b"]), month_span(ev["month"]))
    >>> counts.tolist(), sorted(aux)
    ([[1.0, 0.0], [0.0, 1.0]], ['Robbery', 'source:incident', 'y'])
    """
    from vrdp.hotspots.pipeline import monthly_matrix

    kept = study[~study["excluded_by_guard"]]
    is_target = kept["source"].isin(list(target_event_types))
    if violence_only:
        is_target &= kept["crime_type"].isin(VIOLENCE_TYPES) | kept["is_violence"].astype(bool)
    target = kept[is_target]
    # the span's missing months (no event at all) are NaN columns in every matrix
    counts = monthly_matrix(target, cells, span)
    aux: dict[str, np.ndarray] = {}
    for t in sorted(target["crime_type"].unique()):
        aux[t] = monthly_matrix(target, cells, span, crime_types=[t])
    for src in sorted(set(kept["source"]) - set(target_event_types)):
        aux[f"source:{src}"] = monthly_matrix(kept[kept["source"] == src], cells, span)
    return counts, aux


def planted_hotspot_recall(
    truth_hotspots: pd.DataFrame,
    selected_cells: Sequence[str],
    *,
    as_of: pd.Timestamp,
    window_days: int = 91,
    tolerance_k: int = 1,
) -> dict:
    """Recall of the simulated world's planted hot spots active in the window before ``as_of``.

    A planted hot spot counts when its ``[start_date, end_date]`` overlaps
    ``(as_of - window_days, as_of]``. Evaluation only: the truth never feeds
    the selection.

    >>> import h3
    >>> c = h3.latlng_to_cell(51.752, -1.2577, 9)
    >>> truth = pd.DataFrame({"h3_cell": [c, c], "kind": ["persistent", "former"],
    ...     "start_date": pd.to_datetime(["2024-01-01", "2024-01-01"]),
    ...     "end_date": pd.to_datetime(["2025-12-31", "2024-06-30"])})
    >>> r = planted_hotspot_recall(truth, [c], as_of=pd.Timestamp("2026-01-01"))
    >>> r["recall"], r["truth_cells"], r["by_kind"]
    (1.0, 1, {'persistent': '1/1'})
    """
    from vrdp.hotspots.recall import planted_recall

    lo = as_of - pd.Timedelta(days=int(window_days))
    t = truth_hotspots
    active = t[(pd.to_datetime(t["start_date"]) < as_of) & (pd.to_datetime(t["end_date"]) >= lo)]
    out = planted_recall(active["h3_cell"], selected_cells, tolerance_k=tolerance_k)
    by_kind = {}
    for kind, g in active.groupby("kind", sort=True):
        r = planted_recall(g["h3_cell"], selected_cells, tolerance_k=tolerance_k)
        by_kind[str(kind)] = f"{r['found']}/{r['truth_cells']}"
    out["by_kind"] = by_kind
    out["window"] = f"{lo.date()}..{as_of.date()}"
    return out


def _md5(text: str) -> str:
    """The mart's ``event_key`` rule: md5 of ``source_system:source_ref``."""
    import hashlib

    return hashlib.md5(text.encode()).hexdigest()


def fct_events_from_landing(world_dir: Path | str) -> pd.DataFrame:
    """A stand-in for ``marts.fct_events`` read straight from a simulated world's landing files.

    For benchmarks and tests that must not build the warehouse: RMS occurrences
    (``crime``, typed by the Home Office code's police.uk category) and CAD
    incidents (``incident``, typed by the opening classification, linked to
    the occurrence they recorded) with their BNG coordinates. A&E assaults
    are not included: their location is free text that only the warehouse's
    gazetteer geocodes. A reference delivered twice is read once; unparseable
    times or coordinates, and times after the last delivery month (future
    dates), stay as nulls (the row is then counted as ``no_time`` or
    ``not_located`` by :func:`prepare_force_events`).
    """
    from pyproj import Transformer

    from vrdp.risk_terrain.world import offence_crime_types

    root = Path(world_dir) / "landing" / "police"
    seeds = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
    types = pd.read_csv(seeds / "police_uk_crime_types.csv")
    generated = set(types.loc[_flag(types["is_police_generated"]), "crime_type"])
    harm = pd.read_csv(seeds / "cchi_harm_weights.csv").set_index("crime_type")["harm_weight_days"]

    def read(dataset):
        files = sorted((root / dataset).glob("*/*.csv"))
        return pd.concat([pd.read_csv(f, dtype=str) for f in files], ignore_index=True)

    occ = read("occurrences")
    crimes = pd.DataFrame(
        {
            "source_system": "police_rms",
            "event_type": "crime",
            "source_ref": occ["occurrence_ref"],
            "occurred_from": pd.to_datetime(occ["committed_from"], errors="coerce"),
            "occurred_to": pd.to_datetime(occ["committed_to"], errors="coerce"),
            "crime_type": offence_crime_types(occ["offence_code"]),
            "easting_m": pd.to_numeric(occ["easting"], errors="coerce"),
            "northing_m": pd.to_numeric(occ["northing"], errors="coerce"),
        }
    )
    cad = read("cad_incidents")
    calls = pd.DataFrame(
        {
            "source_system": "police_cad",
            "event_type": "incident",
            "source_ref": cad["incident_ref"],
            "occurred_from": pd.to_datetime(cad["call_received_at"], errors="coerce"),
            "occurred_to": pd.NaT,
            "crime_type": cad["opening_classification"].where(
                cad["opening_classification"].isin(harm.index)
            ),
            "easting_m": pd.to_numeric(cad["easting"], errors="coerce"),
            "northing_m": pd.to_numeric(cad["northing"], errors="coerce"),
        }
    )
    calls["linked_event_key"] = cad["linked_occurrence_ref"].map(
        lambda r: _md5(f"police_rms:{r}"), na_action="ignore"
    )
    ev = pd.concat([crimes, calls], ignore_index=True)
    # a time after the last delivery month is a future date (the contract rejects it)
    last = max(p.name for d in ("occurrences", "cad_incidents") for p in (root / d).iterdir())
    end = pd.Period(last, freq="M").to_timestamp() + pd.offsets.MonthBegin(1)
    for c in ("occurred_from", "occurred_to"):
        ev[c] = ev[c].where(ev[c] < end)
    # a repeated reference is one record delivered twice (the contract quarantines it)
    ev = ev.drop_duplicates(["source_system", "source_ref"]).reset_index(drop=True)
    ev["event_key"] = (ev["source_system"] + ":" + ev["source_ref"].astype(str)).map(_md5)
    ev["harm_weight_days"] = ev["crime_type"].map(harm).where(ev["event_type"] == "crime")
    ev["is_violence"] = ev["crime_type"].isin(VIOLENCE_TYPES)
    ev["is_police_generated"] = ev["crime_type"].isin(generated)
    ok = ev["easting_m"].notna() & ev["northing_m"].notna()
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(
        ev["easting_m"].fillna(0).to_numpy(float), ev["northing_m"].fillna(0).to_numpy(float)
    )
    ev["longitude"] = np.where(ok, lon, np.nan)
    ev["latitude"] = np.where(ok, lat, np.nan)
    ev["is_located"] = ok.to_numpy()
    return ev

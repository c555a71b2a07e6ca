"""Patrol app activity joined to GPS visits, and compliance tables.

Activity records (``stop_search``, ``incident_attend``, engagements ...) are
attributed to the visit of the same officer whose ``[arrive - tolerance,
depart + tolerance]`` interval contains the record's time; when the record
names a hot spot (``unit_id``) it must be the visit's hot spot. Compliance
compares delivered dosage with the tasked target per hot spot-day and can be
rolled up by officer, team, hot spot or day.

The app also records the officer's own check-in and check-out at a hot spot
(``hotspot_arrive``/``hotspot_depart``). :func:`app_checkins` pairs them and
:func:`confirm_visits` keeps the part of each check-in that GPS places inside
the hot spot's polygon: the *confirmed* patrol visit, as opposed to *presence*
(all GPS time inside the polygon, walking in and out included).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["join_activity", "compliance_table", "app_checkins", "confirm_visits"]

#: What officers record during a visit (the ``patrol.activity`` code list, less app events).
DEFAULT_ACTIVITY_EVENTS = (
    "stop_search",
    "engagement",
    "arrest",
    "intelligence_submitted",
    "incident_attend",
    "community_contact",
    "problem_solving",
    "other",
)


def join_activity(
    visits: pd.DataFrame,
    activity: pd.DataFrame,
    *,
    officer_col: str = "officer_id",
    tolerance_seconds: float = 120.0,
    events: Sequence[str] = DEFAULT_ACTIVITY_EVENTS,
) -> pd.DataFrame:
    """Count activity records per visit.

    Parameters
    ----------
    visits
        :func:`vrdp.dosage.pings_to_visits` output with raw ids in ``officer``
        (pseudonymise afterwards), or pseudonyms when ``activity[officer_col]``
        holds the same pseudonyms.
    activity
        ``ts``, ``officer_col``, ``event`` and optional ``unit_id``.
    tolerance_seconds
        Slack either side of the visit.
    events
        Event kinds to count (one ``n_<event>`` column each).

    Returns
    -------
    pandas.DataFrame
        ``visits`` plus ``n_<event>`` counts and ``n_activity`` (their sum).

    Examples
    --------
    >>> v = pd.DataFrame({"officer": ["o"], "hotspot_id": ["HS1"],
    ...     "arrive": pd.to_datetime(["2025-10-03 20:00"]),
    ...     "depart": pd.to_datetime(["2025-10-03 20:12"])})
    >>> a = pd.DataFrame({"officer_id": ["o", "o", "o"], "unit_id": ["HS1", "", "HS2"],
    ...     "ts": pd.to_datetime(["2025-10-03 20:05", "2025-10-03 20:13", "2025-10-03 20:06"]),
    ...     "event": ["stop_search", "incident_attend", "stop_search"]})
    >>> join_activity(v, a)[["n_stop_search", "n_incident_attend", "n_activity"]].values.tolist()
    [[1, 1, 2]]
    """
    out = visits.reset_index(drop=True).copy()
    act = activity[activity["event"].isin(events)].copy()
    act["ts"] = pd.to_datetime(act["ts"])
    unit = act["unit_id"] if "unit_id" in act else pd.Series("", index=act.index)
    act["_unit"] = unit.fillna("").astype(str)
    v = out[["officer", "hotspot_id", "arrive", "depart"]].assign(_vid=np.arange(len(out)))
    m = v.merge(act[[officer_col, "ts", "event", "_unit"]], left_on="officer",
                right_on=officer_col, how="inner")  # fmt: skip
    tol = pd.Timedelta(seconds=tolerance_seconds)
    inside = (m["ts"] >= m["arrive"] - tol) & (m["ts"] <= m["depart"] + tol)
    same = (m["_unit"] == "") | (m["_unit"] == m["hotspot_id"].astype(str))
    m = m[inside & same]
    # An activity record belongs to one visit at most: the one whose arrival is closest.
    m = m.assign(_d=(m["ts"] - m["arrive"]).abs()).sort_values(["_d", "_vid"], kind="stable")
    m = m.drop_duplicates([officer_col, "ts", "event", "_unit"], keep="first")
    counts = m.pivot_table(index="_vid", columns="event", values="ts", aggfunc="size", fill_value=0)
    total = np.zeros(len(out), dtype=np.int64)
    for ev in events:
        col = counts[ev].reindex(range(len(out)), fill_value=0) if ev in counts else 0
        out[f"n_{ev}"] = np.asarray(col, dtype=np.int64) if ev in counts else 0
        total += out[f"n_{ev}"].to_numpy()
    out["n_activity"] = total
    return out


def compliance_table(
    dosage: pd.DataFrame,
    tasking: pd.DataFrame,
    *,
    by: Sequence[str] = ("hotspot_id",),
    teams: pd.DataFrame | None = None,
    target_col: str = "target_minutes",
) -> pd.DataFrame:
    """Delivered against tasked dosage, rolled up by hot spot, day, officer or team.

    Parameters
    ----------
    dosage
        :func:`vrdp.dosage.daily_dosage` output (``hotspot_id``, ``date``,
        ``officer``, ``n_visits``, ``dosage_minutes``, ``koper_visits``).
    tasking
        Tasked hot spot-days: ``hotspot_id``, ``date``, ``target_minutes`` and
        optional ``target_visits``.
    by
        Grouping: any of ``hotspot_id``, ``date``, ``officer``, ``team``.
        Officer and team rows only describe what each officer delivered on
        tasked hot spot-days (there is no per-officer target).
    teams
        ``officer`` and ``team`` (needed when grouping by team).

    Returns
    -------
    pandas.DataFrame
        Per group: ``tasked_days`` (hot spot-days with a target), ``delivered_minutes``,
        ``target_minutes``, ``minutes_ratio``, ``days_met`` (hot spot-days whose
        total dosage reached the target), ``compliance_rate``, ``n_visits`` and
        ``koper_share``.

    Examples
    --------
    >>> d = pd.DataFrame({"hotspot_id": ["a", "a", "b"], "date": ["d1", "d2", "d1"],
    ...     "officer": ["o1", "o1", "o2"], "n_visits": [2, 1, 1],
    ...     "dosage_minutes": [30.0, 10.0, 15.0], "koper_visits": [2, 1, 1]})
    >>> t = pd.DataFrame({"hotspot_id": ["a", "a", "b"], "date": ["d1", "d2", "d1"],
    ...     "target_minutes": [30.0, 30.0, 30.0]})
    >>> compliance_table(d, t)[["hotspot_id", "days_met", "compliance_rate"]].values.tolist()
    [['a', 1, 0.5], ['b', 0, 0.0]]
    """
    by = list(by)
    d = dosage.copy()
    if teams is not None:
        d = d.merge(teams[["officer", "team"]], on="officer", how="left")
    t = tasking[["hotspot_id", "date", target_col]].copy()
    day_tot = d.groupby(["hotspot_id", "date"], as_index=False)["dosage_minutes"].sum()
    t = t.merge(day_tot, on=["hotspot_id", "date"], how="left")
    t["dosage_minutes"] = t["dosage_minutes"].fillna(0.0)
    t["met"] = (t["dosage_minutes"] >= t[target_col]).astype(int)
    if set(by) <= {"hotspot_id", "date"}:
        g = t.groupby(by, sort=True)
        out = g.agg(
            tasked_days=(target_col, "size"),
            delivered_minutes=("dosage_minutes", "sum"),
            target_minutes=(target_col, "sum"),
            days_met=("met", "sum"),
        )
        vis = d.merge(t[["hotspot_id", "date"]], on=["hotspot_id", "date"])
        vv = vis.groupby(by)[["n_visits", "koper_visits"]].sum()
        out = out.join(vv, how="left").fillna({"n_visits": 0, "koper_visits": 0})
    else:
        dd = d.merge(t[["hotspot_id", "date", target_col, "met"]], on=["hotspot_id", "date"])
        g = dd.groupby(by, sort=True)
        out = g.agg(
            tasked_days=(target_col, "size"),
            delivered_minutes=("dosage_minutes", "sum"),
            target_minutes=(target_col, "sum"),
            days_met=("met", "sum"),
            n_visits=("n_visits", "sum"),
            koper_visits=("koper_visits", "sum"),
        )
    out["minutes_ratio"] = out["delivered_minutes"] / out["target_minutes"].where(
        out["target_minutes"] > 0
    )
    out["compliance_rate"] = out["days_met"] / out["tasked_days"]
    out["koper_share"] = out["koper_visits"] / out["n_visits"].where(out["n_visits"] > 0)
    return out.reset_index()


def app_checkins(
    activity: pd.DataFrame,
    *,
    officer_col: str = "officer_id",
    unit_col: str = "unit_id",
    arrive_event: str = "hotspot_arrive",
    depart_event: str = "hotspot_depart",
) -> pd.DataFrame:
    """Pair the app's hot spot check-ins and check-outs into intervals.

    Per officer in time order, an arrival is paired with the officer's next
    check-in event when that is a departure from the same hot spot; an arrival
    followed by another arrival (or nothing), and a departure with no arrival,
    are left unpaired and counted in ``out.attrs``.

    Returns
    -------
    pandas.DataFrame
        ``officer`` (the ids of ``officer_col``), ``hotspot_id``, ``checkin``, ``checkout``;
        ``attrs["unpaired_arrivals"]`` and ``attrs["unpaired_departures"]``.

    Examples
    --------
    >>> a = pd.DataFrame({"officer_id": ["o"] * 5, "unit_id": ["A", "A", "B", "B", "A"],
    ...     "event": ["hotspot_arrive", "hotspot_depart", "hotspot_arrive",
    ...               "hotspot_arrive", "hotspot_depart"],
    ...     "ts": pd.to_datetime(["2025-10-03 20:00", "2025-10-03 20:14", "2025-10-03 21:00",
    ...                           "2025-10-03 21:30", "2025-10-03 21:45"])})
    >>> c = app_checkins(a)
    >>> c[["hotspot_id", "checkin", "checkout"]].astype(str).values.tolist(), c.attrs
    ([['A', '2025-10-03 20:00:00', '2025-10-03 20:14:00']], \
{'unpaired_arrivals': 2, 'unpaired_departures': 1})
    """
    ev = activity[activity["event"].isin([arrive_event, depart_event])]
    ev = ev.assign(ts=pd.to_datetime(ev["ts"]), _unit=ev[unit_col].fillna("").astype(str))
    ev = ev.sort_values([officer_col, "ts"], kind="stable").reset_index(drop=True)
    same_off = ev[officer_col].shift(-1) == ev[officer_col]
    pair = (
        (ev["event"] == arrive_event)
        & same_off
        & (ev["event"].shift(-1) == depart_event)
        & (ev["_unit"].shift(-1) == ev["_unit"])
    )
    arr = ev[pair]
    dep = ev.shift(-1)[pair]
    out = pd.DataFrame(
        {
            "officer": arr[officer_col].to_numpy(),
            "hotspot_id": arr["_unit"].to_numpy(),
            "checkin": arr["ts"].reset_index(drop=True),
            "checkout": dep["ts"].reset_index(drop=True),
        }
    )
    out.attrs["unpaired_arrivals"] = int((ev["event"] == arrive_event).sum() - len(arr))
    out.attrs["unpaired_departures"] = int((ev["event"] == depart_event).sum() - len(arr))
    return out


def confirm_visits(visits: pd.DataFrame, checkins: pd.DataFrame) -> pd.DataFrame:
    """Confirmed minutes of each GPS run: its overlap with the officer's check-ins there.

    Parameters
    ----------
    visits
        :func:`vrdp.dosage.pings_to_visits` output (``officer``, ``hotspot_id``,
        ``arrive``, ``depart``), officers as in ``checkins``.
    checkins
        :func:`app_checkins` output (same time zone handling as ``visits``).

    Returns
    -------
    pandas.DataFrame
        ``visits`` plus ``n_checkins`` (check-ins overlapping the run) and
        ``confirmed_minutes`` (time both checked in and inside the polygon). A
        check-in with no GPS presence at that hot spot confirms nothing.

    Examples
    --------
    >>> v = pd.DataFrame({"officer": ["o", "o"], "hotspot_id": ["A", "B"],
    ...     "arrive": pd.to_datetime(["2025-10-03 19:59", "2025-10-03 22:00"]),
    ...     "depart": pd.to_datetime(["2025-10-03 20:20", "2025-10-03 22:05"])})
    >>> c = pd.DataFrame({"officer": ["o", "o"], "hotspot_id": ["A", "C"],
    ...     "checkin": pd.to_datetime(["2025-10-03 20:00", "2025-10-03 22:00"]),
    ...     "checkout": pd.to_datetime(["2025-10-03 20:14", "2025-10-03 22:10"])})
    >>> confirm_visits(v, c)[["hotspot_id", "n_checkins", "confirmed_minutes"]].values.tolist()
    [['A', 1, 14.0], ['B', 0, 0.0]]
    """
    out = visits.reset_index(drop=True).copy()
    v = out[["officer", "hotspot_id", "arrive", "depart"]].assign(_vid=np.arange(len(out)))
    m = v.merge(checkins, on=["officer", "hotspot_id"], how="inner")
    lo = m[["arrive", "checkin"]].max(axis=1)
    hi = m[["depart", "checkout"]].min(axis=1)
    m = m.assign(_sec=(hi - lo).dt.total_seconds())
    m = m[m["_sec"] > 0]
    per = m.groupby("_vid")["_sec"].agg(["size", "sum"])
    out["n_checkins"] = per["size"].reindex(range(len(out)), fill_value=0).to_numpy(np.int64)
    out["confirmed_minutes"] = per["sum"].reindex(range(len(out)), fill_value=0.0).to_numpy() / 60
    return out

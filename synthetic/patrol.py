"""Hot spot patrol trial: officer GPS pings, app activity and the true patrol dosage.

On each trial day the hot spot cells allocated to ``patrol`` are shared among
the officers on duty, who visit each twice for 12-18 minutes (Koper-curve style
visits) between leaving and returning to the nearest police station.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from synthetic.config import WorldConfig
from synthetic.crime import CrimeWorld
from synthetic.geography import to_wgs84
from synthetic.io import component_rng

SPEED = {"foot": 1.4, "vehicle": 9.0}  # m/s along a route 1.3x the straight line
SHIFT_STARTS_H = (15, 17)
SHIFT_HOURS = 8


@dataclass
class PatrolData:
    """Generated patrol outputs.

    Attributes
    ----------
    pings : dict[str, pandas.DataFrame]
        GPS pings per shift date (``YYYY-MM-DD``).
    activity : dict[str, list[dict]]
        App activity records per shift date.
    visits : pandas.DataFrame
        True hot spot visits (officer, unit, date, arrive, depart).
    officers : pandas.DataFrame
        Officer id, device id and usual mode.
    """

    pings: dict[str, pd.DataFrame]
    activity: dict[str, list[dict]]
    visits: pd.DataFrame
    officers: pd.DataFrame


def build_patrol(seed: int, cfg: WorldConfig, cw: CrimeWorld, pois: pd.DataFrame) -> PatrolData:
    """Simulate officers' shifts over the trial.

    Parameters
    ----------
    seed : int
    cfg : WorldConfig
    cw : CrimeWorld
        Provides trial units and the daily allocation.
    pois : pandas.DataFrame
        Police stations are the shift bases.

    Returns
    -------
    PatrolData
    """
    rng = component_rng(seed, "patrol")
    n_off = cfg.scale.officers
    officers = pd.DataFrame(
        {
            "officer_id": [f"PC{4000 + i}" for i in range(n_off)],
            "device_id": [f"TVP-MDT-{i:05d}" for i in range(n_off)],
            "usual_mode": np.where(rng.random(n_off) < 0.6, "foot", "vehicle"),
        }
    )
    units = cw.trial_units.set_index("unit_id")
    stations = pois[pois["category"] == "police_station"][["x", "y"]].to_numpy()
    st_tree = cKDTree(stations)
    pings, activity, visits = {}, {}, []
    alloc = cw.allocation[cw.allocation["arm"] == "patrol"]
    for date, day_alloc in alloc.groupby("date", sort=True):
        dkey = str(np.datetime64(date, "D"))
        treated = day_alloc["unit_id"].to_numpy()
        treated = treated[rng.permutation(len(treated))]
        frames, acts = [], []
        for k in range(n_off):  # officers x days: at most a few thousand shifts
            mine = treated[k::n_off]
            if len(mine) == 0:
                continue
            off = officers.iloc[k]
            f, a, v = _shift(rng, np.datetime64(dkey), off, mine, units, stations, st_tree)
            frames.append(f)
            acts.extend(a)
            visits.extend(v)
        if frames:
            df = pd.concat(frames, ignore_index=True).sort_values(
                ["ts", "officer_id"], kind="stable"
            )
            pings[dkey] = df.reset_index(drop=True)
        acts.sort(key=lambda r: (r["ts"], r["officer_id"], r["event"]))
        activity[dkey] = acts
    vis = pd.DataFrame(visits, columns=["officer_id", "unit_id", "date", "arrive", "depart"])
    vis["minutes"] = (vis["depart"] - vis["arrive"]).dt.total_seconds() / 60
    return PatrolData(pings, activity, vis, officers)


def _shift(rng, day, off, mine, units, stations, st_tree, late_s: float = 0.0):
    """Simulate one officer's shift; return (pings, activity records, visits).

    ``late_s`` delays the shift start (the twin's late starts; 0 for the static world).
    """
    ux = units.loc[mine, "centre_easting"].to_numpy()
    uy = units.loc[mine, "centre_northing"].to_numpy()
    _, b = st_tree.query([ux.mean(), uy.mean()])
    bx, by = stations[b]
    spread = np.hypot(ux - ux.mean(), uy - uy.mean()).max() if len(ux) > 1 else 0
    mode = off["usual_mode"] if spread < 1500 else "vehicle"
    speed = SPEED[mode]
    start = day.astype("datetime64[s]") + np.timedelta64(
        int(rng.choice(SHIFT_STARTS_H)) * 3600 + int(late_s), "s"
    )
    end_s = SHIFT_HOURS * 3600.0
    # Route: base -> each unit twice (two rounds) -> base.
    order = np.r_[np.arange(len(mine)), np.arange(len(mine))]
    kx, ky, kt, dwell = [bx], [by], [rng.uniform(900, 1800)], []
    kx.append(bx)
    ky.append(by)
    kt.insert(0, 0.0)
    t = kt[-1]
    for i in order:
        travel = 1.3 * np.hypot(ux[i] - kx[-1], uy[i] - ky[-1]) / speed
        stay = rng.uniform(12, 18) * 60
        if t + travel + stay + 1800 > end_s:
            break
        t += travel
        kx.append(ux[i])
        ky.append(uy[i])
        kt.append(t)
        dwell.append((i, t, t + stay))
        t += stay
        kx.append(ux[i])
        ky.append(uy[i])
        kt.append(t)
        t += rng.uniform(5, 25) * 60  # between visits: other duties nearby
        kx.append(ux[i] + rng.normal(0, 300))
        ky.append(uy[i] + rng.normal(0, 300))
        kt.append(t)
    t_back = t + 1.3 * np.hypot(bx - kx[-1], by - ky[-1]) / speed
    kx += [bx, bx]
    ky += [by, by]
    kt += [min(t_back, end_s - 1), end_s]
    kt = np.maximum.accumulate(np.array(kt))
    ts = np.cumsum(rng.uniform(5, 30, int(end_s / 5) + 10))
    ts = ts[ts < end_s]
    x = np.interp(ts, kt, kx)
    y = np.interp(ts, kt, ky)
    for _, a, d in dwell:  # wander around the hot spot while there
        m = (ts >= a) & (ts <= d)
        ph = rng.uniform(0, 2 * np.pi)
        x[m] += 40 * np.sin(ts[m] / 120 + ph)
        y[m] += 40 * np.cos(ts[m] / 170 + ph)
    sp = np.r_[0, np.hypot(np.diff(x), np.diff(y)) / np.diff(ts)]
    sigma = 8.0 if mode == "foot" else 5.0
    x_obs = x + rng.normal(0, sigma, len(ts))
    y_obs = y + rng.normal(0, sigma, len(ts))
    # Gaps: signal loss or a flat battery for 1-10 minutes.
    keep = np.ones(len(ts), bool)
    for g in ts[rng.random(len(ts)) < 0.004]:
        keep &= ~((ts >= g) & (ts < g + rng.uniform(60, 600)))
    lon, lat = to_wgs84(x_obs[keep], y_obs[keep])
    when = start + (ts[keep] * 1000).astype("timedelta64[ms]")
    pings = pd.DataFrame(
        {
            "ts": when.astype("datetime64[ms]"),
            "officer_id": off["officer_id"],
            "device_id": off["device_id"],
            "lat": np.round(lat, 6),
            "lon": np.round(lon, 6),
            "accuracy_m": np.round(np.abs(rng.normal(0, sigma, keep.sum())) + 3, 1),
            "speed_mps": np.round(sp[keep], 2),
            "mode": mode,
        }
    )
    acts, visits = [], []
    slon, slat = to_wgs84(np.array([bx]), np.array([by]))

    def rec(sec, event, unit="", la=None, lo=None):
        acts.append(
            {
                "ts": str((start + np.timedelta64(int(sec), "s")).astype("datetime64[s]")),
                "officer_id": off["officer_id"],
                "device_id": off["device_id"],
                "event": event,
                "unit_id": unit,
                "lat": la,
                "lon": lo,
            }
        )

    rec(0, "login", la=round(float(slat[0]), 6), lo=round(float(slon[0]), 6))
    rec(60, "shift_start")
    for i, a, d in dwell:
        u = mine[i]
        ulon, ulat = to_wgs84(np.array([ux[i]]), np.array([uy[i]]))
        visits.append(
            (
                off["officer_id"],
                u,
                day,
                start + np.timedelta64(int(a), "s"),
                start + np.timedelta64(int(d), "s"),
            )
        )
        if rng.random() < 0.9:  # the geofence misses some visits
            rec(
                a + rng.uniform(0, 60),
                "hotspot_arrive",
                u,
                round(float(ulat[0]), 6),
                round(float(ulon[0]), 6),
            )
            rec(
                d + rng.uniform(0, 60),
                "hotspot_depart",
                u,
                round(float(ulat[0]), 6),
                round(float(ulon[0]), 6),
            )
        if rng.random() < 0.15:
            rec(rng.uniform(a, d), "stop_search", u)
    if rng.random() < 0.5:
        rec(rng.uniform(0, end_s), "incident_attend")
    rec(end_s - 60, "shift_end")
    rec(end_s, "logout")
    return pings, acts, visits


#: The shifts the simulated officers work (their starts are ``SHIFT_STARTS_H``).
SHIFT_PATTERN = "; ".join(
    f"{name} {h:02d}:00-{(h + SHIFT_HOURS) % 24:02d}:00"
    for name, h in zip(("late", "evening"), SHIFT_STARTS_H, strict=True)
)


def build_teams(
    seed: int,
    officers: pd.DataFrame,
    pois: pd.DataFrame,
    wards: pd.DataFrame,
    events_xy: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The force's neighbourhood teams and who is on them: the teams reference it delivers.

    One team per base station, ``ceil(officers / 2)`` of them (at least one): the
    police stations nearest the most events. Every ward whose representative
    point is nearer one base than the others is covered by that base's team, and
    officers are shared among the teams in proportion to the events of their
    wards (at least one each, largest remainder).

    Parameters
    ----------
    seed : int
    officers : pandas.DataFrame
        ``officer_id``.
    pois : pandas.DataFrame
        ``category``, ``name``, ``x``, ``y`` (police stations are the bases).
    wards : pandas.DataFrame
        ``ward_code`` and a representative point ``x``, ``y`` (BNG), the wards of
        the force area.
    events_xy : numpy.ndarray
        Event locations (BNG), to place the teams where the demand is.

    Returns
    -------
    (teams, roster) : tuple of pandas.DataFrame
        ``team_id``, ``team_name``, ``wards`` (ward codes, ``;``-separated),
        ``base_station``, ``base_easting``, ``base_northing``, ``shift_pattern``;
        and ``officer_id``, ``team_id``.
    """
    rng = component_rng(seed, "patrol teams")
    st = pois[pois["category"] == "police_station"].sort_values("name", kind="stable")
    st = st.reset_index(drop=True)
    sxy = st[["x", "y"]].to_numpy(float)
    n_teams = max(1, min(len(st), int(np.ceil(len(officers) / 2))))
    _, near = cKDTree(sxy).query(np.asarray(events_xy, float).reshape(-1, 2))
    demand = np.bincount(near, minlength=len(st))
    bases = st.iloc[np.argsort(-demand, kind="stable")[:n_teams]].reset_index(drop=True)
    bxy = bases[["x", "y"]].to_numpy(float)
    _, ward_team = cKDTree(bxy).query(wards[["x", "y"]].to_numpy(float))
    _, ev_team = cKDTree(bxy).query(np.asarray(events_xy, float).reshape(-1, 2))
    load = np.bincount(ev_team, minlength=n_teams).astype(float) + 1.0
    extra = len(officers) - n_teams
    share = extra * load / load.sum()
    size = 1 + np.floor(share).astype(int)
    for k in np.argsort(-(share - np.floor(share)), kind="stable")[: extra - (size - 1).sum()]:
        size[k] += 1
    team_ids = [f"NPT{i + 1:02d}" for i in range(n_teams)]
    teams = pd.DataFrame(
        {
            "team_id": team_ids,
            "team_name": [
                f"{n.removesuffix(' Police Station')} neighbourhood team" for n in bases["name"]
            ],
            "wards": [
                ";".join(sorted(wards["ward_code"].to_numpy()[ward_team == i]))
                for i in range(n_teams)
            ],
            "base_station": bases["name"].to_numpy(),
            "base_easting": bxy[:, 0].round(1),
            "base_northing": bxy[:, 1].round(1),
            "shift_pattern": SHIFT_PATTERN,
        }
    )
    order = rng.permutation(len(officers))
    roster = pd.DataFrame(
        {
            "officer_id": officers["officer_id"].to_numpy()[order],
            "team_id": np.repeat(team_ids, size),
        }
    ).sort_values("officer_id", kind="stable")
    return teams, roster.reset_index(drop=True)


def world_teams(seed: int, officers: pd.DataFrame, pois: pd.DataFrame, events: pd.DataFrame):
    """:func:`build_teams` for a world: the wards holding its events, from the boundaries."""
    from synthetic.soc import _wards, ward_of_points

    ex = events["x"].to_numpy(float) if "x" in events else events["easting"].to_numpy(float)
    ey = events["y"].to_numpy(float) if "y" in events else events["northing"].to_numpy(float)
    w = _wards()
    used = set(ward_of_points(w, ex, ey)) - {""}
    w = w[w["ward_code"].isin(used)].reset_index(drop=True)
    rp = w.geometry.representative_point()
    wards = pd.DataFrame({"ward_code": w["ward_code"], "x": rp.x, "y": rp.y})
    return build_teams(seed, officers, pois, wards, np.c_[ex, ey])

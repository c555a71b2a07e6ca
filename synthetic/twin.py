"""The day stepper of the simulated force: one day's deliveries answering a tasking.

``python -m synthetic.twin step --world DIR --day YYYY-MM-DD --tasking PATH``

reads the platform's published tasking export for the day (``tasking.parquet``,
or the export version folder holding it: exactly what an officer's app reads;
the simulator imports no platform code) and writes into the world's landing zone
that day's deliveries:

- ``patrol/gps/<day>/gps_pings.parquet`` and ``patrol/activity/<day>/activity.jsonl``:
  the officers on duty share the day's tasked (patrol-arm) hot spots and patrol
  them with seeded imperfection: late starts (0-40 min), missed visits (10 %),
  visits to the wrong spot (a neighbouring cell, 5 %), whole shifts without GPS
  (3 %: the app still records check-ins) and the static world's GPS gaps, noise
  and drive-bys of vehicle patrols;
- ``police/occurrences/<day>/occurrences_<day>.csv``: the day's crimes, each
  cell's expected count being its rate over the year before (the world's true
  events) times a Koper-style dose-response of the minutes the simulated officers
  actually spent there, ``1 - E * (1 - exp(-(d + r * d_prev) / TAU))`` (``r`` a
  residual deterrence of the previous day's dose), and neighbouring cells (H3
  ring 1) of a patrolled cell get ``DISPLACEMENT`` of the crimes prevented
  (displacement; a negative value would be diffusion of benefits).

Truth for the day (true visits, dose and expected counts per cell, the planted
parameters) is written to ``truth/twin/<day>/``; the platform never reads it.
The output depends only on the world, the day and the tasking (seeded from the
world seed and the day), so a sequence of taskings replays exactly.

- ``police/cad_incidents/<day>/`` and ``nhs/istv_assaults/<day>/``: the day's calls
  for service and A&E assault attendances, each cell's rate being that of its
  records linked to the world's true events over the year before, under the same
  dose-response and displacement as the crimes (templates drawn from the cell's
  delivered records, so an A&E location text geocodes as before). Their truth is
  beside the crimes': ``call_cells``, ``ae_cells`` and ``records`` (each record's
  true cell).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from functools import lru_cache
from pathlib import Path

import h3
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from synthetic.geography import to_bng, to_wgs84
from synthetic.patrol import SPEED, _shift  # noqa: F401  (SPEED documents the modes)

__all__ = ["PLANTED", "step", "stepped", "dose_multiplier", "occurrence_refs", "main"]

#: The planted dose-response: at most E fewer crimes, reached with minutes ~ TAU.
PLANTED = {
    "max_reduction": 0.4,
    "tau_minutes": 60.0,
    "residual": 0.3,
    "displacement": 0.15,
    "missed_visit": 0.10,
    "wrong_spot": 0.05,
    "no_gps_shift": 0.03,
    "late_start_max_minutes": 40.0,
}


def dose_multiplier(minutes, prev_minutes=0.0, p: dict = PLANTED):
    """Expected-crime multiplier for a cell given today's and yesterday's patrol minutes.

    >>> round(float(dose_multiplier(0.0)), 3), round(float(dose_multiplier(90.0)), 3)
    (1.0, 0.689)
    """
    d = np.asarray(minutes, float) + p["residual"] * np.asarray(prev_minutes, float)
    return 1.0 - p["max_reduction"] * (1.0 - np.exp(-d / p["tau_minutes"]))


def _read_tasking(path: Path, day: pd.Timestamp) -> pd.DataFrame:
    f = path / "tasking.parquet" if path.is_dir() else path
    t = pd.read_parquet(f)
    t = t[pd.to_datetime(t["date"]).dt.normalize() == day]
    if not len(t):
        raise SystemExit(f"{f} holds no tasking for {day.date()}")
    return t.reset_index(drop=True)


def _latest_csv(folder: Path) -> Path:
    files = sorted(folder.glob("*/*.csv"))
    if not files:
        raise SystemExit(f"no delivery under {folder}")
    return files[-1]


def _officers(params: dict) -> pd.DataFrame:
    n = int(params["scale"]["officers"])
    rng = np.random.default_rng([int(params["seed"]), 515])
    return pd.DataFrame(
        {
            "officer_id": [f"PC{4000 + i}" for i in range(n)],
            "device_id": [f"TVP-MDT-{i:05d}" for i in range(n)],
            "usual_mode": np.where(rng.random(n) < 0.6, "foot", "vehicle"),
        }
    )


def _templates(world: Path, res: int) -> pd.DataFrame:
    """Delivered occurrence rows of the last months, by H3 cell (offence and place text)."""
    root = world / "landing" / "police" / "occurrences"
    files = sorted(root.glob("*/*.csv"))[-6:]
    occ = pd.concat([pd.read_csv(f, dtype=str) for f in files], ignore_index=True)
    e = pd.to_numeric(occ["easting"], errors="coerce")
    n = pd.to_numeric(occ["northing"], errors="coerce")
    occ = occ[e.notna() & n.notna()].assign(easting=e, northing=n)
    lon, lat = to_wgs84(occ["easting"].to_numpy(), occ["northing"].to_numpy())
    occ["h3_cell"] = [h3.latlng_to_cell(a, b, res) for a, b in zip(lat, lon, strict=True)]
    return occ


def _teams(world: Path, officers: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Officers with their team, and the teams (base station), from the world's reference."""
    root = world / "landing" / "patrol"
    rosters = sorted((root / "team_officers").glob("*/team_officers.csv"))
    teams = sorted((root / "teams").glob("*/teams.csv"))
    if not rosters or not teams:
        return officers.assign(team_id=""), None
    roster = pd.read_csv(rosters[-1], dtype=str)
    out = officers.merge(roster, on="officer_id", how="left")
    out["team_id"] = out["team_id"].fillna("")
    return out, pd.read_csv(teams[-1], dtype={"team_id": str})


def _patrol(rng, day, tasking, officers, stations, res, teams=None):
    """GPS pings, activity and true visits of the day's officers following the tasking.

    With a teams reference and a ``team`` on every tasking row, each team's
    officers share their own team's spots and start from its base station;
    otherwise every officer on duty shares every tasked spot.
    """
    todo = tasking[tasking["arm"].eq("patrol") & tasking["tasked"].astype(bool)]
    todo = todo.sort_values("hotspot_id")
    cells = dict(zip(todo["hotspot_id"], todo["h3_cell"], strict=True))
    by_team = teams is not None and "team" in todo and todo["team"].notna().all()
    team_of = dict(zip(todo["hotspot_id"], todo["team"], strict=True)) if by_team else {}
    targets = []
    for hid in todo["hotspot_id"]:
        u = rng.random()
        if u < PLANTED["missed_visit"]:
            continue
        if u < PLANTED["missed_visit"] + PLANTED["wrong_spot"]:
            ring = sorted(h3.grid_ring(cells[hid], 1))
            wrong = ring[int(rng.integers(len(ring)))]
            cells[f"wrong:{wrong}"] = wrong
            team_of[f"wrong:{wrong}"] = team_of.get(hid, "")
            targets.append(f"wrong:{wrong}")
            continue
        targets.append(hid)
    ids = sorted(cells)
    latlng = np.array([h3.cell_to_latlng(cells[i]) for i in ids]).reshape(-1, 2)
    x, y = to_bng(latlng[:, 1], latlng[:, 0])
    units = pd.DataFrame({"centre_easting": x, "centre_northing": y}, index=ids)
    targets = np.array(targets, dtype=object)[rng.permutation(len(targets))]
    frames, acts, visits = [], [], []
    if by_team:
        groups = []
        for tid, base in zip(
            teams["team_id"],
            teams[["base_easting", "base_northing"]].to_numpy(float),
            strict=True,
        ):
            mine = np.array([t for t in targets if team_of.get(t) == tid], dtype=object)
            crew = officers[officers["team_id"] == tid]
            groups.append((mine, crew, base.reshape(1, 2)))
    else:
        groups = [(targets, officers, stations)]
    for spots, crew, bases in groups:
        st_tree = cKDTree(bases)
        n_off = len(crew)
        for k in range(n_off):
            mine = spots[k::n_off]
            if not len(mine):
                continue
            late = rng.uniform(0, PLANTED["late_start_max_minutes"] * 60)
            f, a, v = _shift(
                rng, np.datetime64(day.date()), crew.iloc[k], mine, units, bases, st_tree, late
            )
            if rng.random() < PLANTED["no_gps_shift"]:
                f = f.iloc[0:0]  # the device logged nothing; the app still has its check-ins
            frames.append(f)
            acts.extend(r for r in a if not str(r["unit_id"]).startswith("wrong:"))
            visits.extend(v)
    pings = (
        pd.concat(frames, ignore_index=True).sort_values(["ts", "officer_id"], kind="stable")
        if frames
        else pd.DataFrame()
    )
    acts.sort(key=lambda r: (r["ts"], r["officer_id"], r["event"]))
    vis = pd.DataFrame(visits, columns=["officer_id", "unit_id", "date", "arrive", "depart"])
    vis["minutes"] = (vis["depart"] - vis["arrive"]).dt.total_seconds() / 60
    vis["h3_cell"] = vis["unit_id"].map(cells)
    vis["wrong_spot"] = vis["unit_id"].astype(str).str.startswith("wrong:")
    return pings.reset_index(drop=True), acts, vis


def _expected(base: pd.Series, dose: dict, prev: dict) -> pd.DataFrame:
    """Per-cell expected count for the day under the planted dose-response and displacement.

    ``base`` is each cell's daily rate before any patrol (cell -> events per day).
    """
    cells = pd.DataFrame({"h3_cell": base.index, "base_rate": base.to_numpy(float)})
    cells["minutes"] = cells["h3_cell"].map(dose).fillna(0.0)
    cells["prev_minutes"] = cells["h3_cell"].map(prev).fillna(0.0)
    cells["multiplier"] = dose_multiplier(cells["minutes"], cells["prev_minutes"])
    prevented = (cells["base_rate"] * (1 - cells["multiplier"])).to_numpy()
    extra = {}
    for c, p in zip(cells["h3_cell"], prevented, strict=True):
        if p > 0:
            for nb in h3.grid_ring(c, 1):
                extra[nb] = extra.get(nb, 0.0) + PLANTED["displacement"] * p / 6.0
    cells["displaced_in"] = cells["h3_cell"].map(extra).fillna(0.0)
    cells["expected"] = cells["base_rate"] * cells["multiplier"] + cells["displaced_in"]
    return cells


def _crimes(rng, day, world, dose, prev, res, templates):
    """The day's occurrences and per-cell truth under the planted dose-response."""
    ev = pd.read_parquet(world / "truth" / "events.parquet", columns=["committed_at", "h3_cell"])
    ev = ev[(ev["committed_at"] < day) & (ev["committed_at"] >= day - pd.Timedelta(days=365))]
    cells = _expected(ev["h3_cell"].value_counts() / 365.0, dose, prev)
    cells["count"] = rng.poisson(cells["expected"].to_numpy())
    by_cell = _CellGroups(templates)
    rows = []
    hit = cells[cells["count"] > 0]
    for c, k in zip(hit["h3_cell"], hit["count"], strict=True):
        pool = by_cell.get(c)
        if pool is None or not len(pool):
            lat, lon = h3.cell_to_latlng(c)
            x, y = to_bng(np.array([lon]), np.array([lat]))
            pool = _Group(
                templates.iloc[[int(rng.integers(len(templates)))]].assign(
                    easting=float(x[0]), northing=float(y[0]), location_text=""
                )
            )
        for _ in range(int(k)):
            t = pool.row(int(rng.integers(len(pool))))
            at = day + pd.Timedelta(seconds=int(rng.integers(86_400)))
            rows.append(
                {
                    "committed_from": at,
                    "recorded_at": at + pd.Timedelta(minutes=int(rng.integers(20, 360))),
                    "offence_code": t["offence_code"],
                    "offence_description": t["offence_description"],
                    "easting": round(float(t["easting"]) + rng.normal(0, 15)),
                    "northing": round(float(t["northing"]) + rng.normal(0, 15)),
                    "location_text": t["location_text"],
                    "domestic_abuse_flag": t["domestic_abuse_flag"],
                    "h3_cell": c,
                }
            )
    occ = pd.DataFrame(rows)
    if len(occ):
        occ = occ.sort_values(["recorded_at", "h3_cell"], kind="stable").reset_index(drop=True)
        occ.insert(0, "occurrence_ref", occurrence_refs(day, len(occ)))
    return occ, cells


def occurrence_refs(day: pd.Timestamp, n: int) -> list[str]:
    """``n`` RMS occurrence references for ``day``: 12 digits, as the force's contract says.

    ``9``, the day as ``YYMMDD`` and a five-digit counter (the large world has
    more than a thousand crimes a day: a three-digit counter made 13-digit
    references, quarantined by the contract, and the day's load failed).

    >>> refs = occurrence_refs(pd.Timestamp("2026-01-01"), 1500)
    >>> refs[0], refs[-1], {len(r) for r in refs}
    ('926010100000', '926010101499', {12})
    """
    if n > 100_000:
        raise ValueError(f"{n} occurrences in a day: more than a 5-digit counter holds")
    return [f"9{day:%y%m%d}{i:05d}" for i in range(n)]


class _CellGroups:
    """A frame's rows by ``h3_cell``: the row positions of each cell, rows taken one at a time.

    ``get(cell)`` is the cell's group (None when the cell has no row) with the rows,
    in the same order, of ``df.groupby("h3_cell")``'s group, so a draw of the ``k``-th
    row (:meth:`_Group.row`) is the row ``group.iloc[k]`` was. Building a frame for
    each of the tens of thousands of cells took about 5 s of each large-world day,
    and taking a cell's group whole another 6 s; only the rows drawn are taken now.
    """

    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df
        self._rows = df.groupby("h3_cell").indices

    def get(self, cell):
        rows = self._rows.get(cell)
        return None if rows is None else _Group(self._df, rows)


class _Group:
    """Rows ``rows`` (positions) of ``df``; ``row(k)`` is the ``k``-th of them."""

    def __init__(self, df: pd.DataFrame, rows=None) -> None:
        self._df = df
        self._rows = np.arange(len(df)) if rows is None else rows

    def __len__(self) -> int:
        return len(self._rows)

    def row(self, k: int) -> pd.Series:
        return self._df.iloc[int(self._rows[k])]


@lru_cache(maxsize=4)
def _links_of(events: Path, records: Path, dataset: str, _stamp: tuple) -> pd.DataFrame:
    """``dataset``'s records with their true event's time and cell.

    Read once per process while the truth files are unchanged (``_stamp``: their
    modification times): every twin day asks for the same.
    """
    links = pd.read_parquet(records, filters=[("dataset", "=", dataset)])
    ev = pd.read_parquet(events, columns=["event_id", "committed_at", "h3_cell"])
    return links.merge(ev, on="event_id")


def _linked_base(world: Path, day: pd.Timestamp, dataset: str) -> tuple[pd.Series, pd.DataFrame]:
    """Daily rate per cell of a record stream over the year before ``day``, and its links.

    The stream's records are linked to the world's true events (``event_records``),
    so a call or an A&E attendance is placed in its event's cell.
    """
    events, records = world / "truth" / "events.parquet", world / "truth" / "event_records.parquet"
    stamp = tuple(p.stat().st_mtime_ns for p in (events, records))
    linked = _links_of(events, records, dataset, stamp)
    year = linked[
        (linked["committed_at"] < day) & (linked["committed_at"] >= day - pd.Timedelta(days=365))
    ]
    return year["h3_cell"].value_counts() / 365.0, linked[["record_id", "h3_cell"]]


def _delivered(world: Path, agency: str, dataset: str, months: int = 6) -> pd.DataFrame:
    """The stream's delivered rows of the static world's last ``months`` monthly folders."""
    root = world / "landing" / agency / dataset
    folders = sorted(p for p in root.iterdir() if p.is_dir() and len(p.name) == 7)[-months:]
    files = [f for d in folders for f in sorted(d.glob("*.csv"))]
    return pd.concat([pd.read_csv(f, dtype=str) for f in files], ignore_index=True)


def _draw(rng, cells: pd.DataFrame, pools: _CellGroups, fallback: pd.DataFrame):
    """Poisson counts per cell; for each record a template row of the cell (else any)."""
    cells["count"] = rng.poisson(cells["expected"].to_numpy())
    out = []
    hit = cells[cells["count"] > 0]
    everything = _Group(fallback)
    for c, k in zip(hit["h3_cell"], hit["count"], strict=True):
        pool = pools.get(c)
        if pool is None or not len(pool):
            pool = everything
        for _ in range(int(k)):
            out.append((c, pool.row(int(rng.integers(len(pool))))))
    return out


def _calls(rng, day, world, dose, prev, res):
    """The day's CAD calls for service and their per-cell truth (same dose-response)."""
    base, _ = _linked_base(world, day, "cad_incidents")
    cells = _expected(base, dose, prev)
    cad = _delivered(world, "police", "cad_incidents")
    e = pd.to_numeric(cad["easting"], errors="coerce")
    n = pd.to_numeric(cad["northing"], errors="coerce")
    cad = cad[e.notna() & n.notna()].assign(easting=e, northing=n)
    lon, lat = to_wgs84(cad["easting"].to_numpy(), cad["northing"].to_numpy())
    cad["h3_cell"] = [h3.latlng_to_cell(a, b, res) for a, b in zip(lat, lon, strict=True)]
    pools = _CellGroups(cad)
    rows = []
    for c, t in _draw(rng, cells, pools, cad):
        at = day + pd.Timedelta(seconds=int(rng.integers(86_400)))
        arrive = at + pd.Timedelta(minutes=int(rng.integers(5, 90)))
        rows.append(
            {
                "call_received_at": at,
                "call_source": t["call_source"],
                "opening_classification": t["opening_classification"],
                "grade": t["grade"],
                "easting": round(float(t["easting"]) + rng.normal(0, 15)),
                "northing": round(float(t["northing"]) + rng.normal(0, 15)),
                "location_text": t["location_text"],
                "first_arrival_at": arrive,
                "closed_at": arrive + pd.Timedelta(minutes=int(rng.integers(20, 300))),
                "closing_classification": t["closing_classification"],
                "linked_occurrence_ref": "",
                "h3_cell": c,
            }
        )
    calls = pd.DataFrame(rows)
    if len(calls):
        calls = calls.sort_values(["call_received_at", "h3_cell"], kind="stable")
        calls = calls.reset_index(drop=True)
        calls.insert(0, "incident_ref", [f"{day:%Y%m%d}-{i + 1:05d}" for i in range(len(calls))])
    return calls, cells


def _ae_assaults(rng, day, world, dose, prev):
    """The day's A&E assault attendances (ISTV) and their per-cell truth."""
    base, linked = _linked_base(world, day, "istv_assaults")
    cells = _expected(base, dose, prev)
    istv = _delivered(world, "nhs", "istv_assaults")
    istv = istv.merge(linked, left_on="attendance_ref", right_on="record_id", how="left")
    pools = _CellGroups(istv.dropna(subset=["h3_cell"]))
    rows = []
    for c, t in _draw(rng, cells, pools, istv):
        hour = day + pd.Timedelta(hours=int(rng.integers(24)))
        rows.append(
            {
                "site_code": t["site_code"],
                "period_start": f"{day.date()}",
                "period_end": f"{day.date()}",
                "arrival_dt": hour + pd.Timedelta(minutes=int(rng.integers(20, 240))),
                "assault_dt": hour,
                "assault_method_code": t["assault_method_code"],
                "assault_method_other": t["assault_method_other"]
                if isinstance(t["assault_method_other"], str)
                else "",
                "location_type_code": t["location_type_code"],
                "location_text": t["location_text"] if isinstance(t["location_text"], str) else "",
                "h3_cell": c,
            }
        )
    ae = pd.DataFrame(rows)
    if len(ae):
        ae = ae.sort_values(["arrival_dt", "h3_cell"], kind="stable").reset_index(drop=True)
        ae.insert(0, "attendance_ref", [f"EDT{day:%Y%m%d}{i:04d}" for i in range(len(ae))])
    return ae, cells


def stepped(world: Path, day: str) -> dict | None:
    """The summary of ``day`` if the world has already lived it, else None.

    A day happens once: its deliveries are in the landing zone and the platform
    has since learnt from them (its hot spots, briefings and live visit counts),
    so a tasking published again for that day would not be the one the officers
    were given. :func:`step` rewrites a day when asked; drivers such as
    ``make run`` ask this first and step only the days still ahead.
    """
    path = Path(world) / "truth" / "twin" / f"{pd.Timestamp(day).date()}" / "summary.json"
    return json.loads(path.read_text()) if path.exists() else None


def step(world: Path, day: str, tasking: Path) -> dict:
    """Write one day's deliveries and truth for ``tasking``; return a summary.

    The deliveries hold people (addresses in calls, officers' GPS), so every file
    and folder is created owner-only (``umask 077``), as the static world's are.
    """
    old = os.umask(0o077)
    try:
        return _step(world, day, tasking)
    finally:
        os.umask(old)


def _step(world: Path, day: str, tasking: Path) -> dict:
    world, tasking = Path(world), Path(tasking)
    d = pd.Timestamp(day).normalize()
    params = json.loads((world / "truth" / "world.json").read_text())["parameters"]
    seed = int(params["seed"])
    res = 9
    t = _read_tasking(tasking, d)
    pois = pd.read_csv(_latest_csv(world / "landing" / "places" / "pois"))
    st = pois[pois["category"] == "police_station"]
    stations = st[["easting", "northing"]].to_numpy(float)
    day_no = int((d - pd.Timestamp("1970-01-01")).days)
    officers, teams = _teams(world, _officers(params))
    pings, acts, vis = _patrol(
        np.random.default_rng([seed, day_no, 1]), d, t, officers, stations, res, teams
    )
    dose = vis.groupby("h3_cell")["minutes"].sum().to_dict() if len(vis) else {}
    prev_path = world / "truth" / "twin" / f"{(d - pd.Timedelta(days=1)).date()}" / "cells.parquet"
    prev = {}
    if prev_path.exists():
        pc = pd.read_parquet(prev_path)
        prev = dict(zip(pc["h3_cell"], pc["minutes"], strict=True))
    occ, cells = _crimes(
        np.random.default_rng([seed, day_no, 2]), d, world, dose, prev, res, _templates(world, res)
    )
    key = f"{d.date()}"
    land = world / "landing"
    (land / "patrol" / "gps" / key).mkdir(parents=True, exist_ok=True)
    pings.to_parquet(land / "patrol" / "gps" / key / "gps_pings.parquet", index=False)
    (land / "patrol" / "activity" / key).mkdir(parents=True, exist_ok=True)
    with (land / "patrol" / "activity" / key / "activity.jsonl").open("w") as fh:
        for i, r in enumerate(acts):
            fh.write(json.dumps({"activity_id": f"TW{key}-{i:05d}", **r}, sort_keys=True) + "\n")
    folder = land / "police" / "occurrences" / key
    folder.mkdir(parents=True, exist_ok=True)
    cols = [
        "occurrence_ref",
        "recorded_at",
        "committed_from",
        "committed_to",
        "offence_code",
        "offence_description",
        "easting",
        "northing",
        "location_text",
        "domestic_abuse_flag",
        "outcome",
    ]
    out = occ.assign(committed_to="", outcome="Under investigation") if len(occ) else occ
    if len(out):
        for c in ("recorded_at", "committed_from"):
            out[c] = out[c].dt.strftime("%Y-%m-%dT%H:%M:%S")
    pd.DataFrame(out, columns=cols).to_csv(folder / f"occurrences_{key}.csv", index=False)
    calls, call_cells = _calls(np.random.default_rng([seed, day_no, 3]), d, world, dose, prev, res)
    ae, ae_cells = _ae_assaults(np.random.default_rng([seed, day_no, 4]), d, world, dose, prev)
    _write_partner_days(land, key, calls, ae)
    truth = world / "truth" / "twin" / key
    truth.mkdir(parents=True, exist_ok=True)
    vis.to_parquet(truth / "visits.parquet", index=False)
    cells.to_parquet(truth / "cells.parquet", index=False)
    call_cells.to_parquet(truth / "call_cells.parquet", index=False)
    ae_cells.to_parquet(truth / "ae_cells.parquet", index=False)
    refs = [
        pd.DataFrame({"dataset": name, "record_id": df[ref], "h3_cell": df["h3_cell"]})
        for name, df, ref in (
            ("occurrences", occ, "occurrence_ref"),
            ("cad_incidents", calls, "incident_ref"),
            ("istv_assaults", ae, "attendance_ref"),
        )
        if len(df)
    ]
    records = pd.concat(refs, ignore_index=True) if refs else pd.DataFrame()
    records.to_parquet(truth / "records.parquet", index=False)
    treated = cells[cells["minutes"] > 0]
    summary = {
        "day": key,
        "tasking": str(tasking),
        "tasked_patrol": int((t["arm"].eq("patrol") & t["tasked"].astype(bool)).sum()),
        "pings": len(pings),
        "activity_records": len(acts),
        "true_visits": len(vis),
        "wrong_spot_visits": int(vis["wrong_spot"].sum()) if len(vis) else 0,
        "true_minutes": round(float(vis["minutes"].sum()), 1) if len(vis) else 0.0,
        "crimes": len(occ),
        "calls": len(calls),
        "ae_assaults": len(ae),
        "planted": PLANTED,
        "planted_multiplier_mean_treated": round(float(treated["multiplier"].mean()), 4)
        if len(treated)
        else None,
    }
    (truth / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    return summary


def _write_partner_days(land: Path, key: str, calls: pd.DataFrame, ae: pd.DataFrame) -> None:
    """The day's CAD delivery and one ISTV file per emergency department."""
    cad_cols = [
        "incident_ref",
        "call_received_at",
        "call_source",
        "opening_classification",
        "grade",
        "easting",
        "northing",
        "location_text",
        "first_arrival_at",
        "closed_at",
        "closing_classification",
        "linked_occurrence_ref",
    ]
    out = calls.copy()
    for c in ("call_received_at", "first_arrival_at", "closed_at"):
        if len(out):
            out[c] = out[c].dt.strftime("%Y-%m-%dT%H:%M:%S")
    folder = land / "police" / "cad_incidents" / key
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(out, columns=cad_cols).to_csv(folder / f"cad_incidents_{key}.csv", index=False)
    ae_cols = [
        "attendance_ref",
        "site_code",
        "period_start",
        "period_end",
        "arrival_dt",
        "assault_dt",
        "assault_method_code",
        "assault_method_other",
        "location_type_code",
        "location_text",
    ]
    folder = land / "nhs" / "istv_assaults" / key
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("istv_*.csv"):
        old.unlink()  # a re-stepped day rewrites its files exactly
    out = ae.copy()
    for c in ("arrival_dt", "assault_dt"):
        if len(out):
            out[c] = out[c].dt.strftime("%Y-%m-%dT%H:%M:%S")
    for site, g in out.groupby("site_code", sort=True) if len(out) else []:
        pd.DataFrame(g, columns=ae_cols).to_csv(folder / f"istv_{site}_{key}.csv", index=False)


def main(argv: list[str] | None = None) -> dict:
    """CLI: ``step --world DIR --day YYYY-MM-DD --tasking PATH``."""
    ap = argparse.ArgumentParser(
        prog="python -m synthetic.twin", description=__doc__.split("\n")[0]
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("step", help="write one day's deliveries answering a tasking")
    sp.add_argument("--world", required=True, type=Path)
    sp.add_argument("--day", required=True)
    sp.add_argument("--tasking", required=True, type=Path)
    a = ap.parse_args(argv)
    summary = step(a.world, a.day, a.tasking)
    print(json.dumps({k: v for k, v in summary.items() if k != "planted"}))
    return summary


if __name__ == "__main__":
    sys.exit(0 if main() else 1)

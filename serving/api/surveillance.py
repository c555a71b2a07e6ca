"""Lost-subject search for surveillance teams: places of interest around a point and time.

``GET /v1/surveillance/lost-subject`` with a point (``lat`` and ``lon``, or a
``postcode``, or a ``street`` optionally followed by ``, town``), a time ``at`` and a
``radius_m``: the relevant places around it, nearest first, each with why it is
relevant (SOC events and intelligence with their grading, cuckooing and
exploitation locations, known addresses of people linked to SOC events as
perpetrators, CHB sites, recent disruptions). The ``surveillance`` role only; an
``X-Purpose`` header is required; every call, whatever its outcome (parameter
errors included: parameters are validated here, not by FastAPI, so that they are
audited too), writes a row to the API's hash-chained audit log with the user, the
purpose, the query and the place ids returned.

No direct identifiers: addresses appear as a keyed ``place_id`` and the centre of
their H3 cell, people only as pseudonymous ``person_key`` (perpetrator side; victims
never listed). Reads the restricted export ``exports/restricted/lost_subject`` only.
"""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Header, Query, Request

from exports.format import read_manifest
from serving.api.audit import append_audit
from serving.api.auth import authenticate
from serving.api.problems import Problem

__all__ = ["router", "SURVEILLANCE_ROLES", "LOST_SUBJECT_SUBDIR", "MAX_RADIUS_M"]

#: Roles allowed the search (officers, analysts, safeguarding and admins never).
SURVEILLANCE_ROLES = ("surveillance",)
LOST_SUBJECT_SUBDIR = Path("restricted") / "lost_subject"
MAX_RADIUS_M = 2000
MAX_LOOKBACK_DAYS = 730

router = APIRouter(prefix="/v1/surveillance", tags=["surveillance (restricted)"])
_cache: dict[tuple[str, str], dict] = {}
_lock = threading.Lock()


def _load(folder: Path) -> dict:
    """The version ``latest`` points to: places of interest, locator and lawful bases."""
    try:
        name = os.readlink(folder / "latest")
        target = (folder / name).resolve(strict=True)
    except OSError as exc:
        raise FileNotFoundError(str(folder)) from exc
    key = (str(folder), name)
    with _lock:
        if key in _cache:
            return _cache[key]
    manifest = read_manifest(target)
    snap = {
        "version": manifest["version"],
        "pois": pd.read_parquet(target / "places_of_interest.parquet"),
        "locator": pd.read_parquet(target / "locator.parquet"),
        "lawful_bases": manifest.get("lawful_bases"),
    }
    with _lock:
        _cache.clear() if len(_cache) > 4 else None
        _cache[key] = snap
    return snap


def _number(name: str, text: str | None, lo: float, hi: float, default=None) -> float:
    if text is None or text == "":
        if default is None:
            raise ValueError(f"{name} is required")
        return default
    try:
        v = float(text)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number") from exc
    if not (lo <= v <= hi) or math.isnan(v):
        raise ValueError(f"{name} must be between {lo:g} and {hi:g}")
    return v


def _parse(q: dict) -> dict:
    """The search's parameters, checked; ``ValueError`` with a message otherwise."""
    given = [k for k in ("lat", "postcode", "street") if q.get(k)]
    if len(given) != 1 or (q.get("lat") is None) != (q.get("lon") is None):
        raise ValueError("give exactly one of lat and lon, postcode, or street")
    out = {}
    if q.get("lat") is not None:
        out["lat"] = _number("lat", q["lat"], 49.0, 61.0)
        out["lon"] = _number("lon", q["lon"], -9.0, 3.0)
    if not q.get("at"):
        raise ValueError("at is required (the time the subject was lost, ISO 8601)")
    try:
        out["at"] = pd.Timestamp(q["at"])
    except ValueError as exc:
        raise ValueError("at must be an ISO 8601 date or date-time") from exc
    if pd.isna(out["at"]):
        raise ValueError("at must be an ISO 8601 date or date-time")
    out["radius_m"] = _number("radius_m", q.get("radius_m"), 10, MAX_RADIUS_M, default=400.0)
    out["lookback_days"] = int(
        _number("lookback_days", q.get("lookback_days"), 1, MAX_LOOKBACK_DAYS, default=180.0)
    )
    return out


@router.get("/lost-subject")
def lost_subject(
    request: Request,
    at: Annotated[str | None, Query(description="when the subject was lost (ISO 8601)")] = None,
    lat: Annotated[str | None, Query(description="latitude (WGS84) of the point")] = None,
    lon: Annotated[str | None, Query(description="longitude (WGS84) of the point")] = None,
    postcode: Annotated[str | None, Query(description="a postcode instead of a point")] = None,
    street: Annotated[
        str | None, Query(description="a street or place name instead of a point ('name, town')")
    ] = None,
    radius_m: Annotated[
        str | None, Query(description=f"search radius in metres (10-{MAX_RADIUS_M}, 400)")
    ] = None,
    lookback_days: Annotated[
        str | None, Query(description="events in this many days before `at` (1-730, 180)")
    ] = None,
    x_purpose: Annotated[str | None, Header(description="why you search (audited)")] = None,
) -> dict:
    """Places of interest around where a subject was lost, nearest first, with reasons.

    Restricted to the surveillance role; every call is audited.
    """
    s = request.app.state.settings
    query = {
        k: v
        for k, v in {
            "at": at,
            "lat": lat,
            "lon": lon,
            "postcode": postcode,
            "street": street,
            "radius_m": radius_m,
            "lookback_days": lookback_days,
        }.items()
        if v is not None
    }
    row = {
        "user": None,
        "role": None,
        "purpose": x_purpose,
        "method": request.method,
        "path": request.url.path,
        "query": query,
        "request_id": request.state.request_id,
        "export_version": None,
        "record_ids": [],
        "row_ids": {},
    }
    try:
        p = authenticate(request)
    except Problem as exc:
        append_audit(s.audit_log, {**row, "outcome": exc.status})
        raise
    row |= {"user": p.user, "role": p.role}
    if p.role not in SURVEILLANCE_ROLES:
        append_audit(s.audit_log, {**row, "outcome": 403})
        raise Problem(403, f"role {p.role!r} may not search places for a lost subject")
    if not x_purpose or len(x_purpose.strip()) < 5:
        append_audit(s.audit_log, {**row, "outcome": 422})
        raise Problem(422, "X-Purpose header required: state the operation and why you search")
    try:
        params = _parse(query)
    except ValueError as exc:
        append_audit(s.audit_log, {**row, "outcome": 422, "detail": str(exc)})
        raise Problem(422, f"invalid request: {exc}") from exc
    try:
        snap = _load(s.exports_dir / LOST_SUBJECT_SUBDIR)
    except FileNotFoundError as exc:
        append_audit(s.audit_log, {**row, "outcome": 503})
        raise Problem(503, "no lost-subject export published (make run builds it)") from exc
    row["export_version"] = snap["version"]
    from vrdp.lost_subject import locate, search

    located_as = None
    if "lat" not in params:
        found = locate(snap["locator"], postcode=postcode, street=street)
        if found is None:
            append_audit(s.audit_log, {**row, "outcome": 404})
            raise Problem(404, f"{'postcode' if postcode else 'street'} not known to the locator")
        params["lat"], params["lon"], located_as = found
    hits = search(
        snap["pois"],
        params["lat"],
        params["lon"],
        at=params["at"],
        radius_m=params["radius_m"],
        lookback_days=params["lookback_days"],
    )
    places = hits.to_dict("records")
    ids = [r["place_id"] for r in places]
    append_audit(
        s.audit_log,
        {**row, "outcome": 200, "row_ids": {"places_of_interest.parquet": ids}},
    )
    return {
        "point": {"latitude": params["lat"], "longitude": params["lon"], "located_as": located_as},
        "at": params["at"].isoformat(),
        "radius_m": params["radius_m"],
        "lookback_days": params["lookback_days"],
        "places": places,
        "count": len(places),
        "note": (
            "nearest first; addresses are located to their H3 cell centre "
            "(location_precision_m); people only as pseudonymous keys, perpetrator side"
        ),
        "export_version": snap["version"],
        "lawful_bases": snap["lawful_bases"],
    }

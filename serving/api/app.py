"""The read API: FastAPI app factory and routes (``create_app``)."""

from __future__ import annotations

import hashlib
import logging
import random
import re
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import orjson
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from exports import geo
from exports.persons import (
    IDENTITIES_FILE,
    PERSON_EVENTS_FILE,
    PERSON_PLACES_FILE,
    PERSONS_FILE,
)
from exports.snapshot import NoExportError, Snapshot, SnapshotReader, allocation, serving_day
from serving.api.audit import append_audit, audit_person_failure
from serving.api.auth import Principal, authenticate, require
from serving.api.docs import install_docs
from serving.api.landing import IdempotencyConflict, digest_of, land_activity, land_gps
from serving.api.limits import QueryLimit
from serving.api.openapi import install_openapi
from serving.api.partners import router as partners_router
from serving.api.persons import ROW_ID_COLUMNS, NoPersonExportError, PersonStore
from serving.api.plausibility import activity_types, off_clock, outside_area
from serving.api.problems import Problem, install_problem_handlers, problem_response
from serving.api.settings import ApiSettings, api_settings
from serving.api.surveillance import router as surveillance_router

__all__ = ["create_app", "API_VERSION"]

API_VERSION = "1.0.0"
LONDON = ZoneInfo("Europe/London")
log = logging.getLogger("serving.api")

ALL_ROLES = ("officer", "analyst", "safeguarding", "admin")
PATROL_WRITERS = ("officer", "admin")
PERSON_ROLES = ("analyst", "safeguarding")
#: the analyst view's files (pseudonymised marts)
ANALYST_FILES = (PERSONS_FILE, PERSON_EVENTS_FILE, PERSON_PLACES_FILE)
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,80}$")

# strict: JSON true/false is not a coordinate (lax mode reads it as 1.0/0.0)
Lat = Annotated[float, Field(ge=-90, le=90, strict=True)]
Lon = Annotated[float, Field(ge=-180, le=180, strict=True)]


def _text_only(value):
    """Times are ISO 8601 text (lax mode would read a number as seconds since 1970)."""
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date-time string")
    return value


IsoTime = Annotated[datetime, BeforeValidator(_text_only)]


class Strict(BaseModel):
    """Unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid")


class Activity(Strict):
    """Something done during a visit."""

    ts: IsoTime
    event: str = Field(max_length=40, description="an activity type of the code list")
    lat: Lat | None = None
    lon: Lon | None = None

    @field_validator("event")
    @classmethod
    def _known(cls, v: str) -> str:
        codes = activity_types()
        if v not in codes:
            raise ValueError(f"unknown activity type {v!r}; the code list: {', '.join(codes)}")
        return v


class PatrolVisit(Strict):
    """A hot spot visit: start and end, mode, activities."""

    officer_id: str | None = Field(
        default=None,
        max_length=40,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="optional: the officer is the token's user; another id is refused (403)",
    )
    device_id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")
    hotspot_id: str = Field(min_length=1, max_length=64)
    unit_id: str | None = Field(default=None, max_length=40)
    visit_start: IsoTime
    visit_end: IsoTime
    mode: Literal["foot", "vehicle"]
    start_lat: Lat | None = None
    start_lon: Lon | None = None
    end_lat: Lat | None = None
    end_lon: Lon | None = None
    activities: list[Activity] = Field(default_factory=list)

    @model_validator(mode="after")
    def _order(self):
        if _naive_local(self.visit_end) < _naive_local(self.visit_start):
            raise ValueError("visit_end is before visit_start")
        if _naive_local(self.visit_end) - _naive_local(self.visit_start) > timedelta(hours=12):
            raise ValueError("a visit cannot last more than 12 hours")
        return self


class GpsPing(Strict):
    """One GPS fix."""

    ts: IsoTime
    lat: Lat
    lon: Lon
    accuracy_m: float | None = Field(default=None, ge=0, le=10_000, strict=True)
    speed_mps: float | None = Field(default=None, ge=0, le=100, strict=True)


class GpsBatch(Strict):
    """A batch of pings from one device."""

    officer_id: str | None = Field(
        default=None,
        max_length=40,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="optional: the officer is the token's user; another id is refused (403)",
    )
    device_id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")
    mode: Literal["foot", "vehicle"]
    pings: list[GpsPing] = Field(min_length=1)


class HotspotOut(BaseModel):
    """A tasked hot spot as officers' endpoints return it (no personal data)."""

    id: str
    h3_cell: str
    latitude: float
    longitude: float
    rank: int | None
    team: str | None
    arm: str | None
    date: str | None
    ward_name: str | None
    harm_days: float | None
    main_crime_types: str | None
    patrol_windows: object
    target_dosage_minutes: float | None
    geofence: dict | None
    place: str | None = None


class NearbyHotspotOut(HotspotOut):
    """A hot spot with its distance and bearing from the caller."""

    distance_m: float
    bearing_deg: float
    compass: Literal["N", "NE", "E", "SE", "S", "SW", "W", "NW"]


class NearbyOut(BaseModel):
    """``/v1/hotspots/nearby``: nearest first."""

    items: list[NearbyHotspotOut]
    count: int
    served_date: str
    today: str
    stale: bool
    stale_note: str | None = None
    export_version: str
    tasking_source: str
    note: str | None = None


def _naive_local(ts: datetime) -> datetime:
    """Local (Europe/London) wall time without zone, as the activity log stores it."""
    return ts.astimezone(LONDON).replace(tzinfo=None) if ts.tzinfo else ts


class BodyLimit:
    """ASGI middleware: 413 problem for bodies above the limit (declared or streamed)."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._reject(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._reject(scope, receive, send)

    async def _reject(self, scope, receive, send):
        request = Request(scope, receive)
        resp = problem_response(request, 413, f"request body larger than {self.limit} bytes")
        await resp(scope, receive, send)


class _TooLarge(Exception):
    pass


class RequestId:
    """ASGI middleware: the request id on ``request.state`` and the response.

    ``X-Request-ID`` is the caller's if well-formed, else a new one.

    Plain ASGI rather than ``@app.middleware("http")``: Starlette's
    ``BaseHTTPMiddleware`` costs a task and a memory stream per request.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                rid = value.decode("latin-1")
                break
        if not REQUEST_ID.match(rid):
            rid = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        header = (b"x-request-id", rid.encode())

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, send_with_id)


_NUMBER = re.compile(r"^-?[0-9]{1,10}(\.[0-9]{1,15})?$")
_INT = re.compile(r"^[0-9]{1,3}$")
NEARBY_PATH = "/v1/hotspots/nearby"


class NearbyFastPath:
    """ASGI middleware answering the well-formed, authorised ``GET /v1/hotspots/nearby``.

    Officers' apps call nearby far more than anything else, and FastAPI's
    per-request dependency and parameter machinery costs more than the lookup
    itself. This path handles only the plain case: a known bearer token, each
    of ``lat``, ``lon``, ``radius_m``, ``limit`` at most once as a plain decimal
    within range, and a snapshot already loaded. Anything else (a missing or
    bad token, an invalid or unusual value, no snapshot yet) falls through to
    the FastAPI route, which stays the reference implementation and the
    OpenAPI contract; a test checks both give identical answers.
    """

    def __init__(self, app, *, settings: ApiSettings, reader: SnapshotReader) -> None:
        self.app = app
        self.settings = settings
        self.max_radius = float(settings.max_radius_m)
        self.reader = reader
        self.tokens = {
            hashlib.sha256(t.encode()).digest(): who for t, who in settings.tokens.items()
        }

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == NEARBY_PATH and scope["method"] == "GET":
            body = self._answer(scope)
            if body is not None:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-length", str(len(body)).encode()),
                            (b"content-type", b"application/json"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def _answer(self, scope) -> bytes | None:
        token = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                if token is not None:
                    return None
                token = value
        if token is None or token[:7].lower() != b"bearer ":
            return None
        if self.tokens.get(hashlib.sha256(token[7:].strip()).digest()) is None:
            return None
        params: dict[str, str] = {}
        for part in scope["query_string"].decode("latin-1").split("&"):
            key, eq, value = part.partition("=")
            if key in ("lat", "lon", "radius_m", "limit"):
                if not eq or key in params:
                    return None
                params[key] = value
        lat, lon = params.get("lat"), params.get("lon")
        radius, limit = params.get("radius_m", "1000"), params.get("limit", "20")
        if lat is None or lon is None or not _INT.match(limit):
            return None
        if not (_NUMBER.match(lat) and _NUMBER.match(lon) and _NUMBER.match(radius)):
            return None
        la, lo, r, n = float(lat), float(lon), float(radius), int(limit)
        if not (-90 <= la <= 90 and -180 <= lo <= 180 and 0 < r <= self.max_radius):
            return None
        if not 1 <= n <= 100:
            return None
        try:
            snap = self.reader.cached()
        except NoExportError:
            return None
        if snap is None:
            return None
        day, served = _served(snap, self.settings)
        items = [i for i in snap.nearby(la, lo, r, n) if _on_day(i, day)]
        return _dumps({"items": items, "count": len(items), **served, **snap.meta})


class JSON(Response):
    """A JSON response encoded with orjson (NaN and infinities become null)."""

    media_type = "application/json"

    def render(self, content) -> bytes:
        return _dumps(content)


def _dumps(content) -> bytes:
    return orjson.dumps(content, default=str, option=orjson.OPT_SERIALIZE_NUMPY)


def _today(s: ApiSettings) -> str:
    return s.today or datetime.now(LONDON).date().isoformat()


def _no_tasking_note(snap: Snapshot, day: str, team: str | None = None) -> str:
    """Why an allocation is empty: no tasking that day, or none for the team that day."""
    teams = sorted({h.team for h in allocation(snap, None, day) if h.team is not None})
    if teams and team is not None:
        return (
            f"the served export ({snap.version}) tasks no hot spot to team {team!r} on {day}; "
            f"teams tasked that day: {', '.join(teams)}"
        )
    days = sorted({str(h.date)[:10] for h in snap.hotspots if h.date is not None})
    held = ", ".join(days[-3:]) if days else "none"
    return (
        f"the served export ({snap.version}) has no tasking for {day}; its tasking days: {held}"
        " (VRDP_API_TODAY serves another day)"
    )


def _team_for(p: Principal, team: str | None) -> str | None:
    if p.role == "officer":
        if team is not None and p.team is not None and team != p.team:
            raise Problem(403, f"officers may only read their own team's tasking ({p.team})")
        return team or p.team
    return team


def _meta(snap: Snapshot) -> dict:
    return snap.meta


def _served(snap: Snapshot, s: ApiSettings) -> tuple[str, dict]:
    """The day nearby, today and random all serve, and the same staleness fields."""
    today = _today(s)
    day, stale = serving_day(snap, today)
    out = {"served_date": day, "today": today, "stale": stale}
    if stale:
        out["stale_note"] = (
            f"the latest tasking is for {day}, older than today ({today}): ask your "
            "supervisor or analyst to publish today's tasking"
        )
    return day, out


def _on_day(item: dict, day: str) -> bool:
    return item.get("date") is None or str(item["date"])[:10] == day


def _with_distance(h, lat: float | None, lon: float | None) -> dict:
    d = h.public()
    if lat is not None and lon is not None:
        b = geo.bearing_deg(lat, lon, h.latitude, h.longitude)
        d["distance_m"] = round(geo.haversine_m(lat, lon, h.latitude, h.longitude), 1)
        d["bearing_deg"] = round(b, 1)
        d["compass"] = geo.compass(b)
    return d


async def _snapshot(request: Request) -> Snapshot:
    """The served export version; loading a new one runs off the event loop."""
    reader = request.app.state.reader
    try:
        return reader.cached() or await run_in_threadpool(reader.current)
    except NoExportError as exc:
        raise Problem(503, f"{exc}; run `make run` to publish one") from exc


Snap = Annotated[Snapshot, Depends(_snapshot)]
Writer = Annotated[Principal, Depends(require(*PATROL_WRITERS))]
Anyone = Annotated[Principal, Depends(require(*ALL_ROLES))]


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """Build the app; settings are read from the environment unless given."""
    s = settings or api_settings()
    if s.demo_tokens:
        log.warning("DEMO TOKENS ENABLED (VRDP_API_DEMO_TOKENS=1): never use outside a demo")
    if not s.tokens:
        log.warning("no API tokens configured (VRDP_API_TOKENS): every data call gets 401")
    app = FastAPI(
        title="vrdp read API",
        version=API_VERSION,
        description="Hot spots, taskings, briefings and patrol uploads for officers' apps. "
        "Reads published export snapshots only. Errors are RFC 9457 problem+json.",
        docs_url=None,  # served from vendored files by serving.api.docs
        redoc_url=None,
    )
    app.state.settings = s
    reader = SnapshotReader(s.exports_dir)
    app.state.reader = reader
    try:  # load the served version now, so the first requests find it in memory
        reader.current()
    except NoExportError:
        log.warning("no export published under %s yet", s.exports_dir)
    install_problem_handlers(app)
    app.state.audit_person_failure = audit_person_failure  # 422/404/405/500 on /v1/persons
    app.add_middleware(BodyLimit, limit=s.max_body_bytes)
    if s.fast_path:
        app.add_middleware(NearbyFastPath, settings=s, reader=reader)
    app.add_middleware(QueryLimit)
    app.add_middleware(RequestId)

    # Read endpoints are ``async def`` on purpose: they only touch the in-memory
    # snapshot, so running them on the event loop avoids a thread hop per call.
    @app.get("/v1/health", tags=["meta"])
    async def health() -> dict:
        """Liveness and whether an export is available (no authentication)."""
        try:
            snap = reader.current()
            return {"status": "ok", "export_version": snap.version}
        except NoExportError:
            return {"status": "degraded", "export_version": None}

    @app.get("/v1/version", tags=["meta"])
    async def version() -> dict:
        """API version and the export version being served (no authentication)."""
        try:
            snap = reader.current()
        except NoExportError:
            return {"api_version": API_VERSION, "export_version": None}
        return {
            "api_version": API_VERSION,
            "export_version": snap.version,
            "as_of": snap.manifest.get("as_of"),
            "generated_at": snap.manifest.get("generated_at"),
            **_meta(snap),
        }

    @app.get(
        "/v1/hotspots/nearby",
        tags=["officer"],
        response_class=JSON,
        responses={200: {"model": NearbyOut, "description": "Hot spots, nearest first"}},
    )
    async def nearby(
        _p: Anyone,
        snap: Snap,
        lat: Annotated[float, Query(ge=-90, le=90)],
        lon: Annotated[float, Query(ge=-180, le=180)],
        radius_m: Annotated[float, Query(gt=0)] = 1000,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> JSON:
        """Tasked hot spots within ``radius_m``, nearest first, with distance and bearing.

        The snapshot's precomputed per-cell candidate lists (H3) give the few hot
        spots that may be in range; only those get an exact distance.
        """
        if radius_m > s.max_radius_m:
            raise Problem(422, f"radius_m must be at most {s.max_radius_m}")
        day, served = _served(snap, s)
        items = [i for i in snap.nearby(lat, lon, radius_m, limit) if _on_day(i, day)]
        return JSON({"items": items, "count": len(items), **served, **snap.meta})

    @app.get("/v1/taskings/today", tags=["officer"])
    async def today(p: Anyone, snap: Snap, team: str | None = None) -> dict:
        """Today's allocation for a team (an officer's own team by default)."""
        team = _team_for(p, team)
        day, served = _served(snap, s)
        items = [h.public() for h in allocation(snap, team, day)]
        out = {
            "date": day,
            "team": team,
            "items": items,
            "count": len(items),
            **served,
            **_meta(snap),
        }
        if not items:
            out["note"] = _no_tasking_note(snap, day, team)
        return out

    @app.get("/v1/taskings/random", tags=["officer"])
    async def random_tasking(
        p: Anyone,
        request: Request,
        snap: Snap,
        team: str | None = None,
        lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
        lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
        nearest: Annotated[int, Query(ge=1, le=20)] = 3,
    ) -> dict:
        """A randomised hot spot of the team's tasking near the officer.

        With ``lat``/``lon``: one of the ``nearest`` tasked hot spots of the team,
        chosen at random; without: one of all of them. The choice is seeded by the
        request id and recorded (log and response), so it can be replayed.
        """
        if (lat is None) != (lon is None):
            raise Problem(422, "give both lat and lon, or neither")
        team = _team_for(p, team)
        day, served = _served(snap, s)
        pool = allocation(snap, team, day)
        if not pool:
            raise Problem(
                404, f"no tasked hot spots for team {team!r}: {_no_tasking_note(snap, day, team)}"
            )
        if lat is not None:
            pool = sorted(
                pool, key=lambda h: (geo.haversine_m(lat, lon, h.latitude, h.longitude), h.id)
            )[:nearest]
        rid = request.state.request_id
        seed = int.from_bytes(hashlib.sha256(rid.encode()).digest()[:8], "big")
        chosen = random.Random(seed).choice(pool)
        log.info(
            "random tasking request_id=%s user=%s team=%s export=%s day=%s pool=%s chosen=%s",
            rid, p.user, team, snap.version, day, [h.id for h in pool], chosen.id,
        )  # fmt: skip
        return {
            "request_id": rid,
            "seed": seed,
            "date": day,
            "team": team,
            "pool_size": len(pool),
            "candidates": [h.id for h in pool],
            "hotspot": _with_distance(chosen, lat, lon),
            "briefing_url": f"/v1/hotspots/{chosen.id}/briefing",
            **served,
            **_meta(snap),
        }

    @app.get("/v1/hotspots/{hotspot_id}/briefing", tags=["officer"])
    async def briefing(_p: Anyone, hotspot_id: str, snap: Snap) -> dict:
        """The briefing of one tasked hot spot."""
        h = snap.by_id.get(hotspot_id)
        b = snap.briefings.get(hotspot_id)
        if h is None or b is None:
            raise Problem(404, f"no briefing for hot spot {hotspot_id!r} in export {snap.version}")
        return {"hotspot": h.public(), "briefing": b, **_meta(snap)}

    def _key(idempotency_key: str | None) -> str:
        if not idempotency_key or not IDEMPOTENCY_KEY.match(idempotency_key):
            raise Problem(
                422, "Idempotency-Key header required: 8-80 characters of A-Z a-z 0-9 _ -"
            )
        return idempotency_key

    def _stored(landed, kind: str) -> dict:
        return {
            "kind": kind,
            "stored": str(landed.path.relative_to(s.landing_dir)),
            "rows": landed.rows,
            "duplicate": landed.duplicate,
        }

    def _officer(p: Principal, claimed: str | None, request: Request, kind: str) -> str:
        """The posting officer: the token's user; another id in the body is refused, audited."""
        if claimed is not None and claimed != p.user:
            append_audit(
                s.patrol_audit_log,
                {
                    "event": "patrol_post_refused",
                    "kind": kind,
                    "user": p.user,
                    "role": p.role,
                    "claimed_officer_id": claimed,
                    "path": request.url.path,
                    "request_id": getattr(request.state, "request_id", None),
                    "outcome": 403,
                },
            )
            raise Problem(
                403,
                f"officer_id {claimed!r} is not the token's user: a post is recorded as the "
                "officer who sends it (leave officer_id out)",
            )
        return p.user

    def _plausible(where: str, ts: datetime, lat=None, lon=None) -> None:
        """422 for a time more than a day from the server clock or a place far outside."""
        now = datetime.now(LONDON).replace(tzinfo=None)
        if off_clock(ts, now):
            raise Problem(
                422,
                f"{where} {ts.isoformat()} is more than a day from the server clock "
                f"({now.isoformat(timespec='seconds')}, Europe/London): check the device clock",
            )
        if lat is not None and lon is not None and bool(outside_area([lat], [lon])[0]):
            raise Problem(422, f"{where} position ({lat}, {lon}) is far outside the force area")

    @app.post("/v1/patrols/activity", status_code=201, tags=["officer"])
    def post_activity(
        _p: Writer,
        visit: PatrolVisit,
        request: Request,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> dict:
        """Record a hot spot visit as ``landing/patrol/activity/<date>/activity_<key>.jsonl``."""
        key = _key(idempotency_key)
        officer = _officer(_p, visit.officer_id, request, "activity")
        if len(visit.activities) > s.max_activities:
            raise Problem(413, f"at most {s.max_activities} activities per visit")
        now = datetime.now(LONDON).replace(tzinfo=None) + timedelta(minutes=5)
        start, end = _naive_local(visit.visit_start), _naive_local(visit.visit_end)
        if end > now:
            raise Problem(422, "visit_end is in the future")
        _plausible("visit_start", start, visit.start_lat, visit.start_lon)
        _plausible("visit_end", end, visit.end_lat, visit.end_lon)
        for i, a in enumerate(visit.activities):
            _plausible(f"activities.{i}", _naive_local(a.ts), a.lat, a.lon)
        unit = visit.unit_id or ""
        base = {"officer_id": officer, "device_id": visit.device_id, "unit_id": unit}
        base |= {"hotspot_id": visit.hotspot_id, "mode": visit.mode}
        events = [("hotspot_arrive", start, visit.start_lat, visit.start_lon)]
        for a in sorted(visit.activities, key=lambda a: _naive_local(a.ts)):
            ts = _naive_local(a.ts)
            if not start <= ts <= end:
                raise Problem(422, f"activity at {ts.isoformat()} is outside the visit")
            events.append((a.event, ts, a.lat, a.lon))
        events.append(("hotspot_depart", end, visit.end_lat, visit.end_lon))
        records = [
            {
                **base,
                "activity_id": f"API-{key}-{i:03d}",
                "event": ev,
                "ts": ts.isoformat(timespec="seconds"),
                "lat": la,
                "lon": lo,
            }
            for i, (ev, ts, la, lo) in enumerate(events)
        ]
        digest = digest_of({**visit.model_dump(mode="json"), "officer_id": officer})
        try:
            landed = land_activity(
                s.landing_dir, s.idempotency_dir, key, records, start.date().isoformat(), digest
            )
        except IdempotencyConflict as exc:
            raise Problem(409, f"Idempotency-Key {exc} was used with a different body") from exc
        return _stored(landed, "activity")

    @app.post("/v1/patrols/gps", status_code=201, tags=["officer"])
    def post_gps(
        _p: Writer,
        batch: GpsBatch,
        request: Request,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> dict:
        """Record GPS pings as ``landing/patrol/gps/<date>/gps_<key>.parquet``.

        Pings more than a day from the server clock, or far outside the force area,
        are refused (the whole batch, naming the first), so no landing folder is
        made for a day outside the tasking horizon.
        """
        key = _key(idempotency_key)
        officer = _officer(_p, batch.officer_id, request, "gps")
        if len(batch.pings) > s.max_gps_pings:
            raise Problem(413, f"at most {s.max_gps_pings} pings per batch, got {len(batch.pings)}")
        # Landed GPS files carry Europe/London wall time without a zone, as the
        # platform reads them (vrdp.dosage.localtime); zoned pings are converted.
        now = datetime.now(LONDON).replace(tzinfo=None) + timedelta(minutes=5)
        pings = []
        for i, g in enumerate(batch.pings):
            ts = _naive_local(g.ts)
            if ts > now:
                raise Problem(422, f"pings.{i}.ts is in the future")
            _plausible(f"pings.{i}", ts)
            pings.append(
                {
                    "ts": ts,
                    "officer_id": officer,
                    "device_id": batch.device_id,
                    "lat": g.lat,
                    "lon": g.lon,
                    "accuracy_m": g.accuracy_m,
                    "speed_mps": g.speed_mps,
                    "mode": batch.mode,
                }
            )
        far = outside_area([g.lat for g in batch.pings], [g.lon for g in batch.pings])
        if far.any():
            i = int(far.argmax())
            g = batch.pings[i]
            raise Problem(
                422,
                f"pings.{i} position ({g.lat}, {g.lon}) is far outside the force area "
                f"({int(far.sum())} of {len(far)} pings)",
            )
        day = min(p["ts"] for p in pings).date().isoformat()
        digest = digest_of({**batch.model_dump(mode="json"), "officer_id": officer})
        try:
            landed = land_gps(s.landing_dir, s.idempotency_dir, key, pings, day, digest)
        except IdempotencyConflict as exc:
            raise Problem(409, f"Idempotency-Key {exc} was used with a different body") from exc
        return _stored(landed, "gps")

    persons = PersonStore(s.exports_dir)
    app.state.persons = persons

    def _person_call(request: Request, purpose: str | None, query: dict) -> tuple:
        """Authenticate, check role and purpose; every outcome is audited.

        Returns the principal, the audit row so far and the view to read.
        """
        row = {
            "user": None,
            "role": None,
            "purpose": purpose,
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
        if p.role not in PERSON_ROLES:
            append_audit(s.audit_log, {**row, "outcome": 403})
            raise Problem(403, f"role {p.role!r} may not read person-level data")
        if not purpose or len(purpose.strip()) < 5:
            append_audit(s.audit_log, {**row, "outcome": 422})
            raise Problem(422, "X-Purpose header required: state why you need this record")
        view = "analyst" if p.role == "analyst" else "safeguarding"
        try:
            snap = persons.current(view)
        except NoPersonExportError as exc:
            append_audit(s.audit_log, {**row, "outcome": 503})
            raise Problem(503, f"{exc}; materialize exports/persons_{view}_export") from exc
        return p, row | {"export_version": snap.version}, view, snap

    def _row_ids(found: dict[str, list[dict]]) -> dict[str, list]:
        return {
            name: [r.get(ROW_ID_COLUMNS.get(name, "person_key")) for r in rows]
            for name, rows in found.items()
            if rows
        }

    @app.get("/v1/persons/{person_key}", tags=["person-level"], response_class=JSON)
    def person(
        person_key: str,
        request: Request,
        x_purpose: Annotated[str | None, Header()] = None,
    ) -> JSON:
        """One person, by role: analysts pseudonymised, safeguarding identified.

        Analysts read the pseudonymised export (the person, their events and
        places); safeguarding reads the restricted identities export. Every call,
        refused or not, writes an audit row (user, role, purpose, query, ids returned).
        """
        query = {"person_key": person_key, **dict(request.query_params)}
        _p, row, view, snap = _person_call(request, x_purpose, query)
        main = PERSONS_FILE if view == "analyst" else IDENTITIES_FILE
        names = ANALYST_FILES if view == "analyst" else (IDENTITIES_FILE,)
        found = {n: r for n in names if (r := snap.rows(n, person_key)) is not None}
        records = found.get(main) or []
        append_audit(
            s.audit_log,
            {
                **row,
                "outcome": 200 if records else 404,
                "record_ids": [person_key] if records else [],
                "row_ids": _row_ids(found) if records else {},
            },
        )
        if not records:
            raise Problem(404, f"person {person_key!r}: not in {view} export {snap.version}")
        body = {
            "person_key": person_key,
            "view": "pseudonymised" if view == "analyst" else "identified",
            "records": records,
            "export_version": snap.version,
            "lawful_bases": snap.lawful_bases,
        }
        if view == "analyst":
            body["events"] = found.get(PERSON_EVENTS_FILE)
            body["places"] = found.get(PERSON_PLACES_FILE)
        return JSON(body)

    @app.get("/v1/persons", tags=["person-level"], response_class=JSON)
    def person_search(
        request: Request,
        x_purpose: Annotated[str | None, Header()] = None,
        surname: Annotated[str | None, Query(max_length=80)] = None,
        forename: Annotated[str | None, Query(max_length=80)] = None,
        date_of_birth: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
        postcode: Annotated[str | None, Query(max_length=10)] = None,
        nhs_number: Annotated[str | None, Query(pattern=r"^\d{10}$")] = None,
        pnc_id: Annotated[str | None, Query(max_length=20)] = None,
    ) -> JSON:
        """Find people by identifiers (safeguarding only; audited like every person call).

        Give an NHS number or PNC id, or at least two of surname, forename, date of
        birth and postcode; at most 50 people are returned with their identity rows.
        """
        given = {
            k: v.strip()
            for k, v in {
                "surname": surname,
                "forename": forename,
                "date_of_birth": date_of_birth,
                "postcode": postcode,
                "nhs_number": nhs_number,
                "pnc_id": pnc_id,
            }.items()
            if v and v.strip()
        }
        p, row, view, snap = _person_call(request, x_purpose, given)
        if view != "safeguarding":
            append_audit(s.audit_log, {**row, "outcome": 403})
            raise Problem(403, f"role {p.role!r} may not search identities")
        strong = {"nhs_number", "pnc_id"} & set(given)
        if not strong and len(given) < 2:
            append_audit(s.audit_log, {**row, "outcome": 422})
            raise Problem(422, "give an NHS number or PNC id, or at least two identifiers")
        keys = snap.search(IDENTITIES_FILE, given)[:50]
        matches = [{"person_key": k, "records": snap.rows(IDENTITIES_FILE, k)} for k in keys]
        found = {IDENTITIES_FILE: [r for m in matches for r in m["records"]]}
        append_audit(
            s.audit_log,
            {**row, "outcome": 200, "record_ids": keys, "row_ids": _row_ids(found)},
        )
        return JSON(
            {
                "view": "identified",
                "matches": matches,
                "count": len(matches),
                "export_version": snap.version,
                "lawful_bases": snap.lawful_bases,
            }
        )

    from exports.map import STATIC_DIR, render_map

    app.mount("/map/static", StaticFiles(directory=STATIC_DIR), name="map-static")
    map_pages: dict[tuple, str] = {}

    @app.get("/map", response_class=HTMLResponse, tags=["map"])
    def map_page(snap: Snap, request: Request, ticket: str | None = None) -> HTMLResponse:
        """The offline Leaflet map (bearer token, or a short-lived ``ticket``)."""
        from exports.map import check_ticket

        if ticket is None or not check_ticket(app.state.map_secret, ticket):
            authenticate(request)
        key = (snap.version, str(snap.path), _today(s))
        html = map_pages.get(key)
        if html is None:  # rendered once per export version and day
            html = render_map(snap, s, day=key[2], static_prefix="/map/static")
            map_pages.clear()
            map_pages[key] = html
        return HTMLResponse(html)

    @app.post("/v1/map/ticket", tags=["map"])
    def map_ticket(p: Anyone) -> dict:
        """A 5-minute link to the map for browsers that cannot send a bearer header."""
        from exports.map import make_ticket

        t = make_ticket(app.state.map_secret, p.user)
        return {"url": f"/map?ticket={t}", "expires_in_s": 300}

    import secrets

    app.state.map_secret = secrets.token_bytes(32)
    install_openapi(app)
    install_docs(app)
    app.include_router(partners_router)
    app.include_router(surveillance_router)
    return app

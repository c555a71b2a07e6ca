"""Response models of the read API, with examples, for the OpenAPI document.

The routes build their answers as plain dicts from the in-memory snapshot (the
nearby fast path must not pay for pydantic); these models say what those dicts
hold, and ``serving.api.openapi`` attaches them to each route. The schemathesis
test (``tests/serving/test_api_schema.py``) checks live answers against them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ProblemOut",
    "ValidationErrorItem",
    "HealthOut",
    "VersionOut",
    "HotspotOut",
    "NearbyHotspotOut",
    "NearbyOut",
    "TaskingTodayOut",
    "RandomTaskingOut",
    "BriefingOut",
    "StoredOut",
    "PersonOut",
    "PersonSearchOut",
    "MapTicketOut",
]

H3_EXAMPLE = "89195da49b3ffff"
HOTSPOT_EXAMPLE = {
    "id": "HS-2025-12-02-001",
    "h3_cell": H3_EXAMPLE,
    "latitude": 51.7521,
    "longitude": -1.2578,
    "rank": 1,
    "team": "oxford-a",
    "arm": "patrol",
    "date": "2025-12-02",
    "ward_name": "Carfax & Jericho",
    "harm_days": 1234.5,
    "main_crime_types": "Violence and sexual offences; Robbery",
    "patrol_windows": [{"day_of_week": "Fri", "window_start": "22:00", "window_end": "02:00"}],
    "target_dosage_minutes": 15.0,
    "geofence": {
        "type": "Polygon",
        "coordinates": [[[-1.259, 51.751], [-1.256, 51.751], [-1.256, 51.753], [-1.259, 51.751]]],
    },
}
SERVED = {"export_version": "20251201T120000Z-3f2a9c1b", "tasking_source": "tasking"}


class _Out(BaseModel):
    """Answers may grow new fields; clients should ignore what they do not know."""

    model_config = ConfigDict(extra="allow")


class ValidationErrorItem(BaseModel):
    """One invalid input."""

    location: str = Field(description="where: `query.lat`, `body.pings.0.ts`, ...")
    message: str
    type: str


class ProblemOut(_Out):
    """RFC 9457 problem details (media type ``application/problem+json``)."""

    type: str = Field(description="a URI naming the kind of problem")
    title: str = Field(description="the HTTP status phrase")
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="what went wrong, in words a developer can act on")
    instance: str = Field(description="the request path")
    request_id: str | None = Field(None, description="the X-Request-ID of the request")
    errors: list[ValidationErrorItem] | None = Field(
        None, description="422 from validation only: every invalid input"
    )

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "type": "https://vrdp.example/problems/unauthorized",
                "title": "Unauthorized",
                "status": 401,
                "detail": "missing bearer token (Authorization: Bearer <token>)",
                "instance": "/v1/hotspots/nearby",
                "request_id": "5f0c4c0e2d0b4d0e9a8b7c6d5e4f3a2b",
            }
        },
    )


class HealthOut(_Out):
    """Liveness."""

    status: Literal["ok", "degraded"] = Field(description="`degraded`: no export published yet")
    export_version: str | None

    model_config = ConfigDict(
        extra="allow", json_schema_extra={"example": {"status": "ok", **SERVED}}
    )


class VersionOut(_Out):
    """API and served export versions."""

    api_version: str
    export_version: str | None
    as_of: str | None = Field(None, description="last month or day of data in the export")
    generated_at: str | None = Field(None, description="when the export was published (UTC)")
    tasking_source: str | None = Field(
        None, description="`tasking` (the patrol tasking export) or `hotspots` (the fallback)"
    )
    note: str | None = None

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "api_version": "1.0.0",
                "as_of": "2025-12",
                "generated_at": "2025-12-01T12:00:00Z",
                **SERVED,
            }
        },
    )


class HotspotOut(_Out):
    """A tasked hot spot as officers' endpoints return it (no personal data)."""

    id: str = Field(description="hot spot id, stable within an export")
    h3_cell: str = Field(description="H3 cell (resolution 9 by default)")
    latitude: float = Field(description="cell centre, WGS84")
    longitude: float = Field(description="cell centre, WGS84")
    rank: int | None = Field(description="1 = highest harm")
    team: str | None = Field(description="team tasked (null in the hot spot fallback)")
    arm: str | None = Field(
        description="trial arm: `patrol` (officers' endpoints never list control)"
    )
    date: str | None = Field(description="tasking day, YYYY-MM-DD (Europe/London)")
    ward_name: str | None
    harm_days: float | None = Field(description="Cambridge Crime Harm Index days in the window")
    main_crime_types: str | None = Field(description="the top crime types, `; `-separated")
    patrol_windows: Any = Field(description="when to patrol: hour-of-week windows, when known")
    target_dosage_minutes: float | None = Field(description="minutes to spend per visit (Koper)")
    geofence: dict[str, Any] | None = Field(description="GeoJSON Polygon of the cell, WGS84")

    model_config = ConfigDict(extra="allow", json_schema_extra={"example": HOTSPOT_EXAMPLE})


class NearbyHotspotOut(HotspotOut):
    """A hot spot with its distance and bearing from the caller."""

    distance_m: float = Field(ge=0, description="great-circle distance from the caller")
    bearing_deg: float = Field(ge=0, le=360, description="initial bearing, degrees from north")
    compass: Literal["N", "NE", "E", "SE", "S", "SW", "W", "NW"]

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                **HOTSPOT_EXAMPLE,
                "distance_m": 212.4,
                "bearing_deg": 41.0,
                "compass": "NE",
            }
        },
    )


class _Served(_Out):
    export_version: str = Field(description="the export version the answer comes from")
    tasking_source: str = Field(description="`tasking` or `hotspots` (fallback, see `note`)")
    note: str | None = Field(None, description="a caveat to show the user, when there is one")
    lawful_bases: dict | None = Field(
        None,
        description="lawful bases of the sources the export holds, from the lawful-basis "
        "register (governance/lawful_basis.yaml): register_version and, per source, owner, "
        "basis, condition and data-sharing agreement",
    )


class NearbyOut(_Served):
    """``/v1/hotspots/nearby``: nearest first."""

    items: list[NearbyHotspotOut]
    count: int = Field(ge=0)

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "items": [NearbyHotspotOut.model_config["json_schema_extra"]["example"]],
                "count": 1,
                **SERVED,
            }
        },
    )


class TaskingTodayOut(_Served):
    """A team's allocation for the day."""

    date: str = Field(description="the day served, YYYY-MM-DD")
    team: str | None
    items: list[HotspotOut]
    count: int = Field(ge=0)

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "date": "2025-12-02",
                "team": "oxford-a",
                "items": [HOTSPOT_EXAMPLE],
                "count": 1,
                **SERVED,
            }
        },
    )


class RandomTaskingOut(_Served):
    """One hot spot of the day's allocation, drawn with a recorded seed."""

    request_id: str
    seed: int = Field(description="the seed of the draw (from the request id)")
    date: str
    team: str | None
    pool_size: int = Field(ge=1, description="how many hot spots the draw was from")
    hotspot: HotspotOut = Field(
        description="with distance_m, bearing_deg, compass when lat/lon given"
    )
    briefing_url: str

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "request_id": "5f0c4c0e2d0b4d0e9a8b7c6d5e4f3a2b",
                "seed": 1234567890123,
                "date": "2025-12-02",
                "team": "oxford-a",
                "pool_size": 6,
                "hotspot": HOTSPOT_EXAMPLE,
                "briefing_url": "/v1/hotspots/HS-2025-12-02-001/briefing",
                **SERVED,
            }
        },
    )


class BriefingOut(_Served):
    """Why a hot spot is tasked: aggregates only, no personal data."""

    hotspot: HotspotOut
    briefing: dict[str, Any] = Field(
        description="`text` (plain English), `counts` (crime type x window), `harm`, "
        "`trend_class`, `risk_factors`, `peak_times`, `recent_pattern`, `community_context` "
        "(public reports of feeling unsafe here in 90 days: context, never crime; null if none)"
    )

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "hotspot": HOTSPOT_EXAMPLE,
                "briefing": {
                    "hotspot_id": "HS-2025-12-02-001",
                    "text": "12 violent crimes in the last 28 days, mostly Friday nights.",
                    "counts": {"Robbery": {"28d": 2, "91d": 5, "365d": 14}},
                    "harm": {"28d": 730.0, "91d": 1825.0, "365d": 5110.0},
                },
                **SERVED,
            }
        },
    )


class StoredOut(_Out):
    """Where an upload landed (a repeated Idempotency-Key returns the first landing)."""

    kind: Literal["activity", "gps"]
    stored: str = Field(description="path under the landing folder")
    rows: int = Field(ge=0)
    duplicate: bool = Field(description="true when this Idempotency-Key was already landed")

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "kind": "gps",
                "stored": "patrol/gps/2025-12-01/gps_app-7f3a-0001.parquet",
                "rows": 120,
                "duplicate": False,
            }
        },
    )


class PersonOut(_Out):
    """One person's rows in the analyst (pseudonymised) or safeguarding (identified) view."""

    person_key: str
    view: Literal["pseudonymised", "identified"]
    records: list[dict[str, Any]]
    export_version: str
    events: list[dict[str, Any]] | None = Field(None, description="analyst view only")
    places: list[dict[str, Any]] | None = Field(None, description="analyst view only")

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "person_key": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "view": "pseudonymised",
                "records": [{"agencies_known_to": "police|social_care", "agency_count": 2}],
                "events": [{"role": "victim", "source": "police_rms"}],
                "places": None,
                "export_version": "20251201T120000Z-3f2a9c1b",
            }
        },
    )


class PersonMatch(BaseModel):
    """One person found, with their identity rows."""

    person_key: str
    records: list[dict[str, Any]] | None


class PersonSearchOut(_Out):
    """People matching the identifiers given (at most 50)."""

    view: Literal["identified"]
    matches: list[PersonMatch]
    count: int = Field(ge=0)
    export_version: str

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "view": "identified",
                "matches": [{"person_key": "9f86d0...", "records": [{"surname": "Example"}]}],
                "count": 1,
                "export_version": "20251201T120000Z-3f2a9c1b",
            }
        },
    )


class MapTicketOut(_Out):
    """A short-lived map link."""

    url: str = Field(description="open in a browser within 5 minutes")
    expires_in_s: int

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {"url": "/map?ticket=pc.one.1733050000.ab12", "expires_in_s": 300}
        },
    )

"""The OpenAPI document: typed answers, problem+json errors, bearer auth, headers.

FastAPI derives paths and parameters from the routes; this module adds what it
cannot see. The routes return plain dicts (and authenticate inside a
dependency that reads the request), so the response models, the error statuses
each route can answer, which routes need a bearer token and the parameter
descriptions are declared here, in one table, and merged into the generated
document once. A route missing from the table still gets problem+json for 422
and 500, so a new endpoint is never documented worse than FastAPI's default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from serving.api import models as m
from serving.api.problems import PROBLEM_TYPE

__all__ = ["RouteDoc", "ROUTES", "PARAMETERS", "build_openapi", "install_openapi"]

BEARER = "bearerAuth"


@dataclass(frozen=True)
class RouteDoc:
    """What one route answers: its model, status, errors and whether a token is needed."""

    model: type[BaseModel] | None
    errors: tuple[int, ...]
    auth: bool = True
    status: int = 200
    media_type: str = "application/json"
    summary: str | None = None
    extra_security: tuple[dict, ...] = field(default=())


_READ = (401, 403, 422, 503)
_WRITE = (400, 401, 403, 409, 413, 422)
_PERSON = (401, 403, 404, 422, 503)

#: (method, path) -> what it answers. Every route also documents 414 and 500.
ROUTES: dict[tuple[str, str], RouteDoc] = {
    ("get", "/v1/health"): RouteDoc(m.HealthOut, (), auth=False),
    ("get", "/v1/version"): RouteDoc(m.VersionOut, (), auth=False),
    ("get", "/v1/hotspots/nearby"): RouteDoc(m.NearbyOut, _READ),
    ("get", "/v1/taskings/today"): RouteDoc(m.TaskingTodayOut, _READ),
    ("get", "/v1/taskings/random"): RouteDoc(m.RandomTaskingOut, (*_READ, 404)),
    ("get", "/v1/hotspots/{hotspot_id}/briefing"): RouteDoc(m.BriefingOut, (*_READ, 404)),
    ("post", "/v1/patrols/activity"): RouteDoc(m.StoredOut, _WRITE, status=201),
    ("post", "/v1/patrols/gps"): RouteDoc(m.StoredOut, _WRITE, status=201),
    ("get", "/v1/persons/{person_key}"): RouteDoc(m.PersonOut, _PERSON),
    ("get", "/v1/persons"): RouteDoc(m.PersonSearchOut, _PERSON),
    ("get", "/map"): RouteDoc(None, (401, 422, 503), media_type="text/html", extra_security=({},)),
    ("post", "/v1/map/ticket"): RouteDoc(m.MapTicketOut, (401, 403)),
}

#: parameter name -> description, for every route that has it
PARAMETERS: dict[str, str] = {
    "lat": "latitude of the caller, WGS84 decimal degrees",
    "lon": "longitude of the caller, WGS84 decimal degrees",
    "radius_m": "search radius in metres (at most the server's VRDP_API_MAX_RADIUS_M)",
    "limit": "at most this many hot spots, nearest first",
    "team": "team whose tasking to read; officers get their own team by default "
    "and may not read another's",
    "hotspot_id": "a hot spot id as returned by nearby, today or random",
    "person_key": "keyed pseudonym of a person (hex), as in the analyst marts",
    "surname": "surname, case-insensitive",
    "forename": "forename, case-insensitive",
    "date_of_birth": "date of birth, YYYY-MM-DD",
    "postcode": "postcode, case-insensitive",
    "nhs_number": "NHS number, 10 digits",
    "pnc_id": "Police National Computer id",
    "ticket": "a short-lived ticket from POST /v1/map/ticket, for browsers that cannot "
    "send a bearer header",
    "idempotency-key": "required on uploads: 8-80 characters of A-Z a-z 0-9 _ -. "
    "Repeating a key with the same body returns the first landing (`duplicate: true`); "
    "with a different body, 409",
    "x-purpose": "required for person-level reads: why you need this record (at least "
    "5 characters); written to the audit log",
}

#: parameter name -> (required, schema constraints) the route enforces in its body
#: (the routes read these headers as optional so that a missing one is audited)
CONSTRAINTS: dict[str, tuple[bool, dict]] = {
    "idempotency-key": (True, {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,80}$"}),
    "x-purpose": (True, {"type": "string", "pattern": "^\\s*\\S.{3,}\\S\\s*$"}),
}

_HEADERS = {
    "X-Request-ID": {
        "description": "the caller's X-Request-ID if well-formed, else a new one; "
        "quote it when reporting a problem",
        "schema": {"type": "string"},
    }
}
_DESCRIPTIONS = {
    400: "the body is not valid JSON",
    401: "missing, unknown or revoked bearer token",
    403: "the token's role may not do this",
    404: "not found in the served export",
    409: "Idempotency-Key already used with a different body",
    413: "request body or batch too large",
    414: "query string longer than the server accepts",
    422: "invalid parameters, headers or body (`errors` lists each)",
    500: "unexpected server error (logged with the request id)",
    503: "no export published yet (run `make run`)",
}


def _problem(status: int) -> dict:
    phrase = HTTPStatus(status).phrase
    example = {
        "type": f"https://vrdp.example/problems/{phrase.lower().replace(' ', '-')}",
        "title": phrase,
        "status": status,
        "detail": _DESCRIPTIONS.get(status, phrase),
        "instance": "/v1/...",
        "request_id": "5f0c4c0e2d0b4d0e9a8b7c6d5e4f3a2b",
    }
    out = {
        "description": _DESCRIPTIONS.get(status, phrase),
        "headers": dict(_HEADERS),
        "content": {
            PROBLEM_TYPE: {
                "schema": {"$ref": "#/components/schemas/ProblemOut"},
                "example": example,
            }
        },
    }
    if status == 401:
        out["headers"]["WWW-Authenticate"] = {
            "description": 'always `Bearer realm="vrdp"`',
            "schema": {"type": "string"},
        }
    return out


def _success(doc: RouteDoc) -> dict:
    if doc.model is None:
        schema, example = {"type": "string"}, None
    else:
        schema = {"$ref": f"#/components/schemas/{doc.model.__name__}"}
        example = (doc.model.model_config.get("json_schema_extra") or {}).get("example")
    content = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {
        "description": (doc.model.__doc__ or "OK").strip().splitlines()[0]
        if doc.model
        else "an HTML page",
        "headers": dict(_HEADERS),
        "content": {doc.media_type: content},
    }


def _schemas() -> dict:
    models = [r.model for r in ROUTES.values() if r.model is not None] + [m.ProblemOut]
    _, top = models_json_schema(
        [(model, "serialization") for model in dict.fromkeys(models)],
        ref_template="#/components/schemas/{model}",
    )
    return top.get("$defs", {})


def build_openapi(app: FastAPI) -> dict:
    """The app's OpenAPI document with the table above merged in."""
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    settings = getattr(app.state, "settings", None)
    max_radius = getattr(settings, "max_radius_m", None)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(_schemas())
    components["securitySchemes"] = {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "description": "a token from VRDP_API_TOKENS (VRDP_API_DEMO_TOKENS=1 adds a "
            "demo set); its role (officer, analyst, safeguarding, admin) decides what "
            "it may call",
        }
    }
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            route = ROUTES.get((method, path))
            for param in op.get("parameters", ()):
                name = param["name"].lower()
                text = PARAMETERS.get(name)
                if text and not param.get("description"):
                    param["description"] = text
                if name in CONSTRAINTS:
                    param["required"], param["schema"] = CONSTRAINTS[name]
                if name == "radius_m" and max_radius is not None:
                    param["schema"]["maximum"] = max_radius
            responses = {}
            if route is None:  # a route not in the table (a router's): FastAPI's success,
                # and the errors any authenticated, audited route of the API can give
                ok = {k: v for k, v in op.get("responses", {}).items() if k.startswith("2")}
                responses.update(ok)
                errors = (*_PERSON, 400, 409)
                op["security"] = [{BEARER: []}]
            else:
                responses[str(route.status)] = _success(route)
                errors = route.errors
                if route.auth:
                    op["security"] = [{BEARER: []}, *route.extra_security]
            for status in sorted({*errors, 414, 500}):
                responses[str(status)] = _problem(status)
            op["responses"] = responses
    return doc


def install_openapi(app: FastAPI) -> None:
    """Serve :func:`build_openapi` (built once, on first request) as ``/openapi.json``."""

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi

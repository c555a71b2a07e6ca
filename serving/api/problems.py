"""RFC 9457 problem details (``application/problem+json``) for every error."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "Problem",
    "problem_response",
    "install_problem_handlers",
    "PROBLEM_TYPE",
    "PERSON_PATH_PREFIX",
]

PROBLEM_TYPE = "application/problem+json"
log = logging.getLogger("serving.api")


class Problem(Exception):
    """Raise to answer with a problem document."""

    def __init__(self, status: int, detail: str, *, headers: dict | None = None, **extra):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem_response(
    request: Request, status: int, detail: str, headers: dict | None = None, **extra
) -> JSONResponse:
    """A problem+json response."""
    title = HTTPStatus(status).phrase
    body = {
        "type": f"https://vrdp.example/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    rid = getattr(request.state, "request_id", None)
    if rid:
        body["request_id"] = rid
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


#: paths of person-level calls: every request to them is audited, whatever its
#: outcome; the endpoints audit what they decide, the handlers below what never
#: reached them (parameter validation, unknown routes and methods, crashes)
PERSON_PATH_PREFIX = "/v1/persons"


def _audit_person_failure(request: Request, status: int, detail: str) -> None:
    """Audit a person-level request that failed before (or outside) its endpoint.

    The app installs the auditor as ``app.state.audit_person_failure``
    (:func:`serving.api.audit.audit_person_failure`); this module imports no
    audit or auth code, which import it.
    """
    if not request.url.path.startswith(PERSON_PATH_PREFIX):
        return
    auditor = getattr(request.app.state, "audit_person_failure", None)
    if auditor is not None:
        auditor(request, status, detail)


def install_problem_handlers(app: FastAPI) -> None:
    """Route HTTP, validation and unexpected errors through :func:`problem_response`."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(request, exc.status, exc.detail, exc.headers, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        _audit_person_failure(request, exc.status_code, detail)
        return problem_response(request, exc.status_code, detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = [
            {
                "location": ".".join(str(p) for p in e.get("loc", ())),
                "message": e.get("msg", ""),
                "type": e.get("type", ""),
            }
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"location": "?", "message": "invalid"}
        detail = f"invalid request: {first['location']}: {first['message']}"
        if len(errors) > 1:
            detail += f" (and {len(errors) - 1} more)"
        _audit_person_failure(request, 422, detail)
        return problem_response(request, 422, detail, errors=errors)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s", request.url.path)
        _audit_person_failure(request, 500, "internal error")
        return problem_response(request, 500, "internal error; see the server log")

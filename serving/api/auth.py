"""Bearer tokens with roles. Tokens are compared in constant time and never logged."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Request

from serving.api.problems import Problem

__all__ = ["Principal", "authenticate", "require"]


@dataclass(frozen=True)
class Principal:
    """Who is calling."""

    user: str
    role: str
    team: str | None


def authenticate(request: Request) -> Principal:
    """The caller of ``request`` or a 401 problem."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="vrdp"'}
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(
            401, "missing bearer token (Authorization: Bearer <token>)", headers=challenge
        )
    token = token.strip()
    found = None
    for known, who in request.app.state.settings.tokens.items():
        if hmac.compare_digest(known.encode(), token.encode()):
            found = who
    if found is None:
        raise Problem(401, "unknown or revoked bearer token", headers=challenge)
    p = Principal(found["user"], found["role"], found.get("team"))
    request.state.principal = p
    return p


def require(*roles: str):
    """A dependency accepting only ``roles`` (403 otherwise)."""

    async def dep(request: Request) -> Principal:  # async: no thread hop per call
        p = authenticate(request)
        if p.role not in roles:
            raise Problem(
                403,
                f"role {p.role!r} may not call this endpoint (allowed: {', '.join(roles)})",
            )
        return p

    dep.roles = roles  # for docs and tests
    return dep

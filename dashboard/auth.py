"""Who is looking: a bearer token (``?token=`` on the page URL) mapped to a role.

The same token table as the read API (``VRDP_API_TOKENS``, JSON
``{"<token>": {"user", "role", "team"}}``; ``VRDP_API_DEMO_TOKENS=1`` adds the demo
set), read here so the dashboard, beside ``serving`` in the layers, imports nothing
of it. Restricted panels are computed on the server only for allowed roles: an
officer's browser never receives their data.
"""

from __future__ import annotations

import hmac
import json
import os

__all__ = [
    "RESTRICTED_ROLES",
    "SUPERVISOR_ROLES",
    "DEMO_TOKENS",
    "role_of",
    "may_see_restricted",
    "may_see_officers",
]

#: Roles allowed to see restricted (person-derived) panels.
RESTRICTED_ROLES = ("safeguarding", "admin")
#: Roles that supervise patrols and may see the officer-level (pseudonymised) dosage
#: table: the API's roles that publish tasking (it has no separate supervisor role).
SUPERVISOR_ROLES = ("analyst", "admin")
#: DEMO ONLY (``VRDP_API_DEMO_TOKENS=1``): the API's demo tokens.
DEMO_TOKENS = {
    "demo-officer-token": {"user": "demo.officer", "role": "officer"},
    "demo-analyst-token": {"user": "demo.analyst", "role": "analyst"},
    "demo-safeguarding-token": {"user": "demo.safeguarding", "role": "safeguarding"},
    "demo-admin-token": {"user": "demo.admin", "role": "admin"},
}


def _tokens() -> dict[str, dict]:
    raw = os.environ.get("VRDP_API_TOKENS", "").strip()
    tokens = json.loads(raw) if raw else {}
    if os.environ.get("VRDP_API_DEMO_TOKENS") == "1":
        tokens = {**DEMO_TOKENS, **tokens}
    return tokens


def role_of(token: str | None) -> str | None:
    """The role of ``token`` (None for a missing or unknown token).

    >>> role_of(None), role_of("")
    (None, None)
    """
    if not token:
        return None
    found = None
    for known, who in _tokens().items():
        if hmac.compare_digest(known.encode(), token.encode()):
            found = who.get("role")
    return found


def may_see_restricted(role: str | None) -> bool:
    """Whether ``role`` may see restricted panels.

    >>> may_see_restricted("officer"), may_see_restricted("safeguarding")
    (False, True)
    """
    return role in RESTRICTED_ROLES


def may_see_officers(role: str | None) -> bool:
    """Whether ``role`` may see the supervisor's officer-level dosage table.

    >>> may_see_officers("officer"), may_see_officers("analyst"), may_see_officers(None)
    (False, True, False)
    """
    return role in SUPERVISOR_ROLES

"""Pseudonymous person keys: HMAC-SHA256 of a stable internal id with a secret.

The secret comes from ``VRDP_PSEUDONYM_SECRET``; ``make run`` sets the clearly
marked demo value :data:`DEMO_SECRET`. Without it, linkage fails with a message
that says what to set.
"""

from __future__ import annotations

import hashlib
import hmac
import os

__all__ = ["SECRET_ENV", "DEMO_SECRET", "MissingSecretError", "pseudonym_secret", "person_key"]

SECRET_ENV = "VRDP_PSEUDONYM_SECRET"
#: Only for the demo and tests; never for real data.
DEMO_SECRET = "demo-only-not-secret"


class MissingSecretError(RuntimeError):
    """The pseudonymisation secret is not set."""


def pseudonym_secret(environ=None) -> bytes:
    """The secret from the environment (read now, not at import).

    >>> pseudonym_secret({"VRDP_PSEUDONYM_SECRET": "s3cret"})
    b's3cret'
    """
    env = os.environ if environ is None else environ
    value = (env.get(SECRET_ENV) or "").strip()
    if not value:
        raise MissingSecretError(
            f"{SECRET_ENV} is not set: person keys are HMAC-SHA256 pseudonyms and need a "
            f"secret. Set it from your secret store (make run uses the demo value "
            f"{DEMO_SECRET!r}, which must never protect real data)."
        )
    return value.encode()


def person_key(internal_id: str, secret: bytes) -> str:
    """The pseudonymous key of a person: hex HMAC-SHA256 of their internal id.

    >>> person_key("P0000001", b"k")[:12]
    'afe7c7d428c3'
    """
    return hmac.new(secret, internal_id.encode(), hashlib.sha256).hexdigest()

"""Pseudonymous person keys: HMAC-SHA256 of a stable internal id with a secret.

The secret comes from ``VRDP_PSEUDONYM_SECRET``; ``make run`` sets the clearly
marked demo value :data:`DEMO_SECRET`. Without it, linkage fails with a message
that says what to set.
"""

from __future__ import annotations

import hashlib
import hmac
import os

__all__ = [
    "SECRET_ENV",
    "DEMO_SECRET",
    "MissingSecretError",
    "pseudonym_secret",
    "person_key",
    "person_links",
]

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


def person_links(ids, secret: bytes):
    """The linkage output: one row per record, sorted by ``record_uid``.

    Parameters
    ----------
    ids
        ``record_uid``, ``person_id`` (:func:`vrdp.linkage.stable_ids.assign_stable_ids`).
    secret
        The pseudonymisation secret (:func:`pseudonym_secret`).

    Returns
    -------
    pandas.DataFrame
        ``record_uid``, ``person_id``, ``person_key`` (:func:`person_key`) and
        ``person_records`` (records of the person, int32).

    >>> import pandas as pd
    >>> ids = pd.DataFrame({"record_uid": ["b", "a"], "person_id": ["P1", "P1"]})
    >>> person_links(ids, b"k")[["record_uid", "person_records"]].values.tolist()
    [['a', 2], ['b', 2]]
    """
    import pandas as pd

    sizes = ids.groupby("person_id")["record_uid"].transform("size")
    links = pd.DataFrame(
        {
            "record_uid": ids["record_uid"].astype(str),
            "person_id": ids["person_id"].astype(str),
            "person_key": ids["person_id"].map(lambda p: person_key(p, secret)).astype(str),
            "person_records": sizes.astype("int32"),
        }
    )
    return links.sort_values("record_uid", kind="mergesort").reset_index(drop=True)

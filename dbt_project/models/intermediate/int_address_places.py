"""Address places keyed by a keyed pseudonym (restricted: holds addresses).

One row per distinct normalised address of int_person_addresses. place_key is
the hex HMAC-SHA256 of the address text with VRDP_PSEUDONYM_SECRET (the
secret person keys use, in its own "address|" domain), so marts can name an
address place without holding the address. A Python model because the secret
must not appear in compiled SQL, which dbt writes to target/ and its logs.
"""

import hashlib
import hmac
import os

import pandas as pd

SECRET_ENV = "VRDP_PSEUDONYM_SECRET"


def address_place_key(address_text: str, secret: bytes) -> str:
    """Pseudonymous key of an address place."""
    digest = hmac.new(secret, ("address|" + address_text).encode(), hashlib.sha256)
    return digest.hexdigest()


def model(dbt, session):
    """Distinct addresses with their place_key."""
    dbt.config(materialized="table")
    secret = (os.environ.get(SECRET_ENV) or "").strip()
    if not secret:
        raise RuntimeError(
            f"{SECRET_ENV} is not set: address place keys are HMAC-SHA256 pseudonyms and "
            "need the same secret as person keys (make run sets a marked demo value)."
        )
    addresses = (
        dbt.ref("int_person_addresses")
        .aggregate(
            "address_text, any_value(address_line) as address_line, "
            "any_value(postcode) as postcode, count(*) as records",
            "address_text",
        )
        .df()
    )
    key = secret.encode()
    # typed even when there are no addresses yet (an empty list would become DOUBLE)
    addresses["place_key"] = pd.Series(
        [address_place_key(t, key) for t in addresses["address_text"]],
        index=addresses.index,
        dtype="string",
    )
    return addresses[["place_key", "address_text", "address_line", "postcode", "records"]]

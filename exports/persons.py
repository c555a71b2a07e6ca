"""Person-level exports: the analyst view and the safeguarding view, published apart.

The read API's person endpoints read these snapshots, never the live warehouse.

* **Analyst view** (``<exports>/persons_analyst/<version>/``): pseudonymised
  marts only: ``marts.dim_persons`` as ``persons.parquet`` and, when the
  warehouse has them, ``marts.bridge_person_events`` (``person_events.parquet``)
  and ``marts.bridge_person_places`` (``person_places.parquet``). A blocking
  check refuses to publish a version holding direct identifiers (personal
  column names or values) or key columns that are not keyed pseudonyms.
* **Safeguarding view** (``<exports>/restricted/persons_safeguarding/<version>/``):
  the restricted identity schema (``restricted.identity.person_identifiers``) as
  ``identities.parquet``; the ``restricted`` folder and its versions are
  readable by the owning account only (mode 0700).

Both are versioned by content, written atomically with a manifest and switched
with a ``latest`` link (:func:`exports.format.publish_export`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from exports.format import ExportFile

__all__ = [
    "ANALYST_SUBDIR",
    "SAFEGUARDING_SUBDIR",
    "ANALYST_TABLES",
    "SAFEGUARDING_TABLE",
    "PERSONS_FILE",
    "PERSON_EVENTS_FILE",
    "PERSON_PLACES_FILE",
    "IDENTITIES_FILE",
    "relation_exists",
    "read_analyst_view",
    "read_safeguarding_view",
    "analyst_export_files",
    "safeguarding_export_files",
    "analyst_view_findings",
    "as_of_label",
    "publish_analyst_view",
    "publish_safeguarding_view",
]

ANALYST_SUBDIR = Path("persons_analyst")
SAFEGUARDING_SUBDIR = Path("restricted") / "persons_safeguarding"
PERSONS_FILE = "persons.parquet"
PERSON_EVENTS_FILE = "person_events.parquet"
PERSON_PLACES_FILE = "person_places.parquet"
IDENTITIES_FILE = "identities.parquet"

#: file -> (relation, required); optional relations are exported when present
ANALYST_TABLES: dict[str, tuple[str, bool]] = {
    PERSONS_FILE: ("marts.dim_persons", True),
    PERSON_EVENTS_FILE: ("marts.bridge_person_events", False),
    PERSON_PLACES_FILE: ("marts.bridge_person_places", False),
}
#: in the owner-only restricted database, attached as ``restricted``
#: (:func:`vrdp.governance.permissions.attach_restricted`)
SAFEGUARDING_TABLE = "restricted.identity.person_identifiers"

#: keyed pseudonyms (HMAC / md5 hex digests), optionally tagged with their kind
#: (``address:<hmac>`` place keys of marts.dim_places)
_PSEUDONYM = re.compile(r"^(?:[a-z][a-z0-9_]{0,15}:)?[0-9a-f]{16,128}$")


def relation_exists(con, relation: str) -> bool:
    """Whether ``schema.table`` exists in the DuckDB connection ``con``."""
    parts = relation.split(".")
    schema, table = parts[-2], parts[-1]
    sql = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    args = [schema, table]
    if len(parts) == 3:  # catalog.schema.table: an attached database
        sql += " and table_catalog = ?"
        args.append(parts[0])
    row = con.execute(sql, args).fetchone()
    return bool(row and row[0])


def _read(con, relation: str) -> pd.DataFrame:
    # "order by all": identical warehouse content gives identical files (and version)
    return con.execute(f"select * from {relation} order by all").df()


def read_analyst_view(con) -> dict[str, pd.DataFrame]:
    """The analyst view's tables by export file name (optional ones when present).

    Raises
    ------
    LookupError
        When a required relation (``marts.dim_persons``) is missing.
    """
    out = {}
    for name, (relation, required) in ANALYST_TABLES.items():
        if relation_exists(con, relation):
            out[name] = _read(con, relation)
        elif required:
            raise LookupError(f"{relation} is missing: build the person marts first")
    return out


def read_safeguarding_view(con) -> pd.DataFrame:
    """``restricted.identity.person_identifiers``: direct identifiers by ``person_key``.

    ``con`` must have the restricted database attached.
    """
    if not relation_exists(con, SAFEGUARDING_TABLE):
        raise LookupError(f"{SAFEGUARDING_TABLE} is missing: build the identity schema first")
    return _read(con, SAFEGUARDING_TABLE)


def _parquet(df: pd.DataFrame, name: str) -> ExportFile:
    def write(path: Path) -> None:
        from vrdp.lake import write_parquet_atomic

        write_parquet_atomic(df, path)

    return ExportFile(name, len(df), write)


def analyst_export_files(tables: dict[str, pd.DataFrame]) -> list[ExportFile]:
    """One Parquet file per analyst table."""
    return [_parquet(df, name) for name, df in sorted(tables.items())]


def safeguarding_export_files(identities: pd.DataFrame) -> list[ExportFile]:
    """The identities file of the safeguarding view."""
    return [_parquet(identities, IDENTITIES_FILE)]


def analyst_view_findings(version_dir: str | Path) -> list[str]:
    """Blocking check of a staged analyst export: no direct identifiers.

    Every column name and every text value of every file goes through the
    platform's personal-data scan (boolean flags such as ``is_known_to_nhs``
    are exempt from the name rule: they cannot carry an identifier), except
    ``*_key`` columns, which must instead
    hold keyed pseudonyms only (lower-case hex digests): a name or NHS number
    in a key column is caught by that rule, and hex digests are not mistaken
    for NHS numbers by the value scan.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"person_key": ["ab" * 16], "surname": ["Smith"]}).to_parquet(d / "p.parquet")
    >>> analyst_view_findings(d)
    ["p.parquet: column 'surname' looks personal"]
    """
    from exports.pii import personal_data_findings

    found = []
    for path in sorted(Path(version_dir).glob("*.parquet")):
        df = pd.read_parquet(path)
        keys = [c for c in df.columns if str(c).endswith("_key")]
        for c in keys:
            bad = df[c].dropna().astype(str)
            bad = bad[~bad.str.match(_PSEUDONYM)]
            if len(bad):
                found.append(f"{path.name}.{c}: {len(bad)} value(s) are not keyed pseudonyms")
        # a true/false flag (``is_known_to_nhs``) cannot carry an identifier
        flags = tuple(str(c) for c in df.columns if pd.api.types.is_bool_dtype(df[c]))
        found += personal_data_findings(
            df.drop(columns=keys), table=path.name, allowed_columns=flags
        )
        found += personal_data_findings(pd.DataFrame(columns=keys), table=path.name)
    return found


def as_of_label(persons: pd.DataFrame) -> str:
    """Version prefix: the last day any person was seen (``empty`` without rows).

    >>> as_of_label(pd.DataFrame({"last_seen_on": pd.to_datetime(["2024-01-02", "2025-03-04"])}))
    '2025-03-04'
    """
    if persons.empty or "last_seen_on" not in persons or persons["last_seen_on"].isna().all():
        return "empty"
    return pd.Timestamp(persons["last_seen_on"].max()).strftime("%Y-%m-%d")


def publish_analyst_view(exports_dir: str | Path, tables: dict[str, pd.DataFrame], **kw):
    """Publish the analyst view under ``<exports>/persons_analyst`` (blocking PII check).

    Raises :class:`exports.format.ExportRejected` when the check finds direct
    identifiers; nothing is published then. ``kw`` goes to ``publish_export``.
    """
    from exports.format import publish_export

    return publish_export(
        Path(exports_dir) / ANALYST_SUBDIR,
        analyst_export_files(tables),
        as_of=as_of_label(tables[PERSONS_FILE]),
        parameters={"view": "analyst", "tables": sorted(tables)},
        check=analyst_view_findings,
        **kw,
    )


def publish_safeguarding_view(exports_dir: str | Path, identities: pd.DataFrame, **kw):
    """Publish the safeguarding view under ``<exports>/restricted/persons_safeguarding``.

    The ``restricted`` folder, the view's folder and every version are made
    readable by the owning account only (0700; files 0600).
    """
    import os

    from exports.format import publish_export
    from vrdp.governance.permissions import owner_only

    # created owner-only (umask 077); the chmods keep folders made by older runs closed
    with owner_only():
        restricted = Path(exports_dir) / SAFEGUARDING_SUBDIR.parts[0]
        restricted.mkdir(parents=True, exist_ok=True)
        os.chmod(restricted, 0o700)
        seen = identities.rename(columns={"seen_on": "last_seen_on"})
        return publish_export(
            Path(exports_dir) / SAFEGUARDING_SUBDIR,
            safeguarding_export_files(identities),
            as_of=as_of_label(seen),
            parameters={"view": "safeguarding", "relation": SAFEGUARDING_TABLE},
            restricted=True,
            **kw,
        )

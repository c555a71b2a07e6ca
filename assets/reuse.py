"""An asset's last output, reused when its inputs and its code are unchanged.

The slow models (the simulated world's risk terrain model: about 80 s) are
re-run whenever anything upstream of them is re-materialized, though often what
they actually read is the same: make run's twin days add three days of crimes,
which the model, built on whole months, leaves out. Such an asset computes a
digest of what it reads (the bytes of its input files, the source of the code
that computes it, its configuration) and passes it to
:func:`unchanged_output`: when the digest equals the one recorded with the
asset's last materialization and every output file is still there, the asset
reports that materialization's metadata again (``reused: true``) instead of
recomputing. The digest is also the materialization's data version, so the
Dagster UI shows what reads it as up to date.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import dagster as dg

__all__ = ["input_digest", "values_digest", "computed", "unchanged_output"]

#: the metadata entry holding the digest
DIGEST = "input_sha256"


def input_digest(files: Iterable[Path], *, code: Iterable[Path] = (), config: str = "") -> str:
    """sha256 over input files (folder, name and bytes), code files (bytes) and ``config``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     f = Path(tmp) / "a.parquet"
    ...     _ = f.write_bytes(b"1")
    ...     before = input_digest([f], config="seed=0")
    ...     _ = f.write_bytes(b"2")
    ...     before != input_digest([f], config="seed=0") != input_digest([f], config="seed=1")
    True
    """
    h = hashlib.sha256()
    for path in files:
        h.update(f"{Path(path).parent.name}/{Path(path).name}\0".encode())  # the delivery
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        h.update(b"\0")
    return _with_code_and_config(h, code, config)


def values_digest(values: Iterable, *, code: Iterable[Path] = (), config: str = "") -> str:
    """sha256 over in-memory inputs (arrays, strings, None), code files and ``config``.

    For an asset whose input files change while what it computes from them does
    not (the force family's backtest reads every month's events, but scores only
    whole months): the digest is taken over what it computes from, each value's
    type, dtype and shape included.

    >>> import numpy as np
    >>> a = values_digest([np.arange(3), None, ["x"]], config="k=1")
    >>> a == values_digest([np.arange(3), None, ["x"]], config="k=1")
    True
    >>> a != values_digest([np.arange(3.0), None, ["x"]], config="k=1")  # dtype
    True
    """
    import numpy as np

    h = hashlib.sha256()
    for value in values:
        if value is None:
            h.update(b"none\0")
            continue
        arr = np.asarray(value)
        if arr.dtype == object:  # strings (cells): their text, one per line
            h.update(f"object{arr.shape}\0".encode())
            h.update("\n".join(map(str, arr.ravel())).encode())
        else:
            h.update(f"{arr.dtype.str}{arr.shape}\0".encode())
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update(b"\0")
    return _with_code_and_config(h, code, config)


def _with_code_and_config(h, code: Iterable[Path], config: str) -> str:
    """The digest ``h`` completed with the code files (sorted, bytes) and ``config``."""
    for path in sorted(Path(p) for p in code):
        h.update(path.read_bytes() + b"\0")
    h.update(config.encode())
    return h.hexdigest()


def computed(digest: str) -> dict:
    """Metadata for an output computed now from ``digest`` (beside the asset's own)."""
    return {DIGEST: digest, "reused": False}


def unchanged_output(
    context: dg.AssetExecutionContext,
    key: dg.AssetKey,
    digest: str,
    outputs: Iterable[Path] = (),
) -> dg.MaterializeResult | None:
    """The last materialization's metadata again if it was made from ``digest``.

    None (compute) when the asset has no materialization, it was made from other
    inputs or code, or an output file is missing: those its metadata names
    (``path/<name>`` entries) and ``outputs``. Outputs that are tables are the
    caller's to check.
    """
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key), limit=1
    ).records
    if not records:
        return None
    last = records[0]
    metadata = dict(last.asset_materialization.metadata)
    recorded = metadata.get(DIGEST)
    if recorded is None or recorded.value != digest:
        return None
    paths = [v.value for k, v in metadata.items() if k.startswith("path/")] + list(outputs)
    if not all(Path(p).exists() for p in paths):
        return None
    made_by = metadata.get("reused_from_run")
    made_by = made_by.value if made_by is not None else last.run_id
    context.log.info(f"inputs and code unchanged since run {made_by}: its output is reused")
    metadata["reused"] = True
    metadata["reused_from_run"] = made_by
    return dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(digest))

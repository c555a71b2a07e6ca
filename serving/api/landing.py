"""Posted patrol data written as landing files the patrol sources already read.

``landing/patrol/activity/<YYYY-MM-DD>/activity_<key>.jsonl`` and
``landing/patrol/gps/<YYYY-MM-DD>/gps_<key>.parquet`` (date = shift/visit start).
Each file is written under a hidden temporary name in the same folder and
renamed into place, so the sensor never sees a partial file. An idempotency key
is claimed once (``<data>/api/idempotency/<kind>/<key>.json``, created with
``O_EXCL``): the same key with the same body is answered from the claim and
stored once; the same key with a different body is a conflict.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["Landed", "IdempotencyConflict", "land_activity", "land_gps"]


class IdempotencyConflict(Exception):
    """The key was used before with a different body."""


@dataclass(frozen=True)
class Landed:
    """Result of a landing call."""

    path: Path
    rows: int
    duplicate: bool


def _claim(claims: Path, kind: str, key: str, digest: str, target: Path, rows: int) -> dict | None:
    """Claim ``key``; return the earlier claim if it was already taken."""
    folder = claims / kind
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.json"
    body = json.dumps({"sha256": digest, "path": str(target), "rows": rows}).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return json.loads(path.read_text() or "{}")
    with os.fdopen(fd, "wb") as f:
        f.write(body)
        f.flush()
        os.fsync(f.fileno())
    return None


def _release(claims: Path, kind: str, key: str) -> None:
    (claims / kind / f"{key}.json").unlink(missing_ok=True)


def _atomic(target: Path, write) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".incoming-{target.name}.{os.getpid()}.tmp"
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _land(kind, claims, key, digest, target, rows, write) -> Landed:
    earlier = _claim(claims, kind, key, digest, target, rows)
    if earlier is not None:
        if earlier.get("sha256") != digest:
            raise IdempotencyConflict(key)
        return Landed(Path(earlier["path"]), int(earlier.get("rows", rows)), duplicate=True)
    try:
        _atomic(target, write)
    except BaseException:
        _release(claims, kind, key)
        raise
    return Landed(target, rows, duplicate=False)


def digest_of(payload: dict) -> str:
    """Content hash of a validated body (canonical JSON)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def land_activity(
    landing_dir: Path, claims: Path, key: str, records: list[dict], date: str, digest: str
) -> Landed:
    """Write activity records as one JSON-lines file."""
    target = landing_dir / "patrol" / "activity" / date / f"activity_{key}.jsonl"
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
    return _land(
        "activity", claims, key, digest, target, len(records), lambda p: p.write_text(text)
    )


def land_gps(
    landing_dir: Path, claims: Path, key: str, pings: list[dict], date: str, digest: str
) -> Landed:
    """Write GPS pings as one Parquet file with the ``patrol/gps`` columns and types."""
    target = landing_dir / "patrol" / "gps" / date / f"gps_{key}.parquet"
    cols = ["ts", "officer_id", "device_id", "lat", "lon", "accuracy_m", "speed_mps", "mode"]
    df = pd.DataFrame(pings, columns=cols)
    df["ts"] = pd.to_datetime(df["ts"]).astype("datetime64[ms]")
    df = df.astype({"lat": "float64", "lon": "float64", "accuracy_m": "float64"})
    df = df.astype({"speed_mps": "float64"})

    def write(p: Path) -> None:
        df.to_parquet(p, index=False)

    return _land("gps", claims, key, digest, target, len(df), write)

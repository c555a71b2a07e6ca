"""Legal holds: records the purge must keep, set and released by two different people.

A hold names a source, the record ids it covers and a reason. It is set by
one user and can be released only by a *different* user (four eyes: no one
can both hold and let go of evidence alone). Every set and release is a line
in an append-only, hash-chained log (``<data>/governance/legal_holds.jsonl``,
owner-only), which is also the audit of holds; the current holds are derived
from it, never stored apart.

>>> import tempfile
>>> log = Path(tempfile.mkdtemp()) / "holds.jsonl"
>>> h = set_hold(log, "nhs.safeguarding", ["R1"], "disclosure request 42", user="dpo.one")
>>> [x.record_ids for x in active_holds(log)]
[('R1',)]
>>> release_hold(log, h, user="dpo.one")
Traceback (most recent call last):
...
vrdp.governance.legal_hold.HoldError: hold ... was set by dpo.one: a different user must release it
>>> release_hold(log, h, user="legal.two"); active_holds(log)
[]
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from vrdp.governance.permissions import owner_only

__all__ = [
    "Hold",
    "HoldError",
    "set_hold",
    "release_hold",
    "active_holds",
    "held_ids",
    "verify_holds",
    "holds_path",
]

GENESIS = "0" * 64


class HoldError(ValueError):
    """A hold that cannot be set or released as asked."""


@dataclass(frozen=True)
class Hold:
    """One active legal hold."""

    hold_id: str
    source: str
    record_ids: tuple[str, ...]
    reason: str
    set_by: str
    set_at: str


def holds_path(data_root: Path) -> Path:
    """Where the hold log of a data root lives."""
    return Path(data_root) / "governance" / "legal_holds.jsonl"


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1] if path.exists() else []


def _append(path: Path, row: dict) -> None:
    with owner_only():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.lseek(fd, 0, os.SEEK_END)
        last = os.pread(fd, size, 0).split(b"\n")[:-1][-1:] if size else []
        prev = hashlib.sha256(last[0]).hexdigest() if last else GENESIS
        record = {"time": datetime.now(UTC).isoformat(), **row, "prev_sha256": prev}
        os.write(fd, (json.dumps(record, sort_keys=True) + "\n").encode())
        os.fsync(fd)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _state(path: Path) -> dict[str, dict]:
    holds: dict[str, dict] = {}
    for line in _lines(path):
        row = json.loads(line)
        if row["event"] == "set":
            holds[row["hold_id"]] = row
        elif row["event"] == "release":
            holds.pop(row["hold_id"], None)
    return holds


def set_hold(path: Path, source: str, record_ids: list[str], reason: str, *, user: str) -> str:
    """Set a hold on ``record_ids`` of ``source``; returns its id."""
    if not reason or len(reason.strip()) < 5:
        raise HoldError("a legal hold needs a reason (at least 5 characters)")
    if not user:
        raise HoldError("a legal hold needs the user who sets it")
    ids = sorted({str(r) for r in record_ids})
    if not ids:
        raise HoldError("a legal hold must cover at least one record")
    hold_id = uuid.uuid4().hex[:12]
    _append(
        Path(path),
        {
            "event": "set",
            "hold_id": hold_id,
            "source": source,
            "record_ids": ids,
            "reason": reason.strip(),
            "user": user,
        },
    )
    return hold_id


def release_hold(path: Path, hold_id: str, *, user: str, reason: str = "released") -> None:
    """Release a hold; only a user other than the one who set it may."""
    current = _state(Path(path)).get(hold_id)
    if current is None:
        raise HoldError(f"hold {hold_id} is not active")
    if user == current["user"]:
        raise HoldError(
            f"hold {hold_id} was set by {current['user']}: a different user must release it"
        )
    _append(Path(path), {"event": "release", "hold_id": hold_id, "user": user, "reason": reason})


def active_holds(path: Path) -> list[Hold]:
    """The holds in force now, oldest first."""
    return [
        Hold(h["hold_id"], h["source"], tuple(h["record_ids"]), h["reason"], h["user"], h["time"])
        for h in _state(Path(path)).values()
    ]


def held_ids(path: Path, source: str) -> set[str]:
    """Record ids of ``source`` under any active hold."""
    return {r for h in active_holds(path) if h.source == source for r in h.record_ids}


def verify_holds(path: Path) -> list[str]:
    """Breaks in the hold log's hash chain (empty when intact)."""
    problems, prev = [], GENESIS
    for n, line in enumerate(_lines(Path(path)), start=1):
        try:
            claimed = json.loads(line).get("prev_sha256")
        except ValueError:
            claimed = None
        if claimed != prev:
            problems.append(f"{Path(path).name} line {n}: hash chain broken before this line")
        prev = hashlib.sha256(line).hexdigest()
    return problems


def main(argv: list[str] | None = None) -> int:
    """``python -m vrdp.governance.legal_hold set|release|list|verify`` on the data root's log."""
    import argparse

    from config.settings import settings

    parser = argparse.ArgumentParser(prog="python -m vrdp.governance.legal_hold")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("set", help="hold records of a source (the purge keeps them)")
    s.add_argument("--source", required=True, help="<agency>.<dataset>, e.g. nhs.safeguarding")
    s.add_argument("--ids", required=True, nargs="+", help="record ids (the source's key)")
    s.add_argument("--reason", required=True)
    s.add_argument("--user", required=True)
    r = sub.add_parser("release", help="release a hold (not by the user who set it)")
    r.add_argument("hold_id")
    r.add_argument("--user", required=True)
    r.add_argument("--reason", default="released")
    sub.add_parser("list", help="active holds (counts of records, never their ids)")
    sub.add_parser("verify", help="check the hold log's hash chain")
    args = parser.parse_args(argv)
    log = holds_path(settings().data_root)
    try:
        if args.command == "set":
            print(set_hold(log, args.source, args.ids, args.reason, user=args.user))
        elif args.command == "release":
            release_hold(log, args.hold_id, user=args.user, reason=args.reason)
            print(f"released {args.hold_id}")
        elif args.command == "list":
            for h in active_holds(log):
                print(
                    f"{h.hold_id}  {h.source}  {len(h.record_ids)} record(s)  by {h.set_by}"
                    f"  {h.set_at}  {h.reason}"
                )
        else:
            problems = verify_holds(log)
            print("\n".join(problems) or f"{log}: hash chain intact")
            return 1 if problems else 0
    except HoldError as exc:
        print(f"error: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

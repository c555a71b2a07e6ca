"""Partnership endpoints for the safeguarding role: timelines, opportunities, reviews, cohorts.

Every call, allowed or refused, writes a row to the same hash-chained audit log
as the person endpoints (``serving.api.audit``): user, role, purpose, query,
export version and the ids returned. Officers, analysts and admins are refused
(403). A person's timeline shows victimisation and offending side by side and
never combines them into one score. Review decisions go to their own
hash-chained log and change nothing else (not the list, not the export).

Reads only the restricted exports (``exports/restricted/partnership`` and
``exports/restricted/cohorts``), never the warehouse.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Annotated, Literal

import pyarrow.parquet as pq
from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field

from exports.format import read_manifest
from serving.api.audit import append_audit, read_audit
from serving.api.auth import authenticate
from serving.api.problems import Problem

__all__ = ["router", "PARTNERSHIP_ROLES", "review_log_path"]

#: Roles allowed person-level partnership data (officers and analysts never).
PARTNERSHIP_ROLES = ("safeguarding",)
PARTNERSHIP_SUBDIR = Path("restricted") / "partnership"
COHORTS_SUBDIR = Path("restricted") / "cohorts"
SIDES = ("victimisation", "offending", "contact")

router = APIRouter(prefix="/v1/partners", tags=["partnership (restricted)"])
_cache: dict[tuple[str, str], dict] = {}
_lock = threading.Lock()


def review_log_path(settings) -> Path:
    """Append-only, hash-chained log of safeguarding review decisions."""
    return settings.data_root / "safeguarding" / "review" / "decisions.jsonl"


def _load(folder: Path) -> dict:
    """The files of the version ``latest`` points to (Arrow tables; JSON as text)."""
    try:
        name = os.readlink(folder / "latest")
        target = (folder / name).resolve(strict=True)
    except OSError as exc:
        raise FileNotFoundError(str(folder)) from exc
    key = (str(folder), name)
    with _lock:
        if key in _cache:
            return _cache[key]
    manifest = read_manifest(target)
    files = {}
    for f in manifest["files"]:
        p = target / f["name"]
        files[f["name"]] = pq.read_table(p) if p.suffix == ".parquet" else p.read_text()
    snap = {"version": manifest["version"], "files": files}
    with _lock:
        _cache.clear() if len(_cache) > 8 else None
        _cache[key] = snap
    return snap


def _call(request: Request, purpose: str | None, query: dict, subdir: Path):
    """Authenticate, check role and purpose, load the export; every refusal is audited."""
    s = request.app.state.settings
    row = {
        "user": None,
        "role": None,
        "purpose": purpose,
        "method": request.method,
        "path": request.url.path,
        "query": query,
        "request_id": request.state.request_id,
        "export_version": None,
        "record_ids": [],
        "row_ids": {},
    }
    try:
        p = authenticate(request)
    except Problem as exc:
        append_audit(s.audit_log, {**row, "outcome": exc.status})
        raise
    row |= {"user": p.user, "role": p.role}
    if p.role not in PARTNERSHIP_ROLES:
        append_audit(s.audit_log, {**row, "outcome": 403})
        raise Problem(403, f"role {p.role!r} may not read partnership person-level data")
    if not purpose or len(purpose.strip()) < 5:
        append_audit(s.audit_log, {**row, "outcome": 422})
        raise Problem(422, "X-Purpose header required: state why you need this record")
    try:
        snap = _load(s.exports_dir / subdir)
    except FileNotFoundError as exc:
        append_audit(s.audit_log, {**row, "outcome": 503})
        raise Problem(503, f"no restricted export published under {subdir}") from exc
    return p, row | {"export_version": snap["version"]}, snap


def _rows(table, column: str, value: str) -> list[dict]:
    import pyarrow.compute as pc

    return table.filter(pc.equal(table.column(column), value)).to_pylist()


@router.get("/persons/{person_key}/timeline")
def person_timeline(
    person_key: str, request: Request, x_purpose: Annotated[str | None, Header()] = None
) -> dict:
    """One person's history across agencies, victimisation and offending side by side.

    Each event: date, agency, event type, offence and harm, role, ward. No combined
    score: each side is listed and counted on its own.
    """
    s = request.app.state.settings
    _p, row, snap = _call(request, x_purpose, {"person_key": person_key}, PARTNERSHIP_SUBDIR)
    rows = _rows(snap["files"]["timeline.parquet"], "person_key", person_key)
    rows.sort(key=lambda r: (str(r["occurred_on"]), r["person_event_key"]))
    append_audit(
        s.audit_log,
        {
            **row,
            "outcome": 200 if rows else 404,
            "record_ids": [person_key] if rows else [],
            "row_ids": {"timeline.parquet": [r["person_event_key"] for r in rows]},
        },
    )
    if not rows:
        raise Problem(404, f"person {person_key!r}: no events in export {snap['version']}")
    keep = ("occurred_on", "agency", "event_type", "offence_code", "crime_type")
    keep += ("harm_weight_days", "role", "ward_code", "ward_name", "is_child_at_event")
    sides = {side: [{k: r[k] for k in keep} for r in rows if r["side"] == side] for side in SIDES}
    return {
        "person_key": person_key,
        **sides,
        "counts": {side: len(v) for side, v in sides.items()},
        "note": "victimisation and offending are shown side by side, never combined",
        "export_version": snap["version"],
    }


@router.get("/safeguarding/opportunities")
def opportunities(request: Request, x_purpose: Annotated[str | None, Header()] = None) -> dict:
    """People known to 2+ agencies with a recent event, each with its rules in words.

    The latest review decision of each person is shown beside the list; reviews
    never change the list.
    """
    s = request.app.state.settings
    _p, row, snap = _call(request, x_purpose, {}, PARTNERSHIP_SUBDIR)
    listed = snap["files"]["safeguarding_opportunities.parquet"].to_pylist()
    latest = {}
    for d in read_audit(review_log_path(s)):
        latest[d["person_key"]] = {k: d[k] for k in ("status", "reason", "user", "time")}
    items = [{**r, "review": latest.get(r["person_key"])} for r in listed]
    keys = [r["person_key"] for r in listed]
    append_audit(s.audit_log, {**row, "outcome": 200, "record_ids": keys})
    return {"items": items, "count": len(items), "export_version": snap["version"]}


@router.get("/safeguarding/rules")
def rules(request: Request, x_purpose: Annotated[str | None, Header()] = None) -> dict:
    """The versioned rules behind the list, in words."""
    import json

    s = request.app.state.settings
    _p, row, snap = _call(request, x_purpose, {}, PARTNERSHIP_SUBDIR)
    append_audit(s.audit_log, {**row, "outcome": 200})
    return {
        **json.loads(snap["files"]["safeguarding_rules.json"]),
        "export_version": snap["version"],
    }


class Review(BaseModel):
    """A reviewer's decision on a listed person (no_action needs a reason)."""

    status: Literal["seen", "action_taken", "no_action"]
    reason: str = Field("", max_length=2000)


@router.post("/safeguarding/opportunities/{person_key}/review", status_code=201)
def review(
    person_key: str,
    body: Review,
    request: Request,
    x_purpose: Annotated[str | None, Header()] = None,
) -> dict:
    """Record a review decision (seen, action taken, no action with a reason).

    The decision is appended to its own hash-chained log and audited; nothing else
    changes.
    """
    from vrdp.cohorts.safeguarding import validate_review

    s = request.app.state.settings
    query = {"person_key": person_key, "status": body.status}
    p, row, snap = _call(request, x_purpose, query, PARTNERSHIP_SUBDIR)
    listed = _rows(snap["files"]["safeguarding_opportunities.parquet"], "person_key", person_key)
    decision = {"person_key": person_key, "status": body.status, "reason": body.reason.strip()}
    problems = validate_review(decision)
    if problems:
        append_audit(s.audit_log, {**row, "outcome": 422, "record_ids": [person_key]})
        raise Problem(422, "; ".join(problems))
    if not listed:
        append_audit(s.audit_log, {**row, "outcome": 404, "record_ids": [person_key]})
        raise Problem(404, f"person {person_key!r} is not on the list of {snap['version']}")
    record = {**decision, "user": p.user, "role": p.role, "purpose": x_purpose}
    record["export_version"] = snap["version"]
    append_audit(review_log_path(s), record)
    append_audit(s.audit_log, {**row, "outcome": 201, "record_ids": [person_key]})
    return {"recorded": decision, "export_version": snap["version"]}


@router.get("/cohorts/{kind}")
def cohort(
    kind: Literal["victim", "perpetration"],
    request: Request,
    x_purpose: Annotated[str | None, Header()] = None,
) -> dict:
    """One early-intervention cohort (never both in one list) with its model card."""
    import json

    s = request.app.state.settings
    _p, row, snap = _call(request, x_purpose, {"kind": kind}, COHORTS_SUBDIR)
    items = snap["files"][f"{kind}_cohort.parquet"].to_pylist()
    keys = [r["person_key"] for r in items]
    append_audit(s.audit_log, {**row, "outcome": 200, "record_ids": keys})
    return {
        "kind": kind,
        "items": items,
        "count": len(items),
        "model_card": json.loads(snap["files"][f"{kind}_model_card.json"]),
        "note": "offers of support only; a human review is recorded before any action",
        "export_version": snap["version"],
    }

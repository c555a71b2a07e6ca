"""API settings from environment variables, read when :func:`api_settings` is called.

| variable | default | meaning |
|---|---|---|
| ``VRDP_API_TOKENS`` | (none) | JSON ``{"<token>": {"user": ..., "role": ..., "team": ...}}`` |
| ``VRDP_API_DEMO_TOKENS`` | ``0`` | ``1`` adds the DEMO token set (never in production) |
| ``VRDP_API_HOST`` / ``VRDP_API_PORT`` | ``127.0.0.1`` / ``8000`` | where ``make serve`` listens |
| ``VRDP_API_MAX_BODY_BYTES`` | ``1000000`` | larger request bodies get 413 |
| ``VRDP_API_MAX_GPS_PINGS`` | ``5000`` | pings per GPS batch (413 above) |
| ``VRDP_API_MAX_ACTIVITIES`` | ``200`` | activities per visit (413 above) |
| ``VRDP_API_MAX_RADIUS_M`` | ``5000`` | largest ``radius_m`` of ``/v1/hotspots/nearby`` |
| ``VRDP_API_TODAY`` | (today, Europe/London) | fixes "today" (tests, replays) |
| ``VRDP_API_ACCESS_LOG`` | ``1`` | ``0`` turns uvicorn's per-request access log off |
| ``VRDP_API_FAST_PATH`` | ``1`` | ``0`` sends nearby through FastAPI's route only (tests) |

Paths come from :func:`config.settings.settings` (``VRDP_DATA_ROOT``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from config.settings import settings

__all__ = ["ROLES", "DEMO_TOKENS", "ApiSettings", "api_settings"]

ROLES = ("officer", "analyst", "safeguarding", "admin", "surveillance")

#: DEMO ONLY. Enabled solely by VRDP_API_DEMO_TOKENS=1; never use outside a demo.
#: The demo officer is in NPT01, the first neighbourhood team of the simulated
#: world's ``patrol.teams`` delivery (the busiest station's: Reading in the medium
#: world), so the three-call flow finds its spots.
DEMO_TOKENS: dict[str, dict] = {
    "demo-officer-token": {"user": "demo.officer", "role": "officer", "team": "NPT01"},
    "demo-analyst-token": {"user": "demo.analyst", "role": "analyst", "team": None},
    "demo-safeguarding-token": {"user": "demo.safeguarding", "role": "safeguarding", "team": None},
    "demo-admin-token": {"user": "demo.admin", "role": "admin", "team": None},
    "demo-surveillance-token": {"user": "demo.surveillance", "role": "surveillance", "team": None},
}


@dataclass(frozen=True)
class ApiSettings:
    """Resolved API settings."""

    data_root: Path
    exports_dir: Path
    landing_dir: Path
    public_data: Path
    lake_dir: Path
    tokens: dict[str, dict]
    demo_tokens: bool
    host: str
    port: int
    max_body_bytes: int
    max_gps_pings: int
    max_activities: int
    max_radius_m: int
    today: str | None
    access_log: bool = True
    fast_path: bool = True

    @property
    def audit_log(self) -> Path:
        """Append-only JSON-lines audit of person-level calls."""
        return self.data_root / "audit" / "api_audit.jsonl"

    @property
    def patrol_audit_log(self) -> Path:
        """Append-only audit of refused patrol posts (another officer's id in the body)."""
        return self.data_root / "audit" / "patrol_audit.jsonl"

    @property
    def idempotency_dir(self) -> Path:
        """Claims of idempotency keys (outside the landing zone)."""
        return self.data_root / "api" / "idempotency"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r} is not an integer") from exc


def _tokens(raw: str) -> dict[str, dict]:
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:  # never echo the value: it holds secrets
        raise ValueError("VRDP_API_TOKENS is not valid JSON") from exc
    if not isinstance(data, dict):
        raise ValueError("VRDP_API_TOKENS must be a JSON object token -> {user, role, team}")
    out = {}
    for i, (token, who) in enumerate(data.items()):
        if not isinstance(who, dict) or who.get("role") not in ROLES or not who.get("user"):
            raise ValueError(f"VRDP_API_TOKENS entry #{i}: needs user and a role in {ROLES}")
        if len(token) < 16:
            raise ValueError(f"VRDP_API_TOKENS entry #{i} ({who['user']}): token too short")
        out[token] = {"user": str(who["user"]), "role": who["role"], "team": who.get("team")}
    return out


def api_settings() -> ApiSettings:
    """Read the environment now."""
    s = settings()
    demo = os.environ.get("VRDP_API_DEMO_TOKENS", "").strip() == "1"
    tokens = _tokens(os.environ.get("VRDP_API_TOKENS", ""))
    if demo:
        tokens = {**DEMO_TOKENS, **tokens}
    return ApiSettings(
        data_root=s.data_root,
        exports_dir=s.exports_dir,
        landing_dir=s.landing_dir,
        public_data=s.public_data,
        lake_dir=s.lake_dir,
        tokens=tokens,
        demo_tokens=demo,
        host=os.environ.get("VRDP_API_HOST", "").strip() or "127.0.0.1",
        port=_int("VRDP_API_PORT", 8000),
        max_body_bytes=_int("VRDP_API_MAX_BODY_BYTES", 1_000_000),
        max_gps_pings=_int("VRDP_API_MAX_GPS_PINGS", 5000),
        max_activities=_int("VRDP_API_MAX_ACTIVITIES", 200),
        max_radius_m=_int("VRDP_API_MAX_RADIUS_M", 5000),
        today=os.environ.get("VRDP_API_TODAY", "").strip() or None,
        access_log=os.environ.get("VRDP_API_ACCESS_LOG", "1").strip() != "0",
        fast_path=os.environ.get("VRDP_API_FAST_PATH", "1").strip() != "0",
    )

"""Working together across agencies: the needs pack export, safeguarding, cohorts (issue 17)."""

from __future__ import annotations

__all__ = ["partner_assets"]


def partner_assets() -> list:
    """Every asset of the partners domain (built lazily, no I/O)."""
    from assets.partners.cohorts import cohorts_export
    from assets.partners.needs_pack import needs_pack_export
    from assets.partners.partnership import partnership_export

    return [needs_pack_export, partnership_export, cohorts_export]

"""Serving: versioned exports for apps, BI tools and the read API (``serving.api``)."""

from __future__ import annotations

import dagster as dg

__all__ = ["defs"]


def defs() -> dg.Definitions:
    """Export assets."""
    from serving.assets import (
        hotspot_tasking_export,
        persons_analyst_export,
        persons_safeguarding_export,
    )

    return dg.Definitions(
        assets=[hotspot_tasking_export, persons_analyst_export, persons_safeguarding_export]
    )

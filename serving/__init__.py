"""Serving: versioned exports for apps and BI tools (and, later, the read API)."""

from __future__ import annotations

import dagster as dg

__all__ = ["defs"]


def defs() -> dg.Definitions:
    """Export assets."""
    from serving.assets import hotspot_tasking_export

    return dg.Definitions(assets=[hotspot_tasking_export])

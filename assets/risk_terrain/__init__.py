"""Risk terrain assets: the police.uk model (any force; Oxford demo), the simulated world's."""

from __future__ import annotations

__all__ = ["risk_terrain_assets"]


def risk_terrain_assets() -> list:
    """Every RTM asset (group ``risk_terrain``)."""
    from assets.risk_terrain.models import police_uk_risk_terrain, simulated_world_risk_terrain

    return [police_uk_risk_terrain, simulated_world_risk_terrain]

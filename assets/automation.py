"""How derived assets keep themselves up to date, and what "downstream" selects."""

from __future__ import annotations

import dagster as dg

__all__ = ["DOWNSTREAM_AUTOMATION", "DOWNSTREAM_SELECTION"]

#: Materialize when any dependency was updated, once the dependencies are not
#: still updating; never for missing partitions (there are none downstream).
DOWNSTREAM_AUTOMATION = dg.AutomationCondition.eager()

#: Everything that is not a source, a quarantine table or a boundary layer: what
#: the nightly schedule and make run's last step materialize.
DOWNSTREAM_SELECTION = (
    dg.AssetSelection.all()
    - dg.AssetSelection.groups("geography")
    - dg.AssetSelection.groups("sources", "quarantine")
    # the retention purge deletes data: only its own schedule (or a person) runs it
    - dg.AssetSelection.groups("retention")
)

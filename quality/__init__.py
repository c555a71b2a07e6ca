"""Data contracts (``quality/contracts``) and the asset checks that enforce them."""

from __future__ import annotations

import dagster as dg

__all__ = ["defs"]


def defs() -> dg.Definitions:
    """Asset checks on every batch a source delivers, and on analytic outputs."""
    from quality.checks.agencies import agency_source_checks
    from quality.checks.analytics import analytics_checks
    from quality.checks.police_uk import police_uk_street_checks
    from quality.checks.stop_search import police_uk_stop_search_checks

    return dg.Definitions(
        asset_checks=[
            *police_uk_street_checks(),
            *police_uk_stop_search_checks(),
            *agency_source_checks(),
            *analytics_checks(),
        ]
    )

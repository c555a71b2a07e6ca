"""The dashboard's views. Each view module defines ``VIEW``; list it here to add it.

A view is a :class:`~dashboard.views.base.View`: an id (the URL path ``/<id>``), a
title for the menu,
``layout(data, ward, role)`` returning Dash components for a chosen ward and role,
and whether it needs a ward. The app draws the ward picker and the menu and calls
the chosen view's layout on the server, so restricted parts never leave it for a
role that may not see them.
"""

from __future__ import annotations

from dashboard.views.base import View

__all__ = ["View", "VIEWS"]


def _views() -> list[View]:
    from dashboard.views.needs import VIEW as NEEDS
    from dashboard.views.patrol import VIEW as PATROL
    from dashboard.views.serious_violence import VIEW as SERIOUS_VIOLENCE
    from dashboard.views.soc_ward import VIEW as SOC_WARD

    return [SOC_WARD, NEEDS, PATROL, SERIOUS_VIOLENCE]


#: Every view, in menu order (the first is the home page).
VIEWS: list[View] = _views()

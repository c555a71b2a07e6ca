"""What a dashboard view is (kept apart from the registry so views do not import it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["View"]


@dataclass(frozen=True)
class View:
    """One page of the dashboard."""

    id: str
    title: str
    layout: Callable  # (DashboardData, ward_code | None, role | None) -> component
    needs_ward: bool = True
    #: the view's own choices come from the page URL: ``layout`` is then also given
    #: ``query=`` (the query string's parameters, first value each)
    takes_query: bool = False

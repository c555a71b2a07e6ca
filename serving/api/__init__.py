"""The read API (issue 9): ``python -m serving.api`` or ``make serve``."""

from __future__ import annotations

__all__ = ["create_app"]


def create_app(*args, **kwargs):
    """Build the FastAPI app (see :mod:`serving.api.app`)."""
    from serving.api.app import create_app as _create

    return _create(*args, **kwargs)

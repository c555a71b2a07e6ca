"""Fixtures of the serving tests. Their helpers live in ``api_server.py``: test
modules import them by that unique name, since ``conftest`` is ambiguous when
several test folders have one."""

from api_server import server, start_server  # noqa: F401  (pytest fixtures)

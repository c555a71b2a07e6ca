"""``python -m serving.api``: serve the read API with uvicorn (VRDP_API_HOST/PORT).

One worker process on uvloop with the httptools parser; the read endpoints run
on the event loop (no thread hop). ``VRDP_API_ACCESS_LOG=0`` drops the
per-request access log line (the load benchmark runs that way).
"""

from __future__ import annotations

import logging

import uvicorn

from serving.api.app import create_app
from serving.api.limits import ProblemHttpToolsProtocol
from serving.api.settings import api_settings


def main() -> None:
    """Start uvicorn on the configured host and port."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    s = api_settings()
    uvicorn.run(
        create_app(s),
        host=s.host,
        port=s.port,
        loop="uvloop",
        http=ProblemHttpToolsProtocol,  # httptools, with problem+json for refused requests
        log_level="info",
        access_log=s.access_log,
    )


if __name__ == "__main__":
    main()

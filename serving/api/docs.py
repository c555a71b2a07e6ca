"""``/docs``: Swagger UI served from vendored files, so it works on a closed network.

The files in ``serving/api/static/swagger-ui/`` are copied unchanged from the
npm package ``swagger-ui-dist`` (version in ``VERSION``; Apache-2.0, its
``LICENSE`` and ``NOTICE`` beside them), less the source maps.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["SWAGGER_DIR", "install_docs"]

SWAGGER_DIR = Path(__file__).parent / "static" / "swagger-ui"
STATIC_PREFIX = "/docs/static"


def install_docs(app: FastAPI) -> None:
    """Mount the vendored Swagger UI and serve ``/docs`` (no authentication)."""
    app.mount(STATIC_PREFIX, StaticFiles(directory=SWAGGER_DIR), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title}: API explorer",
            swagger_js_url=f"{STATIC_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC_PREFIX}/favicon-32x32.png",
            # the token survives a page reload; "Try it out" open by default
            swagger_ui_parameters={"persistAuthorization": True, "tryItOutEnabled": True},
        )

"""The FastAPI application object, with `/docs` and `/redoc` that work offline.

FastAPI's documentation pages load Swagger UI and ReDoc from a CDN, so they are blank on a
network without one (or behind a strict proxy). `fastapi-offline` ships both bundles as
package data; the pages load them from this service, under `DOCS_ASSETS`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

DOCS_ASSETS = "/docs/assets"


def create_fastapi(*, docs: bool, **kwargs: Any) -> FastAPI:
    """The app; with `docs`, `/docs`, `/redoc` and `/openapi.json` served from here, else
    none of them (404)."""
    if not docs:
        return FastAPI(docs_url=None, redoc_url=None, openapi_url=None, **kwargs)
    return FastAPIOffline(
        docs_url="/docs",
        redoc_url="/redoc",
        openapi_url="/openapi.json",
        static_url=DOCS_ASSETS,
        **kwargs,
    )

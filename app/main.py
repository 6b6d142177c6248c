"""The FastAPI application: settings, lifespan (engine), middleware, routers, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from app.accounts.endpoints import router as accounts_router
from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.core.errors import install_error_handlers
from app.core.logging import configure_logging
from app.core.migrations import head_revisions
from app.core.observability import Metrics, RequestContextMiddleware
from app.health.endpoints import router as health_router


def _operation_id(route: APIRoute) -> str:
    """Stable ids for generated clients: `<tag>_<function name>`."""
    tag = str(route.tags[0]) if route.tags else "default"
    return f"{tag}_{route.name}"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="TikTok integration service",
        version="0.1.0",
        description="Links CRM companies to TikTok: OAuth, tokens, profile, webhooks and leads.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.migration_heads = head_revisions()

    install_error_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[settings.frontend_url.rstrip("/")],
        allow_credentials=True,
        allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID", "X-Company-Id"],
        expose_headers=["X-Request-ID", "Retry-After"],
    )
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)

    app.include_router(accounts_router)
    app.include_router(health_router)
    return app


def serve_app() -> FastAPI:
    """Entry point for `uvicorn --factory app.main:serve_app`: configures logging too."""
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)

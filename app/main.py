"""The FastAPI application: settings, lifespan (engine), middleware, routers, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from pydantic import SecretStr

from app import __version__
from app.accounts.endpoints import router as accounts_router
from app.ads.endpoints import router as ads_router
from app.api.deps import SECURITY_SCHEMES, authenticate_before_body, needs_principal
from app.core.config import Settings
from app.core.cors import FrontendCORSMiddleware
from app.core.crypto import TokenCipher
from app.core.db import create_read_sessionmaker
from app.core.docs import create_fastapi
from app.core.errors import install_error_handlers
from app.core.limits import BodyGuardMiddleware, declare_request_too_large
from app.core.logging import configure_logging
from app.core.migrations import head_revisions
from app.core.observability import Metrics, RequestContextMiddleware
from app.core.openapi import (
    TAGS,
    declare_security,
    finish_document,
    operation_id,
    secured_operations,
)
from app.core.unhandled import UnhandledErrorMiddleware
from app.devtools.endpoints import router as devtools_router
from app.events.endpoints import router as events_router
from app.events.endpoints import webhooks_router as crm_event_webhooks
from app.health.endpoints import router as health_router
from app.leads.endpoints import router as leads_router
from app.leads.endpoints import webhook_router as leads_webhook_router
from app.leads.schemas import LeadOut
from app.oauth.endpoints import ads_callback_router, delete_router
from app.oauth.endpoints import router as oauth_router
from app.oauth.state import StateCodec
from app.profile.endpoints import router as profile_router
from app.runtime import freeze_startup_heap, open_runtime, start_jobs
from app.webhooks.endpoints import router as webhooks_router
from app.webhooks.signature import configured_verifier

EMULATOR_PATH = "/_tiktok"
EMULATOR_CLIENT_KEY = "sandbox-client-key"
EMULATOR_CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105 - the local emulator's own
EMULATOR_BUSINESS_APP_ID = "sandbox-business-app"
EMULATOR_BUSINESS_SECRET = "sandbox-business-secret"  # noqa: S105 - the local emulator's own
EMULATOR_EXPORT_POLL_SECONDS = 0.1


def uses_emulator(settings: Settings) -> bool:
    """No TikTok credentials outside production: serve the local emulator instead."""
    return not settings.tiktok_client_id and not settings.is_production


def with_emulator(settings: Settings) -> Settings:
    base = settings.api_base_url.rstrip("/") + EMULATOR_PATH
    updates: dict[str, object] = {
        "tiktok_client_id": EMULATOR_CLIENT_KEY,
        "tiktok_client_secret": SecretStr(EMULATOR_CLIENT_SECRET),
        "tiktok_auth_base_url": base,
        "tiktok_api_base_url": base,
    }
    if not settings.tiktok_business_app_id:
        updates |= {
            "tiktok_business_app_id": EMULATOR_BUSINESS_APP_ID,
            "tiktok_business_secret": SecretStr(EMULATOR_BUSINESS_SECRET),
            "tiktok_business_auth_url": f"{base}/portal/auth",
            "tiktok_business_api_base_url": f"{base}/open_api/v1.3",
        }
        if "leads_backfill_poll_seconds" not in settings.model_fields_set:
            # The emulator's export tasks finish on their third poll: poll them quickly.
            updates["leads_backfill_poll_seconds"] = EMULATOR_EXPORT_POLL_SECONDS
    if "frontend_url" not in settings.model_fields_set:
        # The built-in page at /integrations stands in for the CRM frontend.
        updates["frontend_url"] = settings.api_base_url
    return settings.model_copy(update=updates)


def create_development_emulator(settings: Settings) -> FastAPI:
    """The local TikTok served at EMULATOR_PATH in development (the development factory).

    `tiktok_emulator` is a development tool beside `app/`, not part of the product: it is
    imported here and only here, so production never loads it and its image does not hold it.
    """
    try:
        from tiktok_emulator import EmulatorConfig, create_emulator
    except ModuleNotFoundError as exc:
        if exc.name != "tiktok_emulator":
            raise
        raise RuntimeError(
            "No TIKTOK_CLIENT_ID is set, so the local TikTok emulator is wanted, but the "
            "`tiktok_emulator` package is not installed (production images do not ship it). "
            "Set TIKTOK_CLIENT_ID and TIKTOK_CLIENT_SECRET to use TikTok itself, or run from a "
            "source checkout, where tiktok_emulator/ sits beside app/."
        ) from exc
    return create_emulator(
        EmulatorConfig(
            client_key=EMULATOR_CLIENT_KEY,
            client_secret=EMULATOR_CLIENT_SECRET,
            business_app_id=EMULATOR_BUSINESS_APP_ID,
            business_secret=EMULATOR_BUSINESS_SECRET,
            business_redirect_uris=[settings.tiktok_business_redirect],
            redirect_uris=[settings.tiktok_redirect],
            webhook_url=f"{settings.api_base_url.rstrip('/')}/api/integrations/webhooks/tiktok/",
        )
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    emulated = uses_emulator(settings)
    if emulated:
        settings = with_emulator(settings)
    cipher = TokenCipher(settings.integration_encryption_key.get_secret_value())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings, cipher) as runtime:
            app.state.engine = runtime.engine
            app.state.sessionmaker = runtime.sessionmaker
            app.state.read_sessionmaker = create_read_sessionmaker(runtime.engine)
            app.state.tiktok = runtime.tiktok
            app.state.business = runtime.business
            app.state.tokens = runtime.tokens
            app.state.ads = runtime.ads
            app.state.crm_delivery = runtime.crm_delivery
            app.state.webhook_inbox = runtime.webhook_inbox
            app.state.webhook_store = runtime.webhook_store
            app.state.webhook_handlers = runtime.webhook_handlers
            jobs = start_jobs(runtime) if settings.background_jobs_enabled else None
            try:
                yield
            finally:
                if jobs is not None:
                    await jobs.stop()

    app = create_fastapi(
        # API_DOCS_ENABLED=false: /docs, /redoc and /openapi.json answer 404.
        docs=settings.api_docs_enabled,
        title="TikTok integration service",
        version=__version__,
        description="Links CRM companies to TikTok: OAuth, tokens, profile, webhooks and leads.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        openapi_tags=TAGS,
    )
    app.state.settings = settings
    app.state.cipher = cipher
    app.state.state_codec = StateCodec(settings)
    app.state.webhook_verifier = configured_verifier(settings)
    app.state.metrics = Metrics()
    app.state.migration_heads = head_revisions()

    install_error_handlers(app)
    # Innermost, so its 413/401 carry CORS headers and the request id like any answer.
    app.add_middleware(
        BodyGuardMiddleware,
        max_bytes=settings.max_request_body_bytes,
        # The webhook routes read their raw body with their own (larger or smaller) limits.
        exempt_paths={
            getattr(route, "path", "")
            for route in (*webhooks_router.routes, *leads_webhook_router.routes)
        },
        before_body=authenticate_before_body,
    )
    # Inside CORS: an unhandled exception becomes a 500 here, so it leaves through CORS and
    # the request id like any answer (Starlette's own handler sits outside both).
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(FrontendCORSMiddleware, settings=settings)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)

    app.include_router(accounts_router)
    app.include_router(delete_router)
    app.include_router(oauth_router)
    app.include_router(ads_callback_router)
    app.include_router(ads_router)
    app.include_router(profile_router)
    app.include_router(webhooks_router)
    app.include_router(leads_router)
    app.include_router(leads_webhook_router)
    app.include_router(events_router)
    # The events the CRM receives, as OpenAPI `webhooks` (typed in generated clients).
    app.webhooks.include_router(crm_event_webhooks(LeadOut))
    app.include_router(health_router)
    if not settings.is_production:
        app.include_router(devtools_router)
    if emulated:
        app.mount(EMULATOR_PATH, create_development_emulator(settings))
    # Any operation that takes a body may answer 413 (BodyGuardMiddleware), and every one 500;
    # security, error codes: see app.core.openapi.
    generate_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        document = declare_request_too_large(generate_openapi())
        secured = secured_operations(app.routes, needs_principal)
        return finish_document(declare_security(document, SECURITY_SCHEMES, secured))

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def serve_app() -> FastAPI:
    """Entry point for `uvicorn --factory app.main:serve_app`: configures logging too."""
    settings = Settings()
    configure_logging(settings.log_level, secrets=settings.secret_values)
    app = create_app(settings)
    freeze_startup_heap()
    return app

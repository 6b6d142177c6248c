"""The FastAPI application: settings, lifespan (engine), middleware, routers, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from pydantic import SecretStr

from app.accounts.endpoints import router as accounts_router
from app.ads.endpoints import router as ads_router
from app.ads.jobs import check_due_subscriptions, run_due_backfills
from app.ads.service import AdsService
from app.api.deps import authenticate_before_body
from app.core.config import Settings
from app.core.crypto import TokenCipher
from app.core.db import create_engine, create_sessionmaker
from app.core.errors import install_error_handlers
from app.core.limits import BodyGuardMiddleware, declare_request_too_large
from app.core.logging import configure_logging
from app.core.migrations import head_revisions
from app.core.observability import Metrics, RequestContextMiddleware
from app.devtools.endpoints import router as devtools_router
from app.health.endpoints import router as health_router
from app.jobs.profile_sync import sync_due_profiles
from app.jobs.runner import JobSupervisor, PeriodicJob
from app.jobs.token_refresh import refresh_due_tokens
from app.leads.delivery import CrmDeliveryWorker, crm_http_client
from app.leads.endpoints import router as leads_router
from app.leads.endpoints import webhook_router as leads_webhook_router
from app.leads.jobs import attach_unassigned_leads
from app.oauth.endpoints import router as oauth_router
from app.oauth.state import StateCodec
from app.profile.endpoints import router as profile_router
from app.profile.service import ProfileService
from app.sandbox import EmulatorConfig, create_emulator
from app.tiktok.business import TikTokBusinessClient
from app.tiktok.client import TikTokClient
from app.tokens.manager import TokenManager
from app.webhooks.endpoints import router as webhooks_router
from app.webhooks.jobs import sweep_webhook_events

EMULATOR_PATH = "/_tiktok"
# How often the background sync looks for accounts whose profile is older than the period.
PROFILE_SYNC_CHECK_SECONDS = 60.0
EMULATOR_CLIENT_KEY = "sandbox-client-key"
EMULATOR_CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105 - the local emulator's own
EMULATOR_BUSINESS_APP_ID = "sandbox-business-app"
EMULATOR_BUSINESS_SECRET = "sandbox-business-secret"  # noqa: S105 - the local emulator's own
# How often the subscription checker looks for advertisers due a check (at most this).
SUBSCRIPTION_CHECK_PASS_SECONDS = 60.0


def _operation_id(route: APIRoute) -> str:
    """Stable ids for generated clients: `<tag>_<function name>`."""
    tag = str(route.tags[0]) if route.tags else "default"
    return f"{tag}_{route.name}"


def uses_emulator(settings: Settings) -> bool:
    """No TikTok credentials outside production: serve the built-in emulator instead."""
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
    if "frontend_url" not in settings.model_fields_set:
        # The built-in page at /integrations stands in for the CRM frontend.
        updates["frontend_url"] = settings.api_base_url
    return settings.model_copy(update=updates)


def _background_jobs(app: FastAPI, settings: Settings) -> JobSupervisor:
    supervisor = JobSupervisor()
    if settings.background_jobs_enabled:

        async def refresh() -> int:
            return await refresh_due_tokens(
                app.state.sessionmaker,
                app.state.tokens,
                refresh_ahead=timedelta(seconds=settings.token_refresh_ahead_seconds),
                renew_refresh_before=timedelta(days=settings.refresh_token_renew_before_days),
            )

        supervisor.start(
            PeriodicJob("token_refresh", settings.token_refresh_interval_seconds, refresh)
        )

        async def sweep_webhooks() -> int:
            return await sweep_webhook_events(app.state.sessionmaker)

        supervisor.start(
            PeriodicJob(
                "webhook_sweep", settings.tiktok_webhook_sweep_interval_seconds, sweep_webhooks
            )
        )

        if app.state.tiktok is not None:
            profiles = ProfileService(app.state.tiktok, app.state.tokens)

            async def sync_profiles() -> int:
                return await sync_due_profiles(
                    app.state.sessionmaker,
                    profiles,
                    max_age=timedelta(seconds=settings.profile_sync_interval_seconds),
                    requests_per_minute=settings.profile_sync_requests_per_minute,
                )

            supervisor.start(PeriodicJob("profile_sync", PROFILE_SYNC_CHECK_SECONDS, sync_profiles))

        async def attach_leads() -> int:
            return await attach_unassigned_leads(app.state.sessionmaker, settings)

        supervisor.start(
            PeriodicJob("lead_attach", settings.leads_attach_interval_seconds, attach_leads)
        )

        ads: AdsService = app.state.ads
        if ads.business is not None:

            async def backfill_leads() -> int:
                return await run_due_backfills(ads)

            async def check_subscriptions() -> int:
                return await check_due_subscriptions(ads)

            supervisor.start(
                PeriodicJob(
                    "lead_backfill", settings.leads_backfill_interval_seconds, backfill_leads
                )
            )
            check_every = min(
                SUBSCRIPTION_CHECK_PASS_SECONDS, settings.leads_subscription_check_interval_seconds
            )
            supervisor.start(
                PeriodicJob("lead_subscription_check", check_every, check_subscriptions)
            )

        worker: CrmDeliveryWorker | None = app.state.crm_delivery
        if worker is not None:
            supervisor.start(
                PeriodicJob("crm_delivery", settings.crm_delivery_interval_seconds, worker.drain)
            )
    return supervisor


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    emulated = uses_emulator(settings)
    if emulated:
        settings = with_emulator(settings)
    cipher = TokenCipher(settings.integration_encryption_key.get_secret_value())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
        app.state.tiktok = (
            TikTokClient.from_settings(settings, http) if settings.tiktok_client_id else None
        )
        business = (
            TikTokBusinessClient.from_settings(settings, http)
            if settings.tiktok_business_configured
            else None
        )
        app.state.business = business
        app.state.ads = AdsService(app.state.sessionmaker, cipher, business, settings)
        app.state.tokens = TokenManager(
            app.state.sessionmaker,
            app.state.tiktok,
            cipher,
            refresh_ahead=timedelta(seconds=settings.token_refresh_ahead_seconds),
        )
        # Its own client: the CRM is another upstream, with its own timeouts.
        crm_http = crm_http_client(settings) if settings.crm_leads_webhook_url else None
        app.state.crm_delivery = (
            CrmDeliveryWorker(app.state.sessionmaker, crm_http, settings) if crm_http else None
        )
        jobs = _background_jobs(app, settings)
        try:
            yield
        finally:
            await jobs.stop()
            # A refresh outlives the request or job that started it: let it store its tokens.
            await app.state.tokens.drain(settings.tiktok_token_timeout_seconds)
            if crm_http is not None:
                await crm_http.aclose()
            await http.aclose()
            await engine.dispose()

    app = FastAPI(
        title="TikTok integration service",
        version="0.1.0",
        description="Links CRM companies to TikTok: OAuth, tokens, profile, webhooks and leads.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        # API_DOCS_ENABLED=false: /docs, /redoc and /openapi.json answer 404.
        docs_url="/docs" if settings.api_docs_enabled else None,
        redoc_url="/redoc" if settings.api_docs_enabled else None,
        openapi_url="/openapi.json" if settings.api_docs_enabled else None,
    )
    app.state.settings = settings
    app.state.cipher = cipher
    app.state.state_codec = StateCodec(settings)
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
    app.include_router(oauth_router)
    app.include_router(ads_router)
    app.include_router(profile_router)
    app.include_router(webhooks_router)
    app.include_router(leads_router)
    app.include_router(leads_webhook_router)
    app.include_router(health_router)
    if not settings.is_production:
        app.include_router(devtools_router)
    if emulated:
        app.mount(
            EMULATOR_PATH,
            create_emulator(
                EmulatorConfig(
                    client_key=EMULATOR_CLIENT_KEY,
                    client_secret=EMULATOR_CLIENT_SECRET,
                    business_app_id=EMULATOR_BUSINESS_APP_ID,
                    business_secret=EMULATOR_BUSINESS_SECRET,
                    business_redirect_uris=[settings.tiktok_business_redirect],
                    redirect_uris=[settings.tiktok_redirect],
                    webhook_url=f"{settings.api_base_url.rstrip('/')}/api/integrations/webhooks/tiktok/",
                )
            ),
        )
    # Any operation that takes a body may answer 413 (BodyGuardMiddleware): say so in the document.
    generate_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        return declare_request_too_large(generate_openapi())

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def serve_app() -> FastAPI:
    """Entry point for `uvicorn --factory app.main:serve_app`: configures logging too."""
    settings = Settings()
    configure_logging(settings.log_level, secrets=settings.secret_values)
    return create_app(settings)

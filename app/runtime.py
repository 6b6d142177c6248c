"""What a process of this service runs on, and the background jobs it may run.

`open_runtime` builds the long-lived pieces — engine and sessions, one HTTP pool per
upstream, the TikTok clients, the token manager, the ads service, the CRM delivery worker —
and closes them in order. The API (`python -m app serve`, through the app's lifespan) and
the worker (`python -m app worker`) open the same runtime; the API also runs the jobs
in-process unless `BACKGROUND_JOBS_ENABLED=false`.

`background_jobs` lists every periodic job. Each domain declares its own job (a factory
next to the work it does: name, period, one pass); this module only gathers them, so the
runner never holds a domain rule. Work that must happen once across processes is made safe
by the job itself (row locks, `SKIP LOCKED`, leases), never by which process runs it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.ads import jobs as ads_jobs
from app.ads.service import AdsService
from app.advertisers import jobs as advertiser_jobs
from app.core.config import Settings
from app.core.crypto import TokenCipher
from app.core.db import create_engine, create_sessionmaker
from app.core.jobs import JobSupervisor, PeriodicJob, Wakeup
from app.events import jobs as event_jobs
from app.events import outbox
from app.events.delivery import CrmDeliveryWorker, crm_http_client
from app.jobs import profile_sync, token_refresh
from app.leads import jobs as leads_jobs
from app.tiktok.business import TikTokBusinessClient
from app.tiktok.client import TikTokClient
from app.tokens.manager import TokenManager
from app.webhooks import jobs as webhook_jobs
from app.webhooks.models import WebhookSource
from app.webhooks.service import InboxHandlers, InboxStore

logger = logging.getLogger("app.worker")


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    cipher: TokenCipher
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    tiktok: TikTokClient | None
    business: TikTokBusinessClient | None
    tokens: TokenManager
    ads: AdsService
    crm_delivery: CrmDeliveryWorker | None
    # How the inbox applies the rows of sources other packages own (Login Kit's is its own).
    webhook_handlers: InboxHandlers
    # Where this process's webhook route stores Login Kit deliveries (grouped writes).
    webhook_store: InboxStore
    # Set by this process's webhook endpoints after a store; wakes its inbox job.
    webhook_inbox: webhook_jobs.InboxSignal = field(default_factory=webhook_jobs.InboxSignal)
    # Set after the inbox job applied rows (announced leads queue CRM deliveries); wakes
    # this process's CRM delivery job.
    crm_wakeup: Wakeup = field(default_factory=Wakeup)


def freeze_startup_heap() -> None:
    """Take what the process built at startup (modules, the app, its routes and schemas:
    about 150,000 objects) out of the garbage collector's scans, for the life of the process.

    A full collection walks every tracked object: with the startup heap that is a pause of a
    few hundred milliseconds on a small machine, taken whenever enough objects have outlived
    younger collections, in the middle of serving requests (it was the tail of the webhook
    benchmark: p99 close to the maximum). Those objects live until the process exits, so
    scanning them finds nothing; `gc.freeze()` moves them to a generation no collection visits
    (they are still freed by reference counting). Called once, by the process entry points
    (`serve`'s app factory and `worker`), never by code that builds many apps in one process
    (the tests), where frozen cycles would outlive their app."""
    gc.collect()
    gc.freeze()


def inbox_handlers(settings: Settings) -> InboxHandlers:
    """Every inbox source besides Login Kit's, with the package that applies it."""
    return {WebhookSource.tiktok_leadgen: leads_jobs.inbox_handler(settings)}


@asynccontextmanager
async def open_runtime(settings: Settings, cipher: TokenCipher) -> AsyncIterator[Runtime]:
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    # Its sessions write each event's CRM delivery with the event (when configured).
    outbox.configure(sessionmaker, settings)
    if settings.crm_leads_webhook_url and not settings.crm_webhook_url:
        logger.warning("CRM_LEADS_WEBHOOK_URL is deprecated: set CRM_WEBHOOK_URL instead")
    http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
    tiktok = TikTokClient.from_settings(settings, http) if settings.tiktok_client_id else None
    business = (
        TikTokBusinessClient.from_settings(settings, http)
        if settings.tiktok_business_configured
        else None
    )
    tokens = TokenManager(
        sessionmaker,
        tiktok,
        cipher,
        business=business,
        refresh_ahead=timedelta(seconds=settings.token_refresh_ahead_seconds),
    )
    ads = AdsService(sessionmaker, cipher, business, settings, tokens)
    # Its own client: the CRM is another upstream, with its own timeouts.
    crm_http = crm_http_client(settings) if settings.crm_url else None
    crm_delivery = CrmDeliveryWorker(sessionmaker, crm_http, settings) if crm_http else None
    webhook_store = InboxStore(engine)
    try:
        yield Runtime(
            settings=settings,
            cipher=cipher,
            engine=engine,
            sessionmaker=sessionmaker,
            tiktok=tiktok,
            business=business,
            tokens=tokens,
            ads=ads,
            crm_delivery=crm_delivery,
            webhook_handlers=inbox_handlers(settings),
            webhook_store=webhook_store,
        )
    finally:
        await webhook_store.drain()
        # A refresh outlives the request or job that started it: let it store its tokens.
        await tokens.drain(settings.tiktok_token_timeout_seconds)
        if crm_http is not None:
            await crm_http.aclose()
        await http.aclose()
        await engine.dispose()


def background_jobs(runtime: Runtime) -> list[PeriodicJob]:
    """Every periodic job this runtime can run (those whose upstream is configured)."""
    settings = runtime.settings
    jobs = [
        token_refresh.job(runtime.sessionmaker, runtime.tokens, settings),
        webhook_jobs.job(
            runtime.sessionmaker,
            settings,
            runtime.webhook_inbox,
            runtime.webhook_handlers,
            applied=runtime.crm_wakeup,
        ),
        leads_jobs.attach_job(runtime.sessionmaker, settings),
        event_jobs.sequencer_job(runtime.sessionmaker, runtime.engine),
    ]
    if runtime.tiktok is not None:
        jobs.append(
            profile_sync.job(runtime.sessionmaker, runtime.tiktok, runtime.tokens, settings)
        )
    if runtime.ads.business is not None:
        jobs += ads_jobs.jobs(runtime.ads, settings)
        jobs.append(advertiser_jobs.job(runtime))
    if runtime.crm_delivery is not None:
        jobs.append(runtime.crm_delivery.job(runtime.crm_wakeup))
    return jobs


def start_jobs(runtime: Runtime) -> JobSupervisor:
    supervisor = JobSupervisor()
    for job in background_jobs(runtime):
        supervisor.start(job)
    return supervisor


async def run_worker(settings: Settings, cipher: TokenCipher) -> int:
    """`python -m app worker`: every background job, no HTTP, until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with open_runtime(settings, cipher) as runtime:
            supervisor = start_jobs(runtime)
            logger.info("worker started", extra={"jobs": supervisor.names})
            try:
                await stop.wait()
            finally:
                logger.info("worker stopping")
                await supervisor.stop()
        return 0
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)

"""No secret in any log line: the whole product run end to end at DEBUG and at INFO.

Logging is configured as `serve_app` configures it (JSON to a stream, library loggers
included), then every flow that handles a credential runs over real HTTP against the
built-in emulator: Login Kit connect (first-party hop, state cookie, PKCE), profile and
videos, a refresh that rotates the tokens, disconnect; an ads connect, lead webhooks (signed,
and by the URL token), a backfill, CRM delivery; key rotation. Then no configured secret and
no token, code, verifier, state, cookie or ticket issued during the run may appear in any line.
"""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.routing import Mount

from app.core.crypto import TokenCipher
from app.core.db import create_engine, create_sessionmaker
from app.core.logging import QUIET_LIBRARY_LOGGERS, configure_logging
from app.main import EMULATOR_PATH
from app.tokens.rotation import rotate_keys
from tests.conftest import ENCRYPTION_KEY, make_settings, make_token
from tests.crm_receiver import CrmReceiver
from tests.crm_receiver import serve as serve_receiver
from tests.e2e.flow import ACCOUNTS, TIMEOUT, ConsentForm, decide, state_cookies
from tests.e2e.test_ads_flow_http import _connect as connect_ads
from tests.e2e.test_ads_flow_http import _eventually, _submit_leads
from tests.live_server import LiveServer, delete_all_rows, serve
from tests.test_leads_webhook import lead_body, lead_entry
from tiktok_emulator.state import EmulatorState

CRM_SECRET = "crm-secret-for-the-log-test-0123456789"
LEADGEN_TOKEN = "leadgen-url-token-for-the-log-test-0123"
NEW_KEY = "bmV3LWtleS1mb3ItdGhlLWxvZy10ZXN0LTAwMDAwMDA="
BUSINESS = "/_tiktok/_control/business"


@pytest.fixture
def captured_logging() -> Iterator[None]:
    """Leave the process's logging as it was after the test reconfigures it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    names = (*QUIET_LIBRARY_LOGGERS, "uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {
        name: (lg.level, lg.handlers[:], lg.propagate)
        for name in names
        for lg in [logging.getLogger(name)]
    }
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, (lvl, hs, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.setLevel(lvl)
            logger.handlers[:] = hs
            logger.propagate = propagate


def _emulator(server: LiveServer) -> EmulatorState:
    for route in server.app.routes:
        if isinstance(route, Mount) and route.path == EMULATOR_PATH:
            state: EmulatorState = route.app.state.emulator  # type: ignore[attr-defined]
            return state
    raise AssertionError("the emulator is not mounted")


def _issued_by_emulator(emulator: EmulatorState) -> set[str]:
    grants = emulator.grants
    business = emulator.business
    return (
        set(grants.codes)
        | set(grants.access_tokens)
        | set(grants.refresh_tokens)
        | set(business.codes)
        | {grant.token for grant in business.grants.values()}
    )


async def _login_kit(
    server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient, issued: set[str]
) -> None:
    created = await api.post(f"{ACCOUNTS}/", json={"platform": "tiktok", "name": "Brand"})
    account_id = created.json()["id"]
    started = (await api.post(f"{ACCOUNTS}/{account_id}/connect/")).json()
    issued |= {started["state"], *parse_qs(urlsplit(started["authorization_url"]).query)["ticket"]}
    hop = await browser.get(started["authorization_url"])
    assert hop.status_code == 302, hop.text
    (cookie,) = state_cookies(browser)
    assert cookie.value
    opened = server.app.state.state_codec.verify(cookie.value, started["state"], datetime.now(UTC))
    issued |= {cookie.value, opened.verifier or ""}
    consent_url = hop.headers["location"]
    form = ConsentForm((await browser.get(consent_url)).text)
    callback = await decide(browser, consent_url, form, "approve")
    landing = await browser.get(callback)
    assert "connected=true" in landing.headers["location"], landing.headers["location"]

    assert (await api.get(f"{ACCOUNTS}/{account_id}/tiktok-profile/?refresh=true")).is_success
    assert (await api.get(f"{ACCOUNTS}/{account_id}/tiktok-videos/")).is_success
    # The emulator's clock moves past the access token's life: the next read refreshes
    # (a rotation: new access and refresh tokens) and retries.
    await browser.post("/_tiktok/_control/clock", json={"seconds": 90_000})
    assert (await api.post(f"{ACCOUNTS}/{account_id}/sync/")).is_success
    assert (await api.post(f"{ACCOUNTS}/{account_id}/disconnect/")).is_success


async def _leads(
    server: LiveServer,
    api: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    crm: CrmReceiver,
) -> None:
    advertisers = (await browser.get(f"{BUSINESS}/advertisers")).json()["advertisers"]
    advertiser = advertisers[0]
    advertiser_id, form_id = advertiser["advertiser_id"], advertiser["forms"][0]["page_id"]
    account_id = await connect_ads(server, api, browser, advertiser_id)
    # A signed lead webhook from the emulator, and one authenticated by the URL's token.
    await _submit_leads(browser, advertiser_id, form_id, 2, None)
    by_token = lead_body(
        lead_entry(7126711421177430999, advertiser_id=int(advertiser_id), page_id=int(form_id))
    )
    answered = await browser.post(
        "/api/integrations/webhooks/tiktok-leadgen/",
        params={"token": LEADGEN_TOKEN},
        content=by_token,
        headers={"Content-Type": "application/json"},
    )
    assert answered.status_code == 200, answered.text
    started = await api.post(f"{ACCOUNTS}/{account_id}/leads/backfill/", json={})
    job_url = f"{ACCOUNTS}/{account_id}/leads/backfill/{started.json()['id']}/"

    async def finished() -> dict[str, Any] | None:
        job: dict[str, Any] = (await api.get(job_url)).json()
        return job if job["status"] in ("succeeded", "failed") else None

    assert (await _eventually(finished, "the backfill"))["status"] == "succeeded"
    total = len((await api.get("/api/integrations/leads/", params={"limit": 100})).json()["items"])

    async def delivered() -> int | None:
        return len(crm.ids()) if len(crm.ids()) >= total else None

    await _eventually(delivered, "every lead at the CRM")


@pytest.fixture
async def crm() -> AsyncIterator[CrmReceiver]:
    with serve_receiver(CrmReceiver(secret=CRM_SECRET)) as receiver:
        yield receiver


@pytest.mark.usefixtures("captured_logging")
@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
async def test_no_secret_token_code_verifier_cookie_or_ticket_reaches_any_log_line(
    database_url: str, level: str, crm: CrmReceiver
) -> None:
    stream = io.StringIO()
    issued: set[str] = set()
    bearer = make_token("acme")

    def configure(url: str) -> Any:
        return make_settings(
            database_url=database_url,
            api_base_url=url,
            frontend_url=url,
            background_jobs_enabled=True,
            leads_backfill_interval_seconds=0.2,
            leads_backfill_poll_seconds=0.01,
            crm_delivery_interval_seconds=0.2,
            crm_leads_webhook_url=crm.url + "?api_key=crm-url-credential-0123",
            crm_webhook_secret=CRM_SECRET,
            leadgen_webhook_token=LEADGEN_TOKEN,
        )

    try:
        with serve(configure) as server:
            secrets = server.settings.secret_values
            configure_logging(level, secrets=secrets, stream=stream)
            async with (
                httpx.AsyncClient(
                    base_url=server.url,
                    headers={"Authorization": f"Bearer {bearer}"},
                    timeout=TIMEOUT,
                ) as api,
                httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as browser,
            ):
                await _login_kit(server, api, browser, issued)
                await _leads(server, api, browser, crm)
                issued |= {cookie.value or "" for cookie in browser.cookies.jar}
            issued |= _issued_by_emulator(_emulator(server))
            engine = create_engine(server.settings)
            try:
                report = await rotate_keys(
                    create_sessionmaker(engine),
                    TokenCipher(f"{NEW_KEY},{ENCRYPTION_KEY}"),
                    lambda *_: None,
                )
            finally:
                await engine.dispose()
            assert report.rotated >= 1
    finally:
        await delete_all_rows(make_settings(database_url=database_url))

    forbidden = {
        value
        for value in {*secrets, *issued, bearer, NEW_KEY, "crm-url-credential-0123"}
        if len(value) >= 8
    }
    lines = stream.getvalue().splitlines()
    # The run was logged (or the check below proves nothing): requests, TikTok calls, leads.
    messages = " ".join(lines)
    assert '"message": "request"' in messages
    assert "TikTok call" in messages or "tiktok" in messages.lower()
    assert len(issued) >= 10
    leaks = [(value[:4], line[:200]) for line in lines for value in forbidden if value in line]
    assert leaks == []

"""Set-up done the way a user does it, over HTTP: CRM tokens, accounts connected through
the real OAuth flows (service ⇄ emulator), and the emulator's own tokens for direct calls.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

from bench.emulator import BUSINESS_APP_ID, CLIENT_KEY, CLIENT_SECRET

ACCOUNTS = "/api/integrations/accounts"
SCOPES = ("user.info.basic", "user.info.profile", "user.info.stats", "video.list")
JWT_SECRET = "bench-jwt-secret-0123456789abcdef0123456789"  # noqa: S105 - throwaway
TIMEOUT = httpx.Timeout(30.0)


def crm_token(company: str, ttl: int = 4 * 3600) -> str:
    """A CRM user's JWT for `company`, as the CRM would issue it."""
    now = int(time.time())
    claims = {"sub": "bench-user", "company_id": company, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


def auth(company: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {crm_token(company)}"}


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _local(url: str) -> str:
    """A redirect target as path + query, to follow it on the client's own base URL."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def _redirect(response: Awaitable[httpx.Response]) -> str:
    answer = await response
    if answer.status_code != 302:
        raise RuntimeError(f"expected a redirect, got {answer.status_code}: {answer.text[:300]}")
    return answer.headers["location"]


async def create_account(api: httpx.AsyncClient, company: str, platform: str = "tiktok") -> str:
    response = await api.post(
        f"{ACCOUNTS}/", json={"platform": platform, "name": "Bench"}, headers=auth(company)
    )
    response.raise_for_status()
    account_id: str = response.json()["id"]
    return account_id


async def _start(api: httpx.AsyncClient, company: str, account_id: str) -> str:
    """Connect (the frontend's call) and the browser's hop: the URL it sends to TikTok."""
    started = await api.post(f"{ACCOUNTS}/{account_id}/connect/", headers=auth(company))
    started.raise_for_status()
    return await _redirect(api.get(_local(started.json()["authorization_url"])))


async def _land(api: httpx.AsyncClient, callback: str) -> None:
    landing = _query(await _redirect(api.get(_local(callback))))
    if landing.get("connected") != "true":
        raise RuntimeError(f"the connect failed: {landing}")


async def connect_tiktok(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, company: str, open_id: str
) -> str:
    """A Login Kit account connected through the whole flow; its id."""
    account_id = await create_account(api, company)
    consent = _query(await _start(api, company, account_id))
    form: dict[str, str | list[str]] = {k: v for k, v in consent.items() if k != "scope"}
    form |= {"requested_scopes": consent["scope"], "decision": "approve", "user": open_id}
    form["scope"] = consent["scope"].split(",")  # every requested scope ticked
    callback = await _redirect(emulator.post("/v2/auth/authorize/", data=form))
    await _land(api, callback)
    return account_id


async def connect_ads(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, company: str, advertiser_id: str
) -> str:
    """A TikTok for Business account connected through the whole flow, owning one advertiser."""
    account_id = await create_account(api, company, platform="tiktok_ads")
    consent = _query(await _start(api, company, account_id))
    form = {
        "app_id": BUSINESS_APP_ID,
        "redirect_uri": consent["redirect_uri"],
        "state": consent["state"],
        "decision": "approve",
        "advertiser_id": advertiser_id,
    }
    await _land(api, await _redirect(emulator.post("/portal/auth", data=form)))
    return account_id


async def emulator_access_token(emulator: httpx.AsyncClient, open_id: str) -> str:
    """The bench's own Login Kit token (for calling the emulator directly)."""
    redirect_uri = "http://127.0.0.1/bench-callback"
    form = {
        "client_key": CLIENT_KEY,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "state": "bench",
        "requested_scopes": ",".join(SCOPES),
        "decision": "approve",
        "user": open_id,
        "scope": list(SCOPES),
    }
    code = _query(await _redirect(emulator.post("/v2/auth/authorize/", data=form)))["code"]
    token = await emulator.post(
        "/v2/oauth/token/",
        data={
            "client_key": CLIENT_KEY,
            "client_secret": CLIENT_SECRET,
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
        },
    )
    token.raise_for_status()
    value: str = token.json()["access_token"]
    return value


async def emulator_users(emulator: httpx.AsyncClient) -> list[str]:
    response = await emulator.get("/_control/users")
    response.raise_for_status()
    return [user["open_id"] for user in response.json()["users"]]


async def gather_bounded(jobs: Iterable[Callable[[], Awaitable[object]]], limit: int) -> None:
    """Run the jobs, at most `limit` at once."""
    gate = asyncio.Semaphore(limit)

    async def bounded(job: Callable[[], Awaitable[object]]) -> None:
        async with gate:
            await job()

    async with asyncio.TaskGroup() as group:
        for job in jobs:
            group.create_task(bounded(job))

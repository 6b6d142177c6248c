"""The Marketing API v1.3 endpoints of TikTok for Business, under `/open_api/v1.3/`.

Every answer is the envelope `{"code", "message", "request_id", "data"}`, failures included:
they come with HTTP 200 and `code != 0` (40105 invalid token, 40102 expired token, 40001
advertiser not granted, 40002 bad parameters). Calls authenticate with the `Access-Token`
header; app-level calls (token exchange and refresh, revoke, subscriptions) with `app_id`
and `secret`. Ids go out as TikTok sends them: some quoted, some bare 19-digit integers.
Injected faults strike before the endpoint runs, or after it acted (`after`: the effect
stays, the answer is replaced, as when TikTok's answer is lost on the way back).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute

from tiktok_emulator.business_seed import FakeAdvertiser, FakeForm, Region
from tiktok_emulator.business_state import (
    BAD_PARAMS,
    GRANTED_SCOPE,
    TASK_FAULTS,
    AccessGrant,
    BusinessEndpoint,
    BusinessError,
    BusinessFault,
    BusinessFaultKind,
    FaultTarget,
    IssuedPair,
)
from tiktok_emulator.business_webhooks import deliver_leads
from tiktok_emulator.deps import EmulatorDep
from tiktok_emulator.state import EmulatorState
from tiktok_emulator.wire import InjectedFault

REGION_HEADER = "x-lead-region"
MAX_PAGE_SIZE = 100
_GATEWAY_503 = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head>"
    "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)
_GARBAGE = b'{"code": 0, "message": "OK", "data": {"list": [{"advertiser_id": 71310000'
# A 200 "file" that is neither JSON nor a CSV or zip anyone can read (a UTF-16 mark, then an
# odd number of bytes).
_CORRUPT_FILE = b"\xff\xfe\x00garbage without a header"
# Where a fault that strikes after the endpoint waits for the endpoint to finish.
_LOST_ANSWER = "business_lost_answer"


def envelope(code: int, message: str, request_id: str, data: dict[str, Any]) -> JSONResponse:
    # Always HTTP 200: the body's code decides.
    body = {"code": code, "message": message, "request_id": request_id, "data": data}
    return JSONResponse(body)


def _ok(emulator: EmulatorState, data: dict[str, Any]) -> JSONResponse:
    return envelope(0, "OK", emulator.log_id(), data)


def _fault_response(fault: BusinessFault, request_id: str) -> Response:
    if fault.kind == "http_503":
        return HTMLResponse(_GATEWAY_503, status_code=503)
    if fault.kind == "garbage":
        return Response(_GARBAGE, media_type="application/json")
    if fault.kind == "corrupt_file":
        return Response(_CORRUPT_FILE, media_type="text/csv")
    return envelope(fault.code, "Injected error.", request_id, {})


class _LostAnswerRoute(APIRoute):
    """Serves a fault that struck after the endpoint acted instead of the endpoint's answer
    (or error): TikTok did the work, the caller never hears of it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_then_lose(request: Request) -> Response:
            try:
                response = await handle(request)
            except BusinessError:
                if _LOST_ANSWER not in request.scope:
                    raise
                response = request.scope[_LOST_ANSWER]
            lost: Response = request.scope.get(_LOST_ANSWER, response)
            return lost

        return handle_then_lose


router = APIRouter(
    prefix="/open_api/v1.3", tags=["tiktok for business"], route_class=_LostAnswerRoute
)


def _region_of(request: Request) -> Region | None:
    region = request.headers.get(REGION_HEADER, "").strip().lower()
    return "eu" if region == "eu" else "us" if region == "us" else None


async def _target(request: Request) -> FaultTarget:
    """The advertiser (query, JSON body or subscription detail) and region a request names."""
    advertiser: object = request.query_params.get("advertiser_id")
    if advertiser is None and request.method == "POST":
        try:
            document = json.loads(await request.body())
        except ValueError:
            document = None
        if isinstance(document, dict):
            detail = document.get("subscription_detail")
            inner = detail.get("advertiser_id") if isinstance(detail, dict) else None
            advertiser = document.get("advertiser_id", inner)
    named = None if advertiser is None else str(advertiser)
    return FaultTarget(advertiser_id=named, region=_region_of(request))


async def _enter(
    request: Request,
    emulator: EmulatorState,
    endpoint: BusinessEndpoint,
    *,
    polling: bool = False,
) -> BusinessFaultKind | None:
    """Count the call and apply the next matching fault; returns a task fault's kind (for
    the status poll to apply)."""
    emulator.count(f"business.{endpoint}")
    target = await _target(request)
    fault = emulator.business.take_fault(endpoint, target, polling=polling)
    if fault is None:
        return None
    if fault.kind == "latency":
        await asyncio.sleep(fault.latency_ms / 1000)
        return None
    if fault.kind in TASK_FAULTS:
        return fault.kind
    response = _fault_response(fault, emulator.log_id())
    if fault.after:
        request.scope[_LOST_ANSWER] = response
        return None
    raise InjectedFault(response)


async def _body(request: Request) -> dict[str, Any]:
    try:
        document = await request.json()
    except ValueError as exc:
        raise BusinessError(BAD_PARAMS, "The request body must be a JSON object.") from exc
    if not isinstance(document, dict):
        raise BusinessError(BAD_PARAMS, "The request body must be a JSON object.")
    return document


async def _app_body(request: Request, emulator: EmulatorState) -> dict[str, Any]:
    """The JSON body of an app-level call, once its app_id and secret are checked."""
    body = await _body(request)
    emulator.business.authenticate_app(body.get("app_id"), body.get("secret"))
    return body


def _id(value: object, name: str) -> str:
    """An id sent as a JSON integer or a string of digits."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    raise BusinessError(BAD_PARAMS, f"{name} is required and must be an id.")


def _optional_id(value: object, name: str) -> str | None:
    return None if value in (None, "") else _id(value, name)


def _int_param(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= high:
        raise BusinessError(BAD_PARAMS, f"{name} must be an integer from 1 to {high}.")
    return int(raw)


def _region(request: Request) -> Region | None:
    """The region header, checked: an unknown region is refused."""
    raw = request.headers.get(REGION_HEADER)
    if raw is None or raw == "":
        return None
    region = raw.strip().lower()
    if region == "eu":
        return "eu"
    if region == "us":
        return "us"
    raise BusinessError(BAD_PARAMS, f"{REGION_HEADER} must be eu or us.")


def _grant(request: Request, emulator: EmulatorState) -> AccessGrant:
    return emulator.business.grant(request.headers.get("Access-Token"))


def _query_advertiser(request: Request, emulator: EmulatorState) -> FakeAdvertiser:
    """The granted advertiser named by the `advertiser_id` query parameter."""
    grant = _grant(request, emulator)
    advertiser_id = _id(request.query_params.get("advertiser_id"), "advertiser_id")
    return emulator.business.advertiser(grant, advertiser_id)


def _advertiser_and_form(
    emulator: EmulatorState, grant: AccessGrant, body: dict[str, Any]
) -> tuple[FakeAdvertiser, FakeForm]:
    world = emulator.business
    advertiser = world.advertiser(grant, _id(body.get("advertiser_id"), "advertiser_id"))
    return advertiser, world.form(advertiser, _id(body.get("page_id"), "page_id"))


def _timestamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


# --- OAuth ------------------------------------------------------------------------------------


def _token_data(emulator: EmulatorState, issued: IssuedPair) -> dict[str, Any]:
    """A token answer; lifetimes and a refresh token only in the expiring model."""
    access = issued.access
    data: dict[str, Any] = {
        "access_token": access.token,
        "advertiser_ids": list(access.advertiser_ids),  # quoted, as documented
        "scope": list(GRANTED_SCOPE),
    }
    now = emulator.now()
    if access.expires_at is not None:
        data["expires_in"] = round(access.expires_at - now)
    if issued.refresh is not None:
        data["refresh_token"] = issued.refresh.token
        data["refresh_token_expires_in"] = round(issued.refresh.expires_at - now)
    return data


@router.post("/oauth2/access_token/", name="business_access_token")
async def access_token(request: Request, emulator: EmulatorDep) -> JSONResponse:
    await _enter(request, emulator, "access_token")
    body = await _app_body(request, emulator)
    return _ok(emulator, _token_data(emulator, emulator.business.exchange(body.get("auth_code"))))


@router.post("/oauth2/refresh_token/", name="business_refresh_token")
async def refresh_token(request: Request, emulator: EmulatorDep) -> JSONResponse:
    """Expiring model: a new pair; the refresh token sent dies (40105 when sent again)."""
    await _enter(request, emulator, "refresh_token")
    body = await _app_body(request, emulator)
    issued = emulator.business.refresh(body.get("refresh_token"))
    return _ok(emulator, _token_data(emulator, issued))


@router.post("/oauth2/revoke_token/", name="business_revoke_token")
async def revoke_token(request: Request, emulator: EmulatorDep) -> JSONResponse:
    await _enter(request, emulator, "revoke_token")
    body = await _app_body(request, emulator)
    world = emulator.business
    world.revoke(body.get("access_token"))
    return _ok(emulator, {})


@router.get("/oauth2/advertiser/get/", name="business_advertisers")
async def advertisers(request: Request, emulator: EmulatorDep) -> JSONResponse:
    await _enter(request, emulator, "advertiser_get")
    world = emulator.business
    world.authenticate_app(request.query_params.get("app_id"), request.query_params.get("secret"))
    grant = _grant(request, emulator)
    items = [
        {"advertiser_id": int(a), "advertiser_name": world.advertisers[a].advertiser_name}
        for a in grant.advertiser_ids
    ]
    return _ok(emulator, {"list": items})


# --- forms and the lead export ----------------------------------------------------------------


@router.get("/page/get/", name="business_forms")
async def forms(request: Request, emulator: EmulatorDep) -> JSONResponse:
    await _enter(request, emulator, "page_get")
    advertiser = _query_advertiser(request, emulator)
    if request.query_params.get("business_type") != "LEAD_GEN":
        raise BusinessError(BAD_PARAMS, "business_type must be LEAD_GEN.")
    page = _int_param(request, "page", 1, 10_000)
    # TikTok may answer smaller pages than asked: page_info says which size it used.
    page_size = min(
        _int_param(request, "page_size", 10, MAX_PAGE_SIZE), emulator.business.forms_page_size
    )
    all_forms = advertiser.forms
    chosen = all_forms[(page - 1) * page_size : page * page_size]
    items = [
        {
            "page_id": int(form.page_id),
            "title": form.title,
            "status": "PUBLISHED",
            "business_type": "LEAD_GEN",
            "create_time": _timestamp(form.create_time),
        }
        for form in chosen
    ]
    page_info = {
        "page": page,
        "page_size": page_size,
        "total_number": len(all_forms),
        "total_page": math.ceil(len(all_forms) / page_size),
    }
    return _ok(emulator, {"list": items, "page_info": page_info})


@router.post("/page/lead/task/", name="business_lead_task")
async def lead_task(request: Request, emulator: EmulatorDep) -> JSONResponse:
    """Without task_id: create an export task. With it: poll, one step per call."""
    body = await _body(request)
    polling = body.get("task_id") not in (None, "")
    task_fault = await _enter(request, emulator, "lead_task", polling=polling)
    grant = _grant(request, emulator)
    advertiser, form = _advertiser_and_form(emulator, grant, body)
    region = _region(request)
    world = emulator.business
    if not polling:
        task = world.create_task(form, region)
        return _ok(emulator, {"task_id": task.task_id, "status": task.status})
    task = world.task(advertiser.advertiser_id, _id(body.get("task_id"), "task_id"), region)
    if task.page_id != form.page_id:
        raise BusinessError(BAD_PARAMS, "task_id does not belong to this page_id.")
    return _ok(emulator, {"task_id": task.task_id, "status": world.poll(task, fault=task_fault)})


@router.get("/page/lead/task/download/", name="business_lead_download")
async def lead_download(request: Request, emulator: EmulatorDep) -> Response:
    await _enter(request, emulator, "lead_download")
    advertiser = _query_advertiser(request, emulator)
    world = emulator.business
    task_id = _id(request.query_params.get("task_id"), "task_id")
    task = world.download(world.task(advertiser.advertiser_id, task_id, _region(request)))
    name = f"leads_{task.task_id}.{'zip' if task.is_zip else 'csv'}"
    media_type = "application/zip" if task.is_zip else "text/csv; charset=utf-8"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(task.file, media_type=media_type, headers=headers)


@router.post("/page/lead/mock/create/", name="business_mock_lead")
async def mock_lead(request: Request, emulator: EmulatorDep) -> JSONResponse:
    """One test lead per form (delete it to make another); delivered like a real one."""
    await _enter(request, emulator, "mock_create")
    body = await _body(request)
    _, form = _advertiser_and_form(emulator, _grant(request, emulator), body)
    world = emulator.business
    if world.test_lead(form) is not None:
        raise BusinessError(
            BAD_PARAMS, "This form already has a test lead; delete it with page/lead/mock/delete/."
        )
    lead = world.add_lead(form, region=None, test=True)
    await deliver_leads(world, [lead], batch=True)
    return _ok(emulator, {"lead_id": lead.lead_id})


@router.post("/page/lead/mock/delete/", name="business_mock_lead_delete")
async def mock_lead_delete(request: Request, emulator: EmulatorDep) -> JSONResponse:
    await _enter(request, emulator, "mock_delete")
    body = await _body(request)
    _, form = _advertiser_and_form(emulator, _grant(request, emulator), body)
    if not emulator.business.delete_test_lead(form):
        raise BusinessError(BAD_PARAMS, "This form has no test lead.")
    return _ok(emulator, {})


# --- lead webhook subscriptions -----------------------------------------------------------------


def _callback_url(value: object) -> str:
    if isinstance(value, str):
        parts = urlsplit(value)
        if parts.scheme in ("http", "https") and parts.hostname:
            return value
    raise BusinessError(BAD_PARAMS, "callback_url must be an http(s) URL.")


@router.post("/subscription/subscribe/", name="business_subscribe")
async def subscribe(request: Request, emulator: EmulatorDep) -> JSONResponse:
    await _enter(request, emulator, "subscribe")
    body = await _app_body(request, emulator)
    world = emulator.business
    if body.get("subscribe_entity") != "LEAD":
        raise BusinessError(BAD_PARAMS, "subscribe_entity must be LEAD.")
    callback_url = _callback_url(body.get("callback_url"))
    detail = body.get("subscription_detail")
    if not isinstance(detail, dict):
        raise BusinessError(BAD_PARAMS, "subscription_detail is required.")
    if detail.get("lead_source", "INSTANT_FORM") != "INSTANT_FORM":
        raise BusinessError(BAD_PARAMS, "lead_source must be INSTANT_FORM.")
    token = detail.get("access_token")
    grant = world.grant(token if isinstance(token, str) else None)
    advertiser = world.advertiser(grant, _id(detail.get("advertiser_id"), "advertiser_id"))
    page_id = _optional_id(detail.get("page_id"), "page_id")
    if page_id is not None:
        world.form(advertiser, page_id)
    subscription = world.subscribe(grant, advertiser.advertiser_id, page_id, callback_url)
    return _ok(emulator, {"subscription_id": int(subscription.subscription_id)})


@router.get("/subscription/get/", name="business_subscriptions")
async def subscriptions(request: Request, emulator: EmulatorDep) -> JSONResponse:
    """The app's live lead subscriptions (those of revoked tokens are gone, silently)."""
    await _enter(request, emulator, "subscription_get")
    params = request.query_params
    world = emulator.business
    world.authenticate_app(params.get("app_id"), params.get("secret"))
    if params.get("subscribe_entity", "LEAD") != "LEAD":
        raise BusinessError(BAD_PARAMS, "subscribe_entity must be LEAD.")
    advertiser_id = _optional_id(params.get("advertiser_id"), "advertiser_id")
    items = []
    for subscription in world.live_subscriptions(advertiser_id):
        detail: dict[str, Any] = {
            "advertiser_id": subscription.advertiser_id,
            "lead_source": "INSTANT_FORM",
        }
        if subscription.page_id is not None:
            detail["page_id"] = int(subscription.page_id)
        items.append(
            {
                "subscription_id": int(subscription.subscription_id),
                "subscribe_entity": "LEAD",
                "callback_url": subscription.callback_url,
                "subscription_detail": detail,
            }
        )
    page_info = {"page": 1, "page_size": len(items), "total_number": len(items), "total_page": 1}
    return _ok(emulator, {"list": items, "page_info": page_info})


@router.post("/subscription/unsubscribe/", name="business_unsubscribe")
async def unsubscribe(request: Request, emulator: EmulatorDep) -> JSONResponse:
    await _enter(request, emulator, "unsubscribe")
    body = await _app_body(request, emulator)
    world = emulator.business
    world.unsubscribe(_id(body.get("subscription_id"), "subscription_id"))
    return _ok(emulator, {})

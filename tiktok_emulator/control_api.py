"""The control API tests and developers drive the emulator with (`/_control/...`)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from tiktok_emulator.deps import EmulatorDep
from tiktok_emulator.faults import Fault, FaultKind, FaultTarget
from tiktok_emulator.webhooks import authorization_removed_body, deliver

router = APIRouter(prefix="/_control", tags=["control"])


class FaultSpec(BaseModel):
    endpoint: FaultTarget
    kind: FaultKind
    count: int = Field(1, ge=1, description="How many of the next matching requests it affects")
    latency_ms: int = Field(0, ge=0, le=120_000, description="Delay for kind=latency")
    error: str | None = Field(
        None,
        description="Error code for kind=error_body (default: invalid_grant for token and "
        "revoke, internal_error for the Display API)",
    )


class PendingFault(FaultSpec):
    remaining: int


class Faults(BaseModel):
    pending: list[PendingFault]


class UserSummary(BaseModel):
    open_id: str
    union_id: str
    display_name: str
    username: str
    is_verified: bool
    follower_count: int
    video_count: int
    live_access_tokens: int


class Users(BaseModel):
    users: list[UserSummary]


class WebhookDelivery(BaseModel):
    url: str
    status_code: int | None
    error: str | None


class UserRevoked(BaseModel):
    open_id: str
    revoked_grants: int
    webhook: WebhookDelivery | None = Field(description="Null when no webhook_url is set")


class ClockAdvance(BaseModel):
    seconds: float = Field(gt=0)


class Clock(BaseModel):
    now: float


class Cleared(BaseModel):
    cleared: int


def _pending(fault: Fault) -> PendingFault:
    return PendingFault(
        endpoint=fault.endpoint,
        kind=fault.kind,
        count=fault.remaining,
        remaining=fault.remaining,
        latency_ms=fault.latency_ms,
        error=fault.error,
    )


@router.get("/faults", name="list_faults")
async def list_faults(emulator: EmulatorDep) -> Faults:
    return Faults(pending=[_pending(fault) for fault in emulator.faults.faults])


@router.post("/faults", status_code=201, name="add_fault")
async def add_fault(spec: FaultSpec, emulator: EmulatorDep) -> Faults:
    emulator.faults.add(
        Fault(
            endpoint=spec.endpoint,
            kind=spec.kind,
            remaining=spec.count,
            latency_ms=spec.latency_ms,
            error=spec.error,
        )
    )
    return await list_faults(emulator)


@router.delete("/faults", name="clear_faults")
async def clear_faults(emulator: EmulatorDep) -> Cleared:
    return Cleared(cleared=emulator.faults.clear())


@router.post("/reset", status_code=204, name="reset")
async def reset(emulator: EmulatorDep) -> None:
    emulator.reset()


@router.get("/stats", name="stats")
async def stats(emulator: EmulatorDep) -> dict[str, int]:
    return dict(emulator.stats)


@router.post("/clock", name="advance_clock")
async def advance_clock(body: ClockAdvance, emulator: EmulatorDep) -> Clock:
    return Clock(now=emulator.advance(body.seconds))


@router.get("/users", name="list_users")
async def list_users(emulator: EmulatorDep) -> Users:
    return Users(
        users=[
            UserSummary(
                open_id=user.open_id,
                union_id=user.union_id,
                display_name=user.display_name,
                username=user.username,
                is_verified=user.is_verified,
                follower_count=user.follower_count,
                video_count=len(emulator.videos[user.open_id]),
                live_access_tokens=emulator.grants.live_token_count(user.open_id),
            )
            for user in emulator.users.values()
        ]
    )


@router.post("/users/{open_id}/revoke", name="revoke_user")
async def revoke_user(
    open_id: str,
    emulator: EmulatorDep,
    reason: int = Query(1, ge=0, le=5, description="authorization.removed reason (1: user)"),
) -> UserRevoked:
    """The user disconnects the app in TikTok: tokens die first, then the webhook is sent."""
    if open_id not in emulator.users:
        raise HTTPException(404, "No such user.")
    client_key = emulator.config.client_key
    revoked = emulator.grants.revoke_user(client_key, open_id)
    webhook = None
    if emulator.config.webhook_url:
        now = int(emulator.now())
        body = authorization_removed_body(client_key, open_id, reason, now)
        delivery = await deliver(
            emulator.config.webhook_url, emulator.config.client_secret, body, now
        )
        webhook = WebhookDelivery(
            url=delivery.url, status_code=delivery.status_code, error=delivery.error
        )
    return UserRevoked(open_id=open_id, revoked_grants=revoked, webhook=webhook)

"""The TikTok webhook route: verified by a dependency, stored with one INSERT, acknowledged.

Nothing is applied here: the inbox job (`app.webhooks.jobs`) applies stored events in
batches, woken right after the store.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from app.core.errors import error_responses
from app.core.http import API_PREFIX
from app.core.openapi import WEBHOOKS_TAG
from app.webhooks import service
from app.webhooks.schemas import TikTokWebhookEnvelope, WebhookAck
from app.webhooks.signature import SIGNATURE_HEADER, SignedWebhookDep

router = APIRouter(prefix=f"{API_PREFIX}/webhooks", tags=[WEBHOOKS_TAG])

# The body and signature are read raw (the HMAC covers the exact bytes), so FastAPI cannot
# infer them; they are declared here for the OpenAPI document.
_OPENAPI_REQUEST: dict[str, Any] = {
    "parameters": [
        {
            "name": SIGNATURE_HEADER,
            "in": "header",
            "required": True,
            "description": '`t=<unix ts>,s=<hex HMAC-SHA256(client_secret, "t.body")>`',
            "schema": {"type": "string"},
        }
    ],
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": TikTokWebhookEnvelope.model_json_schema()}},
    },
}


@router.post(
    "/tiktok/",
    summary="TikTok Login Kit / developer-portal webhooks",
    description="Signed by TikTok. A distinct event is stored before the 200 and processed "
    "once; a retry of a stored event answers `duplicate`; a signed but unusable event is "
    "stored as rejected and still answered 200 so TikTok stops retrying it.",
    responses=error_responses(401, 413, 503),
    openapi_extra=_OPENAPI_REQUEST,
)
async def receive_tiktok_webhook(webhook: SignedWebhookDep, request: Request) -> WebhookAck:
    state = request.app.state
    # Committed before the answer; no session, no unit of work, no work after the response.
    receipt = await service.ingest(state.engine, webhook)
    if receipt.event_id is not None:
        state.webhook_inbox.notify()
    return WebhookAck(status=receipt.status, reason=receipt.reason)

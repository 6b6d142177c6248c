"""The TikTok webhook route: verified, stored with one INSERT, acknowledged.

Nothing is applied here: the inbox job (`app.webhooks.jobs`) applies stored events in
batches, woken right after the store. The route is a `RawRoute`: it reads the signature and
the raw body itself and answers its own JSON, so a delivery costs no dependency solving or
response validation (the route's documentation is declared below).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.core.errors import error_responses
from app.core.http import API_PREFIX
from app.core.openapi import WEBHOOKS_TAG
from app.core.routing import RawRoute
from app.webhooks.schemas import TikTokWebhookEnvelope, WebhookAck
from app.webhooks.signature import SIGNATURE_HEADER, verified_webhook

router = APIRouter(prefix=f"{API_PREFIX}/webhooks", tags=[WEBHOOKS_TAG], route_class=RawRoute)

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
    response_model=WebhookAck,
    responses=error_responses(401, 413, 503),
    openapi_extra=_OPENAPI_REQUEST,
)
async def receive_tiktok_webhook(request: Request) -> Response:
    state = request.app.state
    webhook = await verified_webhook(request, state.webhook_verifier)
    # Committed before the answer (with the deliveries that came with it); no work after it.
    receipt = await state.webhook_store.ingest(webhook)
    if receipt.event_id is not None:
        state.webhook_inbox.notify()
    ack = WebhookAck(status=receipt.status, reason=receipt.reason)
    return Response(ack.model_dump_json(), media_type="application/json")

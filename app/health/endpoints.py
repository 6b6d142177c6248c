"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.deps import SettingsDep
from app.core.config import Settings
from app.core.errors import InvalidToken, Unauthorized, error_responses
from app.core.migrations import current_revisions
from app.core.openapi import OPS_TAG
from app.health.metrics import business_metrics

router = APIRouter(tags=[OPS_TAG])
logger = logging.getLogger("app.health")


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migrations: str


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Readiness: database reachable and migrated to head",
    responses={503: {"model": Readiness, "description": "Not ready"}},
)
async def readyz(request: Request) -> Readiness:
    engine: AsyncEngine = request.app.state.engine
    heads: set[str] = request.app.state.migration_heads
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            current = await connection.run_sync(current_revisions)
    except Exception as exc:
        logger.warning(
            "readiness check failed: database unreachable", extra={"error": type(exc).__name__}
        )
        body = Readiness(status="unavailable", database="unreachable", migrations="unknown")
        return JSONResponse(body.model_dump(), status_code=503)  # type: ignore[return-value]
    if current != heads:
        body = Readiness(status="unavailable", database="ok", migrations="behind")
        return JSONResponse(body.model_dump(), status_code=503)  # type: ignore[return-value]
    return Readiness(status="ok", database="ok", migrations="head")


def _require_metrics_token(request: Request, settings: Settings) -> None:
    """With METRICS_BEARER_TOKEN set, only `Authorization: Bearer <it>` reads the metrics."""
    if settings.metrics_bearer_token is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Unauthorized("/metrics needs `Authorization: Bearer <METRICS_BEARER_TOKEN>`.")
    expected = settings.metrics_bearer_token.get_secret_value()
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise InvalidToken("The metrics bearer token is not valid.")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="With `METRICS_BEARER_TOKEN` set, it needs `Authorization: Bearer <token>`.",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"},
        **error_responses(401),
    },
)
async def metrics(request: Request, settings: SettingsDep) -> Response:
    _require_metrics_token(request, settings)
    # Read after the token check: an unauthenticated scrape costs no query.
    business = await business_metrics(getattr(request.app.state, "read_sessionmaker", None))
    body = generate_latest(request.app.state.metrics.registry) + generate_latest(business)
    return Response(body, media_type=CONTENT_TYPE_LATEST)

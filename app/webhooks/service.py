"""The rules for TikTok webhooks: store each distinct event once, then apply it once.

The webhook inbox holds both of TikTok's webhook families (`WebhookSource`). `receive`
stores a verified Login Kit delivery with one `INSERT … ON CONFLICT DO NOTHING` in the
request's short transaction, so the event is committed before TikTok gets its 200, and does
nothing else; lead webhooks are stored by their own route (`app.leads`) through `store`.
`process_pending` runs in the inbox job (`app.webhooks.jobs`): it claims a batch of stored
rows, applies each with its source's handler (Login Kit's is here; other packages hand theirs
in as `InboxHandlers`, so this package imports none of them), and marks the applied ones
processed in the same transaction as their effects, so a row is never applied twice; one
that failed has the failure counted and stays `received`, due again after a backoff, for the
sweeper (then `failed`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.accounts import lifecycle
from app.accounts.models import AccountStatus, IntegrationAccount
from app.audit import service as audit
from app.audit.models import LogLevel
from app.core.db import session_scope, single_write, utcnow
from app.core.group_commit import GroupCommit
from app.core.queue import Claim, Fate
from app.core.sql import storable_text
from app.tokens.store import wipe_tokens
from app.webhooks import repository
from app.webhooks.envelope import MalformedEvent, TikTokEvent, parse_event, raw_dedupe_key
from app.webhooks.models import WebhookEventStatus, WebhookSource
from app.webhooks.signature import SignedWebhook

logger = logging.getLogger("app.webhooks")

MAX_ATTEMPTS = repository.MAX_ATTEMPTS
# Events claimed and applied in one transaction by a processing pass.
BATCH_SIZE = 50
# Deliveries stored together, at most, by the webhook route's one INSERT.
STORE_BATCH_SIZE = 100
MAX_REASON_LENGTH = 500
AUTHORIZATION_REMOVED = "authorization.removed"
# TikTok's `authorization.removed` reason codes (TIKTOK_API.md §3).
REMOVAL_REASONS = {
    0: "unknown reason",
    1: "the user disconnected the app in TikTok",
    2: "the user deleted their TikTok account",
    3: "the user's age changed",
    4: "the TikTok account was banned",
    5: "the developer revoked the authorization",
}
# What each known event means, for the account log; unknown events are logged as such.
EVENT_MESSAGES = {
    "video.upload.failed": "A video upload to TikTok failed.",
    "video.publish.completed": "A video was published on TikTok.",
    "post.publish.failed": "Publishing a post on TikTok failed.",
    "post.publish.complete": "A post was published on TikTok.",
    "post.publish.inbox_delivered": "A post was delivered to the creator's TikTok inbox.",
    "post.publish.publicly_available": "A post is publicly available on TikTok.",
    "post.publish.no_longer_publicaly_available": "A post is no longer publicly available.",
    "portability.download.ready": "A TikTok data portability download is ready.",
    "tiktok.ping": "TikTok's test event was received.",
}
# Events that mean something went wrong for the user; the rest are informational.
WARNING_EVENTS = {"video.upload.failed", "post.publish.failed"}
MAX_LOG_EVENT_LENGTH = 64


@dataclass(frozen=True, slots=True)
class InboxItem:
    """A claimed inbox row, as its handler reads it."""

    id: uuid.UUID
    source: WebhookSource
    body: str
    client_key: str | None


# Applies one claimed inbox row of a source, in the pass's transaction.
InboxHandler = Callable[[AsyncSession, InboxItem], Awaitable[None]]
InboxHandlers = Mapping[WebhookSource, InboxHandler]


async def store(executor: AsyncSession | AsyncConnection, **values: Any) -> uuid.UUID | None:
    """Store an inbox row (columns as keywords) with one `INSERT … ON CONFLICT DO NOTHING`:
    its id, or None when a row with its dedupe key exists."""
    return await repository.insert_new(executor, **values)


@dataclass(frozen=True, slots=True)
class Receipt:
    status: Literal["accepted", "duplicate", "rejected"]
    event_id: uuid.UUID | None = None  # set when the event must now be processed
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    claimed: int
    processed: int


def _one_rows_fault(exc: Exception) -> bool:
    """Whether a failed grouped store may be one row's doing (a constraint, a value its column
    refuses, a parameter that cannot be bound), so its rows are worth storing one by one; a
    failure of the database itself (locked, down, disconnected) is not retried per row."""
    if isinstance(exc, IntegrityError | DataError):
        return True
    return isinstance(exc, StatementError) and not isinstance(exc, DBAPIError)


class InboxStore:
    """Where the webhook route stores Login Kit deliveries: concurrent requests share one
    `INSERT … ON CONFLICT DO NOTHING` and one short transaction (`GroupCommit`), and each
    gets its answer once its row is committed. No ORM session, no unit of work."""

    def __init__(self, engine: AsyncEngine, *, max_batch: int = STORE_BATCH_SIZE) -> None:
        self._engine = engine
        self._rows: GroupCommit[dict[str, Any], uuid.UUID | None] = GroupCommit(
            self._insert, max_batch=max_batch, retry_alone=_one_rows_fault
        )

    async def _insert(self, rows: Sequence[dict[str, Any]]) -> list[uuid.UUID | None]:
        async with single_write(self._engine) as connection:
            return await repository.insert_batch(connection, rows)

    async def ingest(self, webhook: SignedWebhook) -> Receipt:
        """The request's fast path: the event is parsed before anything is queued, then
        stored with the deliveries that arrived with it."""
        row, rejected = _inbox_row(webhook)
        return _receipt(await self._rows.submit(row), rejected)

    async def drain(self) -> None:
        """Wait for the rows being stored (at shutdown, before the engine closes)."""
        await self._rows.drain()


async def receive(executor: AsyncSession | AsyncConnection, webhook: SignedWebhook) -> Receipt:
    """Store a verified delivery once. Raises `ClientKeyMismatch` for another app's event."""
    row, rejected = _inbox_row(webhook)
    return _receipt(await repository.insert_new(executor, **row), rejected)


def _inbox_row(webhook: SignedWebhook) -> tuple[dict[str, Any], str | None]:
    """The inbox row for a delivery, and why it is rejected if it is unusable. Raises
    `ClientKeyMismatch` for another app's event (a 401: nothing is stored). A row is due
    when it is received."""
    now = utcnow()
    received = {"received_at": now, "next_attempt_at": now}
    try:
        event = parse_event(webhook.body, webhook.client_key)
    except MalformedEvent as exc:
        reason = str(exc)
        row: dict[str, Any] = {
            **received,
            "dedupe_key": raw_dedupe_key(webhook.body),
            "body": storable_text(webhook.body),
            "status": WebhookEventStatus.rejected,
            "reason": reason,
        }
        return row, reason
    return {
        **received,
        "dedupe_key": event.dedupe_key,
        "event": event.event,
        "user_openid": event.user_openid,
        "client_key": event.client_key,
        "create_time": event.create_time,
        "body": storable_text(webhook.body),
        "status": WebhookEventStatus.received,
    }, None


def _receipt(stored: uuid.UUID | None, rejected: str | None) -> Receipt:
    if rejected is not None:
        if stored is None:
            return Receipt("duplicate", reason=rejected)
        logger.warning(
            "tiktok webhook rejected", extra={"event_id": str(stored), "reason": rejected}
        )
        return Receipt("rejected", reason=rejected)
    if stored is None:
        return Receipt("duplicate")
    return Receipt("accepted", event_id=stored)


async def process_pending(
    sessionmaker: async_sessionmaker[AsyncSession],
    handlers: InboxHandlers | None = None,
    *,
    limit: int = BATCH_SIZE,
    retries: bool = True,
    before: datetime | None = None,
    event_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Batch:
    """One batch from the inbox, in one transaction: claim, apply each, settle.

    The applied events are marked processed in the transaction of their effects. When one
    event fails, the batch is rolled back and run again with each event in a savepoint: the
    failing one is rolled back alone and its failure counted (it stays `received`, due
    again after a backoff, until MAX_ATTEMPTS, then becomes `failed`), the others commit.
    `now` (default: the clock) decides which rows are due and when a failed one is next.
    """
    handlers = handlers or {}
    claim = {
        "limit": limit,
        "retries": retries,
        "before": before,
        "event_id": event_id,
        "now": now or utcnow(),
        # Only the sources this pass can apply: a row is never claimed to be failed.
        "sources": sorted({WebhookSource.tiktok, *handlers}),
    }
    try:
        return await _process_batch(sessionmaker, claim, handlers, isolated=False)
    except Exception:
        return await _process_batch(sessionmaker, claim, handlers, isolated=True)


# The Login Kit accounts of each TikTok user a pass's events name, read once per pass.
Links = Mapping[str, list[repository.LinkedAccount]]


async def _dispatch(
    session: AsyncSession, stored: InboxItem, handlers: InboxHandlers, links: Links
) -> None:
    if stored.source == WebhookSource.tiktok:
        await _apply(session, stored, links)
    else:
        await handlers[stored.source](session, stored)


async def _links(session: AsyncSession, claimed: Sequence[Claim]) -> Links:
    open_ids = {
        claim.row["user_openid"]
        for claim in claimed
        if claim.row["source"] == WebhookSource.tiktok and claim.row["user_openid"]
    }
    return await repository.linked_accounts(session, open_ids)


def _item(claim: Claim) -> InboxItem:
    row = claim.row
    return InboxItem(
        id=claim.id,
        source=WebhookSource(row["source"]),
        body=row["body"],
        client_key=row["client_key"],
    )


async def _process_batch(
    sessionmaker: async_sessionmaker[AsyncSession],
    claim: dict[str, Any],
    handlers: InboxHandlers,
    *,
    isolated: bool,
) -> Batch:
    processed: list[Claim] = []
    async with session_scope(sessionmaker) as session:
        claimed = await repository.claim(session, **claim)
        links = await _links(session, claimed)
        for stored in claimed:
            item = _item(stored)
            if not isolated:
                await _dispatch(session, item, handlers, links)
                processed.append(stored)
                continue
            try:
                async with session.begin_nested():
                    await _dispatch(session, item, handlers, links)
            except Exception as exc:
                logger.exception(
                    "tiktok webhook processing failed", extra={"event_id": str(stored.id)}
                )
                fate = await repository.count_failure(session, stored, _describe(exc), claim["now"])
                if fate == Fate.dead:
                    logger.error(
                        "tiktok webhook failed for good",
                        extra={"event_id": str(stored.id), "attempts": stored.attempt},
                    )
            else:
                processed.append(stored)
        await repository.mark_processed(session, processed, utcnow())
    return Batch(claimed=len(claimed), processed=len(processed))


async def process(
    sessionmaker: async_sessionmaker[AsyncSession],
    event_id: uuid.UUID,
    handlers: InboxHandlers | None = None,
) -> bool:
    """Process one stored event if nobody has; True when this call processed it."""
    batch = await process_pending(sessionmaker, handlers, limit=1, event_id=event_id)
    return batch.processed == 1


def _describe(exc: Exception) -> str:
    # First line only: database errors append the statement and its parameters.
    first_line = next(iter(str(exc).splitlines()), "")
    return f"{type(exc).__name__}: {first_line}"[:MAX_REASON_LENGTH]


async def _apply(session: AsyncSession, stored: InboxItem, links: Links) -> None:
    # The body was validated when it was stored; parse it again for the content.
    event = parse_event(stored.body.encode(), stored.client_key or "")
    if event.event == AUTHORIZATION_REMOVED:
        await _authorization_removed(session, stored.id, event)
    else:
        await _record(session, stored.id, event, links.get(event.user_openid or "", []))


def _log_event(name: str) -> str:
    full = name if name.startswith("tiktok.") else f"tiktok.{name}"
    return full[:MAX_LOG_EVENT_LENGTH]


def _removal_reason(content: dict[str, Any]) -> tuple[Any, str]:
    code = content.get("reason")
    if isinstance(code, int) and not isinstance(code, bool) and code in REMOVAL_REASONS:
        return code, REMOVAL_REASONS[code]
    return code, f"unknown reason ({code})" if code is not None else REMOVAL_REASONS[0]


async def _authorization_removed(
    session: AsyncSession, event_id: uuid.UUID, event: TikTokEvent
) -> None:
    """The user's token is already revoked at TikTok: disconnect every account linked to
    that user (in any company) and wipe its tokens; there is nothing to call at TikTok."""
    code, words = _removal_reason(event.content)
    data = {"reason": code, "reason_text": words, "webhook_event_id": str(event_id)}
    accounts = (
        await repository.lock_tiktok_accounts(session, event.user_openid)
        if event.user_openid
        else []
    )
    removed_at = datetime.fromtimestamp(event.create_time, UTC) if event.create_time else None
    for account in accounts:
        if account.status == AccountStatus.disconnected:
            message = f"TikTok reported the authorization removed: {words}."
            level = LogLevel.info
        elif _reconnected_since(account, removed_at):
            # A late retry (TikTok retries for 72 h) must not undo a newer connection.
            message = (
                f"TikTok reported the authorization removed ({words}), but the account was "
                "reconnected afterwards; it stays connected."
            )
            level = LogLevel.info
        else:
            wipe_tokens(account)
            lifecycle.disconnected(
                session,
                account,
                reason=lifecycle.DisconnectReason.tiktok_revoked,
                tiktok_reason=words,
                error_code="authorization_removed",
                audit_event="tiktok.authorization_removed",
                level=LogLevel.warning,
                message=f"TikTok removed the authorization: {words}. The account is "
                "disconnected and its tokens are deleted; reconnect it to use it again.",
                data=data,
            )
            continue
        audit.record(
            session,
            event="tiktok.authorization_removed",
            company_id=account.company_id,
            account_id=account.id,
            level=level,
            message=message,
            data=data,
        )
    if not accounts:
        audit.record(
            session,
            event="tiktok.authorization_removed",
            company_id=None,
            message=f"TikTok removed the authorization of a user with no linked account: {words}.",
            data={**data, "user_openid": event.user_openid},
        )


def _reconnected_since(account: IntegrationAccount, removed_at: datetime | None) -> bool:
    """True when the account was (re)connected after TikTok removed the authorization.

    TikTok's `create_time` has whole seconds: a removal in the same second as the connect
    is not "before" it, so only a connect at least one full second later counts.
    """
    connected_at = account.connected_at
    if removed_at is None or connected_at is None:
        return False
    return connected_at.replace(microsecond=0) > removed_at


async def _record(
    session: AsyncSession,
    event_id: uuid.UUID,
    event: TikTokEvent,
    accounts: Sequence[repository.LinkedAccount],
) -> None:
    """Any other event (video, post publishing, data portability, test, unknown) goes to
    the log of each account linked to the user (read for the whole pass), or to one
    unattached entry."""
    level = LogLevel.warning if event.event in WARNING_EVENTS else LogLevel.info
    data = {**event.content, "webhook_event_id": str(event_id)}
    message = EVENT_MESSAGES.get(event.event, f"TikTok sent an unknown event: {event.event}.")
    for account in accounts:
        audit.record(
            session,
            event=_log_event(event.event),
            company_id=account.company_id,
            account_id=account.id,
            level=level,
            message=message,
            data=data,
        )
    if not accounts:
        audit.record(
            session,
            event=_log_event(event.event),
            company_id=None,
            level=level,
            message=message,
            data={**data, "user_openid": event.user_openid},
        )

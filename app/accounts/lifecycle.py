"""The one owner of an account's status, for both platforms.

Every status change of an `IntegrationAccount` happens here, and each one writes, in the
caller's transaction, the audit entry that explains it and the event the CRM is told (the
`events` outbox), so the three never disagree. The transitions (`ALLOWED` below):

- to `connected` from any status: an OAuth callback completed (Login Kit or TikTok for
  Business), a reconnect. Event `account.connected`.
- to `disconnected` from connected, reauth_required, error or disconnected: the user
  disconnects, TikTok removed the authorization, or the account is deleted. Event
  `account.disconnected` with reason `user`, `tiktok_revoked` or `deleted`.
- to `reauth_required` from connected: TikTok refused the refresh token or a fresh token,
  or the stored token cannot be decrypted. Event `account.reauth_required`.
- deleted (the row goes) from any status. Event `account.deleted`.

A pending account that is "disconnected" stays pending (it never had tokens): its audit
entry is written, no event. Anything else is an `IllegalTransition` (a bug, not an input).
Callers decide *whether* to move (under the row lock, after their own checks); this module
decides whether the move is allowed and records it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import AccountStatus, IntegrationAccount
from app.audit import service as audit
from app.audit.models import LogLevel
from app.core.db import utcnow
from app.events import outbox
from app.events.models import EventType

# to -> the statuses it may be reached from
ALLOWED: dict[AccountStatus, frozenset[AccountStatus]] = {
    AccountStatus.connected: frozenset(AccountStatus),
    AccountStatus.disconnected: frozenset(
        {
            AccountStatus.connected,
            AccountStatus.reauth_required,
            AccountStatus.error,
            AccountStatus.disconnected,
        }
    ),
    AccountStatus.reauth_required: frozenset({AccountStatus.connected}),
}


class DisconnectReason(enum.StrEnum):
    user = "user"  # POST /disconnect/
    tiktok_revoked = "tiktok_revoked"  # TikTok's authorization.removed
    deleted = "deleted"  # DELETE /accounts/{id}/ of a connected account


class IllegalTransition(Exception):
    def __init__(self, account: IntegrationAccount, to: AccountStatus) -> None:
        super().__init__(f"account {account.id}: {account.status.value} -> {to.value}")


def _move(account: IntegrationAccount, to: AccountStatus) -> None:
    if account.status not in ALLOWED[to]:
        raise IllegalTransition(account, to)
    account.status = to


def _emit(
    session: AsyncSession, type: EventType, account: IntegrationAccount, **extra: Any
) -> None:
    """The account's event, describing it as it now is (plus `extra`)."""
    outbox.emit(
        session,
        type,
        company_id=account.company_id,
        account_id=account.id,
        data={
            "account_id": str(account.id),
            "platform": account.platform.value,
            "status": account.status.value,
            "external_id": account.external_id,
            "display_name": account.display_name,
            **extra,
        },
    )


def connected(
    session: AsyncSession,
    account: IntegrationAccount,
    *,
    now: datetime,
    actor: str | None,
    message: str,
    data: dict[str, Any],
) -> None:
    """The OAuth callback stored the account's new tokens: it is connected."""
    _move(account, AccountStatus.connected)
    account.connected_at = now
    account.disconnected_at = None
    account.last_error_code = None
    audit.record(
        session,
        event="connect.succeeded",
        company_id=account.company_id,
        account_id=account.id,
        actor=actor,
        message=message,
        data=data,
    )
    _emit(session, EventType.account_connected, account, scopes=account.scopes)


def disconnected(
    session: AsyncSession,
    account: IntegrationAccount,
    *,
    reason: DisconnectReason,
    audit_event: str,
    message: str,
    data: dict[str, Any],
    level: LogLevel = LogLevel.info,
    actor: str | None = None,
    error_code: str | None = None,
    tiktok_reason: str | None = None,
) -> None:
    """The account's tokens are gone (the caller wiped them): it is disconnected."""
    account.disconnected_at = utcnow()
    if error_code is not None:
        account.last_error_code = error_code
    audit.record(
        session,
        event=audit_event,
        company_id=account.company_id,
        account_id=account.id,
        actor=actor,
        level=level,
        message=message,
        data=data,
    )
    if account.status == AccountStatus.pending:
        return
    _move(account, AccountStatus.disconnected)
    extra: dict[str, Any] = {"reason": reason.value}
    if tiktok_reason is not None:
        extra["tiktok_reason"] = tiktok_reason
    _emit(session, EventType.account_disconnected, account, **extra)


def reauth_required(
    session: AsyncSession,
    account: IntegrationAccount,
    *,
    error_code: str,
    audit_event: str,
    message: str,
    data: dict[str, Any],
) -> None:
    """TikTok no longer accepts the account's tokens, or they cannot be read: the user
    must reconnect it."""
    _move(account, AccountStatus.reauth_required)
    account.last_error_code = error_code
    audit.record(
        session,
        event=audit_event,
        company_id=account.company_id,
        account_id=account.id,
        level=LogLevel.error,
        message=message,
        data=data,
    )
    _emit(session, EventType.account_reauth_required, account, error_code=error_code)


def deleted(
    session: AsyncSession,
    account: IntegrationAccount,
    *,
    actor: str | None,
    message: str,
    data: dict[str, Any],
) -> None:
    """The account is about to be deleted (the caller deletes the row): a connected one is
    first disconnected (reason `deleted`), then `account.deleted`. The audit entry is not
    attached to the account, so it outlives the row."""
    if account.status != AccountStatus.pending and account.status != AccountStatus.disconnected:
        _move(account, AccountStatus.disconnected)
        _emit(
            session, EventType.account_disconnected, account, reason=DisconnectReason.deleted.value
        )
    audit.record(
        session,
        event="account.deleted",
        company_id=account.company_id,
        account_id=None,
        actor=actor,
        message=message,
        data=data,
    )
    _emit(session, EventType.account_deleted, account)

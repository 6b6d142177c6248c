"""The lifecycle owner: the one module that moves an account's status, and its rules."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts import lifecycle
from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.audit.models import IntegrationLog
from app.core.db import session_scope
from app.events.models import Event, EventType
from tests.conftest import REPO_ROOT

# `<anything>.status = AccountStatus.x`, or `<account…>.status = <anything>`
STATUS_WRITE = re.compile(r"\.status\s*=\s*AccountStatus\.|\baccount\w*\.status\s*=(?!=)")


def test_only_the_lifecycle_module_writes_an_accounts_status() -> None:
    writers = sorted(
        str(path.relative_to(REPO_ROOT))
        for path in (REPO_ROOT / "app").rglob("*.py")
        for line in path.read_text().splitlines()
        if STATUS_WRITE.search(line)
    )
    assert writers == ["app/accounts/lifecycle.py"]


def _account(status: AccountStatus) -> IntegrationAccount:
    return IntegrationAccount(
        id=uuid.uuid4(),
        company_id="acme",
        platform=Platform.tiktok,
        name="Shop",
        status=status,
        token_version=1,
    )


@pytest.mark.parametrize("status", [AccountStatus.pending, AccountStatus.disconnected])
async def test_only_a_connected_account_can_need_reauthorising(
    sessionmaker: async_sessionmaker[AsyncSession], status: AccountStatus
) -> None:
    async with sessionmaker() as session:
        with pytest.raises(lifecycle.IllegalTransition):
            lifecycle.reauth_required(
                session,
                _account(status),
                error_code="invalid_grant",
                audit_event="token.refresh_failed",
                message="m",
                data={},
            )


async def test_a_transition_its_audit_entry_and_its_event_commit_or_roll_back_together(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    account = _account(AccountStatus.connected)
    async with session_scope(sessionmaker) as session:
        session.add(account)

    async def transition_then_fail() -> None:
        async with session_scope(sessionmaker) as session:
            stored = await session.get(IntegrationAccount, account.id)
            assert stored is not None
            lifecycle.reauth_required(
                session,
                stored,
                error_code="invalid_grant",
                audit_event="token.refresh_failed",
                message="m",
                data={},
            )
            await session.flush()
            raise RuntimeError("the caller fails after the transition")

    with pytest.raises(RuntimeError):
        await transition_then_fail()

    async with sessionmaker() as session:
        stored = await session.get(IntegrationAccount, account.id)
        assert stored is not None
        assert stored.status == AccountStatus.connected
        assert list(await session.scalars(select(Event))) == []
        assert list(await session.scalars(select(IntegrationLog))) == []

    async with session_scope(sessionmaker) as session:
        stored = await session.get(IntegrationAccount, account.id)
        assert stored is not None
        lifecycle.reauth_required(
            session,
            stored,
            error_code="invalid_grant",
            audit_event="token.refresh_failed",
            message="m",
            data={},
        )
    async with sessionmaker() as session:
        stored = await session.get(IntegrationAccount, account.id)
        assert stored is not None
        assert stored.status == AccountStatus.reauth_required
        assert stored.last_error_code == "invalid_grant"
        (event,) = await session.scalars(select(Event))
        assert event.type == EventType.account_reauth_required
        assert event.data["account_id"] == str(account.id)
        (entry,) = await session.scalars(select(IntegrationLog))
        assert entry.event == "token.refresh_failed"

"""Re-encrypt every stored token under the current (first) INTEGRATION_ENCRYPTION_KEY.

Run after putting a new key first in the list; afterwards the old key can be removed.
Rows are re-encrypted in small locked batches, so a token refresh running at the same time
either happens before (and is re-encrypted) or after (and already uses the new key).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts.models import IntegrationAccount
from app.core.crypto import DecryptionError, TokenCipher
from app.core.db import session_scope
from app.tokens.store import ACCESS, REFRESH

BATCH = 100


@dataclass
class RotationReport:
    total: int = 0
    rotated: int = 0
    unreadable: int = 0


def _reseal(
    cipher: TokenCipher, account: IntegrationAccount, field: str, value: str | None
) -> str | None:
    if value is None or not cipher.needs_rotation(value):
        return value
    plain = cipher.decrypt(value, account_id=account.id, field=field)
    return cipher.encrypt(plain, account_id=account.id, field=field)


async def rotate_keys(
    sessionmaker: async_sessionmaker[AsyncSession],
    cipher: TokenCipher,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> RotationReport:
    has_tokens = or_(
        IntegrationAccount.access_token_ciphertext.is_not(None),
        IntegrationAccount.refresh_token_ciphertext.is_not(None),
    )
    report = RotationReport()
    async with sessionmaker() as session:
        report.total = int(await session.scalar(select(func.count()).where(has_tokens)) or 0)
    last_id: uuid.UUID | None = None
    done = 0
    while True:
        async with session_scope(sessionmaker) as session:
            query = select(IntegrationAccount).where(has_tokens).order_by(IntegrationAccount.id)
            if last_id is not None:
                query = query.where(IntegrationAccount.id > last_id)
            rows = list((await session.scalars(query.limit(BATCH).with_for_update())).all())
            for account in rows:
                try:
                    access = _reseal(cipher, account, ACCESS, account.access_token_ciphertext)
                    refresh = _reseal(cipher, account, REFRESH, account.refresh_token_ciphertext)
                except DecryptionError:
                    report.unreadable += 1
                    continue
                if (access, refresh) != (
                    account.access_token_ciphertext,
                    account.refresh_token_ciphertext,
                ):
                    account.access_token_ciphertext = access
                    account.refresh_token_ciphertext = refresh
                    report.rotated += 1
        if not rows:
            break
        last_id = rows[-1].id
        done += len(rows)
        progress(min(done, report.total), report.total)
    return report

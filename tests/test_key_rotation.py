"""Key rotation: `rotate_keys` (and `python -m app rotate-keys`) re-encrypts every stored token
under the first INTEGRATION_ENCRYPTION_KEY, keeps the plaintexts, and reports what no key reads.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.core.config import Settings
from app.core.crypto import DecryptionError, TokenCipher
from app.core.db import create_sessionmaker, session_scope
from app.core.migrations import upgrade_to_head
from app.tokens import rotation
from app.tokens.rotation import rotate_keys
from app.tokens.store import ACCESS, REFRESH
from tests.conftest import REPO_ROOT, make_settings

OLD = "b2xkLWtleS0wMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA="
NEW = "bmV3LWtleS0wMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA="
LOST = "bG9zdC1rZXktMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA="  # a key nobody configures any more


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url=database_url, background_jobs_enabled=False)


async def seed(
    sessionmaker: async_sessionmaker[AsyncSession],
    cipher: TokenCipher | None,
    *,
    access: str | None = None,
    refresh: str | None = None,
) -> uuid.UUID:
    account = IntegrationAccount(
        id=uuid.uuid4(),
        company_id="acme",
        platform=Platform.tiktok,
        name="Shop",
        status=AccountStatus.connected if cipher else AccountStatus.pending,
        token_version=1,
    )
    if cipher is not None and access is not None:
        account.access_token_ciphertext = cipher.encrypt(
            access, account_id=account.id, field=ACCESS
        )
    if cipher is not None and refresh is not None:
        account.refresh_token_ciphertext = cipher.encrypt(
            refresh, account_id=account.id, field=REFRESH
        )
    async with session_scope(sessionmaker) as session:
        session.add(account)
    return account.id


async def stored(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> dict[uuid.UUID, tuple[str | None, str | None]]:
    async with sessionmaker() as session:
        rows = (await session.scalars(select(IntegrationAccount))).all()
    return {row.id: (row.access_token_ciphertext, row.refresh_token_ciphertext) for row in rows}


def plaintexts(
    cipher: TokenCipher, account_id: uuid.UUID, sealed: tuple[str | None, str | None]
) -> tuple[str | None, str | None]:
    access, refresh = sealed
    return (
        access and cipher.decrypt(access, account_id=account_id, field=ACCESS),
        refresh and cipher.decrypt(refresh, account_id=account_id, field=REFRESH),
    )


async def test_rotation_reencrypts_every_token_under_the_new_key(sessionmaker, monkeypatch) -> None:
    monkeypatch.setattr(rotation, "BATCH", 2)  # several batches, so progress is reported often
    old, new = TokenCipher(OLD), TokenCipher(NEW)
    expected = {
        await seed(sessionmaker, old, access="act.a", refresh="rft.a"): ("act.a", "rft.a"),
        await seed(sessionmaker, old, access="act.b", refresh="rft.b"): ("act.b", "rft.b"),
        await seed(sessionmaker, old, refresh="rft.c"): (None, "rft.c"),
        await seed(sessionmaker, new, access="act.d", refresh="rft.d"): ("act.d", "rft.d"),
    }
    lost = await seed(sessionmaker, TokenCipher(LOST), access="act.x", refresh="rft.x")
    await seed(sessionmaker, None)  # pending, no tokens: nothing to rotate
    before = await stored(sessionmaker)
    progress: list[tuple[int, int]] = []

    report = await rotate_keys(
        sessionmaker,
        TokenCipher(f"{NEW},{OLD}"),
        lambda done, total: progress.append((done, total)),
    )

    assert (report.total, report.rotated, report.unreadable) == (5, 3, 1)
    assert progress[-1] == (5, 5)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    after = await stored(sessionmaker)
    for account_id, plain in expected.items():
        sealed = after[account_id]
        assert {new.key_id_of(c) for c in sealed if c is not None} == {new.current_key_id}
        assert plaintexts(new, account_id, sealed) == plain  # NEW alone reads everything
    assert after[lost] == before[lost]  # unreadable rows are left as they were
    with pytest.raises(DecryptionError):
        plaintexts(old, lost, after[lost])

    again = await rotate_keys(sessionmaker, TokenCipher(f"{NEW},{OLD}"))
    assert (again.total, again.rotated, again.unreadable) == (5, 0, 1)


async def test_a_malformed_token_is_reported_unreadable_not_a_crash(sessionmaker) -> None:
    old = TokenCipher(OLD)
    good = await seed(sessionmaker, old, access="act.a", refresh="rft.a")
    damaged = await seed(sessionmaker, old, access="act.b", refresh="rft.b")
    async with session_scope(sessionmaker) as session:
        account = await session.get(IntegrationAccount, damaged)
        assert account is not None
        account.access_token_ciphertext = f"v1.{old.current_key_id}.AAAA"  # 3 bytes of nonce
    before = await stored(sessionmaker)

    report = await rotate_keys(sessionmaker, TokenCipher(f"{NEW},{OLD}"))

    assert (report.total, report.rotated, report.unreadable) == (2, 1, 1)
    after = await stored(sessionmaker)
    assert after[damaged] == before[damaged]
    assert plaintexts(TokenCipher(NEW), good, after[good]) == ("act.a", "rft.a")


# ---- the command line -----------------------------------------------------------------------


def _rotate_keys_cli(database_url: str, keys: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AUTH_", "APP_ENV", "DATABASE_", "INTEGRATION_", "TIKTOK_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "app", "rotate-keys"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=clean | {"DATABASE_URL": database_url, "INTEGRATION_ENCRYPTION_KEY": keys},
        timeout=60,
        check=False,
    )


async def _database(path: Path) -> tuple[str, async_sessionmaker[AsyncSession]]:
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade_to_head, url)
    return url, create_sessionmaker(create_async_engine(url))


async def test_rotate_keys_command_reencrypts_and_reports(tmp_path) -> None:
    url, sessionmaker = await _database(tmp_path / "cli.db")
    old, new = TokenCipher(OLD), TokenCipher(NEW)
    try:
        first = await seed(sessionmaker, old, access="act.1", refresh="rft.1")
        second = await seed(sessionmaker, old, refresh="rft.2")

        result = await asyncio.to_thread(_rotate_keys_cli, url, f"{NEW},{OLD}")

        assert result.returncode == 0, result.stderr
        assert result.stdout == "re-encrypted 2 of 2 accounts under the current key\n"
        assert "2/2" in result.stderr  # the progress bar reached the end
        after = await stored(sessionmaker)
        assert plaintexts(new, first, after[first]) == ("act.1", "rft.1")
        assert plaintexts(new, second, after[second]) == (None, "rft.2")
    finally:
        await sessionmaker.kw["bind"].dispose()


async def test_rotate_keys_command_fails_when_a_token_cannot_be_read(tmp_path) -> None:
    url, sessionmaker = await _database(tmp_path / "cli.db")
    try:
        await seed(sessionmaker, TokenCipher(OLD), access="act.1", refresh="rft.1")
        await seed(sessionmaker, TokenCipher(LOST), access="act.2", refresh="rft.2")

        result = await asyncio.to_thread(_rotate_keys_cli, url, f"{NEW},{OLD}")

        assert result.returncode == 1
        assert result.stdout == "re-encrypted 1 of 2 accounts under the current key\n"
        assert "1 accounts hold tokens no configured key decrypts" in result.stderr
    finally:
        await sessionmaker.kw["bind"].dispose()

"""Database: the declarative base, portable column types, the engine and sessions.

One engine per process (made in the lifespan), one session per request, and one place
that commits: `session_scope` (used by the request dependency and by background jobs).

Intent is a type. A route that writes nothing takes an `AsyncReadSession` (from
`create_read_sessionmaker`, through `ReadSessionDep`): it never commits, refuses any write
(an INSERT/UPDATE/DELETE or a flush of changes raises `ReadOnlySessionError`) and costs
less: on SQLite its transaction is a deferred `BEGIN`, a snapshot that does not take the
write lock (writers keep `BEGIN IMMEDIATE`, so they queue instead of failing when a read
transaction upgrades); on PostgreSQL it runs without BEGIN/COMMIT round trips (autocommit:
under READ COMMITTED each statement has its own snapshot inside a transaction too).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, MetaData, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, ORMExecuteState, Session, mapped_column
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from app.core.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Column sizes the domains' tables share.
COMPANY_ID_LENGTH = 64  # the CRM's company id
TIKTOK_ID_LENGTH = 32  # TikTok's ids: 19-digit integers, stored as text
LABEL_LENGTH = 255  # a name TikTok gives something (advertiser, form, campaign, ad)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSONType,
    }


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def create_engine(settings: Settings) -> AsyncEngine:
    path = settings.sqlite_path
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            settings.database_url,
            echo=settings.database_echo,
            # Parameters (ciphertexts, raw webhook bodies) stay out of logs and DB errors.
            hide_parameters=True,
            connect_args={"timeout": 30},
        )
        _configure_sqlite(engine)
        return engine
    engine = create_async_engine(
        settings.database_url,
        echo=settings.database_echo,
        hide_parameters=True,
        # Bounded per process: one event loop (one CPU) runs every request and job of a
        # process, so 20 connections keep it busy. No overflow: overflow connections are
        # opened and closed again under load (a connect and a server fork per request).
        # PostgreSQL's max_connections must cover 20 x (API processes + workers).
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
    )
    _drop_closed_connections(engine)
    return engine


POOL_SIZE = 20
POOL_OVERFLOW = 0
# Execution option set on the read engine: the SQLite `begin` hook opens a deferred
# transaction for it, `BEGIN IMMEDIATE` for every other connection.
READ_ONLY_OPTION = "app_read_only"


def read_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, for reads: a deferred BEGIN on SQLite, autocommit on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{READ_ONLY_OPTION: True})
    return engine.execution_options(isolation_level="AUTOCOMMIT", **{READ_ONLY_OPTION: True})


def _drop_closed_connections(engine: AsyncEngine) -> None:
    """A pooled connection the server closed (a restart, an idle timeout) is replaced at
    checkout, before a request uses it.

    This stands in for `pool_pre_ping`, which on asyncpg runs BEGIN, a ping and ROLLBACK:
    three round trips before every request's first statement. asyncpg sees the server
    close the socket on its own (the event loop reads it), so checking its flag costs
    nothing; a connection that dies unnoticed fails its statement and SQLAlchemy then
    invalidates the whole pool, as for any disconnect.
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(_dbapi: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        driver = record.driver_connection
        is_closed = getattr(driver, "is_closed", None)
        if is_closed is not None and is_closed():
            raise DisconnectionError("the server closed this pooled connection")


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers; foreign keys on; BEGIN IMMEDIATE so writers queue
    instead of failing with 'database is locked' when a read transaction upgrades; a
    deferred BEGIN for the read engine (`read_engine`), whose snapshot takes no lock."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class ReadOnlySessionError(RuntimeError):
    """A read session was asked to write: the code path should take a write session."""


class _ReadOnlySession(Session):
    """The sync half of `AsyncReadSession`: refuses to flush changes or run a write."""

    def flush(self, objects: Any = None) -> None:
        if self.new or self.dirty or self.deleted:
            raise ReadOnlySessionError("a read session cannot write; use a write session")
        super().flush(objects)


class AsyncReadSession(AsyncSession):
    """A session for code that writes nothing: no commit, no flush of changes, no DML.

    A route's signature says which it has (`ReadSessionDep` or `SessionDep`); since the
    repositories' read functions take any `AsyncSession`, the refusal is also enforced at
    run time: `commit()` raises, and so does a flush of pending changes or any ORM or Core
    INSERT/UPDATE/DELETE executed through it.
    """

    sync_session_class = _ReadOnlySession

    async def commit(self) -> None:
        raise ReadOnlySessionError("a read session does not commit")


@event.listens_for(_ReadOnlySession, "do_orm_execute")
def _refuse_writes(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnlySessionError("a read session cannot write; use a write session")


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncReadSession]:
    """Sessions for reads on `engine`'s pool: see `read_engine`."""
    return async_sessionmaker(
        read_engine(engine),
        class_=AsyncReadSession,
        expire_on_commit=False,
        autoflush=False,
    )


@asynccontextmanager
async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """The one place that commits: commit on success, roll back on any exception."""
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


@asynccontextmanager
async def single_write(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for one self-contained write statement (an inbox store), committed
    when the block ends. On PostgreSQL the statement runs in autocommit, its own
    transaction: one round trip instead of BEGIN, statement, COMMIT. On SQLite it runs in a
    `BEGIN IMMEDIATE` transaction, as every write does."""
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            yield connection
            return
        async with connection.begin():
            yield connection


@asynccontextmanager
async def read_scope(
    sessionmaker: async_sessionmaker[AsyncReadSession],
) -> AsyncIterator[AsyncReadSession]:
    """A read session: ends its (deferred, lock-free) transaction on exit, commits nothing."""
    async with sessionmaker() as session:
        yield session

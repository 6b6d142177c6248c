"""Portable SQL helpers shared by the domains that store provider data.

`dialect_name` names the database a session or connection talks to, and `dialect_insert`
picks the INSERT construct that has `ON CONFLICT` for the session's
database; `str_enum` is an enum column stored as VARCHAR; `storable_text` and `clean_text`
make provider text safe for PostgreSQL, whose text and JSONB refuse NUL characters and lone
surrogates (a body that fails to store would fail on every retry of the provider);
`locked` is the row lock of the claims and fences.
"""

from __future__ import annotations

import enum
from typing import Any, TypeVarTuple

from sqlalchemy import Enum, Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

REPLACEMENT = "\ufffd"
Ts = TypeVarTuple("Ts")


def dialect_name(executor: AsyncSession | AsyncConnection) -> str:
    """`postgresql` or `sqlite`: the database a session or connection talks to."""
    if isinstance(executor, AsyncConnection):
        return executor.dialect.name
    return executor.get_bind().dialect.name


def dialect_insert(session: AsyncSession) -> Any:
    """`postgresql.insert` or `sqlite.insert`: both offer `on_conflict_do_nothing`."""
    return postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert


def locked(query: Select[*Ts], *, skip_locked: bool = False) -> Select[*Ts]:
    """`FOR UPDATE` (with `SKIP LOCKED`: rows another transaction holds are left out), with
    the rows reloaded from the database: an object already in the session is overwritten,
    so the checks made under the lock see what is stored, not a stale copy.

    SQLite ignores the lock; its `BEGIN IMMEDIATE` write transaction serializes instead.
    """
    return query.with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True)


def str_enum(enum_type: type[enum.StrEnum], length: int) -> Enum:
    """VARCHAR with no native enum and no CHECK, so adding a value needs no migration."""
    return Enum(
        enum_type,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


def storable_text(body: bytes) -> str:
    """Raw bytes kept for inspection: bad UTF-8 and NUL become U+FFFD."""
    return body.decode("utf-8", errors="replace").replace("\x00", REPLACEMENT)


def clean_text(value: str) -> str:
    """A decoded string with NUL characters and lone surrogates replaced by U+FFFD."""
    if "\x00" not in value:
        try:
            value.encode()
        except UnicodeEncodeError:
            pass
        else:
            return value
    return "".join(
        REPLACEMENT if char == "\x00" or "\ud800" <= char <= "\udfff" else char for char in value
    )

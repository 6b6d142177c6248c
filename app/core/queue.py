"""Durable work kept in rows: the one primitive behind every table whose rows are jobs.

A domain declares its queue once (`WorkQueue`: the table, which of its columns hold the
status, the attempt counter, the lease and the due time, the status values, an optional
condition), and the queue runs every statement, in SQLAlchemy Core:

- `claim` takes a batch of due rows no other worker holds. PostgreSQL locks them with
  `FOR UPDATE SKIP LOCKED`, so concurrent claimers get disjoint rows; SQLite has no row
  locks, and its `BEGIN IMMEDIATE` write transaction serializes claimers instead.
  - With a lease (`lease_until=`), one statement picks the rows, marks them claimed until
    then and counts the attempt. The caller commits at once and works outside any
    transaction; should it die, the rows are due again when the lease lapses.
  - Without one, the rows stay locked until the caller's transaction ends: the work and its
    settle run in that transaction (an inbox applying events with their effects), and the
    settle counts the attempt.
- Every later write (`renew`, `done`, `retry`, `dead`) is fenced by its `Claim`: the row
  must still be in the state the claim left it, the same attempt number and, for a leased
  claim, the exact lease it set. A worker whose lease lapsed, and whose row another worker
  claimed since, settles nothing: the write matches no row and says so. The lease is in the
  fence even where attempts are counted, because a requeue resets the count: after it, a
  new claim is attempt 1 again, and only its lease tells it from a zombie's attempt 1.
- `retry` reschedules (the due column, or the lease where there is none) and dead-letters
  the attempt that reaches `max_attempts`; `dead` dead-letters at once.
- `requeue` moves settled rows (`done`, `dead`) back to `ready`, due at once (a replay).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Select, Table, and_, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from app.core.db import utcnow

Ordering = ColumnElement[Any] | QueryableAttribute[Any]


@dataclass(frozen=True, slots=True)
class Statuses:
    """The values of a queue's status column.

    `ready`: waiting to be claimed; `claimed`: held under a lease (None: a claim leaves the
    status as it is); `done` and `dead`: where `done` and `dead` move a row.
    """

    ready: str
    claimed: str | None = None
    done: str | None = None
    dead: str | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """One claimed row: what fences its later writes, and the columns asked for.

    `attempt`: the number of this attempt, 1 for the first (0 in a table that counts none).
    `lease_until`: None for a claim held by row locks for one transaction.
    """

    id: Any
    attempt: int
    lease_until: datetime | None
    row: RowMapping

    @property
    def leased(self) -> bool:
        return self.lease_until is not None


class Fate(enum.StrEnum):
    """What `retry` did with a claimed row."""

    retried = "retried"
    dead = "dead"  # that was its last attempt
    lost = "lost"  # no longer the caller's: nothing written


@dataclass(frozen=True, kw_only=True, eq=False)
class WorkQueue:
    """A table's rows as work. Columns are named; a column left None is one the table does
    not have, and the queue does without it.

    `attempts`: counted per claim, and the fence of every later write. `lease`: held until
    a claim's `lease_until`, and the fence of a leased claim's writes too. `due`: a row
    is ready once this time is reached (`retry` sets it). `where`: every claim's condition
    (the due rows' own, beyond the columns above). `order_by`: which due rows go first.
    """

    table: Table
    order_by: tuple[Ordering, ...]
    statuses: Statuses | None = None
    status: str = "status"
    id: str = "id"
    attempts: str | None = None
    lease: str | None = None
    due: str | None = None
    where: ColumnElement[bool] | None = None
    max_attempts: int | None = None

    def __post_init__(self) -> None:
        # Every named column is looked up now: a typo fails at import, not at the first claim.
        names = [self.id, self.attempts, self.lease, self.due]
        if self.statuses is not None:
            names.append(self.status)
        missing = [name for name in names if name is not None and name not in self.table.c]
        if missing:
            raise ValueError(f"{self.table.name} has no column {', '.join(missing)}")
        if self.max_attempts is not None and (self.statuses is None or not self.statuses.dead):
            raise ValueError("a queue with max_attempts needs a dead status to move rows to")

    # ---- claiming -----------------------------------------------------------------------

    async def claim(
        self,
        session: AsyncSession,
        *,
        limit: int,
        now: datetime | None = None,
        lease_until: datetime | None = None,
        where: ColumnElement[bool] | None = None,
        values: Mapping[str, Any] | None = None,
        columns: Sequence[str] = (),
    ) -> list[Claim]:
        """Up to `limit` due rows no other worker holds, with `columns` of each.

        With `lease_until`: leased to the caller until then (the status moves to `claimed`,
        the attempt is counted, `values` are set too), in no particular order. Without: the
        rows stay locked until `session`'s transaction ends, in `order_by` order. `where`
        adds this claim's own condition (a cursor, a threshold known at call time). `now`
        (default: the clock) decides what is due and which leases lapsed.
        """
        picked = (
            select(self._col(self.id))
            .where(self._due(now or utcnow()), *self._conditions(where))
            .order_by(*self.order_by)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if lease_until is None:
            if values:
                raise ValueError("a claim without a lease writes nothing; settle with values")
            return await self._claim_locked(session, picked, columns)
        if self.lease is None:
            raise ValueError(f"{self.table.name} has no lease column")
        # Materialized on PostgreSQL: the batch is picked (and locked) once, however the
        # planner joins it to the UPDATE.
        batch = picked.cte("picked").prefix_with("MATERIALIZED", dialect="postgresql")
        claimed: dict[str, Any] = {self.lease: lease_until}
        if self.statuses is not None and self.statuses.claimed is not None:
            claimed[self.status] = self.statuses.claimed
        if self.attempts is not None:
            claimed[self.attempts] = self._col(self.attempts) + 1
        statement = (
            update(self.table)
            .where(self._col(self.id).in_(select(batch.c[self.id])))
            .values({**claimed, **(values or {})})
            .returning(*self._returned(columns))
        )
        rows = (await session.execute(statement)).mappings().all()
        return [self._claim_of(row, lease_until) for row in rows]

    async def _claim_locked(
        self, session: AsyncSession, picked: Select[Any], columns: Sequence[str]
    ) -> list[Claim]:
        query = picked.with_only_columns(*self._returned(columns))
        rows = (await session.execute(query)).mappings().all()
        # Counted by the settle, in the same transaction: this is the next attempt.
        counted = 1 if self.attempts is not None else 0
        return [Claim(row[self.id], self._attempts_of(row) + counted, None, row) for row in rows]

    # ---- writes under a claim -----------------------------------------------------------

    async def renew(
        self,
        session: AsyncSession,
        claim: Claim,
        *,
        lease_until: datetime,
        values: Mapping[str, Any] | None = None,
    ) -> Claim | None:
        """Extend a leased claim (a heartbeat), with `values` written too (progress); the
        renewed claim, or None if the row is no longer the caller's.

        On PostgreSQL the row stays locked until the transaction ends, so other writes in
        it are the claim holder's as well."""
        if not claim.leased or self.lease is None:
            raise ValueError("only a leased claim is renewed")
        statement = (
            update(self.table)
            .where(self._fence([claim]))
            .values({**(values or {}), self.lease: lease_until})
            .returning(self._col(self.id))
        )
        if (await session.execute(statement)).first() is None:
            return None
        return Claim(claim.id, claim.attempt, lease_until, claim.row)

    async def done(
        self,
        session: AsyncSession,
        claims: Sequence[Claim],
        *,
        values: Mapping[str, Any] | None = None,
        returning: Sequence[str] = (),
    ) -> list[RowMapping]:
        """Settle claims as done (`statuses.done`, lease released), in one statement; the
        settled rows (`id` and `returning`), without those no longer the caller's."""
        status = self.statuses.done if self.statuses is not None else None
        return await self._settle(session, claims, status, values, returning)

    async def dead(
        self,
        session: AsyncSession,
        claim: Claim,
        *,
        values: Mapping[str, Any] | None = None,
        returning: Sequence[str] = (),
    ) -> RowMapping | None:
        """Dead-letter a claim (`statuses.dead`, lease released); the row, or None if it is
        no longer the caller's."""
        if self.statuses is None or self.statuses.dead is None:
            raise ValueError(f"{self.table.name}'s queue has no dead status")
        rows = await self._settle(session, [claim], self.statuses.dead, values, returning)
        return rows[0] if rows else None

    async def retry(
        self,
        session: AsyncSession,
        claim: Claim,
        *,
        at: datetime | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> Fate:
        """Due again at `at`, or dead when this was attempt `max_attempts`.

        `at` goes in the due column (ready again, lease released). A table without one keeps
        the row claimed with `at` as its lease, so it comes back when that lapses (None:
        ready again at once); a table with neither (an inbox) is due again at once, one
        failure counted."""
        if self.max_attempts is not None and claim.attempt >= self.max_attempts:
            return Fate.dead if await self.dead(session, claim, values=values) else Fate.lost
        schedule: dict[str, Any] = {}
        status: str | None = None
        if self.due is not None:
            if at is None:
                raise ValueError(f"{self.table.name}'s queue retries at a time: pass `at`")
            schedule[self.due] = at
            status = self.statuses.ready if self.statuses is not None else None
        elif self.lease is not None and at is not None:
            schedule[self.lease] = at
        elif self.lease is not None:
            status = self.statuses.ready if self.statuses is not None else None
        elif at is not None:
            raise ValueError(f"{self.table.name}'s queue has no column to schedule a retry in")
        rows = await self._settle(session, [claim], status, {**schedule, **(values or {})}, ())
        return Fate.retried if rows else Fate.lost

    # ---- outside any claim ----------------------------------------------------------------

    async def requeue(
        self,
        session: AsyncSession,
        *,
        where: ColumnElement[bool],
        now: datetime | None = None,
        values: Mapping[str, Any] | None = None,
        returning: Sequence[str] = (),
    ) -> list[RowMapping]:
        """Settled rows (`done` or `dead`) matching `where` back to `ready`: due at `now`
        (default: the clock), lease released, then `values` (an attempt counter reset, say);
        the rows moved (`id` and `returning`).

        A claim still held on such a row by a zombie worker is fenced out by its lease:
        whatever the attempt counter is set to here, the next claim sets a lease of its own."""
        statuses = self.statuses
        settled = [s for s in (statuses.done, statuses.dead) if s] if statuses is not None else []
        if statuses is None or not settled:
            raise ValueError(f"{self.table.name}'s queue has no settled status to requeue from")
        moved: dict[str, Any] = {self.status: statuses.ready}
        if self.due is not None:
            moved[self.due] = now or utcnow()
        if self.lease is not None:
            moved[self.lease] = None
        statement = (
            update(self.table)
            .where(self._col(self.status).in_(settled), where)
            .values({**moved, **(values or {})})
            .returning(*self._returned(returning))
        )
        return list((await session.execute(statement)).mappings().all())

    # ---- statements ---------------------------------------------------------------------

    async def _settle(
        self,
        session: AsyncSession,
        claims: Sequence[Claim],
        status: str | None,
        values: Mapping[str, Any] | None,
        returning: Sequence[str],
    ) -> list[RowMapping]:
        """One fenced UPDATE: `status`, the lease released, a locked claim's attempt
        counted, then `values` (which may set any of these otherwise)."""
        if not claims:
            return []
        if len({claim.leased for claim in claims}) > 1:
            raise ValueError("leased and locked claims are settled apart")
        settled: dict[str, Any] = {}
        if status is not None:
            settled[self.status] = status
        if self.lease is not None:
            settled[self.lease] = None
        if self.attempts is not None and not claims[0].leased:
            settled[self.attempts] = self._col(self.attempts) + 1
        statement = (
            update(self.table)
            .where(self._fence(claims))
            .values({**settled, **(values or {})})
            .returning(*self._returned(returning))
        )
        return list((await session.execute(statement)).mappings().all())

    def _due(self, now: datetime) -> ColumnElement[bool]:
        """Ready and due, or claimed under a lease that lapsed (its worker died)."""
        ready: list[ColumnElement[bool]] = []
        if self.due is not None:
            ready.append(self._col(self.due) <= now)
        statuses = self.statuses
        if statuses is None or statuses.claimed is None:
            # Claimed rows are told apart by their lease alone.
            if self.lease is not None:
                lease = self._col(self.lease)
                ready.append(or_(lease.is_(None), lease < now))
            if statuses is not None:
                ready.append(self._col(self.status) == statuses.ready)
            return and_(true(), *ready)
        waiting = and_(self._col(self.status) == statuses.ready, *ready)
        if self.lease is None:
            return waiting
        lapsed = and_(self._col(self.status) == statuses.claimed, self._col(self.lease) < now)
        return or_(waiting, lapsed)

    def _fence(self, claims: Sequence[Claim]) -> ColumnElement[bool]:
        """The rows of these claims still in the state their claim left them: one condition
        per (attempt, lease) group, few per batch, each an `id IN (…)`."""
        groups: dict[tuple[int, datetime | None], list[Any]] = defaultdict(list)
        for claim in claims:
            groups[(claim.attempt, claim.lease_until)].append(claim.id)
        leased = claims[0].leased
        conditions = []
        for (attempt, lease_until), ids in groups.items():
            condition = [self._col(self.id).in_(ids)]
            if self.statuses is not None:
                claimed = self.statuses.claimed
                expected = claimed if leased and claimed is not None else self.statuses.ready
                condition.append(self._col(self.status) == expected)
            if self.attempts is not None:
                # A locked claim's attempt is counted by its settle: the row has one less.
                stored = attempt if leased else attempt - 1
                condition.append(self._col(self.attempts) == stored)
            if leased and self.lease is not None:
                # The exact lease this claim set (or renewed): a requeue resets the attempt
                # counter, so the attempt alone would let a zombie settle a new claim.
                condition.append(self._col(self.lease) == lease_until)
            conditions.append(and_(*condition))
        return or_(*conditions)

    def _conditions(self, where: ColumnElement[bool] | None) -> list[ColumnElement[bool]]:
        return [condition for condition in (self.where, where) if condition is not None]

    def _returned(self, columns: Sequence[str]) -> list[Any]:
        names = [self.id, *([self.attempts] if self.attempts is not None else []), *columns]
        return [self.table.c[name] for name in dict.fromkeys(names)]

    def _claim_of(self, row: RowMapping, lease_until: datetime) -> Claim:
        return Claim(row[self.id], self._attempts_of(row), lease_until, row)

    def _attempts_of(self, row: RowMapping) -> int:
        return int(row[self.attempts]) if self.attempts is not None else 0

    def _col(self, name: str) -> Any:
        return self.table.c[name]

"""Group commit: concurrent one-row writes coalesced into one statement and one commit.

A hot write path (a webhook stored before its 200) pays, per request, for a pooled
connection, a statement and a commit. Under load those costs dominate: on PostgreSQL a round
trip and a WAL flush each; on SQLite the one write lock, taken once per request. A
`GroupCommit` queues each request's row and has one writer task store everything queued in
one transaction; the requests that arrive while it writes are stored together by its next
turn. Each caller awaits its own row's result, so nothing is answered before it is committed.

There is no timer: an idle service writes a lone row at once (no added latency), and the
batch grows with the load, up to `max_batch` rows a transaction. When a batch fails because
of one of its rows (`retry_alone` says which errors may be a row's: a constraint, a value the
column refuses), each of its rows is retried alone, so that row fails its own request only;
any other failure (the database is down, locked, gone) fails the whole batch at once rather
than being met again once per row.

A caller that stops waiting (its client hung up) does not take its row back: it may still
be committed, as it would have been by a write the caller had already started.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

logger = logging.getLogger("app.group_commit")

Row = TypeVar("Row")
Result = TypeVar("Result")
# Stores a batch in one transaction; one result per row, in order.
WriteBatch = Callable[[Sequence[Row]], Awaitable[Sequence[Result]]]


class GroupCommit(Generic[Row, Result]):
    def __init__(
        self,
        write: WriteBatch[Row, Result],
        *,
        max_batch: int = 100,
        retry_alone: Callable[[Exception], bool] = lambda _: True,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._write = write
        self._max_batch = max_batch
        self._retry_alone = retry_alone
        self._queue: list[tuple[Row, asyncio.Future[Result]]] = []
        self._batch: list[tuple[Row, asyncio.Future[Result]]] = []  # being written
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, row: Row) -> Result:
        """Store `row` with whatever else is queued: its result once committed, or the
        exception its write raised."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        # Read even when its caller has gone: no "exception was never retrieved" noise.
        future.add_done_callback(_retrieve)
        self._queue.append((row, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_queued(), name="group-commit")
            self._writer.add_done_callback(self._writer_done)
        # Shielded: a cancelled caller stops waiting, the write it joined goes on.
        return await asyncio.shield(future)

    async def drain(self) -> None:
        """Wait until everything submitted so far is written (at shutdown)."""
        while self._writer is not None:
            await asyncio.shield(self._writer)

    async def _write_queued(self) -> None:
        try:
            while self._queue:
                self._batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                await self._write_batch(self._batch)
        except BaseException as exc:
            # Cancelled (the loop is closing) or broken: no caller may wait forever.
            for _, future in (*self._batch, *self._queue):
                error = exc if isinstance(exc, Exception) else RuntimeError("the writer stopped")
                _settle(future, error)
            self._queue.clear()
            raise
        finally:
            self._batch = []
            self._writer = None

    def _writer_done(self, task: asyncio.Task[None]) -> None:
        """A writer cancelled before it ever ran (its own handler never ran either): fail what
        it was to write rather than leave its callers waiting."""
        if self._writer is not task:
            return  # it ran, and settled everything itself
        self._writer = None
        for _, future in (*self._batch, *self._queue):
            _settle(future, RuntimeError("the writer stopped"))
        self._batch, self._queue = [], []

    async def _write_batch(self, batch: list[tuple[Row, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._write([row for row, _ in batch])
        except Exception as exc:
            if len(batch) == 1 or not self._retry_alone(exc):
                for _, future in batch:
                    _settle(future, exc)
                return
            logger.warning(
                "a grouped write failed; writing its rows one by one",
                extra={"rows": len(batch), "error": type(exc).__name__},
            )
            for item in batch:
                await self._write_batch([item])
            return
        if len(results) != len(batch):
            error = RuntimeError(f"a batch of {len(batch)} rows gave {len(results)} results")
            for _, future in batch:
                _settle(future, error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _settle(future: asyncio.Future[Result], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)

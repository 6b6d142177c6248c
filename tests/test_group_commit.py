"""GroupCommit: concurrent one-row writes share a statement and a commit; each caller gets
its own row's result (or error) only once that write has finished."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from app.core.group_commit import GroupCommit


class Recorder:
    """A batch writer that records each batch and doubles each row; it can be told to fail
    on a row (the whole batch then fails, as one statement would) or to wait."""

    def __init__(self, *, poison: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.poison = poison
        self.gate = asyncio.Event()
        self.gate.set()

    async def write(self, rows: Sequence[int]) -> list[int]:
        await self.gate.wait()
        self.batches.append(list(rows))
        if self.poison in rows:
            raise ValueError(f"row {self.poison} cannot be stored")
        return [row * 2 for row in rows]


async def test_a_lone_row_is_written_at_once_in_a_batch_of_its_own() -> None:
    writer = Recorder()
    group: GroupCommit[int, int] = GroupCommit(writer.write)
    assert await group.submit(21) == 42
    assert writer.batches == [[21]]


async def test_rows_that_arrive_during_a_write_are_written_together_by_the_next() -> None:
    writer = Recorder()
    group: GroupCommit[int, int] = GroupCommit(writer.write, max_batch=100)
    writer.gate.clear()
    first = asyncio.create_task(group.submit(0))
    await asyncio.sleep(0)  # the writer has taken row 0 and waits on the gate
    rest = [asyncio.create_task(group.submit(row)) for row in range(1, 51)]
    await asyncio.sleep(0)
    writer.gate.set()
    assert await first == 0
    assert await asyncio.gather(*rest) == [row * 2 for row in range(1, 51)]
    assert writer.batches == [[0], list(range(1, 51))]


async def test_a_batch_never_exceeds_max_batch() -> None:
    writer = Recorder()
    group: GroupCommit[int, int] = GroupCommit(writer.write, max_batch=7)
    writer.gate.clear()
    tasks = [asyncio.create_task(group.submit(row)) for row in range(20)]
    await asyncio.sleep(0)
    writer.gate.set()
    assert await asyncio.gather(*tasks) == [row * 2 for row in range(20)]
    assert [len(batch) for batch in writer.batches] == [7, 7, 6]
    assert [row for batch in writer.batches for row in batch] == list(range(20))


async def test_a_row_that_cannot_be_stored_fails_its_own_caller_only() -> None:
    writer = Recorder(poison=3)
    group: GroupCommit[int, int] = GroupCommit(writer.write)
    writer.gate.clear()
    tasks = [asyncio.create_task(group.submit(row)) for row in range(6)]
    await asyncio.sleep(0)
    writer.gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert [r for i, r in enumerate(results) if i != 3] == [0, 2, 4, 8, 10]
    assert isinstance(results[3], ValueError)
    # The batch failed as a whole, then each row was written alone.
    assert writer.batches[0] == list(range(6))
    assert writer.batches[1:] == [[row] for row in range(6)]


async def test_a_caller_that_stops_waiting_does_not_stop_the_write() -> None:
    writer = Recorder()
    group: GroupCommit[int, int] = GroupCommit(writer.write)
    writer.gate.clear()
    impatient = asyncio.create_task(group.submit(1))
    patient = asyncio.create_task(group.submit(2))
    await asyncio.sleep(0)
    impatient.cancel()
    with pytest.raises(asyncio.CancelledError):
        await impatient
    writer.gate.set()
    assert await patient == 4
    await group.drain()
    assert [row for batch in writer.batches for row in batch] == [1, 2]


async def test_drain_waits_for_every_submitted_row() -> None:
    writer = Recorder()
    group: GroupCommit[int, int] = GroupCommit(writer.write)
    writer.gate.clear()
    tasks = [asyncio.create_task(group.submit(row)) for row in range(3)]
    await asyncio.sleep(0)
    draining = asyncio.create_task(group.drain())
    await asyncio.sleep(0.01)
    assert not draining.done()
    writer.gate.set()
    await draining
    assert all(task.done() for task in tasks)
    assert [row for batch in writer.batches for row in batch] == [0, 1, 2]


async def test_a_writer_that_answers_the_wrong_number_of_results_fails_every_caller() -> None:
    async def short(rows: Sequence[int]) -> list[int]:
        return list(rows)[:-1]

    group: GroupCommit[int, int] = GroupCommit(short)
    tasks = [asyncio.create_task(group.submit(row)) for row in range(3)]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(result, RuntimeError) for result in results)


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        GroupCommit(Recorder().write, max_batch=0)


async def test_a_failure_that_is_no_rows_fault_fails_the_batch_without_retrying_each_row() -> None:
    writes: list[list[int]] = []
    gate = asyncio.Event()

    async def locked(rows: Sequence[int]) -> list[int]:
        await gate.wait()
        writes.append(list(rows))
        raise TimeoutError("the database is locked")

    group: GroupCommit[int, int] = GroupCommit(
        locked, retry_alone=lambda exc: not isinstance(exc, TimeoutError)
    )
    tasks = [asyncio.create_task(group.submit(row)) for row in range(5)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(result, TimeoutError) for result in results)
    assert writes == [[0, 1, 2, 3, 4]]  # once for the batch, not again per row


def test_the_inbox_retries_rows_alone_only_for_errors_a_row_can_cause() -> None:
    from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError

    from app.webhooks.service import _one_rows_fault

    assert _one_rows_fault(IntegrityError("INSERT", {}, Exception("duplicate")))
    assert _one_rows_fault(DataError("INSERT", {}, Exception("value too long")))
    assert _one_rows_fault(StatementError("cannot bind", "INSERT", {}, ValueError("bad")))
    assert not _one_rows_fault(OperationalError("BEGIN", {}, Exception("database is locked")))
    assert not _one_rows_fault(ConnectionResetError("gone"))


@pytest.mark.parametrize("steps", [1, 3], ids=["before-it-ran", "while-writing"])
async def test_callers_are_not_left_waiting_when_the_writer_is_cancelled(steps: int) -> None:
    writer = Recorder()
    group: GroupCommit[int, int] = GroupCommit(writer.write)
    writer.gate.clear()
    tasks = [asyncio.create_task(group.submit(row)) for row in range(3)]
    for _ in range(steps):
        await asyncio.sleep(0)
    assert group._writer is not None
    group._writer.cancel()  # the loop is closing
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(result, RuntimeError) for result in results)

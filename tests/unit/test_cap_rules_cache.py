"""The per-process copy of caps: one read per tenant at a time, whatever the concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest

from adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from application.cap_rules_cache import CapRulesCache
from domain.caps import Cap, CapScope, Enforcement
from domain.money import Money
from domain.periods import Period
from tests.support.clock import MutableClock


class CountingReads:
    """A unit-of-work factory that counts units of work and can hold them open."""

    def __init__(self) -> None:
        self.inner = MemoryUnitOfWorkFactory()
        self.opened = 0
        self.gate = asyncio.Event()  # opens the unit of work
        self.gate.set()
        self.closing = asyncio.Event()  # closes it, after its reads
        self.closing.set()
        self.failure: Exception | None = None

    @asynccontextmanager
    async def __call__(self, tenant_id: str | None) -> AsyncIterator[Any]:
        self.opened += 1
        await self.gate.wait()
        if self.failure is not None:
            raise self.failure
        async with self.inner(tenant_id) as uow:
            yield uow
        await self.closing.wait()


async def add_cap(reads: CountingReads, cap_id: str) -> None:
    async with reads.inner("t1") as uow:
        await uow.caps.add(
            Cap(
                cap_id, "t1", cap_id, CapScope.GLOBAL, Period.DAILY, Money.usd(1), Enforcement.BLOCK
            )
        )
        await uow.commit()


async def test_concurrent_checks_on_an_aged_copy_share_one_read(clock: MutableClock) -> None:
    reads = CountingReads()
    cache = CapRulesCache(reads, clock, timedelta(seconds=1))  # type: ignore[arg-type]
    await cache.rules("t1")
    clock.advance(seconds=2)
    reads.gate.clear()

    waiting = [asyncio.create_task(cache.rules("t1")) for _ in range(50)]
    await asyncio.sleep(0)
    reads.gate.set()
    answers = await asyncio.gather(*waiting)

    assert reads.opened == 2  # the first copy, then one read for all fifty
    assert all(answer is answers[0] for answer in answers)
    assert await cache.rules("t1") is answers[0]  # kept
    assert reads.opened == 2


async def test_a_change_during_a_read_is_not_hidden_by_that_read(clock: MutableClock) -> None:
    reads = CountingReads()
    cache = CapRulesCache(reads, clock, timedelta(seconds=60))  # type: ignore[arg-type]
    reads.closing.clear()
    early = asyncio.create_task(cache.rules("t1"))
    for _ in range(5):
        await asyncio.sleep(0)  # the read has listed no caps and is about to finish

    await add_cap(reads, "cap_new")
    cache.invalidate("t1")  # what ManageCaps does after writing
    reads.closing.set()
    assert (await early).caps == []

    assert [cap.id for cap in (await cache.rules("t1")).caps] == ["cap_new"]


async def test_a_cancelled_reader_does_not_fail_the_checks_waiting_on_it(
    clock: MutableClock,
) -> None:
    reads = CountingReads()
    await add_cap(reads, "cap_a")
    cache = CapRulesCache(reads, clock, timedelta(seconds=1))  # type: ignore[arg-type]
    reads.gate.clear()
    leader = asyncio.create_task(cache.rules("t1"))
    await asyncio.sleep(0)
    follower = asyncio.create_task(cache.rules("t1"))
    await asyncio.sleep(0)

    leader.cancel()
    await asyncio.sleep(0)
    reads.gate.set()

    assert [cap.id for cap in (await follower).caps] == ["cap_a"]
    with pytest.raises(asyncio.CancelledError):
        await leader


async def test_a_failed_read_fails_its_waiters_and_the_next_check_reads_again(
    clock: MutableClock,
) -> None:
    reads = CountingReads()
    cache = CapRulesCache(reads, clock, timedelta(seconds=1))  # type: ignore[arg-type]
    reads.gate.clear()
    reads.failure = ConnectionError("database down")
    first = asyncio.create_task(cache.rules("t1"))
    await asyncio.sleep(0)
    second = asyncio.create_task(cache.rules("t1"))
    await asyncio.sleep(0)
    reads.gate.set()

    for task in (first, second):
        with pytest.raises(ConnectionError):
            await task
    reads.failure = None
    assert (await cache.rules("t1")).caps == []
    assert reads.opened == 2

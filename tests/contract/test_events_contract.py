"""Ingest is idempotent on (tenant, event_id), and a unit of work is all or nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from domain.reports import SpendFilter, SpendTotals
from tests.contract.builders import T0, event, minutes, new_tenant
from tests.contract.conftest import Backend

EVERYTHING = SpendFilter(datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))


async def stored_totals(backend: Backend, tenant: str) -> SpendTotals:
    async with backend.uow(tenant) as uow:
        return await uow.reports.totals(tenant, EVERYTHING)


async def add(backend: Backend, tenant: str, events: list, commit: bool = True) -> list[str]:
    async with backend.uow(tenant) as uow:
        stored = await uow.events.add_new(events)
        if commit:
            await uow.commit()
    return [e.event_id for e in stored]


async def test_new_events_come_back_in_the_callers_order(backend: Backend) -> None:
    tenant = new_tenant()
    events = [event(tenant, f"e{i}", T0 + minutes(i)) for i in (3, 1, 2)]
    assert await add(backend, tenant, events) == ["e3", "e1", "e2"]
    assert (await stored_totals(backend, tenant)).calls == 3


async def test_a_retried_batch_counts_once(backend: Backend) -> None:
    tenant = new_tenant()
    batch = [event(tenant, f"e{i}", T0 + minutes(i), cost=1_000 + i) for i in range(5)]
    assert len(await add(backend, tenant, batch)) == 5
    assert await add(backend, tenant, batch) == []
    grown = [*batch, event(tenant, "e5", T0 + minutes(5), cost=7)]
    assert await add(backend, tenant, grown) == ["e5"]
    totals = await stored_totals(backend, tenant)
    assert totals.calls == 6
    assert totals.cost.nanos == sum(1_000 + i for i in range(5)) + 7


async def test_a_duplicate_inside_one_batch_is_stored_once_the_first_wins(backend: Backend) -> None:
    tenant = new_tenant()
    batch = [
        event(tenant, "dup", T0, cost=100),
        event(tenant, "other", T0, cost=1),
        event(tenant, "dup", T0 + minutes(5), cost=999),
    ]
    assert await add(backend, tenant, batch) == ["dup", "other"]
    totals = await stored_totals(backend, tenant)
    assert (totals.calls, totals.cost.nanos) == (2, 101)


async def test_ids_are_idempotent_across_months(backend: Backend) -> None:
    """On PostgreSQL the months are different partitions: the id table still sees it."""
    tenant = new_tenant()
    assert await add(backend, tenant, [event(tenant, "e1", datetime(2026, 1, 15, tzinfo=UTC))])
    moved = event(tenant, "e1", datetime(2026, 3, 15, tzinfo=UTC))
    assert await add(backend, tenant, [moved]) == []
    assert (await stored_totals(backend, tenant)).calls == 1


async def test_the_same_id_in_two_tenants_is_two_events(backend: Backend) -> None:
    first, second = new_tenant(), new_tenant()
    assert await add(backend, first, [event(first, "shared", cost=10)]) == ["shared"]
    assert await add(backend, second, [event(second, "shared", cost=20)]) == ["shared"]
    assert (await stored_totals(backend, first)).cost.nanos == 10
    assert (await stored_totals(backend, second)).cost.nanos == 20


async def test_without_commit_nothing_is_written(backend: Backend) -> None:
    tenant = new_tenant()
    batch = [event(tenant, f"e{i}") for i in range(3)]
    assert len(await add(backend, tenant, batch, commit=False)) == 3
    assert (await stored_totals(backend, tenant)).calls == 0
    assert len(await add(backend, tenant, batch)) == 3, "the ids were given back"


async def test_a_failure_after_storing_leaves_nothing_half_written(backend: Backend) -> None:
    tenant = new_tenant()

    async def failing_use_case() -> None:
        async with backend.uow(tenant) as uow:
            await uow.events.add_new([event(tenant, "e1"), event(tenant, "e2")])
            raise RuntimeError("the use case failed before committing")

    with pytest.raises(RuntimeError):
        await failing_use_case()
    assert (await stored_totals(backend, tenant)).calls == 0
    assert await add(backend, tenant, [event(tenant, "e1")]) == ["e1"]


async def test_rollback_drops_earlier_writes_and_later_ones_commit(backend: Backend) -> None:
    tenant = new_tenant()
    async with backend.uow(tenant) as uow:
        await uow.events.add_new([event(tenant, "dropped")])
        await uow.rollback()
        await uow.events.add_new([event(tenant, "kept", cost=5)])
        await uow.commit()
    totals = await stored_totals(backend, tenant)
    assert (totals.calls, totals.cost.nanos) == (1, 5)


async def test_an_empty_batch_stores_nothing(backend: Backend) -> None:
    tenant = new_tenant()
    assert await add(backend, tenant, []) == []


async def test_concurrent_overlapping_batches_count_each_event_once(backend: Backend) -> None:
    tenant = new_tenant()
    events = [event(tenant, f"e{i:03d}", T0 + timedelta(seconds=7 * i), cost=i) for i in range(60)]

    async def ingest(offset: int) -> list[str]:
        batch = events[offset : offset + 30]
        async with backend.uow(tenant) as uow:
            stored = await uow.events.add_new(batch)
            await asyncio.sleep(0.01)  # hold the transaction open while others try
            await uow.commit()
        return [e.event_id for e in stored]

    results = await asyncio.gather(*(ingest(offset) for offset in (0, 10, 20, 30, 0, 30)))
    stored = [event_id for result in results for event_id in result]
    assert sorted(stored) == sorted(e.event_id for e in events)
    totals = await stored_totals(backend, tenant)
    assert (totals.calls, totals.cost.nanos) == (60, sum(range(60)))

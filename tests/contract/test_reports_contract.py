"""Reports equal the in-memory twin's answers exactly, on any range, aligned or not."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from application.ports import UnitOfWorkFactory
from domain.caps import CapScope
from domain.events import CallStatus, SpendEvent
from domain.money import Money
from domain.periods import Period, window_of
from domain.reports import Bucket, Dimension, SpendFilter, SpendTotals
from domain.usage import Usage
from tests.contract.builders import cap, event, new_tenant
from tests.contract.conftest import SQL_BACKENDS, Backend

BASE = datetime(2026, 1, 20, 0, 0, tzinfo=UTC)  # whole weeks and February inside the data
SPAN = timedelta(days=75)
PROVIDERS = ["openai", "OpenAI", "anthropic", "google"]
MODELS = ["gpt-4o", "GPT-4o", "gpt-4o-mini", "claude-sonnet", "gemini-pro"]
AGENTS = [None, "planner", "planner/research", "research", "a/research/b", "research-x", "re"]
CUSTOMERS = [None, "cus_1", "CUS_1", "cus_2", "cus_3"]
ZONES = ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "Europe/Paris"]


async def store(factory: UnitOfWorkFactory, tenant: str, batches: list[list[SpendEvent]]) -> None:
    for batch in batches:
        async with factory(tenant) as uow:
            await uow.events.add_new(batch)
            await uow.commit()


def random_events(rng: random.Random, tenant: str, count: int) -> list[SpendEvent]:
    events = []
    for index in range(count):
        at = BASE + timedelta(microseconds=rng.randrange(int(SPAN.total_seconds() * 1e6)))
        output = rng.randrange(0, 2_000)
        status = CallStatus.ERROR if rng.random() < 0.06 else CallStatus.OK
        cost = None if rng.random() < 0.12 else rng.randrange(0, 50_000_000)
        events.append(
            event(
                tenant,
                f"e{index:04d}",
                at,
                cost=0 if status is CallStatus.ERROR else cost,
                status=status,
                provider=rng.choice(PROVIDERS),
                model=rng.choice(MODELS),
                agent=rng.choice(AGENTS),
                customer_id=rng.choice(CUSTOMERS),
                usage=Usage(
                    input_tokens=rng.randrange(0, 10_000),
                    output_tokens=output,
                    cache_read_tokens=rng.randrange(0, 3) * 512,
                    cache_write_tokens=rng.choice([0, 0, 1024]),
                    reasoning_tokens=rng.randrange(0, output + 1),
                ),
            )
        )
    return events


def random_batches(rng: random.Random, events: list[SpendEvent]) -> list[list[SpendEvent]]:
    """Batches of varied sizes, with retries of earlier events and repeats inside a batch."""
    batches, position = [], 0
    while position < len(events):
        size = rng.randrange(1, 80)
        batch = events[position : position + size]
        position += size
        batch += rng.sample(events[:position], k=min(position, rng.randrange(0, 6)))
        rng.shuffle(batch)
        batches.append(batch)
    return batches


def random_instant(rng: random.Random) -> datetime:
    instant = (
        BASE
        - timedelta(hours=2)
        + timedelta(
            seconds=rng.randrange(int((SPAN + timedelta(hours=4)).total_seconds())),
            microseconds=rng.randrange(1_000_000),
        )
    )
    snap = rng.random()
    if snap < 0.2:
        return instant.replace(minute=0, second=0, microsecond=0)
    if snap < 0.3:
        return instant.replace(hour=0, minute=0, second=0, microsecond=0)
    return instant


def random_filter(rng: random.Random) -> SpendFilter:
    start, end = sorted((random_instant(rng), random_instant(rng)))
    if start == end or rng.random() < 0.4:  # short ranges too: edges, hours, a day or two
        end = start + timedelta(seconds=rng.randrange(60, 3 * 86_400))
    chosen: dict[str, Any] = {}
    if rng.random() < 0.3:
        chosen["provider"] = rng.choice(PROVIDERS)
    if rng.random() < 0.2:
        chosen["model"] = rng.choice(MODELS)
    if rng.random() < 0.2:
        chosen["agent"] = rng.choice([a for a in AGENTS if a])
    if rng.random() < 0.2:
        chosen["customer_id"] = rng.choice([c for c in CUSTOMERS if c])
    elif rng.random() < 0.25:
        named = [c for c in CUSTOMERS if c]
        chosen["customer_ids"] = tuple(rng.sample(named, k=rng.randrange(1, len(named) + 1)))
    return SpendFilter(start, end, **chosen)


@pytest.mark.parametrize("backend_name", SQL_BACKENDS, indirect=True)
@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_reports_equal_the_in_memory_twin_on_random_data(backend: Backend, seed: int) -> None:
    rng = random.Random(seed)
    tenant = new_tenant()
    events = random_events(rng, tenant, 400)
    batches = random_batches(rng, events)
    twin = MemoryUnitOfWorkFactory()
    await store(twin, tenant, batches)
    await store(backend.uow, tenant, batches)

    for _ in range(25):
        spend_filter = random_filter(rng)
        dimension = rng.choice(list(Dimension))
        limit = rng.randrange(1, 8)
        group_by = rng.choice([None, *Dimension])
        # Hourly series only where the service allows them (31 days at most).
        hourly = spend_filter.end - spend_filter.start <= timedelta(days=31)
        answers = []
        for factory in (twin, backend.uow):
            async with factory(tenant) as uow:
                answers.append(
                    (
                        await uow.reports.totals(tenant, spend_filter),
                        await uow.reports.breakdown(tenant, spend_filter, dimension, limit),
                        hourly
                        and await uow.reports.timeseries(
                            tenant, spend_filter, Bucket.HOUR, group_by
                        ),
                        await uow.reports.timeseries(tenant, spend_filter, Bucket.DAY, group_by),
                    )
                )
        assert answers[1] == answers[0], (spend_filter, dimension, limit, group_by)


@pytest.mark.parametrize("backend_name", SQL_BACKENDS, indirect=True)
@pytest.mark.parametrize("seed", [4, 5])
async def test_spent_in_equals_the_in_memory_twin_on_random_data(
    backend: Backend, seed: int
) -> None:
    rng = random.Random(seed)
    tenant = new_tenant()
    batches = random_batches(rng, random_events(rng, tenant, 300))
    twin = MemoryUnitOfWorkFactory()
    await store(twin, tenant, batches)
    await store(backend.uow, tenant, batches)
    values = {
        CapScope.GLOBAL: [None],
        CapScope.PROVIDER: ["openai", "OPENAI", "google", "mistral"],
        CapScope.MODEL: ["gpt-4o", "Gpt-4O", "claude-sonnet"],
        CapScope.AGENT: ["research", "planner", "planner/research", "re", "b", "a/research"],
        CapScope.CUSTOMER: ["cus_1", "CUS_1", "cus_9"],
    }
    for index in range(40):
        scope = rng.choice(list(CapScope))
        the_cap = cap(
            tenant,
            f"cap_{index}",
            scope=scope,
            scope_value=rng.choice(values[scope]),
            timezone=rng.choice(ZONES),
            period=rng.choice(list(Period)),
        )
        window = the_cap.window_at(random_instant(rng))
        spent = []
        for factory in (twin, backend.uow):
            async with factory(tenant) as uow:
                spent.append(await uow.events.spent_in(tenant, the_cap, window))
        assert spent[1] == spent[0], (the_cap, window)


async def test_a_small_report_by_hand(backend: Backend) -> None:
    tenant = new_tenant()
    at = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    await store(
        backend.uow,
        tenant,
        [
            [
                event(tenant, "a", at, cost=300, provider="openai", customer_id="cus_1"),
                event(tenant, "b", at + timedelta(hours=1), cost=300, provider="openai"),
                event(
                    tenant,
                    "c",
                    at + timedelta(hours=1),
                    cost=None,
                    provider="mistral",
                    model="new-model",
                ),
                event(
                    tenant,
                    "d",
                    at + timedelta(days=1),
                    cost=0,
                    provider="anthropic",
                    status=CallStatus.ERROR,
                ),
                event(tenant, "e", at, cost=200, provider="anthropic", customer_id="cus_2"),
            ]
        ],
    )
    spend_filter = SpendFilter(at, at + timedelta(days=2))
    async with backend.uow(tenant) as uow:
        totals = await uow.reports.totals(tenant, spend_filter)
        by_provider = await uow.reports.breakdown(tenant, spend_filter, Dimension.PROVIDER, 10)
        by_customer = await uow.reports.breakdown(tenant, spend_filter, Dimension.CUSTOMER, 2)
        daily = await uow.reports.timeseries(tenant, spend_filter, Bucket.DAY, None)
        only_openai = await uow.reports.totals(
            tenant, SpendFilter(at, at + timedelta(days=2), provider="openai")
        )
    assert totals == SpendTotals(
        cost=Money(800),
        calls=5,
        input_tokens=500,
        output_tokens=100,
        unpriced_calls=1,
        error_calls=1,
    )
    assert [(r.key, r.totals.cost.nanos, r.totals.calls) for r in by_provider] == [
        ("openai", 600, 2),
        ("anthropic", 200, 2),
        ("mistral", 0, 1),
    ]
    assert [(r.key, r.totals.cost.nanos) for r in by_customer] == [(None, 300), ("cus_1", 300)]
    assert [(p.bucket_start.day, p.totals.calls) for p in daily] == [(10, 4), (11, 1)]
    assert only_openai.cost.nanos == 600


async def test_reports_never_show_another_tenants_spend(backend: Backend) -> None:
    tenant, other = new_tenant(), new_tenant()
    at = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    await store(backend.uow, tenant, [[event(tenant, "a", at, cost=1)]])
    await store(backend.uow, other, [[event(other, "a", at, cost=1_000)]])
    spend_filter = SpendFilter(at - timedelta(days=1), at + timedelta(days=1))
    async with backend.uow(tenant) as uow:
        assert (await uow.reports.totals(tenant, spend_filter)).cost.nanos == 1
        assert [
            r.totals.cost.nanos
            for r in await uow.reports.breakdown(tenant, spend_filter, Dimension.PROVIDER, 5)
        ] == [1]


def test_the_window_helpers_cover_the_zones_used() -> None:
    for zone in ZONES:
        window = window_of(Period.DAILY, BASE, zone)
        assert window.start <= BASE < window.end

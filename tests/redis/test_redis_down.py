"""Redis down or flushed: the events are the truth, the counters only a cache.

The use cases run over the in-memory store (the truth) and RedisCounters, pointed either
at a port where nothing listens or at the real server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from adapters.redis.counters import RedisCounters
from adapters.redis.keys import KeySpace
from application.manage_caps import CapDraft
from application.reservations import CheckRequest, FailPolicy
from domain.attribution import Attribution
from domain.caps import Cap, CapScope, Enforcement
from domain.events import SpendEvent
from domain.money import Money
from domain.periods import Period
from domain.reports import SpendFilter
from domain.usage import Usage
from tests.redis.conftest import delete_keyspace
from tests.support.clock import MutableClock
from tests.support.harness import Harness

pytestmark = pytest.mark.redis

CALL = Attribution("openai", "gpt-4o-mini")
# gpt-4o-mini input is $0.15 per million tokens.
FIFTEEN_CENTS = Usage(input_tokens=1_000_000)


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(datetime.now(UTC).replace(microsecond=0))


def harness(
    store: MemoryUnitOfWorkFactory,
    counters: RedisCounters,
    clock: MutableClock,
    policy: FailPolicy = FailPolicy.OPEN,
) -> Harness:
    return Harness(store, counters, clock, fail_policy=policy)


def events(clock: MutableClock, count: int, start: int = 0) -> list[SpendEvent]:
    return [
        SpendEvent(
            tenant_id="default",
            event_id=f"ev-{start + n}",
            occurred_at=clock.now(),
            provider="openai",
            model="gpt-4o-mini",
            usage=FIFTEEN_CENTS,
        )
        for n in range(count)
    ]


async def block_cap(app: Harness, limit: str = "1.00") -> Cap:
    draft = CapDraft("daily", CapScope.GLOBAL, Period.DAILY, Money.parse(limit), Enforcement.BLOCK)
    return (await app.caps.create(app.principal(), draft)).cap


async def stored_cost(app: Harness, clock: MutableClock) -> Money:
    window = SpendFilter(clock.now() - timedelta(days=1), clock.now() + timedelta(days=1))
    return (await app.reports.summary(app.principal(), window)).totals.cost


async def test_ingest_stores_every_event_while_redis_is_down(
    dead_redis: Redis, clock: MutableClock
) -> None:
    app = harness(MemoryUnitOfWorkFactory(), RedisCounters(dead_redis, clock), clock)
    await block_cap(app)
    result = await app.record(app.principal(), events(clock, 3))
    assert len(result.stored) == 3
    assert await stored_cost(app, clock) == Money.parse("0.45")
    again = await app.record(app.principal(), events(clock, 3))
    assert (len(again.stored), again.duplicates) == (0, 3)


async def test_fail_open_allows_the_call_and_says_it_was_not_verified(
    dead_redis: Redis, clock: MutableClock
) -> None:
    app = harness(MemoryUnitOfWorkFactory(), RedisCounters(dead_redis, clock), clock)
    await block_cap(app)
    result = await app.check(app.principal(), CheckRequest(CALL, estimated_cost=Money.parse("0.5")))
    assert result.allowed and not result.verified and result.reservation is None


async def test_fail_closed_refuses_the_call_with_the_spend_read_from_the_events(
    dead_redis: Redis, clock: MutableClock
) -> None:
    app = harness(
        MemoryUnitOfWorkFactory(), RedisCounters(dead_redis, clock), clock, FailPolicy.CLOSED
    )
    cap = await block_cap(app)
    await app.record(app.principal(), events(clock, 2))
    result = await app.check(
        app.principal(), CheckRequest(CALL, estimated_cost=Money.parse("0.01"))
    )
    assert not result.allowed and not result.verified
    assert result.blocking_cap is not None and result.blocking_cap.id == cap.id
    assert result.blocking_status is not None
    assert result.blocking_status.spent == Money.parse("0.30")


@pytest.mark.parametrize(
    ("installation", "own", "allowed"),
    [
        (FailPolicy.OPEN, FailPolicy.CLOSED, False),
        (FailPolicy.CLOSED, FailPolicy.OPEN, True),
        (FailPolicy.OPEN, None, True),
        (FailPolicy.CLOSED, None, False),
    ],
)
async def test_a_caps_own_fail_policy_overrides_the_installations(
    dead_redis: Redis,
    clock: MutableClock,
    installation: FailPolicy,
    own: FailPolicy | None,
    allowed: bool,
) -> None:
    app = harness(MemoryUnitOfWorkFactory(), RedisCounters(dead_redis, clock), clock, installation)
    draft = CapDraft(
        "daily", CapScope.GLOBAL, Period.DAILY, Money.usd(1), Enforcement.BLOCK, fail_policy=own
    )
    await app.caps.create(app.principal(), draft)
    result = await app.check(
        app.principal(), CheckRequest(CALL, estimated_cost=Money.parse("0.01"))
    )
    assert (result.allowed, result.verified) == (allowed, False)


async def test_counters_rebuild_exactly_after_a_flush(
    redis: Redis, space: KeySpace, clock: MutableClock
) -> None:
    app = harness(MemoryUnitOfWorkFactory(), RedisCounters(redis, clock, space), clock)
    cap = await block_cap(app)
    await app.record(app.principal(), events(clock, 3))
    assert (await app.caps.get(app.principal(), cap.id)).status.spent == Money.parse("0.45")
    await delete_keyspace(redis, space)  # what FLUSHALL does to this test's keys
    # The next check finds the counter absent, seeds it from the events, and holds exactly.
    fits = await app.check(app.principal(), CheckRequest(CALL, estimated_cost=Money.parse("0.55")))
    assert fits.allowed and fits.verified
    over = await app.check(app.principal(), CheckRequest(CALL, estimated_cost=Money(1)))
    assert not over.allowed and over.blocking_status is not None
    assert (over.blocking_status.spent, over.blocking_status.reserved) == (
        Money.parse("0.45"),
        Money.parse("0.55"),
    )


async def test_redis_coming_back_is_reconciled_with_what_was_ingested_meanwhile(
    redis: Redis, dead_redis: Redis, space: KeySpace, clock: MutableClock
) -> None:
    store = MemoryUnitOfWorkFactory()
    up = harness(store, RedisCounters(redis, clock, space), clock)
    cap = await block_cap(up)
    await up.record(up.principal(), events(clock, 1))
    down = harness(store, RedisCounters(dead_redis, clock, space), clock)
    await down.record(down.principal(), events(clock, 2, start=100))
    # Back up: the live counter still says $0.15; reconcile rebuilds it from the events.
    assert (await up.caps.get(up.principal(), cap.id)).status.spent == Money.parse("0.15")
    drifts = await up.reconcile()
    assert [(d.cap_id, d.cached_nanos, d.true_nanos) for d in drifts] == [
        (cap.id, Money.parse("0.15").nanos, Money.parse("0.45").nanos)
    ]
    assert (await up.caps.get(up.principal(), cap.id)).status.spent == Money.parse("0.45")
    assert await up.reconcile() == []

"""What only the Redis adapter has: cluster slots, TTLs, lost scripts, the sweeper's index,
and an unreachable server turned into CounterStoreUnavailable."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError

from adapters.redis.counters import (
    HOLD_GRACE,
    RELIST_EVERY,
    SWEEP_BATCH,
    RedisCounters,
    reachable,
)
from adapters.redis.keys import KeySpace
from application.ports import CounterStoreUnavailable
from domain.attribution import Attribution
from domain.money import Money
from domain.reservations import CounterKey, CounterLimit, Reservation
from tests.support.clock import MutableClock

pytestmark = pytest.mark.redis

WINDOW = datetime(2026, 3, 1, tzinfo=UTC)


def make_reservation(
    clock: MutableClock, tenant: str, *keys: CounterKey, ttl: int = 300
) -> Reservation:
    return Reservation(
        id=f"rsv_{uuid.uuid4().hex}",
        tenant_id=tenant,
        amount=Money(10),
        keys=keys,
        expires_at=clock.now() + timedelta(seconds=ttl),
        attribution=Attribution("anthropic", "claude-sonnet-4"),
    )


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(datetime.now(UTC))


@pytest.fixture
def tenant() -> str:
    return f"tenant_{uuid.uuid4().hex[:12]}"


async def test_every_key_of_a_tenant_lives_in_one_cluster_slot(space: KeySpace) -> None:
    tenant = "acme{eu}:1%"  # braces in an id must not split the hash tag
    keys = [CounterKey(tenant, cap, WINDOW) for cap in ("cap_a", "cap_b", "cap_{c}")]
    names = [space.spent(k) for k in keys] + [space.reserved(k) for k in keys]
    names += [space.reservation(tenant, "rsv_1"), space.tenant_expiry_index(tenant)]
    assert len({key_slot(name.encode()) for name in names}) == 1
    # Only the tenant is hashed: its slot is the slot of the (escaped) tenant id itself.
    assert key_slot(names[0].encode()) == key_slot(b"acme%7Beu%7D:1%25")


async def test_holds_and_reservations_carry_ttls(
    redis: Redis, space: KeySpace, clock: MutableClock, tenant: str
) -> None:
    counters = RedisCounters(redis, clock, space)
    key = CounterKey(tenant, "cap_a", WINDOW)
    await counters.seed(key, Money(0), 3600)
    reservation = make_reservation(clock, tenant, key, ttl=120)
    await counters.try_reserve(reservation, [CounterLimit(key, Money(100))], 7200)
    assert 7100 < await redis.ttl(space.reserved(key)) <= 7200
    hold_ttl = await redis.ttl(space.reservation(tenant, reservation.id))
    grace = int(HOLD_GRACE.total_seconds())
    assert 120 + grace - 5 < hold_ttl <= 120 + grace + 1


async def test_scripts_lost_by_the_server_are_loaded_again(
    redis: Redis, space: KeySpace, clock: MutableClock, tenant: str
) -> None:
    counters = RedisCounters(redis, clock, space)
    key = CounterKey(tenant, "cap_a", WINDOW)
    await counters.seed(key, Money(0), 3600)
    # As after a restart or SCRIPT FLUSH (which would disturb others on this shared server).
    for script in (
        counters._reserve,
        counters._finish,
        counters._add_spent,
        counters._sweep_tenant,
    ):
        script.sha = "0" * 40
    reservation = make_reservation(clock, tenant, key)
    assert await counters.try_reserve(reservation, [CounterLimit(key, Money(100))], 3600)
    assert await counters.add_spent({key: Money(5)}) == {key: Money(5)}
    assert await counters.sweep_expired(clock.now()) == 0
    assert await counters.finish(tenant, reservation.id) is not None


async def test_a_tenant_is_listed_for_the_sweeper_before_its_first_hold(
    redis: Redis, space: KeySpace, clock: MutableClock, tenant: str
) -> None:
    counters = RedisCounters(redis, clock, space)
    key = CounterKey(tenant, "cap_a", WINDOW)
    await counters.seed(key, Money(0), 3600)
    assert not await redis.sismember(space.reserving_tenants, tenant)
    await counters.try_reserve(
        make_reservation(clock, tenant, key), [CounterLimit(key, Money(9))], 60
    )
    assert await redis.sismember(space.reserving_tenants, tenant)
    # The set flushed away while this process remembers the tenant as listed: it is listed
    # again within RELIST_EVERY, so later holds are still swept.
    await redis.delete(space.reserving_tenants)
    counters._listed[tenant] -= RELIST_EVERY.total_seconds() + 1
    await counters.try_reserve(
        make_reservation(clock, tenant, key), [CounterLimit(key, Money(9))], 60
    )
    assert await redis.sismember(space.reserving_tenants, tenant)


async def test_the_sweep_walks_many_tenants_and_large_batches(
    redis: Redis, space: KeySpace, clock: MutableClock
) -> None:
    counters = RedisCounters(redis, clock, space)
    keys = []
    for number, holds in enumerate([SWEEP_BATCH + 100, *([20] * 30)]):
        tenant = f"tenant_{number}_{uuid.uuid4().hex[:6]}"
        key = CounterKey(tenant, "cap_a", WINDOW)
        keys.append(key)
        await counters.seed(key, Money(0), 3600)
        for _ in range(holds):
            reservation = make_reservation(clock, tenant, key, ttl=1)
            await counters.try_reserve(reservation, [CounterLimit(key, Money(100_000))], 3600)
    later = clock.now() + timedelta(seconds=5)
    assert await counters.sweep_expired(later) == SWEEP_BATCH + 100 + 20 * 30
    readings = await counters.read(keys)
    assert all(r is not None and r.reserved == Money(0) for r in readings.values())
    assert await counters.sweep_expired(later) == 0


async def test_an_unreachable_server_is_reported_as_unavailable(
    dead_redis: Redis, clock: MutableClock, tenant: str
) -> None:
    counters = RedisCounters(dead_redis, clock)
    key = CounterKey(tenant, "cap_a", WINDOW)
    reservation = make_reservation(clock, tenant, key)
    calls = [
        counters.read([key]),
        counters.seed(key, Money(1), 60),
        counters.overwrite(key, Money(1), 60),
        counters.add_spent({key: Money(1)}),
        counters.try_reserve(reservation, [CounterLimit(key, Money(100))], 60),
        counters.finish(tenant, reservation.id),
        counters.get_reservation(tenant, reservation.id),
        counters.sweep_expired(clock.now()),
    ]
    for call in calls:
        with pytest.raises(CounterStoreUnavailable):
            await call


async def test_concurrent_checks_share_round_trips_and_survive_a_lost_script(
    redis: Redis, space: KeySpace, clock: MutableClock, tenant: str
) -> None:
    counters = RedisCounters(redis, clock, space)
    key = CounterKey(tenant, "cap_a", WINDOW)
    await counters.seed(key, Money(0), 3600)
    await redis.sadd(space.reserving_tenants, tenant)
    counters._listed[tenant] = time.monotonic()  # all five reach the batcher together
    counters._reserve.sha = "0" * 40  # and every call of that batch meets NOSCRIPT
    limit = [CounterLimit(key, Money(25))]
    outcomes = await asyncio.gather(
        *(counters.try_reserve(make_reservation(clock, tenant, key), limit, 3600) for _ in range(5))
    )
    assert sorted(o is not None and o.allowed for o in outcomes) == [False] * 3 + [True] * 2
    reading = (await counters.read([key]))[key]
    assert reading is not None and reading.reserved == Money(20)


async def test_every_batched_caller_hears_that_redis_is_down(
    dead_redis: Redis, clock: MutableClock, tenant: str
) -> None:
    counters = RedisCounters(dead_redis, clock)
    counters._listed[tenant] = time.monotonic()  # straight to the batched script
    key = CounterKey(tenant, "cap_a", WINDOW)
    limit = [CounterLimit(key, Money(25))]
    outcomes = await asyncio.gather(
        *(counters.try_reserve(make_reservation(clock, tenant, key), limit, 60) for _ in range(5)),
        return_exceptions=True,
    )
    assert all(isinstance(outcome, CounterStoreUnavailable) for outcome in outcomes)


async def test_reachable_turns_redis_errors_and_an_expired_budget_into_unavailable() -> None:
    with pytest.raises(CounterStoreUnavailable, match="TimeoutError"):
        async with reachable(timedelta(milliseconds=10)):
            await asyncio.sleep(1)  # a Redis that stopped answering
    with pytest.raises(CounterStoreUnavailable, match="READONLY"):
        async with reachable():
            raise ReadOnlyError("READONLY You can't write against a read only replica.")
    with pytest.raises(CounterStoreUnavailable, match="Connection refused"):
        async with reachable():
            raise RedisConnectionError("Connection refused")
    # Anything else is not Redis being down: it passes through as it is.
    with pytest.raises(ValueError, match="a bug"):
        async with reachable():
            raise ValueError("a bug")
    async with reachable():
        pass  # and nothing happens when nothing goes wrong

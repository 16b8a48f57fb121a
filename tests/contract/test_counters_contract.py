"""One contract for the live counters: the in-process twin and Redis must behave alike.

Redis runs on the shared test server: each test takes a key prefix and tenant of its own
and deletes only its own keys afterwards (never FLUSHDB: others use the server too).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.counters import InProcessCounters
from adapters.redis.connection import close_redis, make_redis
from adapters.redis.counters import RedisCounters
from adapters.redis.keys import KeySpace
from application.ports import CounterReading, SpendCounters
from domain.attribution import Attribution
from domain.money import Money
from domain.reservations import CounterKey, CounterLimit, Reservation, ReservationState
from tests.support.clock import MutableClock
from tests.support.services import require_redis

WINDOW = datetime(2026, 3, 1, tzinfo=UTC)
TTL = 3600


@dataclass
class Subject:
    counters: SpendCounters
    clock: MutableClock
    tenant: str
    # Remaining lifetime of a counter's spent value, in seconds, as the store sees it.
    spent_ttl: Callable[[CounterKey], Awaitable[float]]

    def key(self, cap_id: str = "cap_a", tenant: str | None = None) -> CounterKey:
        return CounterKey(tenant or self.tenant, cap_id, WINDOW)

    def reservation(
        self, amount: Money, *keys: CounterKey, ttl: int = 300, rid: str | None = None
    ) -> Reservation:
        return Reservation(
            id=rid or f"rsv_{uuid.uuid4().hex}",
            tenant_id=self.tenant,
            amount=amount,
            keys=keys,
            expires_at=self.clock.now() + timedelta(seconds=ttl),
            attribution=Attribution("openai", "gpt-4o", agent="planner", customer_id="cus_1"),
        )


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    # The real clock's now: Redis expires keys on its own clock, whatever the test's says.
    clock = MutableClock(datetime.now(UTC).replace(microsecond=0))
    tenant = f"tenant_{uuid.uuid4().hex[:12]}"
    if request.param == "memory":
        memory = InProcessCounters(clock)

        async def memory_ttl(key: CounterKey) -> float:
            return (memory._expires[key] - clock.now()).total_seconds()

        yield Subject(memory, clock, tenant, memory_ttl)
        return
    redis = make_redis(require_redis())
    space = KeySpace(f"llmo-test-{uuid.uuid4().hex[:10]}")

    async def redis_ttl(key: CounterKey) -> float:
        return float(await redis.pttl(space.spent(key))) / 1000

    try:
        yield Subject(RedisCounters(redis, clock, space), clock, tenant, redis_ttl)
    finally:
        stale = [key async for key in redis.scan_iter(match=f"{space.prefix}:*", count=500)]
        if stale:
            await redis.delete(*stale)
        await close_redis(redis)


async def seeded(subject: Subject, spent: Money, *cap_ids: str) -> list[CounterKey]:
    keys = [subject.key(cap_id) for cap_id in cap_ids]
    for key in keys:
        await subject.counters.seed(key, spent, TTL)
    return keys


async def test_an_unknown_key_reads_as_absent(subject: Subject) -> None:
    key = subject.key()
    assert await subject.counters.read([key]) == {key: None}


async def test_seed_sets_spent_once_and_never_overwrites_a_live_value(subject: Subject) -> None:
    key = subject.key()
    await subject.counters.seed(key, Money(700), TTL)
    await subject.counters.seed(key, Money(5), TTL)
    assert await subject.counters.read([key]) == {key: CounterReading(Money(700), Money(0))}


async def test_seed_and_overwrite_set_a_ttl(subject: Subject) -> None:
    key = subject.key()
    await subject.counters.seed(key, Money(1), 120)
    assert 110 < await subject.spent_ttl(key) <= 120
    await subject.counters.overwrite(key, Money(2), 900)
    assert 890 < await subject.spent_ttl(key) <= 900


async def test_overwrite_forces_the_truth_and_returns_what_was_there(subject: Subject) -> None:
    key = subject.key()
    assert await subject.counters.overwrite(key, Money(40), TTL) is None
    assert await subject.counters.overwrite(key, Money(55), TTL) == Money(40)
    assert (await subject.counters.read([key]))[key] == CounterReading(Money(55), Money(0))


async def test_replace_if_unchanged_is_a_compare_and_set(subject: Subject) -> None:
    key = subject.key()
    assert await subject.counters.replace_if_unchanged(key, Money(5), Money(9), TTL) is False
    assert await subject.counters.read([key]) == {key: None}
    assert await subject.counters.replace_if_unchanged(key, None, Money(40), TTL) is True
    assert 0 < await subject.spent_ttl(key) <= TTL
    await subject.counters.add_spent({key: Money(2)})  # an ingest lands meanwhile
    assert await subject.counters.replace_if_unchanged(key, Money(40), Money(41), TTL) is False
    assert (await subject.counters.read([key]))[key] == CounterReading(Money(42), Money(0))
    assert await subject.counters.replace_if_unchanged(key, Money(42), Money(41), TTL) is True
    assert (await subject.counters.read([key]))[key] == CounterReading(Money(41), Money(0))


async def test_add_spent_moves_live_keys_and_leaves_absent_ones_absent(subject: Subject) -> None:
    (live,) = await seeded(subject, Money(100), "cap_live")
    absent = subject.key("cap_absent")
    result = await subject.counters.add_spent({live: Money(25), absent: Money(9)})
    assert result == {live: Money(125)}
    assert await subject.counters.read([live, absent]) == {
        live: CounterReading(Money(125), Money(0)),
        absent: None,
    }


async def test_reading_keys_of_several_tenants_at_once(subject: Subject) -> None:
    mine = subject.key()
    theirs = subject.key(tenant=f"{subject.tenant}_other")
    await subject.counters.seed(mine, Money(1), TTL)
    await subject.counters.seed(theirs, Money(2), TTL)
    readings = await subject.counters.read([mine, theirs])
    assert readings[mine] == CounterReading(Money(1), Money(0))
    assert readings[theirs] == CounterReading(Money(2), Money(0))


async def test_a_reservation_against_an_absent_key_asks_for_a_seed(subject: Subject) -> None:
    (live,) = await seeded(subject, Money(0), "cap_live")
    absent = subject.key("cap_absent")
    reservation = subject.reservation(Money(10), live, absent)
    limits = [CounterLimit(live, Money(100)), CounterLimit(absent, Money(100))]
    assert await subject.counters.try_reserve(reservation, limits, TTL) is None
    assert (await subject.counters.read([live]))[live] == CounterReading(Money(0), Money(0))
    assert await subject.counters.get_reservation(subject.tenant, reservation.id) is None


async def test_a_reservation_holds_against_every_cap(subject: Subject) -> None:
    keys = await seeded(subject, Money(10), "cap_a", "cap_b", "cap_c")
    reservation = subject.reservation(Money(30), *keys)
    outcome = await subject.counters.try_reserve(
        reservation, [CounterLimit(key, Money(100)) for key in keys], TTL
    )
    assert outcome is not None and outcome.allowed
    assert await subject.counters.read(keys) == {
        key: CounterReading(Money(10), Money(30)) for key in keys
    }
    assert await subject.counters.get_reservation(subject.tenant, reservation.id) == reservation


async def test_one_cap_that_would_overflow_refuses_all_and_holds_nothing(subject: Subject) -> None:
    roomy_a, tight, roomy_b = await seeded(subject, Money(60), "cap_a", "cap_b", "cap_c")
    earlier = subject.reservation(Money(15), tight)
    assert await subject.counters.try_reserve(earlier, [CounterLimit(tight, Money(100))], TTL)
    limits = [
        CounterLimit(roomy_a, Money(1_000)),
        CounterLimit(tight, Money(100)),
        CounterLimit(roomy_b, Money(1_000)),
    ]
    outcome = await subject.counters.try_reserve(
        subject.reservation(Money(26), roomy_a, tight, roomy_b), limits, TTL
    )
    assert outcome is not None and not outcome.allowed
    assert outcome.blocking_key == tight
    assert (outcome.spent, outcome.reserved) == (Money(60), Money(15))
    assert await subject.counters.read([roomy_a, tight, roomy_b]) == {
        roomy_a: CounterReading(Money(60), Money(0)),
        tight: CounterReading(Money(60), Money(15)),
        roomy_b: CounterReading(Money(60), Money(0)),
    }


async def test_the_limit_itself_is_allowed_one_nano_more_is_not(subject: Subject) -> None:
    (key,) = await seeded(subject, Money(70), "cap_a")
    limit = [CounterLimit(key, Money(100))]
    over = await subject.counters.try_reserve(subject.reservation(Money(31), key), limit, TTL)
    assert over is not None and not over.allowed
    exact = await subject.counters.try_reserve(subject.reservation(Money(30), key), limit, TTL)
    assert exact is not None and exact.allowed


async def test_amounts_beyond_double_precision_stay_exact(subject: Subject) -> None:
    # 2**53 nano-USD is about $9M; caps go up to $1e9, so no step may round through a float.
    spent = Money(2**53 + 1)
    (key,) = await seeded(subject, spent, "cap_a")
    limit = [CounterLimit(key, Money(2**53 + 3))]
    refused = await subject.counters.try_reserve(subject.reservation(Money(3), key), limit, TTL)
    assert refused is not None and not refused.allowed and refused.spent == spent
    allowed = await subject.counters.try_reserve(subject.reservation(Money(2), key), limit, TTL)
    assert allowed is not None and allowed.allowed
    assert await subject.counters.add_spent({key: Money(1)}) == {key: Money(2**53 + 2)}


async def test_finishing_gives_the_hold_back_once(subject: Subject) -> None:
    keys = await seeded(subject, Money(0), "cap_a", "cap_b")
    reservation = subject.reservation(Money(40), *keys)
    await subject.counters.try_reserve(
        reservation, [CounterLimit(k, Money(100)) for k in keys], TTL
    )
    finished = await subject.counters.finish(subject.tenant, reservation.id)
    assert finished is not None
    assert finished.id == reservation.id and finished.amount == Money(40)
    assert finished.keys == reservation.keys and finished.state is ReservationState.SETTLED
    assert await subject.counters.finish(subject.tenant, reservation.id) is None
    assert await subject.counters.get_reservation(subject.tenant, reservation.id) is None
    assert await subject.counters.read(keys) == {
        k: CounterReading(Money(0), Money(0)) for k in keys
    }


async def test_another_tenant_cannot_finish_or_see_a_reservation(subject: Subject) -> None:
    (key,) = await seeded(subject, Money(0), "cap_a")
    reservation = subject.reservation(Money(5), key)
    await subject.counters.try_reserve(reservation, [CounterLimit(key, Money(100))], TTL)
    other = f"{subject.tenant}_other"
    assert await subject.counters.get_reservation(other, reservation.id) is None
    assert await subject.counters.finish(other, reservation.id) is None
    assert (await subject.counters.read([key]))[key] == CounterReading(Money(0), Money(5))


async def test_the_sweep_releases_expired_holds_only(subject: Subject) -> None:
    (key,) = await seeded(subject, Money(0), "cap_a")
    short = subject.reservation(Money(7), key, ttl=5)
    long = subject.reservation(Money(11), key, ttl=600)
    for reservation in (short, long):
        await subject.counters.try_reserve(reservation, [CounterLimit(key, Money(100))], TTL)
    assert await subject.counters.sweep_expired(subject.clock.now()) == 0
    assert await subject.counters.sweep_expired(short.expires_at) == 1
    assert (await subject.counters.read([key]))[key] == CounterReading(Money(0), Money(11))
    assert await subject.counters.get_reservation(subject.tenant, short.id) is None
    assert await subject.counters.finish(subject.tenant, short.id) is None
    assert await subject.counters.sweep_expired(short.expires_at) == 0
    assert await subject.counters.sweep_expired(long.expires_at + timedelta(seconds=1)) == 1
    assert (await subject.counters.read([key]))[key] == CounterReading(Money(0), Money(0))


async def test_a_hold_finished_before_the_sweep_is_not_released_twice(subject: Subject) -> None:
    (key,) = await seeded(subject, Money(0), "cap_a")
    first = subject.reservation(Money(3), key, ttl=1)
    second = subject.reservation(Money(4), key, ttl=1)
    for reservation in (first, second):
        await subject.counters.try_reserve(reservation, [CounterLimit(key, Money(100))], TTL)
    await subject.counters.finish(subject.tenant, first.id)
    assert await subject.counters.sweep_expired(first.expires_at + timedelta(seconds=5)) == 1
    assert (await subject.counters.read([key]))[key] == CounterReading(Money(0), Money(0))


@pytest.mark.parametrize("fits", [1, 137, 499])
async def test_concurrent_reservations_never_pass_the_limit(subject: Subject, fits: int) -> None:
    cent = Money.parse("0.01")
    (key,) = await seeded(subject, Money(0), "cap_a")
    limits = [CounterLimit(key, Money(cent.nanos * fits))]

    async def attempt() -> bool:
        outcome = await subject.counters.try_reserve(subject.reservation(cent, key), limits, TTL)
        assert outcome is not None
        return outcome.allowed

    results = await asyncio.gather(*(attempt() for _ in range(500)))
    assert sum(results) == fits
    assert (await subject.counters.read([key]))[key] == CounterReading(
        Money(0), Money(cent.nanos * fits)
    )

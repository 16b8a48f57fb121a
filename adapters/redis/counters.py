"""Live cap counters in Redis: spent and reserved per (cap, window), and the reservations.

The twin of `adapters.memory.counters.InProcessCounters`. Every change of more than one
key is a Lua script, so concurrent collectors on any number of hosts see one order.
Single-key operations (seed, overwrite, read) are single commands, atomic by themselves.

Keys (see `KeySpace`), all of one tenant in one Cluster slot:
    llmo:{tenant}:spent:<cap>:<window epoch>      integer nano-USD, TTL window end + 2 days
    llmo:{tenant}:reserved:<cap>:<window epoch>   integer nano-USD held by reservations
    llmo:{tenant}:rsv:<reservation id>            hash: amount, reserved keys, meta (JSON)
    llmo:{tenant}:rsv-expiry                      sorted set: reservation id by expiry
    llmo:reservations:tenants                     set: tenants the sweeper visits
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError, ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from adapters.redis import lua
from adapters.redis.batching import ScriptBatcher
from adapters.redis.codec import decode_meta, encode_meta, reserved_keys_json
from adapters.redis.keys import KeySpace, to_micros
from application.ports import Clock, CounterReading, CounterStoreUnavailable, SpendCounters
from domain.money import Money
from domain.reservations import (
    CounterKey,
    CounterLimit,
    Reservation,
    ReservationState,
    ReserveOutcome,
)

# A reservation's hash outlives its expiry by this much, so the sweeper (every minute)
# always finds it to give its hold back; after that Redis drops it on its own.
HOLD_GRACE = timedelta(days=1)
# How often a process re-adds a tenant to the sweeper's set: after a flush, holds made
# by a process that still remembers the tenant as listed are swept within this time.
RELIST_EVERY = timedelta(minutes=5)
SWEEP_BATCH = 500
# One deadline per operation, rather than a socket timeout on every read and write:
# a cap check waits at most this long for a hung Redis before the fail policy decides
# (a refused connection fails at once), and the hot path pays for one timer, not several.
# Not shorter: the wait includes queueing in this process under a burst, which is load,
# not Redis being down, and must not turn into fail-open.
OPERATION_TIMEOUT = timedelta(seconds=5)
SWEEP_TIMEOUT = timedelta(minutes=2)


# ReadOnlyError: a primary demoted by a failover; the counters cannot move there.
_UNAVAILABLE = (ConnectionError, RedisTimeoutError, TimeoutError, ReadOnlyError)


class _Reachable:
    """`async with`: Redis errors and the time budget become CounterStoreUnavailable.

    A class rather than an @asynccontextmanager generator: every cap check enters one,
    and the generator's machinery cost more than the rest of the check's bookkeeping."""

    __slots__ = ("_timeout",)

    def __init__(self, seconds: float) -> None:
        self._timeout = asyncio.timeout(seconds)

    async def __aenter__(self) -> None:
        await self._timeout.__aenter__()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        try:
            # Turns the cancellation of an expired budget into TimeoutError.
            await self._timeout.__aexit__(kind, exc, tb)
        except _UNAVAILABLE as error:
            raise CounterStoreUnavailable(str(error) or type(error).__name__) from error
        if isinstance(exc, _UNAVAILABLE):
            raise CounterStoreUnavailable(str(exc) or type(exc).__name__) from exc


def reachable(budget: timedelta = OPERATION_TIMEOUT) -> _Reachable:
    return _Reachable(budget.total_seconds())


def _by_tenant(keys: Sequence[CounterKey]) -> dict[str, list[CounterKey]]:
    groups: dict[str, list[CounterKey]] = defaultdict(list)
    for key in keys:
        groups[key.tenant_id].append(key)
    return groups


class RedisCounters(SpendCounters):
    def __init__(self, redis: Redis, clock: Clock, keys: KeySpace | None = None) -> None:
        self._redis = redis
        self._keys = keys or KeySpace()
        self._clock = clock
        # register_script only hashes the text: scripts load on first use (EVALSHA, then
        # SCRIPT LOAD on NOSCRIPT), and again after a restart or SCRIPT FLUSH.
        self._reserve = redis.register_script(lua.TRY_RESERVE)
        self._finish = redis.register_script(lua.FINISH)
        self._sweep_tenant = redis.register_script(lua.SWEEP_TENANT)
        self._add_spent = redis.register_script(lua.ADD_SPENT)
        self._replace_if_unchanged = redis.register_script(lua.REPLACE_IF_UNCHANGED)
        # The cap check is the hot path: concurrent checks share round trips.
        self._reserve_batched = ScriptBatcher(redis, self._reserve)
        self._listed: dict[str, float] = {}

    async def read(self, keys: Sequence[CounterKey]) -> dict[CounterKey, CounterReading | None]:
        groups = list(_by_tenant(keys).values())
        if not groups:
            return {}
        async with reachable():
            pipe = self._redis.pipeline(transaction=False)
            for group in groups:
                # One MGET per tenant: a multi-key command must stay inside one slot.
                pipe.mget(
                    [self._keys.spent(key) for key in group]
                    + [self._keys.reserved(key) for key in group]
                )
            replies = await pipe.execute()
        result: dict[CounterKey, CounterReading | None] = {}
        for group, values in zip(groups, replies, strict=True):
            for index, key in enumerate(group):
                spent, reserved = values[index], values[len(group) + index]
                result[key] = (
                    None
                    if spent is None
                    else CounterReading(Money(int(spent)), Money(max(0, int(reserved or 0))))
                )
        return result

    async def seed(self, key: CounterKey, spent: Money, ttl_seconds: int) -> None:
        async with reachable():
            await self._redis.set(self._keys.spent(key), spent.nanos, ex=ttl_seconds, nx=True)

    async def overwrite(self, key: CounterKey, spent: Money, ttl_seconds: int) -> Money | None:
        async with reachable():
            previous = await self._redis.set(
                self._keys.spent(key), spent.nanos, ex=ttl_seconds, get=True
            )
        return None if previous is None else Money(int(previous))

    async def replace_if_unchanged(
        self, key: CounterKey, expected: Money | None, spent: Money, ttl_seconds: int
    ) -> bool:
        async with reachable():
            replaced = await self._replace_if_unchanged(
                keys=[self._keys.spent(key)],
                args=["" if expected is None else str(expected.nanos), spent.nanos, ttl_seconds],
            )
        return bool(replaced)

    async def add_spent(self, amounts: Mapping[CounterKey, Money]) -> dict[CounterKey, Money]:
        result: dict[CounterKey, Money] = {}
        async with reachable():
            for group in _by_tenant(list(amounts)).values():
                replies = await self._add_spent(
                    keys=[self._keys.spent(key) for key in group],
                    args=[amounts[key].nanos for key in group],
                )
                for key, value in zip(group, replies, strict=True):
                    if value is not None:
                        result[key] = Money(int(value))
        return result

    async def try_reserve(
        self, reservation: Reservation, limits: Sequence[CounterLimit], ttl_seconds: int
    ) -> ReserveOutcome | None:
        tenant_id = reservation.tenant_id
        if any(limit.key.tenant_id != tenant_id for limit in limits):
            raise ValueError("a reservation holds only its own tenant's counters")
        script_keys = [
            self._keys.reservation(tenant_id, reservation.id),
            self._keys.tenant_expiry_index(tenant_id),
        ]
        for limit in limits:
            script_keys += [self._keys.spent(limit.key), self._keys.reserved(limit.key)]
        expiry = to_micros(reservation.expires_at)
        args: list[Any] = [
            reservation.id,
            reservation.amount.nanos,
            expiry,
            self._hold_ttl_seconds(reservation.expires_at),
            ttl_seconds,
            reserved_keys_json(self._keys, reservation),
            encode_meta(reservation),
            *(limit.limit.nanos for limit in limits),
        ]
        async with reachable():
            await self._list_for_sweeper(tenant_id)
            reply = await self._reserve_batched(script_keys, args)
        status = reply[0].decode()
        if status == "absent":
            return None
        if status == "refused":
            blocking = limits[int(reply[1]) - 1]
            return ReserveOutcome(False, blocking.key, Money(int(reply[2])), Money(int(reply[3])))
        return ReserveOutcome(True)

    async def finish(self, tenant_id: str, reservation_id: str) -> Reservation | None:
        async with reachable():
            meta = await self._finish(
                keys=[
                    self._keys.reservation(tenant_id, reservation_id),
                    self._keys.tenant_expiry_index(tenant_id),
                ],
                args=[reservation_id],
            )
        return None if meta is None else decode_meta(meta, ReservationState.SETTLED)

    async def get_reservation(self, tenant_id: str, reservation_id: str) -> Reservation | None:
        async with reachable():
            meta = await self._redis.hget(  # type: ignore[misc]  # redis-py's sync|async union
                self._keys.reservation(tenant_id, reservation_id), "meta"
            )
        return None if meta is None else decode_meta(meta)

    async def sweep_expired(self, now: datetime) -> int:
        cutoff = to_micros(now)
        released = 0
        async with reachable(SWEEP_TIMEOUT):
            async for tenant in self._redis.sscan_iter(
                self._keys.reserving_tenants, count=SWEEP_BATCH
            ):
                released += await self._sweep_one_tenant(tenant.decode(), cutoff)
        return released

    async def _sweep_one_tenant(self, tenant_id: str, cutoff: int) -> int:
        released = 0
        while True:
            count, scanned = await self._sweep_tenant(
                keys=[self._keys.tenant_expiry_index(tenant_id)],
                args=[cutoff, self._keys.reservation_prefix(tenant_id), SWEEP_BATCH],
            )
            released += int(count)
            if int(scanned) < SWEEP_BATCH:
                return released

    async def _list_for_sweeper(self, tenant_id: str) -> None:
        """Put the tenant in the sweeper's set before its first hold exists (and now and
        then again). Tenants are never taken out: the set is bounded by the tenants, and
        taking one out could race with a hold being made."""
        now = time.monotonic()
        if now - self._listed.get(tenant_id, -math.inf) < RELIST_EVERY.total_seconds():
            return
        await self._redis.sadd(self._keys.reserving_tenants, tenant_id)  # type: ignore[misc]
        self._listed[tenant_id] = now

    def _hold_ttl_seconds(self, expires_at: datetime) -> int:
        remaining = (expires_at - self._clock.now()).total_seconds()
        return max(1, math.ceil(remaining)) + int(HOLD_GRACE.total_seconds())

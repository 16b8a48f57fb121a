"""Live counters inside the process: the embedded default and the unit layer.

Every method runs to completion without awaiting, so on one event loop each is
atomic, which is what the Redis adapter gets from its Lua scripts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from application.ports import Clock, CounterReading, SpendCounters
from domain.money import Money
from domain.reservations import (
    CounterKey,
    CounterLimit,
    Reservation,
    ReservationState,
    ReserveOutcome,
)


class InProcessCounters(SpendCounters):
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._spent: dict[CounterKey, int] = {}
        self._reserved: dict[CounterKey, int] = {}
        self._expires: dict[CounterKey, datetime] = {}
        self._reservations: dict[tuple[str, str], Reservation] = {}

    def _live(self, key: CounterKey) -> bool:
        expires = self._expires.get(key)
        if expires is not None and expires <= self._clock.now():
            self._spent.pop(key, None)
            self._expires.pop(key, None)
        return key in self._spent

    def _ttl(self, key: CounterKey, ttl_seconds: int) -> None:
        self._expires[key] = self._clock.now() + timedelta(seconds=ttl_seconds)

    async def read(self, keys: Sequence[CounterKey]) -> dict[CounterKey, CounterReading | None]:
        return {
            key: CounterReading(Money(self._spent[key]), Money(self._reserved.get(key, 0)))
            if self._live(key)
            else None
            for key in keys
        }

    async def seed(self, key: CounterKey, spent: Money, ttl_seconds: int) -> None:
        if not self._live(key):
            self._spent[key] = spent.nanos
            self._ttl(key, ttl_seconds)

    async def overwrite(self, key: CounterKey, spent: Money, ttl_seconds: int) -> Money | None:
        previous = Money(self._spent[key]) if self._live(key) else None
        self._spent[key] = spent.nanos
        self._ttl(key, ttl_seconds)
        return previous

    async def replace_if_unchanged(
        self, key: CounterKey, expected: Money | None, spent: Money, ttl_seconds: int
    ) -> bool:
        current = Money(self._spent[key]) if self._live(key) else None
        if current != expected:
            return False
        self._spent[key] = spent.nanos
        self._ttl(key, ttl_seconds)
        return True

    async def add_spent(self, amounts: Mapping[CounterKey, Money]) -> dict[CounterKey, Money]:
        result = {}
        for key, amount in amounts.items():
            if self._live(key):
                self._spent[key] += amount.nanos
                result[key] = Money(self._spent[key])
        return result

    async def try_reserve(
        self, reservation: Reservation, limits: Sequence[CounterLimit], ttl_seconds: int
    ) -> ReserveOutcome | None:
        if not all(self._live(limit.key) for limit in limits):
            return None
        for limit in limits:
            spent = self._spent[limit.key]
            reserved = self._reserved.get(limit.key, 0)
            if spent + reserved + reservation.amount.nanos > limit.limit.nanos:
                return ReserveOutcome(False, limit.key, Money(spent), Money(reserved))
        for limit in limits:
            self._reserved[limit.key] = self._reserved.get(limit.key, 0) + reservation.amount.nanos
        self._reservations[(reservation.tenant_id, reservation.id)] = reservation
        return ReserveOutcome(True)

    async def finish(self, tenant_id: str, reservation_id: str) -> Reservation | None:
        reservation = self._reservations.pop((tenant_id, reservation_id), None)
        if reservation is None:
            return None
        for key in reservation.keys:
            self._reserved[key] = max(0, self._reserved.get(key, 0) - reservation.amount.nanos)
        return replace(reservation, state=ReservationState.SETTLED)

    async def get_reservation(self, tenant_id: str, reservation_id: str) -> Reservation | None:
        return self._reservations.get((tenant_id, reservation_id))

    async def sweep_expired(self, now: datetime) -> int:
        expired = [r for r in self._reservations.values() if r.expires_at <= now]
        for reservation in expired:
            await self.finish(reservation.tenant_id, reservation.id)
        return len(expired)

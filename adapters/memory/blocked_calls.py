"""Refused-call counts inside the process: the embedded default and the unit layer."""

from __future__ import annotations

from datetime import datetime, timedelta

from application.ports import BlockedCallCounter, Clock
from domain.reservations import CounterKey


class InProcessBlockedCalls(BlockedCallCounter):
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._counts: dict[CounterKey, tuple[int, datetime]] = {}

    async def increment(self, key: CounterKey, ttl_seconds: int) -> int:
        count = await self.count(key) + 1
        self._counts[key] = (count, self._clock.now() + timedelta(seconds=ttl_seconds))
        return count

    async def count(self, key: CounterKey) -> int:
        held = self._counts.get(key)
        if held is None:
            return 0
        if held[1] <= self._clock.now():
            del self._counts[key]
            return 0
        return held[0]

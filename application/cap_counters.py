"""Live cap counters kept honest: seeded from the events when the cache does not hold them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from application.ports import CounterReading, SpendCounters, UnitOfWorkFactory
from domain.caps import Cap, CapStatus
from domain.money import Money
from domain.periods import Window
from domain.reservations import CounterKey

log = logging.getLogger(__name__)

# Counters outlive their window by two days so that late events still land.
COUNTER_GRACE = timedelta(days=2)


def counter_key(cap: Cap, window: Window) -> CounterKey:
    return CounterKey(cap.tenant_id, cap.id, window.start)


def counter_ttl_seconds(window: Window, now: datetime) -> int:
    return max(60, int((window.end + COUNTER_GRACE - now).total_seconds()))


class CapCounters:
    def __init__(self, counters: SpendCounters, uow_factory: UnitOfWorkFactory) -> None:
        self._counters = counters
        self._uow_factory = uow_factory

    @property
    def store(self) -> SpendCounters:
        return self._counters

    async def readings(
        self, caps: Sequence[Cap], now: datetime
    ) -> dict[str, tuple[Window, CounterReading]]:
        """Current-window spent and reserved for each cap, seeding any the store lacks."""
        windows = {cap.id: cap.window_at(now) for cap in caps}
        keys = {cap.id: counter_key(cap, windows[cap.id]) for cap in caps}
        found = await self._counters.read(list(keys.values()))
        result: dict[str, tuple[Window, CounterReading]] = {}
        for cap in caps:
            reading = found.get(keys[cap.id])
            if reading is None:
                reading = await self.seed(cap, windows[cap.id], now)
            result[cap.id] = (windows[cap.id], reading)
        return result

    async def seed(self, cap: Cap, window: Window, now: datetime) -> CounterReading:
        async with self._uow_factory(cap.tenant_id) as uow:
            spent = await uow.events.spent_in(cap.tenant_id, cap, window)
        key = counter_key(cap, window)
        await self._counters.seed(key, spent, counter_ttl_seconds(window, now))
        reading = (await self._counters.read([key])).get(key)
        return reading if reading is not None else CounterReading(spent, Money.zero())

    async def refresh(self, cap: Cap, now: datetime) -> None:
        """Force the current window's counter to the events' truth (after a cap's scope,
        period or zone changed, the old count belongs to another set of calls)."""
        window = cap.window_at(now)
        async with self._uow_factory(cap.tenant_id) as uow:
            spent = await uow.events.spent_in(cap.tenant_id, cap, window)
        await self._counters.overwrite(
            counter_key(cap, window), spent, counter_ttl_seconds(window, now)
        )

    async def status_from_truth(self, cap: Cap, now: datetime) -> tuple[Window, CapStatus]:
        """Spend read from the events, for when the counter store is unreachable."""
        window = cap.window_at(now)
        async with self._uow_factory(cap.tenant_id) as uow:
            spent = await uow.events.spent_in(cap.tenant_id, cap, window)
        return window, cap.status(spent)

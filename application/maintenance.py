"""Jobs that keep the live state honest: the cap monitor, counter reconcile, reservation sweep."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from application.cap_alerts import CapAlerts
from application.cap_counters import CapCounters, counter_key, counter_ttl_seconds
from application.ports import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Drift:
    cap_id: str
    cached_nanos: int | None
    true_nanos: int


class MonitorCaps:
    """The safety net: every enabled cap's current window is checked against its thresholds,
    raising what the ingest path missed. Running it twice raises nothing twice."""

    def __init__(self, uow_factory: UnitOfWorkFactory, alerts: CapAlerts, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._alerts = alerts
        self._clock = clock

    async def __call__(self) -> int:
        async with self._uow_factory(None) as uow:
            caps = await uow.caps.all_enabled()
        return await self._alerts.evaluate(caps, self._clock.now())


class ReconcileCounters:
    """Counters are a cache: rebuild each cap's current window exactly from the events
    and report what was corrected."""

    def __init__(self, uow_factory: UnitOfWorkFactory, counters: CapCounters, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._counters = counters
        self._clock = clock

    async def __call__(self) -> list[Drift]:
        now = self._clock.now()
        async with self._uow_factory(None) as uow:
            caps = await uow.caps.all_enabled()
        drifts = []
        for cap in caps:
            window = cap.window_at(now)
            key = counter_key(cap, window)
            # Read the cache before the truth: an event counted in between changes the
            # cache, the compare-and-set below then fails, and the next run settles it.
            reading = (await self._counters.store.read([key])).get(key)
            cached = reading.spent if reading is not None else None
            async with self._uow_factory(cap.tenant_id) as uow:
                truth = await uow.events.spent_in(cap.tenant_id, cap, window)
            if cached == truth:
                continue
            replaced = await self._counters.store.replace_if_unchanged(
                key, cached, truth, counter_ttl_seconds(window, now)
            )
            if replaced:
                drifts.append(Drift(cap.id, cached.nanos if cached else None, truth.nanos))
            else:
                log.info("counter of cap %s moved during reconcile; left for the next run", cap.id)
        for drift in drifts:
            if drift.cached_nanos is not None:
                log.warning(
                    "counter drift corrected: cap=%s cached=%d true=%d",
                    drift.cap_id,
                    drift.cached_nanos,
                    drift.true_nanos,
                )
        return drifts


class SweepReservations:
    def __init__(self, counters: CapCounters, clock: Clock) -> None:
        self._counters = counters
        self._clock = clock

    async def __call__(self) -> int:
        return await self._counters.store.sweep_expired(self._clock.now())

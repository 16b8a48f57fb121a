"""Raise one alert per (cap, window, threshold) the spend has reached."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from application.cap_counters import CapCounters
from application.ports import CounterStoreUnavailable, IdGenerator, UnitOfWorkFactory
from domain.alerts import Alert, kind_for_threshold
from domain.caps import Cap
from domain.money import Money
from domain.periods import Window
from domain.reservations import CounterKey

log = logging.getLogger(__name__)


class CapAlerts:
    """Business rules:
    - an alert exists at most once per (cap, window, threshold): inserting it again is a no-op,
      so the ingest path, the monitor and any number of workers may all try;
    - only the cap's current window raises alerts; late events for a closed window do not;
    - an alert is a pending row (an outbox); sending it is another job's work.
    """

    def __init__(
        self, uow_factory: UnitOfWorkFactory, counters: CapCounters, ids: IdGenerator
    ) -> None:
        self._uow_factory = uow_factory
        self._counters = counters
        self._ids = ids

    async def after_increments(
        self,
        caps_by_key: Mapping[CounterKey, Cap],
        increments: Mapping[CounterKey, Money],
        new_spent: Mapping[CounterKey, Money],
        now: datetime,
    ) -> int:
        raised = 0
        for key, cap in caps_by_key.items():
            window = cap.window_at(now)
            if key in new_spent:
                after = new_spent[key]
                thresholds = cap.thresholds_crossed(after - increments[key], after)
            else:
                after = (await self._counters.seed(cap, window, now)).spent
                thresholds = cap.thresholds_reached(after)
            raised += await self._raise(cap, window, after, thresholds, now)
        return raised

    async def evaluate(self, caps: Sequence[Cap], now: datetime) -> int:
        """The safety net: raise every reached threshold that has no alert yet."""
        try:
            readings = await self._counters.readings(caps, now)
            spent_by_cap = {cap_id: (w, r.spent) for cap_id, (w, r) in readings.items()}
        except CounterStoreUnavailable:
            spent_by_cap = {}
            for cap in caps:
                window, status = await self._counters.status_from_truth(cap, now)
                spent_by_cap[cap.id] = (window, status.spent)
        raised = 0
        for cap in caps:
            window, spent = spent_by_cap[cap.id]
            raised += await self._raise(cap, window, spent, cap.thresholds_reached(spent), now)
        return raised

    async def _raise(
        self, cap: Cap, window: Window, spent: Money, thresholds: Sequence[int], now: datetime
    ) -> int:
        if not thresholds:
            return 0
        raised = 0
        async with self._uow_factory(cap.tenant_id) as uow:
            for threshold in thresholds:
                alert = Alert(
                    id=self._ids.new_id("alrt"),
                    tenant_id=cap.tenant_id,
                    cap_id=cap.id,
                    cap_name=cap.name,
                    window_start=window.start,
                    window_end=window.end,
                    threshold=threshold,
                    kind=kind_for_threshold(threshold),
                    spent=spent,
                    limit=cap.limit,
                    recipients=cap.recipients,
                    created_at=now,
                    next_attempt_at=now,
                )
                if await uow.alerts.add_if_absent(alert):
                    raised += 1
                    log.info("alert raised: cap=%s threshold=%d%%", cap.id, threshold)
            await uow.commit()
        return raised

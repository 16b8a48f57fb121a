"""Forecast alerts: "at the current rate this cap is exceeded on <date>"."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from application.cap_counters import CapCounters
from application.ports import Clock, CounterStoreUnavailable, IdGenerator, UnitOfWorkFactory
from domain.alerts import EXCEEDED_THRESHOLD, Alert, AlertKind
from domain.caps import Cap
from domain.forecast import DEFAULT_MIN_ELAPSED_PERMILLE, Forecast, project, warrants_alert
from domain.money import Money
from domain.periods import Window

log = logging.getLogger(__name__)

# The forecast alert's slot in the dedupe key: "projected to reach 100 %".
FORECAST_THRESHOLD = EXCEEDED_THRESHOLD


def forecast_of(alert: Alert) -> Forecast | None:
    """The forecast an alert was raised on, recomputed from the row's own fields."""
    return project(
        alert.spent, alert.limit, Window(alert.window_start, alert.window_end), alert.created_at
    )


class ForecastCaps:
    """Business rules:
    - the rate is the cap's spend so far in its current window divided by the time elapsed;
      projected linearly, if the limit is reached before the window ends, one FORECAST alert
      is raised for (cap, window), whatever the number of runs or workers;
    - no forecast before a tenth of the window has passed (the early rate is noise), and none
      once the limit is already reached (the exceeded alert speaks then);
    - the projected date is not stored: it is recomputed from the alert's spent, limit,
      window and creation time, exactly, because all the arithmetic is integer.
    Run it from the monitor schedule, next to MonitorCaps.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        counters: CapCounters,
        ids: IdGenerator,
        clock: Clock,
        min_elapsed_permille: int = DEFAULT_MIN_ELAPSED_PERMILLE,
    ) -> None:
        self._uow_factory = uow_factory
        self._counters = counters
        self._ids = ids
        self._clock = clock
        self._min_elapsed_permille = min_elapsed_permille

    async def __call__(self) -> int:
        now = self._clock.now()
        async with self._uow_factory(None) as uow:
            caps = await uow.caps.all_enabled()
        raised = 0
        for cap, window, spent in await self._spend(caps, now):
            forecast = project(spent, cap.limit, window, now)
            if warrants_alert(forecast, window, now, self._min_elapsed_permille):
                raised += await self._raise(cap, window, spent, now)
        return raised

    async def _spend(self, caps: Sequence[Cap], now: datetime) -> list[tuple[Cap, Window, Money]]:
        try:
            readings = await self._counters.readings(caps, now)
            return [(cap, readings[cap.id][0], readings[cap.id][1].spent) for cap in caps]
        except CounterStoreUnavailable:
            result = []
            for cap in caps:
                window, status = await self._counters.status_from_truth(cap, now)
                result.append((cap, window, status.spent))
            return result

    async def _raise(self, cap: Cap, window: Window, spent: Money, now: datetime) -> int:
        alert = Alert(
            id=self._ids.new_id("alrt"),
            tenant_id=cap.tenant_id,
            cap_id=cap.id,
            cap_name=cap.name,
            window_start=window.start,
            window_end=window.end,
            threshold=FORECAST_THRESHOLD,
            kind=AlertKind.FORECAST,
            spent=spent,
            limit=cap.limit,
            recipients=cap.recipients,
            created_at=now,
            next_attempt_at=now,
        )
        async with self._uow_factory(cap.tenant_id) as uow:
            inserted = await uow.alerts.add_if_absent(alert)
            await uow.commit()
        if inserted:
            log.info("forecast alert raised: cap=%s", cap.id)
        return 1 if inserted else 0

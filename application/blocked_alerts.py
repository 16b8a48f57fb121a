"""Calls refused by a hard cap: counted per (cap, window), announced once per window."""

from __future__ import annotations

import logging
from datetime import timedelta

from application.cap_counters import counter_key, counter_ttl_seconds
from application.ports import (
    BlockedCallCounter,
    Clock,
    CounterStoreUnavailable,
    IdGenerator,
    UnitOfWorkFactory,
)
from domain.alerts import EXCEEDED_THRESHOLD, Alert, AlertKind
from domain.caps import Cap, CapStatus

log = logging.getLogger(__name__)

# The first refusal raises the alert; it is sent this much later so that the email
# reports the first burst ("37 calls refused") rather than always "1 call".
DIGEST_DELAY = timedelta(minutes=5)
BLOCKED_THRESHOLD = EXCEEDED_THRESHOLD


class BlockedCallAlerts:
    """Business rules:
    - every refusal by a block cap counts once toward its current window's refusal count;
    - the first refusal of a window raises one BLOCKED alert for (cap, window), however many
      refusals, workers or restarts follow (the alert row's unique key decides, not the count);
    - the alert is sent a few minutes after the first refusal and shows the count at send time;
    - a counter store that is down still raises the alert, only the count is missing.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        counter: BlockedCallCounter,
        ids: IdGenerator,
        clock: Clock,
        digest_delay: timedelta = DIGEST_DELAY,
    ) -> None:
        self._uow_factory = uow_factory
        self._counter = counter
        self._ids = ids
        self._clock = clock
        self._digest_delay = digest_delay

    async def record_refusal(self, cap: Cap, status: CapStatus) -> bool:
        """Count one refused call; True when this refusal raised the window's alert."""
        now = self._clock.now()
        window = cap.window_at(now)
        try:
            count = await self._counter.increment(
                counter_key(cap, window), counter_ttl_seconds(window, now)
            )
        except CounterStoreUnavailable:
            count = 1  # unknown: let the unique key decide whether this is the first
        if count > 1:
            return False
        alert = Alert(
            id=self._ids.new_id("alrt"),
            tenant_id=cap.tenant_id,
            cap_id=cap.id,
            cap_name=cap.name,
            window_start=window.start,
            window_end=window.end,
            threshold=BLOCKED_THRESHOLD,
            kind=AlertKind.BLOCKED,
            spent=status.spent,
            limit=cap.limit,
            recipients=cap.recipients,
            created_at=now,
            next_attempt_at=now + self._digest_delay,
        )
        async with self._uow_factory(cap.tenant_id) as uow:
            inserted = await uow.alerts.add_if_absent(alert)
            await uow.commit()
        if inserted:
            log.info("blocked-calls alert raised: cap=%s", cap.id)
        return inserted

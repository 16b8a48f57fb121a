"""Send pending alerts through the mailer; retry with backoff; never drop one silently."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.ports import AlertRenderer, Clock, Mailer, UnitOfWorkFactory
from domain.alerts import Alert

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour."""
    return min(FIRST_RETRY * (1 << min(max(0, attempts - 1), 16)), MAX_RETRY)


@dataclass(frozen=True, slots=True)
class DispatchReport:
    sent: int
    failed: int


class DispatchAlerts:
    """Business rules:
    - an alert is leased before sending, so two workers never send the same alert at once;
    - success marks it sent; failure keeps it pending with a later retry, until the attempts
      run out and it is marked failed with the reason;
    - an alert without recipients fails with that reason instead of vanishing.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        mailer: Mailer,
        renderer: AlertRenderer,
        clock: Clock,
        dashboard_url: str = "",
    ) -> None:
        self._uow_factory = uow_factory
        self._mailer = mailer
        self._renderer = renderer
        self._clock = clock
        self._dashboard_url = dashboard_url

    async def __call__(self, batch_size: int = 50) -> DispatchReport:
        now = self._clock.now()
        async with self._uow_factory(None) as uow:
            due = await uow.alerts.claim_due(now, now + LEASE, batch_size)
            await uow.commit()
        sent = failed = 0
        for alert in due:
            if await self._send_one(alert):
                sent += 1
            else:
                failed += 1
        return DispatchReport(sent, failed)

    async def _send_one(self, alert: Alert) -> bool:
        try:
            if not alert.recipients:
                raise ValueError("no recipients: add recipients to the cap")
            email = self._renderer.render(alert, self._context(alert))
            await self._mailer.send(email)
        except Exception as exc:  # any provider or template failure is recorded, not lost
            now = self._clock.now()
            updated = alert.mark_failed(
                f"{type(exc).__name__}: {exc}", now + retry_delay(alert.attempts + 1)
            )
            log.warning("alert %s not sent (attempt %d): %s", alert.id, updated.attempts, exc)
            await self._save(updated)
            return False
        await self._save(alert.mark_sent(self._clock.now()))
        return True

    def _context(self, alert: Alert) -> Mapping[str, object]:
        return {"dashboard_url": self._dashboard_url}

    async def _save(self, alert: Alert) -> None:
        async with self._uow_factory(alert.tenant_id) as uow:
            await uow.alerts.save(alert)
            await uow.commit()


def due(alert: Alert, now: datetime) -> bool:
    return alert.next_attempt_at is None or alert.next_attempt_at <= now

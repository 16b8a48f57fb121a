"""Send pending alerts by email (and webhook); retry with backoff; never drop one silently.

The alert row is the outbox. One attempt, for one claimed alert:
1. re-read the row and write an in-flight marker (attempts + 1, next try pushed past the
   attempt's time budget, last_error saying the attempt started) and commit, before any
   message leaves. A worker killed mid-send leaves that marker: the alert is retried later,
   never lost, and the history shows the interrupted attempt;
2. render, then send the email, then post the webhook, each under a timeout that keeps
   the attempt inside its in-flight window, so no other worker can start the same alert
   while this one may still deliver it;
3. record the outcome: sent; pending with a later retry; or failed with the reason.
A resend after a crash between "provider accepted" and step 3 is the one duplicate left:
the email carries the same Message-ID (derived from the alert id) and the webhook the same
delivery id, so receivers can drop it. docs/alerts.md spells out the residual risk.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from application.alert_context import AlertContextReader
from application.ports import (
    AlertNotifier,
    AlertRenderer,
    BlockedCallCounter,
    Clock,
    Mailer,
    RecipientResolver,
    UnitOfWorkFactory,
)
from domain.alerts import MAX_SEND_ATTEMPTS, Alert, AlertStatus

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
STEP_TIMEOUT = timedelta(seconds=60)
# Three timed steps (context, email, webhook) fit inside it with room to spare.
IN_FLIGHT = timedelta(minutes=5)
IN_FLIGHT_MARK = "in flight:"


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour."""
    return min(FIRST_RETRY * (1 << min(max(0, attempts - 1), 16)), MAX_RETRY)


class Outcome(enum.Enum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class DispatchReport:
    sent: int
    failed: int
    skipped: int = 0


class DispatchAlerts:
    """Business rules:
    - an alert is leased before sending, so two workers never send the same alert at once;
    - an attempt is recorded (in-flight marker) before anything is sent, so a crash mid-send
      leaves the alert pending with the attempt counted, never lost and never stuck;
    - success marks it sent; a provider failure keeps it pending with a later retry, until
      the attempts run out and it is marked failed with the reason;
    - a template error fails it at once with the reason (retrying would fail the same way);
    - an alert with neither recipients nor a webhook fails with "no recipients";
    - once the email went out, a failing webhook is retried alone: the email is not resent.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        mailer: Mailer,
        renderer: AlertRenderer,
        clock: Clock,
        dashboard_url: str = "",
        *,
        webhook: AlertNotifier | None = None,
        blocked_counter: BlockedCallCounter | None = None,
        default_recipients: RecipientResolver | None = None,
        step_timeout: timedelta = STEP_TIMEOUT,
    ) -> None:
        self._uow_factory = uow_factory
        self._mailer = mailer
        self._renderer = renderer
        self._clock = clock
        self._webhook = webhook
        self._contexts = AlertContextReader(
            uow_factory, dashboard_url, blocked_counter, default_recipients
        )
        self._timeout = step_timeout.total_seconds()

    async def __call__(self, batch_size: int = 50) -> DispatchReport:
        now = self._clock.now()
        async with self._uow_factory(None) as uow:
            due = await uow.alerts.claim_due(now, now + LEASE, batch_size)
            await uow.commit()
        outcomes = [await self._deliver(alert) for alert in due]
        return DispatchReport(
            sent=outcomes.count(Outcome.SENT),
            failed=outcomes.count(Outcome.RETRY) + outcomes.count(Outcome.FAILED),
            skipped=outcomes.count(Outcome.SKIPPED),
        )

    async def _deliver(self, claimed: Alert) -> Outcome:
        alert = await self._begin_attempt(claimed)
        if alert is None:
            return Outcome.SKIPPED
        if alert.attempts >= MAX_SEND_ATTEMPTS:
            return await self._give_up(alert)
        try:
            async with asyncio.timeout(self._timeout):
                context = await self._contexts.gather(alert)
        except Exception as exc:  # the store hiccuped: nothing was sent, try again later
            return await self._retry(alert, f"reading the alert's context: {_describe(exc)}")
        return await self._send(alert, context)

    async def _send(self, alert: Alert, context: Mapping[str, object]) -> Outcome:
        email_sent_at = alert.sent_at  # set while only the webhook is left to deliver
        recipients = context.get("recipients")
        email = None
        if email_sent_at is None and isinstance(recipients, tuple) and recipients:
            try:
                email = self._renderer.render(replace(alert, recipients=recipients), context)
            except Exception as exc:  # deterministic: the same template fails the same way
                return await self._fail(alert, f"template error: {_describe(exc)}")
        if email is None and email_sent_at is None and self._webhook is None:
            return await self._fail(alert, "no recipients: add recipients to the cap")
        if email is not None:
            try:
                async with asyncio.timeout(self._timeout):
                    await self._mailer.send(email)
            except Exception as exc:  # any provider failure is recorded and retried
                return await self._retry(alert, f"email: {_describe(exc)}")
            email_sent_at = self._clock.now()
        if self._webhook is not None:
            try:
                async with asyncio.timeout(self._timeout):
                    await self._webhook.notify(alert, context)
            except Exception as exc:
                return await self._retry(alert, f"webhook: {_describe(exc)}", email_sent_at)
        await self._save(alert.mark_sent(self._clock.now()))
        return Outcome.SENT

    async def _begin_attempt(self, claimed: Alert) -> Alert | None:
        """Write the in-flight marker; None when another worker has moved the alert on."""
        now = self._clock.now()
        async with self._uow_factory(claimed.tenant_id) as uow:
            current = await uow.alerts.get(claimed.tenant_id, claimed.id)
            if (
                current is None
                or current.status is not AlertStatus.PENDING
                or current.attempts != claimed.attempts
            ):
                return None
            if current.last_error and current.last_error.startswith(IN_FLIGHT_MARK):
                log.warning(
                    "alert %s: the previous attempt was interrupted mid-send; "
                    "resending with the same message id",
                    current.id,
                )
            if not await uow.alerts.save_if_unchanged(in_flight(current, now), current.attempts):
                return None  # another dispatcher began this attempt first
            await uow.commit()
        return current

    async def _retry(
        self, alert: Alert, error: str, email_sent_at: datetime | None = None
    ) -> Outcome:
        retry_at = self._clock.now() + retry_delay(alert.attempts + 1)
        if email_sent_at is not None:
            error = f"{error} (the email was delivered at {email_sent_at:%Y-%m-%d %H:%M:%S} UTC)"
        updated = replace(alert.mark_failed(error, retry_at), sent_at=email_sent_at)
        log.warning("alert %s not delivered (attempt %d): %s", alert.id, updated.attempts, error)
        await self._save(updated)
        return Outcome.RETRY if updated.status is AlertStatus.PENDING else Outcome.FAILED

    async def _fail(self, alert: Alert, error: str) -> Outcome:
        log.error("alert %s failed for good: %s", alert.id, error)
        await self._save(alert.mark_failed(error, None))
        return Outcome.FAILED

    async def _give_up(self, alert: Alert) -> Outcome:
        """Only interrupted attempts get here: each counted, none recorded an outcome."""
        error = f"gave up after {alert.attempts} attempts; last: {alert.last_error}"
        log.error("alert %s failed for good: %s", alert.id, error)
        await self._save(
            replace(alert, status=AlertStatus.FAILED, next_attempt_at=None, last_error=error[:500])
        )
        return Outcome.FAILED

    async def _save(self, alert: Alert) -> None:
        async with self._uow_factory(alert.tenant_id) as uow:
            await uow.alerts.save(alert)
            await uow.commit()


def in_flight(alert: Alert, now: datetime) -> Alert:
    """The row as it stands while an attempt runs: counted, and not due again until the
    attempt's time budget is surely spent."""
    attempt = alert.attempts + 1
    return replace(
        alert,
        attempts=attempt,
        next_attempt_at=now + IN_FLIGHT,
        last_error=f"{IN_FLIGHT_MARK} attempt {attempt} started at {now:%Y-%m-%d %H:%M:%S} UTC "
        "and recorded no outcome",
    )


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

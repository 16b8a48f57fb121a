"""Alerts: one per (cap, window, threshold), whatever retries or workers do."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from domain.money import Money

EXCEEDED_THRESHOLD = 100
MAX_SEND_ATTEMPTS = 8


class AlertKind(enum.StrEnum):
    THRESHOLD = "threshold"
    EXCEEDED = "exceeded"
    BLOCKED = "blocked"
    FORECAST = "forecast"


class AlertStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    tenant_id: str
    cap_id: str
    cap_name: str
    window_start: datetime
    window_end: datetime
    threshold: int
    kind: AlertKind
    spent: Money
    limit: Money
    recipients: tuple[str, ...]
    created_at: datetime
    status: AlertStatus = AlertStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
    next_attempt_at: datetime | None = None

    @property
    def dedupe_key(self) -> tuple[str, str, datetime, int, str]:
        return (self.tenant_id, self.cap_id, self.window_start, self.threshold, self.kind.value)

    def mark_sent(self, at: datetime) -> Alert:
        return replace(
            self,
            status=AlertStatus.SENT,
            attempts=self.attempts + 1,
            sent_at=at,
            last_error=None,
            next_attempt_at=None,
        )

    def mark_failed(self, error: str, retry_at: datetime | None) -> Alert:
        """Pending again with a retry time, or failed for good when retries are spent."""
        attempts = self.attempts + 1
        final = retry_at is None or attempts >= MAX_SEND_ATTEMPTS
        return replace(
            self,
            attempts=attempts,
            last_error=error[:500],
            status=AlertStatus.FAILED if final else AlertStatus.PENDING,
            next_attempt_at=None if final else retry_at,
        )


def kind_for_threshold(threshold: int) -> AlertKind:
    return AlertKind.EXCEEDED if threshold >= EXCEEDED_THRESHOLD else AlertKind.THRESHOLD

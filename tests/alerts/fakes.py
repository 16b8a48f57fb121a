"""Stateful fakes for the dispatcher tests: they keep what happened, tests assert on that."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from application.ports import OutgoingEmail
from domain.alerts import Alert


class RecordingMailer:
    def __init__(self, failures: int = 0, delay: float = 0.0) -> None:
        self.sent: list[OutgoingEmail] = []
        self.failures_left = failures
        self.delay = delay
        self.attempts = 0

    async def send(self, email: OutgoingEmail) -> None:
        self.attempts += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("mail server down")
        self.sent.append(email)


class WorkerDied(BaseException):
    """Stands for the process being killed mid-send: nothing after it runs."""


class DyingMailer:
    """Accepts the message, then the worker dies before it can record the outcome."""

    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []

    async def send(self, email: OutgoingEmail) -> None:
        self.sent.append(email)
        raise WorkerDied


class BrokenRenderer:
    def render(self, alert: Alert, context: Mapping[str, object]) -> OutgoingEmail:
        raise KeyError("view.no_such_field")


class RecordingWebhook:
    def __init__(self, failures: int = 0) -> None:
        self.delivered: list[str] = []
        self.failures_left = failures

    async def notify(self, alert: Alert, context: Mapping[str, object]) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("webhook receiver down")
        self.delivered.append(alert.id)

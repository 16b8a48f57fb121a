"""Stateful fakes for the accounts tests: a clock moved by hand, ids, a mailbox."""

from __future__ import annotations

import itertools
import re
import secrets
from datetime import UTC, datetime, timedelta

from application.ports import Clock, IdGenerator, Mailer, OutgoingEmail

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class ManualClock(Clock):
    def __init__(self, now: datetime = START) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


class CountingIds(IdGenerator):
    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._counter):04d}"

    def new_secret(self) -> str:
        return secrets.token_urlsafe(32)


class Mailbox(Mailer):
    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []

    async def send(self, email: OutgoingEmail) -> None:
        self.sent.append(email)

    def token_in_last(self, to: str) -> str:
        email = next(e for e in reversed(self.sent) if to in e.to)
        match = re.search(r"[?&]token=([A-Za-z0-9_\-]+)", email.text)
        assert match, email.text
        return match.group(1)

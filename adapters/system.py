"""The real clock and the real randomness."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

from application.ports import Clock, IdGenerator


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)


class RandomIds(IdGenerator):
    """Ids that sort by creation time (a millisecond prefix) and cannot be guessed."""

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(8)}"

    def new_secret(self) -> str:
        return secrets.token_urlsafe(32)

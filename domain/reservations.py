"""Reservations: spend held against block caps between the check and the settled call.

They are first-class so that budget leases (a slice of a cap granted to an SDK)
can later be one more kind of reservation.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from domain.attribution import Attribution
from domain.money import Money


class ReservationState(enum.StrEnum):
    HELD = "held"
    SETTLED = "settled"
    RELEASED = "released"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class CounterKey:
    """One live counter: a cap's spend in one window."""

    tenant_id: str
    cap_id: str
    window_start: datetime

    def text(self) -> str:
        return f"{self.cap_id}:{int(self.window_start.timestamp())}"


@dataclass(frozen=True, slots=True)
class CounterLimit:
    key: CounterKey
    limit: Money


@dataclass(frozen=True, slots=True)
class Reservation:
    id: str
    tenant_id: str
    amount: Money
    keys: tuple[CounterKey, ...]
    expires_at: datetime
    attribution: Attribution
    state: ReservationState = ReservationState.HELD


@dataclass(frozen=True, slots=True)
class ReserveOutcome:
    """All reserved, or the first key whose limit the amount would pass."""

    allowed: bool
    blocking_key: CounterKey | None = None
    spent: Money = Money(0)
    reserved: Money = Money(0)
    verified: bool = True

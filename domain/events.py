"""A spend event: one LLM call, its usage, its attribution and, once priced, its cost."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from domain.attribution import Attribution
from domain.money import Money
from domain.pricing import ModelPrice, cost_of
from domain.usage import Usage

EARLIEST_EVENT_TIME = datetime(2020, 1, 1, tzinfo=UTC)
ALLOWED_CLOCK_SKEW = timedelta(minutes=5)
MAX_TAGS = 50
MAX_TEXT = 200


class CallStatus(enum.StrEnum):
    OK = "ok"
    ERROR = "error"


class InvalidEvent(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class SpendEvent:
    """One LLM call. `cost` is None while unpriced (unknown model), never a silent $0."""

    tenant_id: str
    event_id: str
    occurred_at: datetime
    provider: str
    model: str
    usage: Usage
    operation: str = "chat"
    status: CallStatus = CallStatus.OK
    agent: str | None = None
    customer_id: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    latency_ms: int | None = None
    reservation_id: str | None = None
    estimated: bool = False
    cost: Money | None = None
    priced_model: str | None = None

    @property
    def attribution(self) -> Attribution:
        return Attribution(self.provider, self.model, self.agent, self.customer_id)

    @property
    def priced(self) -> bool:
        return self.cost is not None

    @property
    def billable_cost(self) -> Money:
        """What counts against caps and totals; unpriced usage counts as nothing known."""
        return self.cost if self.cost is not None else Money.zero()

    def priced_with(self, price: ModelPrice | None) -> SpendEvent:
        if self.status is CallStatus.ERROR:
            return replace(self, cost=Money.zero(), priced_model=price.model if price else None)
        if price is None:
            return replace(self, cost=None, priced_model=None)
        return replace(self, cost=cost_of(self.usage, price), priced_model=price.model)


def check_event_fields(event: SpendEvent, now: datetime) -> None:
    """Rules every stored event obeys; raises InvalidEvent naming the field."""
    if event.occurred_at.tzinfo is None:
        raise InvalidEvent("occurred_at", "needs a UTC offset")
    if event.occurred_at < EARLIEST_EVENT_TIME:
        raise InvalidEvent("occurred_at", "is before 2020-01-01")
    if event.occurred_at > now + ALLOWED_CLOCK_SKEW:
        raise InvalidEvent("occurred_at", "is more than 5 minutes in the future")
    for name in ("provider", "model"):
        value = getattr(event, name)
        if not value or not value.strip():
            raise InvalidEvent(name, "must not be empty")
    for name in ("provider", "model", "agent", "customer_id", "operation", "reservation_id"):
        value = getattr(event, name)
        if value is None:
            continue
        if len(value) > MAX_TEXT:
            raise InvalidEvent(name, f"must be at most {MAX_TEXT} characters")
        if "\x00" in value:  # no SQL text type stores it: refuse it here, not as a 500
            raise InvalidEvent(name, "must not contain the NUL character")
    if len(event.tags) > MAX_TAGS:
        raise InvalidEvent("tags", f"at most {MAX_TAGS} tags")
    for key, value in event.tags.items():
        if not key or len(key) > 100 or len(value) > MAX_TEXT:
            raise InvalidEvent(f"tags.{key}", "tag keys are 1-100 characters, values at most 200")
        if "\x00" in key or "\x00" in value:
            raise InvalidEvent("tags", "tag keys and values must not contain the NUL character")
    if event.latency_ms is not None and not 0 <= event.latency_ms <= 86_400_000:
        raise InvalidEvent("latency_ms", "must be between 0 and 86400000")

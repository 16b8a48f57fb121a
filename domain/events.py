"""A spend event: one LLM call, its usage, its attribution and, once priced, its cost."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from domain.attribution import Attribution
from domain.money import Money
from domain.pricing import ModelPrice, cost_of
from domain.usage import Usage

EARLIEST_EVENT_TIME = datetime(2020, 1, 1, tzinfo=UTC)
ALLOWED_CLOCK_SKEW = timedelta(minutes=5)
MAX_TAGS = 50
MAX_TEXT = 200
_TEXT_FIELDS = ("provider", "model", "agent", "customer_id", "operation", "reservation_id")


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
            return self._at_cost(Money.zero(), price.model if price is not None else None)
        if price is None:
            if self.cost is None and self.priced_model is None:
                return self  # already unpriced: the same event, not a copy of it
            return self._at_cost(None, None)
        return self._at_cost(cost_of(self.usage, price), price.model)

    def _at_cost(self, cost: Money | None, priced_model: str | None) -> SpendEvent:
        return SpendEvent(
            self.tenant_id,
            self.event_id,
            self.occurred_at,
            self.provider,
            self.model,
            self.usage,
            self.operation,
            self.status,
            self.agent,
            self.customer_id,
            self.tags,
            self.latency_ms,
            self.reservation_id,
            self.estimated,
            cost,
            priced_model,
        )


def check_event_fields(event: SpendEvent, now: datetime) -> None:
    """Rules every stored event obeys; raises InvalidEvent naming the field."""
    occurred_at = event.occurred_at
    if occurred_at.tzinfo is None:
        raise InvalidEvent("occurred_at", "needs a UTC offset")
    if occurred_at < EARLIEST_EVENT_TIME:
        raise InvalidEvent("occurred_at", "is before 2020-01-01")
    if occurred_at > now + ALLOWED_CLOCK_SKEW:
        raise InvalidEvent("occurred_at", "is more than 5 minutes in the future")
    provider, model = event.provider, event.model
    if not provider or not provider.strip():
        raise InvalidEvent("provider", "must not be empty")
    if not model or not model.strip():
        raise InvalidEvent("model", "must not be empty")
    # This runs for every ingested event: one pass over the values, and only a refused
    # value looks up which field it was.
    for value in (
        provider,
        model,
        event.agent,
        event.customer_id,
        event.operation,
        event.reservation_id,
    ):
        if value is not None and (len(value) > MAX_TEXT or "\x00" in value):
            _refuse_text(event)
    tags = event.tags
    if len(tags) > MAX_TAGS:
        raise InvalidEvent("tags", f"at most {MAX_TAGS} tags")
    for key, value in tags.items():
        if not key or len(key) > 100 or len(value) > MAX_TEXT:
            raise InvalidEvent(f"tags.{key}", "tag keys are 1-100 characters, values at most 200")
        if "\x00" in key or "\x00" in value:
            raise InvalidEvent("tags", "tag keys and values must not contain the NUL character")
    latency_ms = event.latency_ms
    if latency_ms is not None and not 0 <= latency_ms <= 86_400_000:
        raise InvalidEvent("latency_ms", "must be between 0 and 86400000")


def _refuse_text(event: SpendEvent) -> None:
    for name in _TEXT_FIELDS:
        value = getattr(event, name)
        if value is None:
            continue
        if len(value) > MAX_TEXT:
            raise InvalidEvent(name, f"must be at most {MAX_TEXT} characters")
        if "\x00" in value:  # no SQL text type stores it: refuse it here, not as a 500
            raise InvalidEvent(name, "must not contain the NUL character")

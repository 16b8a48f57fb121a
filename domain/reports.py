"""Spend report shapes: filters, totals, breakdowns and time buckets."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from domain.money import Money


class Dimension(enum.StrEnum):
    PROVIDER = "provider"
    MODEL = "model"
    AGENT = "agent"
    CUSTOMER = "customer"


class Bucket(enum.StrEnum):
    HOUR = "hour"
    DAY = "day"


@dataclass(frozen=True, slots=True)
class SpendFilter:
    """A half-open time range [start, end) in UTC and optional equality filters."""

    start: datetime
    end: datetime
    provider: str | None = None
    model: str | None = None
    agent: str | None = None
    customer_id: str | None = None
    # One of these customers (a page of a customer list); None: no such filter.
    customer_ids: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("report ranges are UTC-aware")
        if self.end <= self.start:
            raise ValueError("end must be after start")


@dataclass(frozen=True, slots=True)
class SpendTotals:
    cost: Money = Money(0)
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    unpriced_calls: int = 0
    error_calls: int = 0

    def __add__(self, other: SpendTotals) -> SpendTotals:
        return SpendTotals(
            self.cost + other.cost,
            self.calls + other.calls,
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
            self.unpriced_calls + other.unpriced_calls,
            self.error_calls + other.error_calls,
        )


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    key: str | None
    totals: SpendTotals


@dataclass(frozen=True, slots=True)
class TimePoint:
    bucket_start: datetime
    group: str | None
    totals: SpendTotals


MAX_REPORT_DAYS = 400

"""The time ranges of the overview: today, 7 days, 30 days, this month, or custom days.

Ranges are whole UTC days, like the rollups the reports read, so every range is
answered from rollups and a day means the same thing on every page and in the API.
Each range has a "previous" range of the same span to compare against.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from domain.reports import MAX_REPORT_DAYS, Bucket

MAX_HOURLY_DAYS = 31
HOURLY_UP_TO_DAYS = 2


class RangeKind(enum.StrEnum):
    TODAY = "today"
    DAYS_7 = "7d"
    DAYS_30 = "30d"
    MONTH = "month"
    CUSTOM = "custom"


RANGE_LABELS: dict[RangeKind, str] = {
    RangeKind.TODAY: "Today",
    RangeKind.DAYS_7: "7 days",
    RangeKind.DAYS_30: "30 days",
    RangeKind.MONTH: "This month",
    RangeKind.CUSTOM: "Custom",
}
DEFAULT_RANGE = RangeKind.DAYS_30


class RangeError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class DayRange:
    """[first, last] whole UTC days, inclusive, as the user chose them."""

    kind: RangeKind
    first: date
    last: date
    previous_first: date
    previous_last: date

    @property
    def start(self) -> datetime:
        return _midnight(self.first)

    @property
    def end(self) -> datetime:
        return _midnight(self.last + timedelta(days=1))

    @property
    def previous_start(self) -> datetime:
        return _midnight(self.previous_first)

    @property
    def previous_end(self) -> datetime:
        return _midnight(self.previous_last + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def label(self) -> str:
        if self.kind is RangeKind.CUSTOM:
            return f"{self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}"
        return RANGE_LABELS[self.kind]

    @property
    def previous_label(self) -> str:
        if self.kind is RangeKind.MONTH:
            return "the same days of last month"
        if self.kind is RangeKind.TODAY:
            return "yesterday"
        return f"the {self.days} days before"

    def default_bucket(self) -> Bucket:
        return Bucket.HOUR if self.days <= HOURLY_UP_TO_DAYS else Bucket.DAY

    def allows_hourly(self) -> bool:
        return self.days <= MAX_HOURLY_DAYS


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _parse_day(field: str, text: str | None) -> date:
    if not text:
        raise RangeError(field, "choose a day")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise RangeError(field, "must be a day such as 2026-11-26") from None


def _shifted_back(first: date, last: date) -> tuple[date, date]:
    span = (last - first).days + 1
    return first - timedelta(days=span), first - timedelta(days=1)


def day_range(
    kind_text: str | None, now: datetime, first: str | None = None, last: str | None = None
) -> DayRange:
    """The range a query string asks for; an unknown kind falls back to the default."""
    try:
        kind = RangeKind(kind_text) if kind_text else DEFAULT_RANGE
    except ValueError:
        kind = DEFAULT_RANGE
    today = now.astimezone(UTC).date()
    if kind is RangeKind.TODAY:
        return DayRange(kind, today, today, *_shifted_back(today, today))
    if kind in (RangeKind.DAYS_7, RangeKind.DAYS_30):
        days = 7 if kind is RangeKind.DAYS_7 else 30
        begin = today - timedelta(days=days - 1)
        return DayRange(kind, begin, today, *_shifted_back(begin, today))
    if kind is RangeKind.MONTH:
        begin = today.replace(day=1)
        previous_first = (begin - timedelta(days=1)).replace(day=1)
        # Month to date against the same number of days of last month, never past its end.
        previous_last = min(previous_first + (today - begin), begin - timedelta(days=1))
        return DayRange(kind, begin, today, previous_first, previous_last)
    begin, end = _parse_day("start", first), _parse_day("end", last)
    if end < begin:
        raise RangeError("end", "must be on or after the first day")
    if (end - begin).days + 1 > MAX_REPORT_DAYS:
        raise RangeError("end", f"a range spans at most {MAX_REPORT_DAYS} days")
    if begin.year < 2020:
        raise RangeError("start", "must be in 2020 or later")
    return DayRange(kind, begin, end, *_shifted_back(begin, end))


def bucket_for(text: str | None, chosen: DayRange) -> Bucket:
    """The bucket asked for, when the range allows it; otherwise the range's default."""
    if text == Bucket.HOUR.value and chosen.allows_hourly():
        return Bucket.HOUR
    if text == Bucket.DAY.value:
        return Bucket.DAY
    return chosen.default_bucket()

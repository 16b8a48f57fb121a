"""Calendar windows for caps: daily, weekly (from Monday) and monthly.

A window is computed in the cap's IANA time zone and returned in UTC. Local
midnight is resolved with fold=0, which gives the first instant of the local
day both when midnight is repeated (fall back) and when it is skipped (spring
forward at 00:00): the earlier offset maps the missing midnight onto the
transition instant itself.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class Period(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class InvalidTimeZone(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Window:
    """Half-open interval [start, end) in UTC."""

    start: datetime
    end: datetime

    def __contains__(self, instant: datetime) -> bool:
        return self.start <= instant < self.end

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidTimeZone(f"unknown time zone {name!r}") from exc


def require_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: every instant inside the system is UTC-aware")
    return instant.astimezone(UTC)


def window_of(period: Period, instant: datetime, tz: str = "UTC") -> Window:
    """The calendar window of `period` in zone `tz` that contains `instant`."""
    local_zone = zone(tz)
    local_day = require_utc(instant).astimezone(local_zone).date()
    first_day = _first_day(period, local_day)
    next_first_day = _next_first_day(period, first_day)
    return Window(_start_of_day(first_day, local_zone), _start_of_day(next_first_day, local_zone))


def _first_day(period: Period, day: date) -> date:
    if period is Period.DAILY:
        return day
    if period is Period.WEEKLY:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_first_day(period: Period, first_day: date) -> date:
    if period is Period.DAILY:
        return first_day + timedelta(days=1)
    if period is Period.WEEKLY:
        return first_day + timedelta(days=7)
    if first_day.month == 12:
        return date(first_day.year + 1, 1, 1)
    return date(first_day.year, first_day.month + 1, 1)


def _start_of_day(day: date, local_zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=local_zone).astimezone(UTC)

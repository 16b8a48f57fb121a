from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.periods import InvalidTimeZone, Period, window_of, zone

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Havana",
    "Asia/Kathmandu",
]
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


@given(instants, st.sampled_from(list(Period)), st.sampled_from(ZONES))
def test_windows_contain_the_instant_and_tile_time(
    instant: datetime, period: Period, tz: str
) -> None:
    window = window_of(period, instant, tz)
    assert instant in window
    assert window_of(period, window.end, tz).start == window.end
    assert window_of(period, window.start, tz) == window
    # The window starts at a local midnight (or at the first instant of a day that skips it).
    local_start = window.start.astimezone(zone(tz))
    assert (window.start - timedelta(microseconds=1)).astimezone(
        zone(tz)
    ).date() < local_start.date()


@given(instants, st.sampled_from(ZONES))
def test_weekly_windows_start_on_monday(instant: datetime, tz: str) -> None:
    start = window_of(Period.WEEKLY, instant, tz).start.astimezone(zone(tz))
    assert start.weekday() == 0


@given(instants, st.sampled_from(ZONES))
def test_monthly_windows_start_on_the_first(instant: datetime, tz: str) -> None:
    window = window_of(Period.MONTHLY, instant, tz)
    assert window.start.astimezone(zone(tz)).day == 1
    assert window.end.astimezone(zone(tz)).day == 1


def test_month_end_and_leap_day() -> None:
    w = window_of(Period.MONTHLY, datetime(2024, 2, 29, 23, 59, tzinfo=UTC))
    assert (w.start, w.end) == (datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC))
    w = window_of(Period.DAILY, datetime(2024, 2, 29, 12, tzinfo=UTC))
    assert w.start == datetime(2024, 2, 29, tzinfo=UTC)
    w = window_of(Period.MONTHLY, datetime(2025, 12, 31, 23, 0, tzinfo=UTC))
    assert w.end == datetime(2026, 1, 1, tzinfo=UTC)


def test_dst_days_are_23_and_25_hours_long() -> None:
    spring = window_of(Period.DAILY, datetime(2025, 3, 30, 12, tzinfo=UTC), "Europe/Berlin")
    autumn = window_of(Period.DAILY, datetime(2025, 10, 26, 12, tzinfo=UTC), "Europe/Berlin")
    assert spring.duration == timedelta(hours=23)
    assert autumn.duration == timedelta(hours=25)
    assert spring.start == datetime(2025, 3, 29, 23, tzinfo=UTC)


def test_a_zone_ahead_of_utc_puts_a_late_utc_instant_in_the_next_local_month() -> None:
    w = window_of(Period.MONTHLY, datetime(2025, 1, 31, 20, tzinfo=UTC), "Asia/Tokyo")
    assert w.start == datetime(2025, 1, 31, 15, tzinfo=UTC)  # Feb 1 00:00 JST


def test_naive_instants_and_unknown_zones_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        window_of(Period.DAILY, datetime(2025, 1, 1))
    with pytest.raises(InvalidTimeZone):
        window_of(Period.DAILY, datetime(2025, 1, 1, tzinfo=UTC), "Mars/Olympus")

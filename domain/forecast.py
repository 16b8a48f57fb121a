"""Spend forecasts: where the current window ends at the rate spent so far.

All integer arithmetic: money in nano-USD, time in microseconds. The projection
is linear over the window elapsed so far, so the same inputs (an alert's spent,
limit, window and creation time) always give the same date, at raise time and
again when the email is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.money import Money
from domain.periods import Window

_MICROSECOND = timedelta(microseconds=1)
# Too early in a window the rate is noise: one expensive call in the first minute
# would "forecast" a thousand-fold overrun.
DEFAULT_MIN_ELAPSED_PERMILLE = 100


@dataclass(frozen=True, slots=True)
class Forecast:
    spent: Money
    projected_end_spend: Money
    crossing_at: datetime | None
    """When the limit is reached at the current rate, if that is inside the window."""

    @property
    def exceeds_limit(self) -> bool:
        return self.crossing_at is not None


def _micros(delta: timedelta) -> int:
    return delta // _MICROSECOND


def project(spent: Money, limit: Money, window: Window, now: datetime) -> Forecast | None:
    """The linear projection of `spent` (spent in [window.start, now)) to the window's end.

    None when there is no rate yet (no time elapsed or nothing spent). `crossing_at`
    is None when the projection stays within the limit or the limit is already reached.
    """
    total = _micros(window.duration)
    elapsed = min(_micros(now - window.start), total)
    if elapsed <= 0 or spent.nanos <= 0:
        return None
    projected = Money(spent.nanos * total // elapsed)
    crossing_at = None
    if spent.nanos < limit.nanos:
        # ceil(limit * elapsed / spent): the first microsecond at which the limit is reached
        offset = -(-limit.nanos * elapsed // spent.nanos)
        if offset < total:
            crossing_at = window.start + timedelta(microseconds=offset)
    return Forecast(spent=spent, projected_end_spend=projected, crossing_at=crossing_at)


def warrants_alert(
    forecast: Forecast | None,
    window: Window,
    now: datetime,
    min_elapsed_permille: int = DEFAULT_MIN_ELAPSED_PERMILLE,
) -> bool:
    """A forecast alert needs a projected crossing and enough of the window behind it."""
    if forecast is None or not forecast.exceeds_limit:
        return False
    elapsed = _micros(now - window.start)
    return elapsed * 1000 >= _micros(window.duration) * min_elapsed_permille

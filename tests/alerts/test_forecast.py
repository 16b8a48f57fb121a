"""Forecast alerts: integer projection, one alert per (cap, window), none on noise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.email.render import AlertEmailRenderer
from adapters.memory.counters import InProcessCounters
from adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from application.dispatch_alerts import DispatchAlerts
from application.forecast import ForecastCaps
from application.manage_caps import CapDraft
from application.ports import AlertQuery
from domain.alerts import AlertKind
from domain.caps import CapScope
from domain.forecast import project, warrants_alert
from domain.money import Money
from domain.periods import Period, Window
from tests.alerts.fakes import RecordingMailer
from tests.alerts.support import spend
from tests.support.clock import MutableClock
from tests.support.harness import Harness

MARCH = Window(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))


@pytest.fixture
def app(clock: MutableClock) -> Harness:
    clock.set(datetime(2026, 3, 1, tzinfo=UTC))
    return Harness(MemoryUnitOfWorkFactory(), InProcessCounters(clock), clock)


async def monthly_cap(app: Harness, limit: str = "10") -> str:
    progress = await app.caps.create(
        app.principal("acme"),
        CapDraft(
            name="Monthly",
            scope=CapScope.GLOBAL,
            period=Period.MONTHLY,
            limit=Money.parse(limit),
            recipients=("ops@acme.example",),
        ),
    )
    return progress.cap.id


async def spend_now(app: Harness, clock: MutableClock, cost: str) -> None:
    await app.record.record_priced(app.principal("acme"), [spend("acme", cost, clock.now())])


async def forecast_alerts(app: Harness) -> list[object]:
    async with app.uow_factory("acme") as uow:
        alerts = await uow.alerts.list("acme", AlertQuery())
    return [a for a in alerts if a.kind is AlertKind.FORECAST]


async def test_a_fast_rate_raises_one_forecast_alert_per_window(
    app: Harness, clock: MutableClock
) -> None:
    await monthly_cap(app)
    forecast = ForecastCaps(app.uow_factory, app.counters, app.ids, clock)
    await spend_now(app, clock, "4.00")
    clock.set(datetime(2026, 3, 11, tzinfo=UTC))

    assert await forecast() == 1
    assert await forecast() == 0
    clock.advance(hours=6)
    await spend_now(app, clock, "1.00")
    assert await forecast() == 0  # still one per (cap, window)

    [alert] = await forecast_alerts(app)
    assert alert.spent == Money.usd(4) and alert.threshold == 100  # type: ignore[attr-defined]

    mailer = RecordingMailer()
    await DispatchAlerts(app.uow_factory, mailer, AlertEmailRenderer(), clock)()
    [email] = [e for e in mailer.sent if "on track" in e.subject]  # the 50 % alert went too
    assert email.subject.endswith("on track to exceed the monthly limit on 2026-03-26")

    clock.set(datetime(2026, 4, 5, tzinfo=UTC))  # a new window starts a new count
    await spend_now(app, clock, "5.00")
    assert await forecast() == 1


async def test_no_forecast_early_in_the_window_or_at_a_safe_rate(
    app: Harness, clock: MutableClock
) -> None:
    await monthly_cap(app)
    forecast = ForecastCaps(app.uow_factory, app.counters, app.ids, clock)
    clock.set(datetime(2026, 3, 2, tzinfo=UTC))
    await spend_now(app, clock, "2.00")  # $2 on day one: $62 projected, but it is too early
    assert await forecast() == 0
    clock.set(datetime(2026, 3, 20, tzinfo=UTC))  # $2 in 19 days projects to $3.26
    assert await forecast() == 0
    assert await forecast_alerts(app) == []


async def test_no_forecast_once_the_limit_is_reached(app: Harness, clock: MutableClock) -> None:
    await monthly_cap(app)
    clock.set(datetime(2026, 3, 10, tzinfo=UTC))
    await spend_now(app, clock, "10.00")
    assert await ForecastCaps(app.uow_factory, app.counters, app.ids, clock)() == 0


def test_the_projection_is_exact_integer_arithmetic() -> None:
    ten_days_in = datetime(2026, 3, 11, tzinfo=UTC)
    forecast = project(Money.usd(4), Money.usd(10), MARCH, ten_days_in)
    assert forecast is not None
    assert forecast.projected_end_spend == Money.parse("12.40")
    assert forecast.crossing_at == datetime(2026, 3, 26, tzinfo=UTC)
    assert warrants_alert(forecast, MARCH, ten_days_in)
    assert project(Money(0), Money.usd(10), MARCH, ten_days_in) is None
    assert project(Money.usd(1), Money.usd(10), MARCH, MARCH.start) is None


@given(
    spent=st.integers(min_value=1, max_value=10**15),
    limit=st.integers(min_value=1, max_value=10**15),
    elapsed_us=st.integers(min_value=1, max_value=31 * 86_400 * 10**6),
)
def test_the_crossing_is_the_first_microsecond_at_or_over_the_limit(
    spent: int, limit: int, elapsed_us: int
) -> None:
    now = MARCH.start + timedelta(microseconds=elapsed_us)
    forecast = project(Money(spent), Money(limit), MARCH, now)
    assert forecast is not None
    if forecast.crossing_at is None:
        return
    offset = (forecast.crossing_at - MARCH.start) // timedelta(microseconds=1)
    # Linear spend at `offset` microseconds reaches the limit; one microsecond earlier it did not.
    assert spent * offset >= limit * elapsed_us > spent * (offset - 1)
    assert forecast.crossing_at < MARCH.end

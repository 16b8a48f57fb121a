"""Calls refused by a hard cap: counted per window, announced once, count shown at send time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.email.render import AlertEmailRenderer
from adapters.memory.blocked_calls import InProcessBlockedCalls
from adapters.memory.counters import InProcessCounters
from adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from application.blocked_alerts import DIGEST_DELAY, BlockedCallAlerts
from application.dispatch_alerts import DispatchAlerts
from application.manage_caps import CapDraft
from application.ports import AlertQuery, CounterStoreUnavailable
from application.reservations import CheckRequest
from domain.alerts import AlertKind, AlertStatus
from domain.attribution import Attribution
from domain.caps import CapScope, Enforcement
from domain.money import Money
from domain.periods import Period
from domain.reservations import CounterKey
from tests.alerts.fakes import RecordingMailer
from tests.alerts.support import spend
from tests.support.clock import MutableClock
from tests.support.harness import Harness

CALL = CheckRequest(
    Attribution("openai", "gpt-4o", customer_id="cus_1"), estimated_cost=Money.parse("0.05")
)


class DownCounter:
    async def increment(self, key: CounterKey, ttl_seconds: int) -> int:
        raise CounterStoreUnavailable("redis down")

    async def count(self, key: CounterKey) -> int:
        raise CounterStoreUnavailable("redis down")


@pytest.fixture
def app(clock: MutableClock) -> Harness:
    clock.set(datetime(2026, 3, 14, 9, tzinfo=UTC))
    return Harness(MemoryUnitOfWorkFactory(), InProcessCounters(clock), clock)


async def exhausted_block_cap(app: Harness, clock: MutableClock) -> None:
    await app.caps.create(
        app.principal("acme"),
        CapDraft(
            name="cus_1 daily",
            scope=CapScope.CUSTOMER,
            scope_value="cus_1",
            period=Period.DAILY,
            limit=Money.usd(1),
            enforcement=Enforcement.BLOCK,
            recipients=("ops@acme.example",),
        ),
    )
    await app.record.record_priced(
        app.principal("acme"), [spend("acme", "1.00", clock.now(), customer_id="cus_1")]
    )


async def refuse(app: Harness, blocked: BlockedCallAlerts, times: int) -> None:
    """What the check entrypoint does after each refusal (see docs/alerts.md)."""
    for _ in range(times):
        result = await app.check(app.principal("acme"), CALL)
        assert not result.allowed
        assert result.blocking_cap is not None and result.blocking_status is not None
        await blocked.record_refusal(result.blocking_cap, result.blocking_status)


async def blocked_alerts(app: Harness) -> list[object]:
    async with app.uow_factory("acme") as uow:
        alerts = await uow.alerts.list("acme", AlertQuery())
    return [a for a in alerts if a.kind is AlertKind.BLOCKED]


async def test_refusals_raise_one_alert_that_reports_the_count_at_send_time(
    app: Harness, clock: MutableClock
) -> None:
    await exhausted_block_cap(app, clock)
    counter = InProcessBlockedCalls(clock)
    blocked = BlockedCallAlerts(app.uow_factory, counter, app.ids, clock)
    mailer = RecordingMailer()
    dispatch = DispatchAlerts(
        app.uow_factory, mailer, AlertEmailRenderer(), clock, blocked_counter=counter
    )
    await dispatch()  # the threshold alerts of the spend itself
    mailer.sent.clear()

    await refuse(app, blocked, 3)
    assert len(await blocked_alerts(app)) == 1
    assert (await dispatch()).sent == 0  # held back to gather the first burst
    clock.advance(minutes=2)
    await refuse(app, blocked, 2)
    clock.advance(seconds=DIGEST_DELAY.total_seconds())
    assert (await dispatch()).sent == 1

    [email] = mailer.sent
    assert email.subject.endswith("cus_1 daily: calls blocked by the hard cap")
    assert "5 calls refused so far this daily window" in email.text
    [alert] = await blocked_alerts(app)
    assert alert.status is AlertStatus.SENT  # type: ignore[attr-defined]

    await refuse(app, blocked, 1)
    assert len(await blocked_alerts(app)) == 1  # one per (cap, window)
    clock.set(datetime(2026, 3, 15, 9, tzinfo=UTC))
    await app.record.record_priced(
        app.principal("acme"), [spend("acme", "1.00", clock.now(), customer_id="cus_1")]
    )
    await refuse(app, blocked, 1)
    assert len(await blocked_alerts(app)) == 2  # a new day, a new window


async def test_a_counter_store_that_is_down_still_raises_the_alert(
    app: Harness, clock: MutableClock
) -> None:
    await exhausted_block_cap(app, clock)
    blocked = BlockedCallAlerts(app.uow_factory, DownCounter(), app.ids, clock)
    await refuse(app, blocked, 2)
    assert len(await blocked_alerts(app)) == 1

    mailer = RecordingMailer()
    clock.advance(minutes=10)
    await DispatchAlerts(
        app.uow_factory, mailer, AlertEmailRenderer(), clock, blocked_counter=DownCounter()
    )()
    [email] = [e for e in mailer.sent if "blocked" in e.subject]
    assert "Calls refused:  not counted (counter store unavailable)" in email.text


async def test_the_in_process_counter_forgets_a_window_after_its_ttl(clock: MutableClock) -> None:
    counter = InProcessBlockedCalls(clock)
    key = CounterKey("acme", "cap_1", clock.now())
    assert [await counter.increment(key, 60) for _ in range(3)] == [1, 2, 3]
    clock.advance(seconds=61)
    assert await counter.count(key) == 0
    assert await counter.increment(key, 60) == 1
    assert timedelta(minutes=5) == DIGEST_DELAY

"""DispatchAlerts on the in-memory adapters: retries, failures with reasons, exactly once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from adapters.email.render import AlertEmailRenderer
from adapters.email.smtp import SmtpMailer
from adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from application.dispatch_alerts import IN_FLIGHT, IN_FLIGHT_MARK, DispatchAlerts
from application.ports import OutgoingEmail
from domain.alerts import MAX_SEND_ATTEMPTS, AlertStatus
from domain.caps import CapScope
from tests.alerts.fakes import (
    BrokenRenderer,
    DyingMailer,
    RecordingMailer,
    RecordingWebhook,
    WorkerDied,
)
from tests.alerts.servers import SmtpRecorder, free_port, start_smtp
from tests.alerts.support import SENDER, START, a_cap, an_alert, seed, spend, stored
from tests.support.clock import MutableClock

DASHBOARD = "https://llmobserve.example.com"


def dispatcher(
    uow: MemoryUnitOfWorkFactory, mailer: object, clock: MutableClock, **kwargs: object
) -> DispatchAlerts:
    return DispatchAlerts(
        uow,
        mailer,
        AlertEmailRenderer(),
        clock,
        DASHBOARD,  # type: ignore[arg-type]
        **kwargs,
    )  # type: ignore[arg-type]


async def test_an_alert_is_sent_once_with_its_top_contributors(clock: MutableClock) -> None:
    uow, mailer = MemoryUnitOfWorkFactory(), RecordingMailer()
    cap, alert = a_cap(), an_alert()
    day = START - timedelta(days=3)
    await seed(
        uow,
        caps=[cap],
        alerts=[alert],
        events=[
            spend(
                "acme", "5.00", day, model="gpt-4o", customer_id="cus_<b>big</b>", agent="planner"
            ),
            spend("acme", "3.00", day, model="gpt-4o-mini", customer_id="cus_small"),
            spend("acme", "0.50", day, model="o3", agent="planner/research"),
            spend("acme", "9.00", START - timedelta(days=40), model="last-month-model"),
        ],
    )
    dispatch = dispatcher(uow, mailer, clock)

    report = await dispatch()
    again = await dispatch()

    assert (report.sent, report.failed, again.sent) == (1, 0, 0)
    [email] = mailer.sent
    assert isinstance(email, OutgoingEmail) and email.alert_id == alert.id
    assert email.to == ("ops@acme.example",)
    assert (
        "  - gpt-4o: $5.00 (1 call)\n  - gpt-4o-mini: $3.00 (1 call)\n  - o3: $0.50" in email.text
    )
    assert "  - cus_<b>big</b>: $5.00 (1 call)" in email.text
    assert "  - planner: $5.00" in email.text
    assert "last-month-model" not in email.text  # outside the cap's window
    assert "Tenant:         Acme Corp" in email.text
    assert email.html is not None and "cus_&lt;b&gt;big&lt;/b&gt;" in email.html
    assert f"Dashboard: {DASHBOARD}" in email.text
    row = await stored(uow, alert)
    assert (row.status, row.attempts, row.last_error, row.sent_at) == (
        AlertStatus.SENT,
        1,
        None,
        START,
    )


async def test_a_failing_mailer_retries_with_backoff_then_fails_with_the_reason(
    clock: MutableClock,
) -> None:
    uow, mailer = MemoryUnitOfWorkFactory(), RecordingMailer(failures=100)
    alert = an_alert()
    await seed(uow, caps=[a_cap()], alerts=[alert])
    dispatch = dispatcher(uow, mailer, clock)

    delays = []
    for attempt in range(1, MAX_SEND_ATTEMPTS + 1):
        before = clock.now()
        await dispatch()
        row = await stored(uow, alert)
        assert row.attempts == attempt
        assert row.last_error == "email: ConnectionError: mail server down"
        if row.status is AlertStatus.FAILED:
            break
        assert row.next_attempt_at is not None
        delays.append(row.next_attempt_at - before)
        clock.advance(seconds=1)
        assert (await dispatch()).sent == 0 and mailer.attempts == attempt  # not due yet
        clock.set(row.next_attempt_at)

    assert delays[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert row.status is AlertStatus.FAILED and row.attempts == MAX_SEND_ATTEMPTS
    assert row.next_attempt_at is None and mailer.sent == []
    clock.advance(days=1)
    assert (await dispatch()).sent == 0 and mailer.attempts == MAX_SEND_ATTEMPTS


async def test_nothing_is_lost_while_the_mail_server_is_down(clock: MutableClock) -> None:
    uow, recorder, port = MemoryUnitOfWorkFactory(), SmtpRecorder(), free_port()
    alert = an_alert()
    await seed(uow, caps=[a_cap()], alerts=[alert])
    dispatch = dispatcher(uow, SmtpMailer("127.0.0.1", port, SENDER, timeout_seconds=5), clock)

    assert (await dispatch()).failed == 1  # nobody listens on the port yet
    down = await stored(uow, alert)
    assert down.status is AlertStatus.PENDING and down.last_error is not None
    assert down.last_error.startswith("email: ")

    controller = start_smtp(recorder, port=port)
    try:
        clock.advance(seconds=30)
        assert (await dispatch()).sent == 1
        clock.advance(hours=2)
        assert (await dispatch()).sent == 0
    finally:
        controller.stop()
    assert len(recorder.received) == 1
    assert (await stored(uow, alert)).status is AlertStatus.SENT


async def test_two_dispatchers_at_once_send_each_alert_once(clock: MutableClock) -> None:
    uow, mailer = MemoryUnitOfWorkFactory(), RecordingMailer(delay=0.05)
    alerts = [an_alert(threshold=t) for t in (50, 80)] + [an_alert(cap_id="cap_other")]
    await seed(uow, caps=[a_cap()], alerts=alerts)

    reports = await asyncio.gather(
        dispatcher(uow, mailer, clock)(), dispatcher(uow, mailer, clock)()
    )

    assert sum(r.sent for r in reports) == 3
    assert sorted(e.alert_id for e in mailer.sent) == sorted(a.id for a in alerts)  # type: ignore[attr-defined]


async def test_a_template_error_fails_the_alert_at_once_with_the_reason(
    clock: MutableClock,
) -> None:
    uow, mailer = MemoryUnitOfWorkFactory(), RecordingMailer()
    alert = an_alert()
    await seed(uow, caps=[a_cap()], alerts=[alert])

    report = await DispatchAlerts(uow, mailer, BrokenRenderer(), clock)()

    row = await stored(uow, alert)
    assert report.failed == 1 and mailer.attempts == 0
    assert row.status is AlertStatus.FAILED and row.attempts == 1
    assert row.last_error == "template error: KeyError: 'view.no_such_field'"


async def test_no_recipients_fails_with_that_reason(clock: MutableClock) -> None:
    uow, mailer = MemoryUnitOfWorkFactory(), RecordingMailer()
    cap = a_cap(recipients=())
    alert = an_alert(cap)
    await seed(uow, caps=[cap], alerts=[alert])

    await dispatcher(uow, mailer, clock)()

    row = await stored(uow, alert)
    assert row.status is AlertStatus.FAILED
    assert row.last_error == "no recipients: add recipients to the cap"


async def test_recipients_added_to_the_cap_after_the_alert_was_raised_are_used(
    clock: MutableClock,
) -> None:
    uow, mailer = MemoryUnitOfWorkFactory(), RecordingMailer()
    alert = an_alert(a_cap(recipients=()))
    await seed(uow, caps=[a_cap(recipients=("late@acme.example",))], alerts=[alert])

    await dispatcher(uow, mailer, clock)()

    assert [e.to for e in mailer.sent] == [("late@acme.example",)]


async def test_a_failing_webhook_is_retried_alone_and_the_email_is_not_resent(
    clock: MutableClock,
) -> None:
    uow, mailer, webhook = MemoryUnitOfWorkFactory(), RecordingMailer(), RecordingWebhook(1)
    alert = an_alert()
    await seed(uow, caps=[a_cap()], alerts=[alert])
    dispatch = dispatcher(uow, mailer, clock, webhook=webhook)

    await dispatch()
    partial = await stored(uow, alert)
    assert partial.status is AlertStatus.PENDING and partial.sent_at == START
    assert partial.last_error is not None and partial.last_error.startswith(
        "webhook: ConnectionError: webhook receiver down (the email was delivered at"
    )

    clock.advance(seconds=30)
    await dispatch()

    assert len(mailer.sent) == 1 and webhook.delivered == [alert.id]
    done = await stored(uow, alert)
    assert (done.status, done.attempts) == (AlertStatus.SENT, 2)


async def test_a_webhook_alone_delivers_an_alert_without_email_recipients(
    clock: MutableClock,
) -> None:
    uow, mailer, webhook = MemoryUnitOfWorkFactory(), RecordingMailer(), RecordingWebhook()
    cap = a_cap(recipients=())
    alert = an_alert(cap)
    await seed(uow, caps=[cap], alerts=[alert])

    await dispatcher(uow, mailer, clock, webhook=webhook)()

    assert mailer.sent == [] and webhook.delivered == [alert.id]
    assert (await stored(uow, alert)).status is AlertStatus.SENT


async def test_a_worker_killed_mid_send_leaves_a_counted_attempt_and_the_resend_keeps_its_id(
    clock: MutableClock,
) -> None:
    uow = MemoryUnitOfWorkFactory()
    alert = an_alert()
    await seed(uow, caps=[a_cap()], alerts=[alert])
    dying = DyingMailer()

    with pytest.raises(WorkerDied):
        await dispatcher(uow, dying, clock)()

    interrupted = await stored(uow, alert)
    assert interrupted.status is AlertStatus.PENDING and interrupted.attempts == 1
    assert interrupted.last_error is not None
    assert interrupted.last_error.startswith(f"{IN_FLIGHT_MARK} attempt 1 started at")
    assert interrupted.next_attempt_at == START + IN_FLIGHT

    restarted = RecordingMailer()
    clock.advance(minutes=2)  # the lease is over, the in-flight window is not
    assert (await dispatcher(uow, restarted, clock)()).sent == 0
    clock.set(START + IN_FLIGHT)
    assert (await dispatcher(uow, restarted, clock)()).sent == 1

    [first], [resent] = dying.sent, restarted.sent
    assert first.alert_id == resent.alert_id == alert.id  # type: ignore[attr-defined]
    done = await stored(uow, alert)
    assert (done.status, done.attempts) == (AlertStatus.SENT, 2)


async def test_attempts_that_all_died_end_in_failed_not_in_an_endless_loop(
    clock: MutableClock,
) -> None:
    uow = MemoryUnitOfWorkFactory()
    alert = an_alert()
    await seed(uow, caps=[a_cap()], alerts=[alert])
    for _ in range(MAX_SEND_ATTEMPTS):
        with pytest.raises(WorkerDied):
            await dispatcher(uow, DyingMailer(), clock)()
        clock.advance(seconds=IN_FLIGHT.total_seconds())

    await dispatcher(uow, RecordingMailer(), clock)()

    row = await stored(uow, alert)
    assert row.status is AlertStatus.FAILED and row.attempts == MAX_SEND_ATTEMPTS
    assert row.last_error is not None
    assert row.last_error.startswith(f"gave up after {MAX_SEND_ATTEMPTS} attempts; last: in flight")


async def test_a_customer_caps_contributors_are_its_own(clock: MutableClock) -> None:
    uow, mailer = MemoryUnitOfWorkFactory(), RecordingMailer()
    cap = a_cap(scope=CapScope.CUSTOMER, scope_value="cus_1")
    alert = an_alert(cap)
    day = START - timedelta(days=1)
    await seed(
        uow,
        caps=[cap],
        alerts=[alert],
        events=[
            spend("acme", "2.00", day, model="gpt-4o", customer_id="cus_1"),
            spend("acme", "7.00", day, model="claude-sonnet-4", customer_id="cus_2"),
        ],
    )

    await dispatcher(uow, mailer, clock)()

    [email] = mailer.sent
    assert "gpt-4o: $2.00" in email.text and "claude-sonnet-4" not in email.text


class Admins:
    def __init__(self, addresses: tuple[str, ...]) -> None:
        self.addresses = addresses
        self.asked: list[str] = []

    async def default_recipients(self, tenant_id: str) -> tuple[str, ...]:
        self.asked.append(tenant_id)
        return self.addresses


async def test_a_cap_without_recipients_alerts_the_tenant_admins(clock: MutableClock) -> None:
    uow, mailer = MemoryUnitOfWorkFactory(), RecordingMailer()
    cap = a_cap(recipients=())
    alert = an_alert(cap)
    await seed(uow, caps=[cap], alerts=[alert])
    admins = Admins(("owner@acme.test",))

    await dispatcher(uow, mailer, clock, default_recipients=admins)()

    assert admins.asked == ["acme"]
    assert [email.to for email in mailer.sent] == [("owner@acme.test",)]
    assert (await stored(uow, alert)).status is AlertStatus.SENT

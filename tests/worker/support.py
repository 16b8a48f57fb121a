"""A collector container on the in-memory store, with a mailer the tests can read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from dependency_injector import providers

from application.manage_caps import CapDraft
from domain.access import Principal, Role
from domain.caps import Cap, CapScope
from domain.events import SpendEvent
from domain.money import Money
from domain.periods import Period
from domain.usage import Usage
from entrypoints.container import Application, build_container
from entrypoints.settings import Settings
from tests.support.clock import MutableClock
from tests.support.harness import RecordingMailer

OWNER = Principal.for_member("default", "owner", Role.OWNER)


@dataclass
class Collector:
    container: Application
    mailer: RecordingMailer


# Late in a month: $0.15 of a $0.20 monthly cap then crosses the 50 % threshold and
# nothing else. On the real clock a forecast alert would join it from about the 4th to
# the 23rd (a tenth of the month gone, and at that rate the limit reached before its end).
LATE_IN_A_MONTH = datetime(2026, 11, 28, 12, tzinfo=UTC)


def memory_collector(now: datetime = LATE_IN_A_MONTH) -> Collector:
    container = build_container(Settings(database_url="memory://"))
    container.infra.clock.override(providers.Object(MutableClock(now)))
    mailer = RecordingMailer()
    container.infra.mailer.override(providers.Object(mailer))
    return Collector(container, mailer)


async def cap_with_recipient(collector: Collector, limit: str = "0.20") -> Cap:
    draft = CapDraft(
        "monthly",
        CapScope.GLOBAL,
        Period.MONTHLY,
        Money.parse(limit),
        recipients=("ops@example.com",),
    )
    return (await collector.container.manage_caps().create(OWNER, draft)).cap


async def events_behind_the_ingest_path(collector: Collector, count: int) -> None:
    """Priced events stored without moving counters or raising alerts (as after a crash
    between the commit and the counters): only reconcile and the monitor catch up."""
    container = collector.container
    now = container.infra.clock().now()
    price = container.catalog().resolve("openai", "gpt-4o-mini", now.date())
    events = [
        SpendEvent(
            tenant_id="default",
            event_id=f"behind-{n}-{now.timestamp()}",
            occurred_at=now,
            provider="openai",
            model="gpt-4o-mini",
            usage=Usage(input_tokens=1_000_000),
        ).priced_with(price)  # $0.15 each
        for n in range(count)
    ]
    async with container.infra.uow_factory()("default") as uow:
        await uow.events.add_new(events)
        await uow.commit()

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
from tests.support.harness import RecordingMailer

OWNER = Principal.for_member("default", "owner", Role.OWNER)


@dataclass
class Collector:
    container: Application
    mailer: RecordingMailer


def memory_collector() -> Collector:
    container = build_container(Settings(database_url="memory://"))
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
    now = datetime.now(UTC)
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

"""Alerts, caps and spend for the alert tests, on the in-memory adapters."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from application.ports import UnitOfWorkFactory
from domain.alerts import Alert, AlertKind
from domain.caps import Cap, CapScope
from domain.events import SpendEvent
from domain.money import Money
from domain.periods import Period
from domain.tenants import Tenant
from domain.usage import Usage

START = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
SENDER = "LLMObserve <alerts@llmobserve.example.com>"
_ids = itertools.count(1)


def a_cap(**changes: object) -> Cap:
    fields: dict[str, object] = {
        "id": "cap_monthly",
        "tenant_id": "acme",
        "name": "Monthly OpenAI",
        "scope": CapScope.GLOBAL,
        "period": Period.MONTHLY,
        "limit": Money.usd(10),
        "recipients": ("ops@acme.example",),
    }
    fields.update(changes)
    return Cap(**fields)  # type: ignore[arg-type]


def an_alert(cap: Cap | None = None, **changes: object) -> Alert:
    cap = cap or a_cap()
    window = cap.window_at(START)
    fields: dict[str, object] = {
        "id": f"alrt_{next(_ids):04d}",
        "tenant_id": cap.tenant_id,
        "cap_id": cap.id,
        "cap_name": cap.name,
        "window_start": window.start,
        "window_end": window.end,
        "threshold": 80,
        "kind": AlertKind.THRESHOLD,
        "spent": Money.parse("8.50"),
        "limit": cap.limit,
        "recipients": cap.recipients,
        "created_at": START,
        "next_attempt_at": START,
    }
    fields.update(changes)
    return Alert(**fields)  # type: ignore[arg-type]


def spend(tenant: str, cost: str, at: datetime, **attribution: str) -> SpendEvent:
    return SpendEvent(
        tenant_id=tenant,
        event_id=f"ev-{next(_ids)}",
        occurred_at=at,
        provider=attribution.get("provider", "openai"),
        model=attribution.get("model", "gpt-4o"),
        usage=Usage(input_tokens=10),
        agent=attribution.get("agent"),
        customer_id=attribution.get("customer_id"),
        cost=Money.parse(cost),
    )


async def seed(
    uow_factory: UnitOfWorkFactory,
    caps: Sequence[Cap] = (),
    alerts: Sequence[Alert] = (),
    events: Sequence[SpendEvent] = (),
    tenant_name: str | None = "Acme Corp",
) -> None:
    async with uow_factory(None) as uow:
        if tenant_name is not None:
            await uow.tenants.add(Tenant("acme", tenant_name, START - timedelta(days=30)))
        for cap in caps:
            await uow.caps.add(cap)
        if events:
            await uow.events.add_new(list(events))
        for alert in alerts:
            assert await uow.alerts.add_if_absent(alert)
        await uow.commit()


async def stored(uow_factory: UnitOfWorkFactory, alert: Alert) -> Alert:
    async with uow_factory(alert.tenant_id) as uow:
        found = await uow.alerts.get(alert.tenant_id, alert.id)
    assert found is not None
    return found


def memory() -> MemoryUnitOfWorkFactory:
    return MemoryUnitOfWorkFactory()

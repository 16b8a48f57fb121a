"""In-memory repositories. Writes are staged in the unit of work and applied on commit;
uniqueness claims (event ids, alert keys) are taken at once so that concurrent units of
work see them, and given back on rollback."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Self

from adapters.memory.store import MemoryStore
from application.ports import (
    AlertQuery,
    AlertRepository,
    ApiKeyRepository,
    CapRepository,
    PriceOverrideRepository,
    SpendEventRepository,
    TenantRepository,
)
from domain.alerts import Alert, AlertStatus
from domain.caps import Cap
from domain.events import SpendEvent
from domain.money import Money
from domain.periods import Window
from domain.pricing import ModelPrice
from domain.tenants import ApiKey, Tenant


class Staging:
    def __init__(self) -> None:
        self.writes: list[Callable[[], None]] = []
        self.undo: list[Callable[[], None]] = []

    def commit(self) -> None:
        for write in self.writes:
            write()
        self.writes.clear()
        self.undo.clear()

    def rollback(self) -> None:
        for undo in self.undo:
            undo()
        self.writes.clear()
        self.undo.clear()


class StagedTransaction:
    """A unit of work's lifecycle in memory: staged writes applied on commit, dropped
    (and uniqueness claims given back) on rollback, which exit does unless committed."""

    def __init__(self) -> None:
        self._staging = Staging()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        self._staging.commit()

    async def rollback(self) -> None:
        self._staging.rollback()


class MemorySpendEvents(SpendEventRepository):
    def __init__(self, store: MemoryStore, staging: Staging) -> None:
        self._store = store
        self._staging = staging

    async def add_new(self, events: Sequence[SpendEvent]) -> list[SpendEvent]:
        fresh = []
        for event in events:
            key = (event.tenant_id, event.event_id)
            if key in self._store.event_ids:
                continue
            self._store.event_ids.add(key)
            self._staging.undo.append(lambda key=key: self._store.event_ids.discard(key))
            fresh.append(event)
        self._staging.writes.append(lambda: self._store.events.extend(fresh))
        return fresh

    async def spent_in(self, tenant_id: str, cap: Cap, window: Window) -> Money:
        return Money(
            sum(
                event.billable_cost.nanos
                for event in self._store.events
                if event.tenant_id == tenant_id
                and event.occurred_at in window
                and cap.matches(event.attribution)
            )
        )


class MemoryCaps(CapRepository):
    def __init__(self, store: MemoryStore, staging: Staging) -> None:
        self._store = store
        self._staging = staging
        self._pending: dict[tuple[str, str], Cap | None] = {}

    def _view(self) -> dict[tuple[str, str], Cap]:
        merged = dict(self._store.caps)
        for key, cap in self._pending.items():
            if cap is None:
                merged.pop(key, None)
            else:
                merged[key] = cap
        return merged

    def _stage(self, key: tuple[str, str], cap: Cap | None) -> None:
        self._pending[key] = cap

        def write() -> None:
            if cap is None:
                self._store.caps.pop(key, None)
            else:
                self._store.caps[key] = cap

        self._staging.writes.append(write)

    async def add(self, cap: Cap) -> None:
        self._stage((cap.tenant_id, cap.id), cap)

    async def get(self, tenant_id: str, cap_id: str) -> Cap | None:
        return self._view().get((tenant_id, cap_id))

    async def update(self, cap: Cap) -> None:
        self._stage((cap.tenant_id, cap.id), cap)

    async def delete(self, tenant_id: str, cap_id: str) -> bool:
        if (tenant_id, cap_id) not in self._view():
            return False
        self._stage((tenant_id, cap_id), None)
        return True

    async def list(self, tenant_id: str) -> builtins.list[Cap]:
        caps = [cap for (tenant, _), cap in self._view().items() if tenant == tenant_id]
        return sorted(caps, key=lambda cap: cap.id)

    async def all_enabled(self) -> builtins.list[Cap]:
        return sorted((c for c in self._view().values() if c.enabled), key=lambda c: c.id)


class MemoryAlerts(AlertRepository):
    def __init__(self, store: MemoryStore, staging: Staging) -> None:
        self._store = store
        self._staging = staging

    async def add_if_absent(self, alert: Alert) -> bool:
        if alert.dedupe_key in self._store.alert_keys:
            return False
        self._store.alert_keys.add(alert.dedupe_key)
        self._staging.undo.append(lambda: self._store.alert_keys.discard(alert.dedupe_key))
        self._staging.writes.append(lambda: self._store.alerts.__setitem__(alert.id, alert))
        return True

    async def get(self, tenant_id: str, alert_id: str) -> Alert | None:
        alert = self._store.alerts.get(alert_id)
        return alert if alert is not None and alert.tenant_id == tenant_id else None

    async def list(self, tenant_id: str, query: AlertQuery) -> builtins.list[Alert]:
        found = [
            alert
            for alert in self._store.alerts.values()
            if alert.tenant_id == tenant_id
            and (query.cap_id is None or alert.cap_id == query.cap_id)
            and (query.status is None or alert.status is query.status)
            and (query.since is None or alert.created_at >= query.since)
            and (query.until is None or alert.created_at < query.until)
        ]
        found.sort(key=lambda alert: (alert.created_at, alert.id), reverse=True)
        return found[: query.limit]

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> builtins.list[Alert]:
        due = [
            alert
            for alert in self._store.alerts.values()
            if alert.status is AlertStatus.PENDING
            and (alert.next_attempt_at is None or alert.next_attempt_at <= now)
            and self._store.alert_leases.get(alert.id, now) <= now
        ]
        due.sort(key=lambda alert: alert.created_at)
        claimed = due[:limit]
        for alert in claimed:
            # A lease is taken at once: a second dispatcher must not see the alert as due.
            self._store.alert_leases[alert.id] = lease_until
        return claimed

    async def save(self, alert: Alert) -> None:
        def write() -> None:
            self._store.alerts[alert.id] = alert
            self._store.alert_leases.pop(alert.id, None)

        self._staging.writes.append(write)

    async def save_if_unchanged(self, alert: Alert, expected_attempts: int) -> bool:
        current = self._store.alerts.get(alert.id)
        if (
            current is None
            or current.tenant_id != alert.tenant_id
            or current.status is not AlertStatus.PENDING
            or current.attempts != expected_attempts
        ):
            return False
        # Applied at once, like a row lock taken by UPDATE: a second caller sees the change.
        self._store.alerts[alert.id] = alert
        self._staging.undo.append(lambda: self._store.alerts.__setitem__(alert.id, current))
        return True


class MemoryApiKeys(ApiKeyRepository):
    def __init__(self, store: MemoryStore, staging: Staging) -> None:
        self._store = store
        self._staging = staging

    async def add(self, key: ApiKey) -> None:
        self._staging.writes.append(lambda: self._store.api_keys.__setitem__(key.id, key))

    async def by_hash(self, secret_hash: str) -> ApiKey | None:
        return next(
            (k for k in self._store.api_keys.values() if k.secret_hash == secret_hash), None
        )

    async def list(self, tenant_id: str) -> builtins.list[ApiKey]:
        keys = [k for k in self._store.api_keys.values() if k.tenant_id == tenant_id]
        return sorted(keys, key=lambda k: k.created_at)

    async def get(self, tenant_id: str, key_id: str) -> ApiKey | None:
        key = self._store.api_keys.get(key_id)
        return key if key is not None and key.tenant_id == tenant_id else None

    async def save(self, key: ApiKey) -> None:
        await self.add(key)


class MemoryTenants(TenantRepository):
    def __init__(self, store: MemoryStore, staging: Staging) -> None:
        self._store = store
        self._staging = staging

    async def get(self, tenant_id: str) -> Tenant | None:
        return self._store.tenants.get(tenant_id)

    async def add(self, tenant: Tenant) -> None:
        self._staging.writes.append(lambda: self._store.tenants.setdefault(tenant.id, tenant))

    async def save(self, tenant: Tenant) -> None:
        self._staging.writes.append(lambda: self._store.tenants.__setitem__(tenant.id, tenant))

    async def list(self) -> builtins.list[Tenant]:
        return sorted(self._store.tenants.values(), key=lambda t: t.id)


class MemoryPriceOverrides(PriceOverrideRepository):
    def __init__(self, store: MemoryStore, staging: Staging) -> None:
        self._store = store
        self._staging = staging

    async def list(self, tenant_id: str) -> builtins.list[ModelPrice]:
        return builtins.list(self._store.price_overrides.get(tenant_id, []))

    async def add(self, tenant_id: str, price: ModelPrice) -> None:
        self._staging.writes.append(
            lambda: self._store.price_overrides.setdefault(tenant_id, []).append(replace(price))
        )

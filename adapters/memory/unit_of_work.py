"""The in-memory unit of work: staged writes, applied on commit, dropped on rollback."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from adapters.memory.reports import MemorySpendReports
from adapters.memory.repositories import (
    MemoryAlerts,
    MemoryApiKeys,
    MemoryCaps,
    MemoryPriceOverrides,
    MemorySpendEvents,
    MemoryTenants,
    Staging,
)
from adapters.memory.store import MemoryStore
from application.ports import UnitOfWork, UnitOfWorkFactory


class MemoryUnitOfWork(UnitOfWork):
    def __init__(self, store: MemoryStore) -> None:
        self._staging = Staging()
        self.events = MemorySpendEvents(store, self._staging)
        self.caps = MemoryCaps(store, self._staging)
        self.alerts = MemoryAlerts(store, self._staging)
        self.api_keys = MemoryApiKeys(store, self._staging)
        self.tenants = MemoryTenants(store, self._staging)
        self.price_overrides = MemoryPriceOverrides(store, self._staging)
        self.reports = MemorySpendReports(store)

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


class MemoryUnitOfWorkFactory(UnitOfWorkFactory):
    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store or MemoryStore()

    def __call__(self, tenant_id: str | None = None) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store)

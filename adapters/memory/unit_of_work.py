"""The in-memory unit of work: staged writes, applied on commit, dropped on rollback."""

from __future__ import annotations

from adapters.memory.reports import MemorySpendReports
from adapters.memory.repositories import (
    MemoryAlerts,
    MemoryApiKeys,
    MemoryCaps,
    MemoryPriceOverrides,
    MemorySpendEvents,
    MemoryTenants,
    StagedTransaction,
)
from adapters.memory.store import MemoryStore
from application.ports import UnitOfWork, UnitOfWorkFactory


class MemoryUnitOfWork(StagedTransaction, UnitOfWork):
    def __init__(self, store: MemoryStore) -> None:
        super().__init__()
        self.events = MemorySpendEvents(store, self._staging)
        self.caps = MemoryCaps(store, self._staging)
        self.alerts = MemoryAlerts(store, self._staging)
        self.api_keys = MemoryApiKeys(store, self._staging)
        self.tenants = MemoryTenants(store, self._staging)
        self.price_overrides = MemoryPriceOverrides(store, self._staging)
        self.reports = MemorySpendReports(store)


class MemoryUnitOfWorkFactory(UnitOfWorkFactory):
    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store or MemoryStore()

    def __call__(self, tenant_id: str | None = None) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store)

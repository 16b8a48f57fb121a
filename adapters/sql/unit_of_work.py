"""The SQL unit of work: one connection, one transaction at a time, bound to one tenant."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.alerts import SqlAlerts
from adapters.sql.api_keys import SqlApiKeys
from adapters.sql.caps import SqlCaps
from adapters.sql.events import SqlSpendEvents
from adapters.sql.price_overrides import SqlPriceOverrides
from adapters.sql.reports import SqlSpendReports
from adapters.sql.session import SqlTransaction
from adapters.sql.tenants import SqlTenants
from application.ports import UnitOfWork, UnitOfWorkFactory


class SqlUnitOfWork(SqlTransaction, UnitOfWork):
    def __init__(self, engine: AsyncEngine, tenant_id: str | None) -> None:
        super().__init__(engine, tenant_id)
        self.events = SqlSpendEvents(self._session)
        self.caps = SqlCaps(self._session)
        self.alerts = SqlAlerts(self._session)
        self.api_keys = SqlApiKeys(self._session)
        self.tenants = SqlTenants(self._session)
        self.price_overrides = SqlPriceOverrides(self._session)
        self.reports = SqlSpendReports(self._session)


class SqlUnitOfWorkFactory(UnitOfWorkFactory):
    """Units of work on one engine. A tenant's unit of work sees only that tenant's rows
    (PostgreSQL row-level security); `None` is for system jobs' cross-tenant reads."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def __call__(self, tenant_id: str | None = None) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, tenant_id)

"""Tenants: the one table whose rows are the tenants themselves (keyed by tenant_id too)."""

from __future__ import annotations

import builtins

from sqlalchemy import select

from adapters.sql.dialect import insert_if_absent, insert_or_replace
from adapters.sql.mapping import tenant_from, tenant_row
from adapters.sql.session import SqlSession
from adapters.sql.tables import tenants
from application.ports import TenantRepository
from domain.tenants import Tenant


class SqlTenants(TenantRepository):
    def __init__(self, session: SqlSession) -> None:
        self._session = session

    async def get(self, tenant_id: str) -> Tenant | None:
        row = await self._session.first(select(tenants).where(tenants.c.tenant_id == tenant_id))
        return None if row is None else tenant_from(row)

    async def add(self, tenant: Tenant) -> None:
        """A tenant that exists already is kept as it is."""
        await self._session.execute(
            insert_if_absent(self._session.dialect, tenants, tenant_row(tenant))
        )

    async def save(self, tenant: Tenant) -> None:
        await self._session.execute(
            insert_or_replace(self._session.dialect, tenants, tenant_row(tenant))
        )

    async def list(self) -> builtins.list[Tenant]:
        """Every tenant the unit of work may see: all of them for a system unit of work."""
        rows = await self._session.rows(select(tenants).order_by(tenants.c.tenant_id))
        return [tenant_from(row) for row in rows]

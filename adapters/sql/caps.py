"""Caps, tenant by tenant; `all_enabled` is the system jobs' cross-tenant read."""

from __future__ import annotations

import builtins

from sqlalchemy import delete, insert, select

from adapters.sql.dialect import insert_or_replace
from adapters.sql.mapping import cap_from, cap_row
from adapters.sql.session import SqlSession
from adapters.sql.tables import caps
from application.ports import CapRepository
from domain.caps import Cap


class SqlCaps(CapRepository):
    def __init__(self, session: SqlSession) -> None:
        self._session = session

    async def add(self, cap: Cap) -> None:
        await self._session.execute(insert(caps).values(cap_row(cap)))

    async def get(self, tenant_id: str, cap_id: str) -> Cap | None:
        row = await self._session.first(
            select(caps).where(caps.c.tenant_id == tenant_id, caps.c.cap_id == cap_id)
        )
        return None if row is None else cap_from(row)

    async def update(self, cap: Cap) -> None:
        await self._session.execute(insert_or_replace(self._session.dialect, caps, cap_row(cap)))

    async def delete(self, tenant_id: str, cap_id: str) -> bool:
        result = await self._session.execute(
            delete(caps).where(caps.c.tenant_id == tenant_id, caps.c.cap_id == cap_id)
        )
        return result.rowcount > 0

    async def list(self, tenant_id: str) -> builtins.list[Cap]:
        rows = await self._session.rows(
            select(caps).where(caps.c.tenant_id == tenant_id).order_by(caps.c.cap_id)
        )
        return [cap_from(row) for row in rows]

    async def all_enabled(self) -> builtins.list[Cap]:
        rows = await self._session.rows(
            select(caps).where(caps.c.enabled).order_by(caps.c.cap_id, caps.c.tenant_id)
        )
        return [cap_from(row) for row in rows]
